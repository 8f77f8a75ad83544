#!/usr/bin/env bash
# Behaviour: netdisp and srt-live-transmit (a peer nobody here wrote) speak
# live SRT to each other both ways: srt-live-transmit as the sender, relaying
# UDP to ndserver's srt:// listener; and as the receiver, listening for
# ndclient's srt:// caller. Each way the bytes arrive unchanged (sha256).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
command -v srt-live-transmit >/dev/null || skip "srt-live-transmit is not installed (srt-tools)"
nd_setup
nd_random_file "$WORK/in.bin" $((1316 * 400))

# 1. srt-live-transmit sends: UDP in, SRT caller out, to ndserver's listener.
nd_start srv "$ND/ndserver" --path "$WORK/out1.bin" --listen-addr "srt://127.0.0.1:0"
server=$(nd_listen_addr srv srt)
nd_start_on_free_port slt udp srt-live-transmit -q "udp://127.0.0.1:{PORT}" "srt://$server"
wait_log srv "srt caller [^ ]+ connected" || fail "srt-live-transmit did not connect: $(cat "$WORK/slt.err")"
# 4 Mbit/s: srt-live-transmit's UDP socket (the system's default buffer,
# ~160 datagrams) overflowed at 20 Mbit/s on a busy host (a third of the
# stream lost before SRT, "0 lost" in SRT's counters).
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "127.0.0.1:$PORT" --datagram-size 1316 --rate 4M \
  2>"$WORK/client1.err" || fail "ndclient exited $?: $(cat "$WORK/client1.err")"
wait_file_size "$WORK/out1.bin" $((1316 * 400)) || true
nd_stop slt || true
nd_stop_ok srv
assert_same_sha "$WORK/in.bin" "$WORK/out1.bin"

# 2. srt-live-transmit receives: it listens, ndclient calls.
nd_start_on_free_port rx udp srt-live-transmit -q "srt://127.0.0.1:{PORT}?mode=listener" file://con
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://127.0.0.1:$PORT" --datagram-size 1316 --rate 20M \
  2>"$WORK/client2.err" || fail "ndclient exited $?: $(cat "$WORK/client2.err")"
# ndclient exits once srt-live-transmit acknowledged all and had the latency
# to hand it on; srt-live-transmit writes its stdout file at exit.
nd_stop rx || true
assert_same_sha "$WORK/in.bin" "$WORK/rx.out"

# 3. srt-live-transmit calls ndproxy's srt:// listener destination, is sent
# the stream and leaves: the listener's row keeps what was sent to the
# caller that left (its log line and the JSON summary).
nd_start_on_free_port proxy udp "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr "srt://127.0.0.1:{PORT}?mode=listener" --stats-format json
udp=$(nd_listen_addr proxy udp)
listener=127.0.0.1:$PORT
nd_start caller srt-live-transmit -q "srt://$listener" file://con
wait_log proxy "srt caller [^ ]+ connected" || fail "srt-live-transmit did not call: $(cat "$WORK/caller.err")"
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --datagram-size 1316 --rate 20M \
  2>"$WORK/client3.err" || fail "ndclient exited $?: $(cat "$WORK/client3.err")"
sent_all() {
  kill -USR1 "$(nd_pid proxy)"
  grep -q "\"event\":\"counters\",\"role\":\"sink\",\"endpoint\":\"srt://$listener\".*\"bytes\":526400" "$WORK/proxy.err"
}
wait_until 10 sent_all || fail "the proxy did not send all to its caller: $(grep -v '^{' "$WORK/proxy.err")"
nd_stop caller || true
wait_log proxy "srt caller [^ ]+ left \(0 callers\): sent 400 messages \(526400 bytes\)" 15 ||
  fail "the proxy did not see the caller leave: $(grep -v '^{' "$WORK/proxy.err")"
nd_stop_ok proxy
python3 - "$WORK/proxy.err" "srt://$listener" <<'PY' || fail "the listener's summary row: $(grep "\"srt://$listener\"" "$WORK/proxy.err")"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
row = [r for r in rows if r["event"] == "summary" and r["role"] == "listener" and r["endpoint"] == sys.argv[2]][-1]
counters, gauges = row["counters"], row["gauges"]
want = {"datagrams": 400, "bytes": 1316 * 400, "dropped_datagrams": 0, "accepted": 1}
got = {key: counters.get(key, 0) for key in want}
assert got == want and gauges.get("clients", 0) == 0, (got, gauges)
assert counters.get("srt_packets_sent", 0) > 0, counters  # as last seen (at most 0.5 s before it left)
PY
