#!/usr/bin/env bash
# Behaviour: --metrics-addr serves the counters at /metrics in Prometheus' text
# format: promtool (Debian's prometheus package) accepts it, other paths are
# 404, and a real Prometheus server scraping ndserver answers a query with the
# exact byte count the server received. Also: a port in use exits 1, a
# malformed address exits 2, each with one line.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v promtool >/dev/null && command -v prometheus >/dev/null ||
  fail "promtool/prometheus missing: scripts/deps installs the prometheus package"

# metrics_port NAME: the port NAME logged for its /metrics.
metrics_port() {
  wait_log "$1" 'metrics on http://[^ ]+/metrics' || fail "$1 did not log its metrics address"
  grep -Eo 'metrics on http://[^ ]+/metrics' "$WORK/$1.err" | head -1 | sed -E 's|.*:([0-9]+)/metrics|\1|'
}

nd_start server "$ND/ndserver" --path "$WORK/log" --listen-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0
addr=$(nd_listen_addr server udp)
mport=$(metrics_port server)

# 100 datagrams of 1000 bytes: 100000 bytes.
nd_random_file "$WORK/in.bin" 100000
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --datagram-size 1000 2>"$WORK/client.err" ||
  fail "ndclient failed: $(cat "$WORK/client.err")"
wait_file_size "$WORK/log" 100000 || fail "the server did not write the 100000 bytes"

curl -sf "http://127.0.0.1:$mport/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"
promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
  fail "promtool check metrics rejected /metrics: $(cat "$WORK/promtool.out")"
[[ ! -s "$WORK/promtool.out" ]] || fail "promtool has remarks: $(cat "$WORK/promtool.out")"
grep -Eq "^netdisp_source_bytes_total\{mode=\"server\",listen=\"udp://$addr\"\} 100000$" "$WORK/metrics.txt" ||
  fail "no netdisp_source_bytes_total of 100000 for udp://$addr: $(grep bytes_total "$WORK/metrics.txt")"
grep -Eq '^netdisp_sink_datagrams_total\{mode="server",listen="udp://[^"]+",destination="file:[^"]+/log"\} 100$' \
  "$WORK/metrics.txt" || fail "no sink datagram counter of 100: $(grep datagrams_total "$WORK/metrics.txt")"
# A portable build has no kernel drop counter: the series is left out, never a made-up 0.
if [[ "$(nd_platform)" == linux ]]; then
  grep -q '^# TYPE netdisp_source_kernel_drops_total counter$' "$WORK/metrics.txt" || fail "no kernel drops counter"
else
  ! grep -q 'kernel_drops' "$WORK/metrics.txt" || fail "a portable build shows a kernel drops series"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/other")
assert_eq 404 "$code" "status of /other"

# A real Prometheus scrapes it every second; its query API must give 100000.
cat >"$WORK/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: netdisp
    static_configs:
      - targets: ['127.0.0.1:$mport']
CFG
nd_start_on_free_port prometheus tcp prometheus --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/tsdb" --web.listen-address=127.0.0.1:{PORT} --log.level=warn
query() {
  curl -sf "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode \
    "query=netdisp_source_bytes_total{job=\"netdisp\",listen=\"udp://$addr\"}" >"$WORK/query.json" 2>/dev/null &&
    python3 - "$WORK/query.json" <<'PY'
import json, sys
result = json.load(open(sys.argv[1]))["data"]["result"]
sys.exit(0 if len(result) == 1 and result[0]["value"][1] == "100000" else 1)
PY
}
wait_until 30 query || fail "Prometheus did not report netdisp_source_bytes_total 100000: $(cat "$WORK/query.json" 2>/dev/null)"
nd_stop prometheus || true
nd_stop_ok server

# Bad input: the port in use (exit 1), a malformed address (exit 2), one line each.
nd_start holder "$ND/ndserver" --path "$WORK/log2" --listen-addr 127.0.0.1:0 --metrics-addr 127.0.0.1:0
held=$(metrics_port holder)
rc=0
"$ND/ndserver" --path "$WORK/log3" --listen-addr 127.0.0.1:0 --metrics-addr "127.0.0.1:$held" 2>"$WORK/inuse.err" || rc=$?
assert_eq 1 "$rc" "exit status with --metrics-addr in use"
# A portable build cannot force the receive buffer (no SO_RCVBUFFORCE) and warns about its size: not an error line.
grep -v -e ' info: ' -e 'receive buffer, the kernel granted' "$WORK/inuse.err" >"$WORK/inuse.lines" || true
assert_eq 1 "$(wc -l <"$WORK/inuse.lines")" "error lines with --metrics-addr in use"
grep -Eq "metrics-addr 127.0.0.1:$held: .*Address already in use" "$WORK/inuse.lines" ||
  fail "the error does not name the address and the reason: $(cat "$WORK/inuse.lines")"
nd_stop_ok holder
rc=0
"$ND/ndserver" --path "$WORK/log4" --listen-addr 127.0.0.1:0 --metrics-addr 'localhost:port' 2>"$WORK/bad.err" || rc=$?
assert_eq 2 "$rc" "exit status with a malformed --metrics-addr"
assert_eq 1 "$(wc -l <"$WORK/bad.err")" "error lines with a malformed --metrics-addr"
grep -q -- '--metrics-addr localhost:port' "$WORK/bad.err" || fail "the error does not name the option: $(cat "$WORK/bad.err")"
echo "ok"
