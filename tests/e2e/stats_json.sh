#!/usr/bin/env bash
# Behaviour: --stats-interval prints every stage's counters and rates each
# interval; --stats-format json makes those, SIGUSR1's counters and the exit
# summary one JSON object per stage and line, with the keys README documents
# (time, mode, event, role, endpoint, input, peer, counters, gauges,
# interval_seconds, rates). Parsed here with python's json module.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# check_json FILE EXPR...: every JSON line of FILE (those starting with '{')
# parses with the documented key types, and each python EXPR holds, given
# `rows` (the parsed objects) and `last(event, role, endpoint)`.
check_json() {
  python3 - "$@" <<'PY'
import json, re, sys
path, checks = sys.argv[1], sys.argv[2:]
rows = [json.loads(line) for line in open(path) if line.startswith("{")]
assert rows, "no JSON lines"
for row in rows:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["time"]), row
    assert row["event"] in ("interval", "counters", "summary"), row
    assert row["role"] in ("source", "sink", "listener"), row
    assert re.match(r"^[a-z]+(://|:)|^stdout$|^stdin$", row["endpoint"]), row
    assert all(isinstance(v, int) and v >= 0 for v in row["counters"].values()), row
    assert all(isinstance(v, int) and v >= 0 for v in row["gauges"].values()), row
    assert ("rates" in row) == (row["event"] == "interval"), row
    if row["role"] == "sink":
        assert row["input"], row
def last(event, role, endpoint=None):
    found = [r for r in rows if r["event"] == event and r["role"] == role and endpoint in (None, r["endpoint"])]
    assert found, f"no {event} row for {role} {endpoint}"
    return found[-1]
for check in checks:
    if not eval(check):
        sys.exit(f"failed: {check}\nrows: {rows[-4:]}")
PY
}

# The server: 50 datagrams of 1000 bytes; interval lines every 0.2 s.
nd_start server "$ND/ndserver" --path "$WORK/log" --listen-addr 127.0.0.1:0 --listen-addr tcp://127.0.0.1:0 \
  --stats-interval 0.2 --stats-format json
addr=$(nd_listen_addr server udp)
nd_random_file "$WORK/in.bin" 50000
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --datagram-size 1000 --stats-format json \
  2>"$WORK/client.err" || fail "ndclient failed: $(cat "$WORK/client.err")"
wait_file_size "$WORK/log.127.0.0.1_0" 50000 || fail "the server did not write the 50000 bytes"
interval_has_all() {
  check_json "$WORK/server.err" "last('interval', 'source', 'udp://$addr')['counters']['datagrams'] == 50" 2>/dev/null
}
wait_until 10 interval_has_all || fail "no interval line with the 50 datagrams: $(tail -3 "$WORK/server.err")"
check_json "$WORK/server.err" \
  "last('interval', 'source')['mode'] == 'server'" \
  "('kernel_drops' in last('interval', 'source')['counters']) == ('$(nd_platform)' == 'linux')" \
  "last('interval', 'sink', 'file:$WORK/log.127.0.0.1_0')['input'] == 'udp://$addr'" \
  "0 < last('interval', 'sink')['interval_seconds'] < 5" \
  "last('interval', 'listener')['gauges']['clients'] == 0"
# Some interval saw the data arrive: a rate above zero.
check_json "$WORK/server.err" \
  "any(r['rates']['bytes_per_second'] > 0 for r in rows if r['event'] == 'interval' and r['role'] == 'source')"

# SIGUSR1: the same rows, event "counters".
kill -USR1 "$(nd_pid server)"
usr1() { check_json "$WORK/server.err" "last('counters', 'sink')['counters']['bytes'] == 50000" 2>/dev/null; }
wait_until 5 usr1 || fail "SIGUSR1 printed no JSON counters: $(tail -3 "$WORK/server.err")"
nd_stop_ok server
check_json "$WORK/server.err" "last('summary', 'source')['counters']['bytes'] == 50000" \
  "last('summary', 'sink')['counters']['datagrams'] == 50"
# In JSON format, no text summary lines.
! grep -q 'info: summary:' "$WORK/server.err" || fail "a text summary was printed with --stats-format json"

# The client's summary in JSON: its file and its destination.
check_json "$WORK/client.err" "last('summary', 'source')['endpoint'] == 'file:$WORK/in.bin'" \
  "last('summary', 'source')['mode'] == 'client'" \
  "last('summary', 'sink', 'udp://$addr')['counters']['datagrams'] == 50"

# Text format: the interval lines carry the rates.
nd_start text "$ND/ndserver" --path "$WORK/log2" --listen-addr 127.0.0.1:0 --stats-interval 0.1
wait_log text 'udp [^ ]+: received 0 datagrams.*; in the last 0\.[0-9] s: 0 datagrams/s, 0 bit/s' ||
  fail "no text interval line"
nd_stop_ok text

# The proxy takes them too (the reverse-proxy needs multicast: see
# reverse_proxy_stats in the namespace tests).
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "$addr" --stats-interval 0.1 \
  --stats-format json
proxy_rows() { check_json "$WORK/proxy.err" "last('interval', 'sink', 'udp://$addr')['mode'] == 'proxy'" 2>/dev/null; }
wait_until 5 proxy_rows || fail "no proxy interval rows: $(tail -3 "$WORK/proxy.err")"
nd_stop_ok proxy
echo ok
