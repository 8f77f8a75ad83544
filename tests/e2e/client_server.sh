#!/usr/bin/env bash
# An 8 MiB random file sent unthrottled by ndclient to ndserver over 127.0.0.1
# and over [::1] arrives byte for byte: the default data path is lossless on
# loopback, for both families.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((8 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"

for family in 4 6; do
  listen=127.0.0.1:0
  [[ $family == 4 ]] || listen='[::1]:0'
  nd_start "srv$family" "$ND/ndserver" --path "$WORK/out$family.log" --listen_addr "$listen"
  addr=$(nd_listen_addr "srv$family" udp)

  nd_start "cli$family" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr"
  nd_expect_exit "cli$family" 0
  wait_file_size "$WORK/out$family.log" "$size" || true
  assert_same_sha "$WORK/in.bin" "$WORK/out$family.log"

  nd_stop "srv$family" || fail "server on $addr exited $? on SIGTERM"
  grep -qF "received 1024 datagrams, $size bytes; $(nd_kernel_drops 0)" "$WORK/srv$family.err" ||
    fail "server on $addr: summary does not count 1024 datagrams of $size bytes"
done
