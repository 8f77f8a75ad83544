#!/usr/bin/env bash
# One client with --server_addr twice (an IPv4 and an IPv6 server) delivers the
# whole input to both: each log equals the input.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((2 * 1024 * 1024 + 123))
nd_random_file "$WORK/in.bin" "$size"
nd_start srv4 "$ND/ndserver" --path "$WORK/out4.log" --listen_addr 127.0.0.1:0
nd_start srv6 "$ND/ndserver" --path "$WORK/out6.log" --listen_addr '[::1]:0'
addr4=$(nd_listen_addr srv4 udp)
addr6=$(nd_listen_addr srv6 udp)

nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr4" --server_addr "$addr6"
nd_expect_exit cli 0
wait_file_size "$WORK/out4.log" "$size" || true
wait_file_size "$WORK/out6.log" "$size" || true
assert_same_sha "$WORK/in.bin" "$WORK/out4.log"
assert_same_sha "$WORK/in.bin" "$WORK/out6.log"

# The client's summary names both destinations with the full count.
datagrams=$(((size + 8191) / 8192))
for addr in "$addr4" "$addr6"; do
  grep -qF -- "-> udp $addr: sent $datagrams datagrams, $size bytes; 0 not sent" "$WORK/cli.err" ||
    fail "client summary does not report $datagrams datagrams sent to $addr"
done
nd_stop srv4 || fail "server 4 exited $? on SIGTERM"
nd_stop srv6 || fail "server 6 exited $? on SIGTERM"
