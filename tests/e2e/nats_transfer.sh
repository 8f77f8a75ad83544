#!/usr/bin/env bash
# Behaviour: client -> NATS -> server through one nats-server (core NATS, no
# JetStream) on an idle loopback: a file published by ndclient, one message
# per datagram, arrives whole at an ndserver subscribed to the subject (equal
# sha256), with the summary counting every message and no loss. The client's
# server list names a port nobody listens on first (a comma-separated list,
# one option value): the library goes on to the live server. The server
# stops on SIGTERM within a second with the library's threads running.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need

SIZE=${ND_NATS_BYTES:-$((64 << 20))}
nd_nats_start bus
bus=$(nd_nats_url bus)
bus=${bus#nats://}
nd_random_file "$WORK/in.bin" "$SIZE"

# A loopback port with nobody listening: the first server of the client's list.
while true; do
  dead=$((20000 + RANDOM % 40000))
  ss -Hlnt "sport = :$dead" | grep -q . || break
done

nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "nats://$bus/nd.file" --stats-format json
wait_log srv "listening on nats://$bus/nd\.file" || fail "the server did not subscribe: $(cat "$WORK/srv.err")"

start=$(date +%s%3N)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "nats://127.0.0.1:$dead,$bus/nd.file" \
  --stats-format json 2>"$WORK/client.err" || fail "ndclient failed: $(tail -n 5 "$WORK/client.err")"
wait_file_size "$WORK/out.bin" "$SIZE" 30 || fail "the server did not write the $SIZE bytes"
echo "client -> NATS -> server: $SIZE bytes in $(($(date +%s%3N) - start)) ms"
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"

# The server stops within a second, its subscription and connection closed.
start=$(date +%s%3N)
nd_stop_ok srv
stop_ms=$(($(date +%s%3N) - start))
nd_check_stop_ms "$stop_ms" "the server"

datagrams=$(((SIZE + 8191) / 8192))
python3 - "$WORK/client.err" "$WORK/srv.err" "$SIZE" "$datagrams" <<'PY' || fail "counters: $(grep -h '"summary"' "$WORK/client.err" "$WORK/srv.err")"
import json, sys
def summary(path, role):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    return [r for r in rows if r["event"] == "summary" and r["role"] == role][-1]
size, datagrams = int(sys.argv[3]), int(sys.argv[4])
sink = summary(sys.argv[1], "sink")
assert sink["endpoint"].startswith("nats://127.0.0.1:") and sink["endpoint"].endswith("/nd.file"), sink
c = sink["counters"]
assert c["bytes"] == size and c["datagrams"] == datagrams, sink
assert c["send_errors"] == 0 and c["away_datagrams"] == 0, sink
source = summary(sys.argv[2], "source")
c = source["counters"]
assert c["bytes"] == size and c["datagrams"] == datagrams, source
assert c["slow_consumer_drops"] == 0 and c["discarded_datagrams"] == 0, source
PY
