#!/usr/bin/env bash
# ndclient sends to a receiver nobody here wrote, socat (UDP-RECV into a file),
# over IPv4 and IPv6: the file equals the input. socat takes one datagram per
# syscall, so the client is paced with --rate.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

size=$((2 * 1024 * 1024 + 17))
nd_random_file "$WORK/in.bin" "$size"
for family in 4 6; do
  if [[ $family == 4 ]]; then host=127.0.0.1 addr_host=127.0.0.1; else host='[::1]' addr_host='[::1]'; fi
  # -b: one datagram must fit in socat's buffer or it is cut.
  nd_start_on_free_port "socat$family" udp socat -u -b 65536 "UDP$family-RECV:{PORT},bind=$host,rcvbuf=16777216" \
    "CREATE:$WORK/out$family.bin"
  nd_start "cli$family" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr_host:$PORT" --rate 200M
  nd_expect_exit "cli$family" 0
  wait_file_size "$WORK/out$family.bin" "$size" || true
  nd_stop "socat$family" TERM >/dev/null 2>&1 || true
  assert_same_sha "$WORK/in.bin" "$WORK/out$family.bin"
done
