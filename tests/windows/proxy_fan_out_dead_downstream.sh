#!/usr/bin/env bash
# Windows under Wine: ndproxy.exe with three downstreams, one a port nobody
# listens on, delivers every byte to the two live ones (sha256), keeps
# running, and counts the dead one's port-unreachable reports (Winsock's
# WSAECONNRESET on a datagram socket, taken as ECONNREFUSED; Wine gives
# WSAECONNREFUSED on a later send).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
nd_setup

size=$((1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
dead=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

nd_start srv1 "$ND/ndserver" --path "$WORK/srv1.log" --listen-addr 127.0.0.1:0
nd_start srv2 "$ND/ndserver" --path "$WORK/srv2.log" --listen-addr 127.0.0.1:0
srv1=$(nd_listen_addr srv1 udp)
srv2=$(nd_listen_addr srv2 udp)
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr "$srv1" --downstream-addr "127.0.0.1:$dead" --downstream-addr "$srv2"
proxy=$(nd_listen_addr proxy udp)

nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --rate 20M
nd_expect_exit cli 0 30
wait_file_size "$WORK/srv1.log" "$size" 20 || true
wait_file_size "$WORK/srv2.log" "$size" 20 || true
assert_same_sha "$WORK/in.bin" "$WORK/srv1.log"
assert_same_sha "$WORK/in.bin" "$WORK/srv2.log"
nd_running proxy || fail "the proxy exited while a downstream was dead"

nd_stop_ok proxy srv1 srv2
for srv in "$srv1" "$srv2"; do
  grep -Eq -- "-> udp ${srv//./\\.}: sent 128 datagrams, $size bytes; 0 not sent" "$WORK/proxy.err" ||
    fail "no summary line saying 128 datagrams were sent to $srv"
done
dead_line=$(grep -E -- "-> udp 127\.0\.0\.1:$dead: sent" "$WORK/proxy.err" || true)
[[ -n "$dead_line" ]] || fail "no summary line for the dead downstream 127.0.0.1:$dead"
unreachable=$(sed -E 's/.* ([0-9]+) port unreachable reports.*/\1/' <<<"$dead_line")
((unreachable > 0)) || fail "dead downstream: expected port unreachable reports, got: $dead_line"
