#!/usr/bin/env bash
# --lines=1 speaks syslog's convention: rsyslog's imudp (one datagram, one
# message) receives a 3000-line file from `ndclient --lines=1` as exactly
# 3000 messages, each equal to one input line (lines of 1 to 3000 bytes:
# rsyslog's default message limit is 8096). Without --lines the client cuts
# lines at 8192-byte datagram boundaries, and this fails. rsyslog also
# forwards every message over TCP (omfwd protocol="tcp") to an ndserver
# --lines on a tcp:// listen address, whose log then equals the input.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v rsyslogd >/dev/null || skip "no rsyslogd (scripts/deps installs rsyslog)"
command -v python3 >/dev/null || skip "no python3"

# 3000 distinct lines of varying length, printable, no leading space (rsyslog keeps %rawmsg% as sent).
python3 - "$WORK/app.log" <<'PY'
import random, sys
rng = random.Random(10)
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        body = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789 =:,") for _ in range(rng.randint(0, 2990)))
        f.write(f"app[{i}]: line {i} {body}".rstrip() + "\n")
PY

port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nd_start fwd "$ND/ndserver" --path "$WORK/forwarded.log" --listen_addr tcp://127.0.0.1:0 --lines
fwd=$(nd_listen_addr fwd tcp)
mkdir -p "$WORK/rsyslog"
cat >"$WORK/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rsyslog" maxMessageSize="8k")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="$port" rcvbufSize="16m")
template(name="raw" type="string" string="%rawmsg%\n")
template(name="rawtcp" type="string" string="%rawmsg%")
action(type="omfile" file="$WORK/received.log" template="raw")
action(type="omfwd" target="127.0.0.1" port="${fwd##*:}" protocol="tcp" template="rawtcp")
CONF
nd_start rsyslog rsyslogd -n -i "$WORK/rsyslogd.pidfile" -f "$WORK/rsyslog.conf"
wait_until 10 eval 'ss -Hlun "sport = :$port" | grep -q .' || fail "rsyslogd did not listen on udp $port"

# rsyslog reads its socket far slower than ndclient sends: pace the client,
# and give rsyslog's socket room for the whole 4.5 MB file (rcvbufSize: with
# the kernel's default 208 KiB, rsyslog held 2889 of 3000 messages when two
# tests ran at a time). Should it lose some anyway, the failure says how many
# datagrams the kernel dropped at its socket (/proc/net/udp's last column).
rsyslog_drops() {
  awk -v port="$(printf ':%04X' "$port")" '$2 ~ port"$" { print $NF }' /proc/net/udp
}
nd_start client "$ND/ndclient" --path "$WORK/app.log" --lines=1 --rate 20M --server_addr "127.0.0.1:$port"
nd_expect_exit client 0 60
wait_until 20 eval '[[ $(wc -l <"$WORK/received.log" 2>/dev/null || echo 0) -ge 3000 ]]' ||
  fail "rsyslog wrote $(wc -l <"$WORK/received.log" 2>/dev/null || echo 0) of 3000 messages (the kernel dropped $(rsyslog_drops) at its socket)"
wait_until 20 eval '[[ $(wc -l <"$WORK/forwarded.log" 2>/dev/null || echo 0) -ge 3000 ]]' ||
  fail "rsyslog forwarded $(wc -l <"$WORK/forwarded.log" 2>/dev/null || echo 0) of 3000 messages over TCP"
nd_stop rsyslog || true
nd_stop_ok fwd
assert_eq 3000 "$(wc -l <"$WORK/received.log")" "messages rsyslog received"
assert_same_sha "$WORK/app.log" "$WORK/received.log"
assert_same_sha "$WORK/app.log" "$WORK/forwarded.log"
grep -q -- "--lines: 3000 datagrams of whole lines" "$WORK/client.err" || fail "the client's summary did not count 3000 line datagrams"
echo "PASS"
