#!/usr/bin/env bash
# Behaviour: nats:// with ?stream= (JetStream) through one nats-server -js.
# The client publishes a file with acknowledgements into a stream it creates
# (?create=1) before any receiver exists; an ndserver started afterwards with
# a durable consumer (?durable=) reads the stream from its start and writes
# the file with an equal sha256. Without ?create=1 nothing is created: a
# missing stream and a missing durable consumer are each one error line
# naming them (exit 1); a stream on a server without JetStream too.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need

SIZE=${ND_NATS_JS_BYTES:-$((64 << 20))}
nd_nats_start bus --js
bus=$(nd_nats_url bus)
bus=${bus#nats://}
nd_random_file "$WORK/in.bin" "$SIZE"

# expect_error NAME CODE REGEX CMD...: CMD exits CODE with one error line matching REGEX.
expect_error() {
  local name=$1 code=$2 regex=$3 status=0
  shift 3
  timeout 20 "$@" >/dev/null 2>"$WORK/$name.err" || status=$?
  assert_eq "$code" "$status" "$name: exit status ($(tail -n 2 "$WORK/$name.err"))"
  grep -Eq -- "$regex" "$WORK/$name.err" || fail "$name: no line matching /$regex/ in: $(cat "$WORK/$name.err")"
}

# Nothing is created without create=1.
expect_error no_stream_client 1 "nats://$bus/nd\.file.*JetStream stream 'FILES' does not exist \(\?create=1" \
  "$ND/ndclient" --path "$WORK/in.bin" --server-addr "nats://$bus/nd.file?stream=FILES"
expect_error no_stream_server 1 "JetStream stream 'FILES' does not exist \(\?create=1" \
  "$ND/ndserver" --path "$WORK/never" --listen-addr "nats://$bus/nd.file?stream=FILES&durable=srv"
[[ ! -s "$WORK/never" ]] || fail "the refused server wrote its log"

# The client first: the stream keeps what it publishes (every publication acknowledged).
start=$(date +%s%3N)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "nats://$bus/nd.file?stream=FILES&create=1" \
  --stats-format json 2>"$WORK/client.err" || fail "ndclient failed: $(tail -n 5 "$WORK/client.err")"
sent_ms=$(($(date +%s%3N) - start))
grep -q "created the JetStream stream 'FILES'" "$WORK/client.err" || fail "the client did not say it created FILES"
python3 - "$WORK/client.err" "$SIZE" <<'PY' || fail "client counters: $(grep '"sink"' "$WORK/client.err")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sink = [r for r in rows if r["event"] == "summary" and r["role"] == "sink"][-1]
assert sink["endpoint"].startswith("nats://"), sink
assert sink["counters"]["bytes"] == int(sys.argv[2]), sink
assert sink["counters"]["publish_errors"] == 0, sink
assert sink["gauges"]["js_acks_pending"] == 0, sink
PY

# The durable consumer does not exist yet: refused without create=1.
expect_error no_consumer 1 "durable consumer 'srv' of JetStream stream 'FILES' does not exist \(\?create=1" \
  "$ND/ndserver" --path "$WORK/never" --listen-addr "nats://$bus/nd.file?stream=FILES&durable=srv"

# The server afterwards: everything from the start of the stream.
start=$(date +%s%3N)
nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "nats://$bus/nd.file?stream=FILES&durable=srv&create=1"
wait_file_size "$WORK/out.bin" "$SIZE" 40 || fail "the server did not write the stream's $SIZE bytes"
received_ms=$(($(date +%s%3N) - start))
nd_stop_ok srv
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"
grep -Eq "received [0-9]+ datagrams, $SIZE bytes from JetStream stream FILES \(durable srv\)" "$WORK/srv.err" ||
  fail "the server's summary: $(grep -i received "$WORK/srv.err")"

# A proxy publishing live input to the stream stops within a second on
# SIGTERM, its publications in flight and the library's threads running.
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "nats://$bus/nd.file?stream=FILES"
proxy_addr=$(nd_listen_addr proxy udp)
nd_start feed "$ND/ndclient" --path /dev/zero --rate 20M --server-addr "$proxy_addr"
stored() { nd_nats_request bus '$JS.API.STREAM.INFO.FILES' | grep -Eo '"messages": *[0-9]+' | grep -Eo '[0-9]+$'; }
before=$(stored)
wait_until 10 eval '(($(stored) > before))' || fail "the proxy stored nothing in the stream: $(cat "$WORK/proxy.err")"
start=$(date +%s%3N)
nd_stop_ok proxy
stop_ms=$(($(date +%s%3N) - start))
nd_check_stop_ms "$stop_ms" "the JetStream proxy"
nd_stop feed >/dev/null 2>&1 || true

# A server without JetStream: one line.
nd_nats_start plain
plain=$(nd_nats_url plain)
expect_error no_jetstream 1 "JetStream does not answer" \
  "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$plain/nd.file?stream=FILES"

echo "ok: $SIZE bytes published in ${sent_ms} ms, read back in ${received_ms} ms; a JetStream proxy stopped in $stop_ms ms"
