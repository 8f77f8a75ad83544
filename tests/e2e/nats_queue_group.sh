#!/usr/bin/env bash
# Behaviour: ?queue=NAME on a listen address is a queue subscription. Three
# ndservers subscribe to one subject in one queue group (--lines); a client
# publishes numbered lines, one a message (--lines=1): the three logs
# together hold every line exactly once, and each holds a share.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need

LINES=3000
nd_nats_start bus
bus=$(nd_nats_url bus)
bus=${bus#nats://}
seq -f "line %06g of the queue group test" 1 "$LINES" >"$WORK/in.log"

for n in 1 2 3; do
  nd_start "srv$n" "$ND/ndserver" --lines --path "$WORK/log$n" --listen-addr "nats://$bus/nd.lines?queue=writers"
done
for n in 1 2 3; do
  wait_log "srv$n" "listening on nats://$bus/nd\.lines" || fail "server $n did not subscribe: $(cat "$WORK/srv$n.err")"
done

"$ND/ndclient" --path "$WORK/in.log" --lines=1 --server-addr "nats://$bus/nd.lines" 2>"$WORK/client.err" ||
  fail "ndclient failed: $(tail -n 5 "$WORK/client.err")"

total_lines() { cat "$WORK"/log1 "$WORK"/log2 "$WORK"/log3 2>/dev/null | wc -l; }
wait_until 15 eval '(( $(total_lines) >= LINES ))' || fail "the logs hold $(total_lines) of $LINES lines"
nd_stop_ok srv1 srv2 srv3

assert_eq "$LINES" "$(total_lines)" "lines in the three logs together"
sort "$WORK"/log1 "$WORK"/log2 "$WORK"/log3 >"$WORK/all.log"
cmp -s "$WORK/all.log" "$WORK/in.log" || fail "the logs together are not every line exactly once: $(
  sort "$WORK/all.log" | uniq -d | head -n 3)"
for n in 1 2 3; do
  share=$(wc -l <"$WORK/log$n")
  ((share > 0)) || fail "server $n got no line of the queue group"
  echo "server $n: $share lines"
done
