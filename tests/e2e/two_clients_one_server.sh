#!/usr/bin/env bash
# Two clients sending at the same time to one server: the log holds exactly the
# sum of both inputs, and every datagram arrives whole (never interleaved with
# the other client's bytes). Inputs are lines of fixed width, one datagram
# holding a whole number of lines, so each line of the log must be one of ours.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

lines=40000
# 32-byte lines: "A 0000000001 ....\n"; --datagram-size 8192 = 256 whole lines.
make_input() {
  awk -v p="$1" -v n="$lines" 'BEGIN { for (i = 1; i <= n; i++) printf "%s %010d %018d\n", p, i, i * 7 }' >"$2"
}
make_input A "$WORK/a.txt"
make_input B "$WORK/b.txt"
[[ $(stat -c %s "$WORK/a.txt") -eq $((lines * 32)) ]] || fail "input lines are not 32 bytes"

nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
nd_start cla "$ND/ndclient" --path "$WORK/a.txt" --server_addr "$addr" --rate 200M
nd_start clb "$ND/ndclient" --path "$WORK/b.txt" --server_addr "$addr" --rate 200M
nd_expect_exit cla 0
nd_expect_exit clb 0
total=$((2 * lines * 32))
wait_file_size "$WORK/out.log" "$total" || true
assert_eq "$total" "$(stat -c %s "$WORK/out.log")" "log size (sum of both inputs)"

# Whole datagrams: each client's lines come out in its own order, unbroken.
grep '^A ' "$WORK/out.log" >"$WORK/a.out" || true
grep '^B ' "$WORK/out.log" >"$WORK/b.out" || true
assert_same_sha "$WORK/a.txt" "$WORK/a.out"
assert_same_sha "$WORK/b.txt" "$WORK/b.out"
# ... and the two streams did run at the same time (their datagrams interleave),
# otherwise this test would not test concurrency at all.
switches=$(cut -c1 "$WORK/out.log" | uniq | wc -l)
((switches > 2)) || echo "note: the two clients did not overlap ($switches runs)" >&2
nd_stop srv || fail "server exited $? on SIGTERM"
