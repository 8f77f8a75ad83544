#!/usr/bin/env bash
# ndclient --tee copies the input to stdout, byte for byte, while the server
# receives the same bytes; logs stay on stderr.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((3 * 1024 * 1024 + 7))
nd_random_file "$WORK/in.bin" "$size"
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)

# -t and --tee, from a file and from stdin.
nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr" --tee
nd_expect_exit cli 0
assert_same_sha "$WORK/in.bin" "$WORK/cli.out"
wait_file_size "$WORK/out.log" "$size" || true
assert_same_sha "$WORK/in.bin" "$WORK/out.log"

nd_start cli2 "$ND/ndclient" --path - --server_addr "$addr" -t <"$WORK/in.bin"
nd_expect_exit cli2 0
assert_same_sha "$WORK/in.bin" "$WORK/cli2.out"
cat "$WORK/in.bin" "$WORK/in.bin" >"$WORK/twice.bin"
wait_file_size "$WORK/out.log" $((2 * size)) || true
assert_same_sha "$WORK/twice.bin" "$WORK/out.log"

# --tee into a pipe that a slow reader drains (a pipeline like `| grep`).
"$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr" --tee 2>"$WORK/cli3.err" |
  dd bs=512 status=none >"$WORK/cli3.out"
assert_same_sha "$WORK/in.bin" "$WORK/cli3.out"
nd_stop srv || fail "server exited $? on SIGTERM"
