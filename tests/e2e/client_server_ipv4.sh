#!/usr/bin/env bash
# An 8 MiB random file sent unthrottled by ndclient to ndserver over 127.0.0.1
# arrives byte for byte: the default data path is lossless on loopback.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((8 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)

nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr"
nd_expect_exit cli 0
wait_file_size "$WORK/out.log" "$size" || true
assert_same_sha "$WORK/in.bin" "$WORK/out.log"

nd_stop srv || fail "server exited $? on SIGTERM"
grep -q "received 1024 datagrams, $size bytes; 0 dropped by the kernel" "$WORK/srv.err" ||
  fail "server summary does not count 1024 datagrams of $size bytes"
