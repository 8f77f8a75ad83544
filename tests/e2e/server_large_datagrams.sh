#!/usr/bin/env bash
# The largest UDP payloads arrive intact: 65507 bytes over IPv4 and 65527 over
# IPv6, one datagram each; a --datagram-size above the limit of a destination's
# family is a usage error (exit 2) naming the limit.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

check_family() { # NAME LISTEN SIZE
  local name=$1 listen=$2 size=$3 addr count=20 bytes
  bytes=$((size * count + 1000)) # 20 full datagrams and a short last one
  nd_random_file "$WORK/$name.bin" "$bytes"
  nd_start "srv$name" "$ND/ndserver" --path "$WORK/$name.log" --listen_addr "$listen"
  addr=$(nd_listen_addr "srv$name" udp)
  nd_start "cli$name" "$ND/ndclient" --path "$WORK/$name.bin" --server_addr "$addr" --datagram-size "$size"
  nd_expect_exit "cli$name" 0
  wait_file_size "$WORK/$name.log" "$bytes" || true
  assert_same_sha "$WORK/$name.bin" "$WORK/$name.log"
  nd_stop "srv$name" || fail "server $name exited $? on SIGTERM"
  grep -q "received $((count + 1)) datagrams, $bytes bytes" "$WORK/srv$name.err" ||
    fail "$name server did not count $((count + 1)) datagrams of up to $size bytes"
}
check_family v4 127.0.0.1:0 65507
check_family v6 '[::1]:0' 65527

# One byte more is refused before anything is sent.
usage_error() { # NAME PHRASE ARGS...
  local name=$1 phrase=$2
  shift 2
  nd_start "$name" "$ND/ndclient" --path "$WORK/v4.bin" "$@"
  nd_expect_exit "$name" 2
  [[ ! -s "$WORK/$name.out" ]] || fail "$name wrote to stdout"
  [[ $(wc -l <"$WORK/$name.err") -eq 1 ]] || fail "$name: expected one line on stderr: $(cat "$WORK/$name.err")"
  grep -q -- "$phrase" "$WORK/$name.err" || fail "$name: no '$phrase' in: $(cat "$WORK/$name.err")"
}
usage_error big4 "65507" --server_addr 127.0.0.1:9 --datagram-size 65508
usage_error big6 "65527" --server_addr '[::1]:9' --datagram-size 65528
# With both families the IPv4 limit applies.
usage_error mixed "65507" --server_addr '[::1]:9' --server_addr 127.0.0.1:9 --datagram-size 65527
