#!/usr/bin/env bash
# Behaviour: an ndserver reading a JetStream stream through a durable
# consumer (?stream=&durable=) and stopped with SIGTERM mid-stream continues,
# when started again, where it stopped: its log holds every line the client
# sent exactly once (a message is acknowledged only after it was written;
# what it had received but not written goes back to the stream at the stop).
# Numbered lines, sent at a steady rate so the stop falls mid-stream; the
# server is stopped twice, each time within a second.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need

LINES=${ND_NATS_RESTART_LINES:-150000}  # 1 MB of numbered lines
nd_nats_start bus --js
bus=$(nd_nats_url bus)
listen="$bus/nd.lines?stream=LINES&durable=log&create=1"
seq 1 "$LINES" >"$WORK/in.txt"
bytes=$(nd_size "$WORK/in.txt")

nd_lines() { wc -l <"$WORK/out.log" 2>/dev/null || echo 0; }
# stop_fast NAME: SIGTERM mid-stream, exit 0 within a second (the library's threads running).
stop_fast() {
  local start=$(date +%s%3N) took
  nd_stop_ok "$1"
  took=$(($(date +%s%3N) - start))
  nd_check_stop_ms "$took" "$1"
  echo "$1 stopped in $took ms"
}
lines_at_least() { (($(nd_lines) >= $1)); }

nd_start srv1 "$ND/ndserver" --lines --path "$WORK/out.log" --listen-addr "$listen"
wait_log srv1 "listening on nats" 10 || fail "the first server did not subscribe"
# About 4 s of sending: 1 MB at 2 Mbit/s, 50 lines a datagram.
nd_start client "$ND/ndclient" --lines=50 --rate 2M --path "$WORK/in.txt" \
  --server-addr "$bus/nd.lines?stream=LINES&create=1"

wait_until 10 lines_at_least $((LINES / 5)) || fail "the first server wrote $(nd_lines) lines in 10 s"
stop_fast srv1
first=$(nd_lines)
nd_running client || fail "the client finished before the first stop: no mid-stream restart (raise LINES)"

nd_start srv2 "$ND/ndserver" --lines --path "$WORK/out.log" --listen-addr "$listen"
wait_until 10 lines_at_least $((first + LINES / 5)) || fail "the second server wrote no more than $(nd_lines) lines"
stop_fast srv2
second=$(nd_lines)

nd_start srv3 "$ND/ndserver" --lines --path "$WORK/out.log" --listen-addr "$listen"
nd_expect_exit client 0 30
wait_until 20 lines_at_least "$LINES" || fail "after the restarts the log has $(nd_lines) of $LINES lines"
nd_stop_ok srv3

# Every message written was acknowledged before the exit: the consumer has
# nothing pending, so nothing comes again later (a duplicate).
python3 - "$(nd_nats_get bus '/jsz?consumers=1')" <<'PY' || fail "the consumer after the last stop: $(nd_nats_get bus '/jsz?consumers=1' | grep -E 'num_|delivered' | tr -d ' \n')"
import json, sys
jsz = json.loads(sys.argv[1])
consumers = [c for a in jsz["account_details"] for s in a["stream_detail"] for c in s.get("consumer_detail", [])]
log = [c for c in consumers if c["name"] == "log"]
assert log, consumers
assert log[0]["num_ack_pending"] == 0, log[0]
assert log[0]["num_pending"] == 0, log[0]
PY

duplicates=$(sort -n "$WORK/out.log" | uniq -d | wc -l)
assert_eq 0 "$duplicates" "lines written twice (first: $(sort -n "$WORK/out.log" | uniq -d | head -n 3 | tr '\n' ' '))"
sort -n "$WORK/out.log" >"$WORK/sorted.txt"
cmp -s "$WORK/in.txt" "$WORK/sorted.txt" ||
  fail "the log does not hold every line once: $(diff "$WORK/in.txt" "$WORK/sorted.txt" | head -n 5 | tr '\n' ' ')"
assert_eq "$bytes" "$(nd_size "$WORK/out.log")" "log size"
echo "ok: $LINES lines exactly once across two SIGTERM restarts (stopped at line $first and $second)"
