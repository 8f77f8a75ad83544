#!/usr/bin/env bash
# Behaviour: a proxy with three downstreams, one of them a port nobody listens
# on, delivers every byte to the two live ones, keeps running, counts the dead
# one's ICMP port-unreachable reports, and warns about it only a few times.
# Its summary, one stage line per downstream, is one log line each.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_random_file "$WORK/in.bin" $((4 << 20))

# A port nobody listens on: bound once to learn a free number, then released.
dead=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

nd_start srv1 "$ND/ndserver" --path "$WORK/srv1.log" --listen-addr 127.0.0.1:0
nd_start srv2 "$ND/ndserver" --path "$WORK/srv2.log" --listen-addr 127.0.0.1:0
srv1=$(nd_listen_addr srv1 udp)
srv2=$(nd_listen_addr srv2 udp)

nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr "$srv1" --downstream-addr "127.0.0.1:$dead" --downstream-addr "$srv2"
proxy=$(nd_listen_addr proxy udp)

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --rate 400M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

wait_file_size "$WORK/srv1.log" $((4 << 20)) || fail "server 1 did not get every byte"
wait_file_size "$WORK/srv2.log" $((4 << 20)) || fail "server 2 did not get every byte"
assert_same_sha "$WORK/in.bin" "$WORK/srv1.log"
assert_same_sha "$WORK/in.bin" "$WORK/srv2.log"

nd_running proxy || fail "the proxy exited while a downstream was dead"

nd_stop_ok proxy

# Summary: the dead downstream's line counts port-unreachable reports (and
# datagrams sent or not sent); the live ones report every datagram sent.
dead_line=$(grep -E -- "-> udp 127\.0\.0\.1:$dead: sent" "$WORK/proxy.err" || true)
[[ -n "$dead_line" ]] || fail "no summary line for the dead downstream 127.0.0.1:$dead"
unreachable=$(sed -E 's/.* ([0-9]+) port unreachable reports.*/\1/' <<<"$dead_line")
((unreachable > 0)) || fail "dead downstream: expected port unreachable reports, got: $dead_line"
datagrams=$(((4 << 20) / 8192))
for srv in "$srv1" "$srv2"; do
  grep -Eq -- "-> udp ${srv//./\\.}: sent $datagrams datagrams, $((4 << 20)) bytes; 0 not sent" "$WORK/proxy.err" ||
    fail "no summary line saying $datagrams datagrams were sent to $srv"
done

# Warned about, but rate-limited: a handful of lines, not one per datagram.
warnings=$(grep -c -E "warn.*127\.0\.0\.1:$dead" "$WORK/proxy.err" || true)
((warnings >= 1)) || fail "no warning about the dead downstream 127.0.0.1:$dead"
((warnings <= 3)) || fail "$warnings warnings about the dead downstream: not rate-limited"

# The summary of several downstreams is still one log line per stage line.
if grep -Evn '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ ndproxy [a-z]+: ' "$WORK/proxy.err" >"$WORK/bad_lines"; then
  fail "stderr lines without the log prefix (each summary line must be its own log line): $(head -n 3 "$WORK/bad_lines")"
fi
