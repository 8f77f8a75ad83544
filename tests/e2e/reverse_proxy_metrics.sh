#!/usr/bin/env bash
# Behaviour: the reverse-proxy's counters at --metrics-addr: one series per
# TCP subscriber (every subscriber's pipe reads the same group, so the `peer`
# label tells them apart: no two series share a name and labels, which
# Prometheus would refuse), the clients gauge, and bytes sent to each
# subscriber equal to what it received. Its JSON counters (SIGUSR1) name the
# peers too.
# Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((1 << 20))
nd_random_file "$WORK/in.bin" "$size"
nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.1.2.14:9965 --metrics-addr 127.0.0.1:0 --stats-format json
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")
wait_log rproxy 'metrics on http://[^ ]+/metrics' || fail "no metrics address logged"
mport=$(grep -Eo 'metrics on http://[^ ]+/metrics' "$WORK/rproxy.err" | sed -E 's|.*:([0-9]+)/metrics|\1|')
nd_start reader1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(1 clients\)' || fail "reader 1 did not connect"
nd_start reader2 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(2 clients\)' || fail "reader 2 did not connect"
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 200M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"
wait_file_size "$WORK/reader1.out" "$size" || fail "reader 1 did not get the stream"
wait_file_size "$WORK/reader2.out" "$size" || fail "reader 2 did not get the stream"

curl -sf "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
  fail "promtool rejected /metrics: $(cat "$WORK/promtool.out")"
python3 - "$WORK/metrics.txt" "$size" <<'PY' || fail "the subscribers' series are wrong: $(grep -E 'sink_bytes|clients' "$WORK/metrics.txt")"
import collections, re, sys
series = [line.rsplit(" ", 1) for line in open(sys.argv[1]) if line.strip() and not line.startswith("#")]
names = collections.Counter(name for name, _ in series)
assert all(count == 1 for count in names.values()), [n for n, c in names.items() if c > 1]
sent = [(name, int(value)) for name, value in series
        if name.startswith("netdisp_sink_bytes_total{") and 'destination="tcp://' in name]
assert len(sent) == 2, sent
assert all(value == int(sys.argv[2]) for _, value in sent), sent
peers = {re.search(r'peer="([^"]+)"', name).group(1) for name, _ in sent}
assert len(peers) == 2, peers
clients = [int(v) for n, v in series if n.startswith("netdisp_listener_clients{")]
assert clients == [2], clients
PY
kill -USR1 "$(nd_pid rproxy)"
wait_until 5 grep -q '"event":"counters"' "$WORK/rproxy.err" || fail "SIGUSR1 printed no JSON counters"
nd_stop_ok rproxy
python3 - "$WORK/rproxy.err" <<'PY' || fail "the JSON counters do not name each subscriber"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sinks = [r for r in rows if r["event"] == "counters" and r["role"] == "sink" and r["endpoint"].startswith("tcp://")]
assert len(sinks) == 2 and len({r["peer"] for r in sinks}) == 2, sinks
assert all(r["endpoint"] == "tcp://" + r["peer"] for r in sinks), sinks
PY
echo ok
