#!/usr/bin/env bash
# Windows under Wine: a 1 MiB random file sent by ndclient.exe to ndserver.exe
# over 127.0.0.1 and over [::1] arrives byte for byte (paced: Wine receives
# UDP slowly), the server's summary counts it, and Ctrl-C (SIGINT) stops the
# server with exit 0 without warning about its receive buffer; stdin as a
# pipe arrives whole too.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
nd_setup

size=$((1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"

for family in 4 6; do
  listen=127.0.0.1:0
  [[ $family == 4 ]] || listen='[::1]:0'
  nd_start "srv$family" "$ND/ndserver" --path "$WORK/out$family.log" --listen_addr "$listen"
  addr=$(nd_listen_addr "srv$family" udp)

  nd_start "cli$family" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr" --rate 40M
  nd_expect_exit "cli$family" 0 30
  wait_file_size "$WORK/out$family.log" "$size" 20 || true
  assert_same_sha "$WORK/in.bin" "$WORK/out$family.log"

  nd_stop_ok "srv$family"
  grep -qF "received 128 datagrams, $size bytes; $(nd_kernel_drops)" "$WORK/srv$family.err" ||
    fail "server on $addr: summary does not count 128 datagrams of $size bytes"
  # Windows grants the receive buffer asked for (and reports it as asked, not
  # doubled as Linux does): no warning, and never Linux's sysctl.
  if grep -E "kernel granted|rmem_max" "$WORK/srv$family.err" >&2; then
    fail "server on $addr: a capped receive buffer warning under Windows"
  fi
done

# stdin as a pipe (--path -): WSAPoll cannot wait on it, the pipe is looked at
# every 10 ms; the bytes still arrive whole and the client exits 0 at its end.
nd_start srvp "$ND/ndserver" --path "$WORK/outp.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srvp udp)
# shellcheck disable=SC2002  # a pipe on purpose: a redirect would be a disk file
cat "$WORK/in.bin" | timeout 60 "$ND/ndclient" --path - --server_addr "$addr" --rate 40M 2>"$WORK/clip.err" ||
  fail "ndclient --path - exited $?: $(tail -n 3 "$WORK/clip.err")"
wait_file_size "$WORK/outp.log" "$size" 20 || true
assert_same_sha "$WORK/in.bin" "$WORK/outp.log"
nd_stop_ok srvp
