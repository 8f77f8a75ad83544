#!/usr/bin/env bash
# Behaviour: core NATS has no flow control; a subscriber that falls behind
# by more than its pending limit (--rcvbuf) loses messages, and the library's
# count of them is reported as slow_consumer_drops: nothing is lost
# uncounted. An ndserver writes to a FIFO whose reader is stopped (SIGSTOP)
# while a 32 MiB file is published; once the reader runs again, what the
# server wrote plus what the library dropped is every published message.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need
[[ -e "$ND/netdisp-nats.so" ]] || skip "this build has no nats:// (libnats-dev, -Dnats=enabled)"

SIZE=$((32 << 20))
nd_nats_start bus
bus=$(nd_nats_url bus)
nd_random_file "$WORK/in.bin" "$SIZE"
mkfifo "$WORK/fifo"
# Read-write: the reader never sees an end of file when the server reopens the FIFO.
nd_start reader bash -c 'exec cat <>"$WORK/fifo"'
nd_start srv "$ND/ndserver" --path "$WORK/fifo" --rcvbuf 1M --stats-format json --listen-addr "$bus/nd.slow"
wait_log srv "listening on nats" || fail "the server did not subscribe: $(cat "$WORK/srv.err")"
kill -STOP "$(nd_pid reader)"

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$bus/nd.slow" 2>"$WORK/client.err" ||
  fail "ndclient failed: $(tail -n 3 "$WORK/client.err")"
wait_log srv "[Ss]low [Cc]onsumer" 10 || fail "the library reported no slow consumer: $(cat "$WORK/srv.err")"
kill -CONT "$(nd_pid reader)"
# The server's queue drains into the FIFO until nothing more comes.
last=-1
while (($(nd_size "$WORK/reader.out") != last)); do
  last=$(nd_size "$WORK/reader.out")
  wait_until 2 eval '(($(nd_size "$WORK/reader.out") != last))' || break
done
nd_stop_ok srv
row=$(grep -F '"event":"summary","role":"source"' "$WORK/srv.err" | tail -n 1)
count() { grep -Eo "\"$1\":[0-9]+" <<<"$row" | head -n 1 | cut -d: -f2; }
received=$(count datagrams) dropped=$(count slow_consumer_drops) discarded=$(count discarded_datagrams)
((dropped > 0)) || fail "no slow_consumer_drops counted: $row"
assert_eq $((SIZE / 8192)) $((received + dropped + discarded)) "received + slow_consumer_drops + discarded"
assert_eq $((received * 8192)) "$(nd_size "$WORK/reader.out")" "bytes written vs datagrams received"
echo "ok: $received messages written, $dropped dropped by the library (slow consumer) and counted, $discarded discarded at stop"
