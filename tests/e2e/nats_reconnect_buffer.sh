#!/usr/bin/env bash
# Behaviour: while the library reconnects, a nats:// destination's
# publications wait in its reconnect buffer (8 MiB); what does not fit is
# counted as loss, never dropped silently. The client publishes 1 MiB, its
# only server stops, the client is given 12 MiB more: about 8 MiB wait, about
# 4 MiB are counted as away_datagrams/away_bytes. A server started again on
# the same port takes the buffer; the client exits 1 naming what was dropped,
# and published + away bytes are the whole input.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need
[[ -e "$ND/netdisp-nats.so" ]] || skip "this build has no nats:// (libnats-dev, -Dnats=enabled)"

MIB=1048576
nd_nats_start bus
url=$(nd_nats_url bus)
port=${url##*:}
nd_random_file "$WORK/in.bin" $((13 * MIB))

# The input: 1 MiB, then (once the test writes to the fifo $WORK/go) the other 12 MiB.
mkfifo "$WORK/go"
nd_start client bash -c '
  set -o pipefail
  {
    head -c '$MIB' "$WORK/in.bin"
    cat "$WORK/go" >/dev/null  # a fifo: returns when the test opens and closes it
    tail -c +'$((MIB + 1))' "$WORK/in.bin"
  } | exec "$ND/ndclient" --path - --stats-format json --server-addr "'"$url"'/nd.rb"'
# The first MiB reached the server (its /varz counts what came in).
in_bytes() { nd_nats_get bus /varz | grep -Eo '"in_bytes": *[0-9]+' | grep -Eo '[0-9]+$'; }
wait_until 10 eval '(($(in_bytes) >= MIB))' || fail "the first MiB did not reach the server: $(cat "$WORK/client.err")"
nd_nats_stop bus
wait_log client "disconnected from the server; reconnecting" 10 || fail "the client did not notice the stop"
timeout 10 bash -c ': >"$1"' _ "$WORK/go" || fail "the client no longer waits for the rest of its input"
# The 12 MiB are read and published (buffered or counted) before the server is back.
wait_log client "reconnecting, the buffer is full" 20 || fail "no buffer overflow reported: $(cat "$WORK/client.err")"
nd_nats_start bus2 -p "$port"
nd_expect_exit client 1 30
grep -Eq "nd\.rb: [0-9]+ messages \([0-9]+ bytes\) dropped while reconnecting" "$WORK/client.err" ||
  fail "the exit names no loss: $(tail -n 3 "$WORK/client.err")"
python3 - "$WORK/client.err" $((13 * MIB)) <<'PY' || fail "counters: $(grep -h '"summary"' "$WORK/client.err")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
sink = [r for r in rows if r["event"] == "summary" and r["role"] == "sink"][-1]["counters"]
total, mib = int(sys.argv[2]), 1 << 20
assert sink["bytes"] + sink["away_bytes"] == total, sink
assert 3 * mib < sink["away_bytes"] < 5 * mib, sink
assert sink["send_errors"] == 0, sink
print(f"ok: {sink['bytes']} bytes published, {sink['away_bytes']} ({sink['away_datagrams']} messages) counted as dropped while reconnecting")
PY
