#!/usr/bin/env bash
# Behaviour: a proxy translates between address families: what arrives on
# 127.0.0.1 goes out to [::1] and what arrives on [::1] goes out to 127.0.0.1,
# byte for byte.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

if ! python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null; then
  skip "no IPv6 loopback (::1) here"
fi

size=$((2 << 20))
nd_random_file "$WORK/in4.bin" "$size"
nd_random_file "$WORK/in6.bin" "$size"

# 127.0.0.1 -> proxy46 -> [::1] server
nd_start srv6 "$ND/ndserver" --path "$WORK/srv6.log" --listen-addr '[::1]:0'
srv6=$(nd_listen_addr srv6 udp)
[[ "$srv6" == '[::1]:'* ]] || fail "server 6 listens on $srv6, expected [::1]:PORT"
nd_start proxy46 "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "$srv6"
proxy46=$(nd_listen_addr proxy46 udp)

# [::1] -> proxy64 -> 127.0.0.1 server
nd_start srv4 "$ND/ndserver" --path "$WORK/srv4.log" --listen-addr 127.0.0.1:0
srv4=$(nd_listen_addr srv4 udp)
nd_start proxy64 "$ND/ndproxy" --listen-addr '[::1]:0' --downstream-addr "$srv4"
proxy64=$(nd_listen_addr proxy64 udp)
[[ "$proxy64" == '[::1]:'* ]] || fail "proxy 64 listens on $proxy64, expected [::1]:PORT"

"$ND/ndclient" --path "$WORK/in4.bin" --server-addr "$proxy46" --rate 400M 2>"$WORK/client4.err" ||
  fail "ndclient to $proxy46 failed: $(cat "$WORK/client4.err")"
"$ND/ndclient" --path "$WORK/in6.bin" --server-addr "$proxy64" --rate 400M 2>"$WORK/client6.err" ||
  fail "ndclient to $proxy64 failed: $(cat "$WORK/client6.err")"

wait_file_size "$WORK/srv6.log" "$size" || fail "IPv4 -> IPv6: bytes missing at $srv6"
wait_file_size "$WORK/srv4.log" "$size" || fail "IPv6 -> IPv4: bytes missing at $srv4"
assert_same_sha "$WORK/in4.bin" "$WORK/srv6.log"
assert_same_sha "$WORK/in6.bin" "$WORK/srv4.log"

nd_stop_ok proxy46 proxy64
