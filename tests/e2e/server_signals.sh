#!/usr/bin/env bash
# ndserver and signals: SIGTERM and SIGINT end an idle server with exit 0 within
# 1 s after a summary; SIGUSR1 prints the counters and the server goes on;
# SIGHUP reopens the log (logrotate: mv, HUP) without losing or duplicating data.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# 1. SIGTERM and SIGINT on an idle server.
for sig in TERM INT; do
  nd_start "idle$sig" "$ND/ndserver" --path "$WORK/idle$sig.log" --listen_addr 127.0.0.1:0
  nd_listen_addr "idle$sig" udp >/dev/null
  kill -"$sig" "$(nd_pid "idle$sig")"
  rc=0
  nd_wait "idle$sig" 1 || rc=$?
  [[ $rc -ne 124 ]] || fail "idle server still running 1 s after SIG$sig"
  assert_eq 0 "$rc" "exit status of an idle server on SIG$sig"
  grep -q "summary:" "$WORK/idle$sig.err" || fail "no summary after SIG$sig"
  grep -q "received 0 datagrams, 0 bytes" "$WORK/idle$sig.err" || fail "summary after SIG$sig lacks the counters"
  [[ ! -s "$WORK/idle$sig.out" ]] || fail "server wrote to stdout without --tee"
done

# The rotation server: --path out.log.
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
: >"$WORK/sent.bin"
send() { # NAME BYTES: sends BYTES random bytes, waits until the client is done
  nd_random_file "$WORK/$1.bin" "$2"
  nd_start "$1" "$ND/ndclient" --path "$WORK/$1.bin" --server_addr "$addr"
  nd_expect_exit "$1" 0
  cat "$WORK/$1.bin" >>"$WORK/sent.bin"
}

# 2. SIGUSR1: counters, and the server keeps receiving.
send part1 300001
wait_file_size "$WORK/out.log" 300001 || true
assert_same_sha "$WORK/part1.bin" "$WORK/out.log"
kill -USR1 "$(nd_pid srv)"
wait_log srv "counters" || fail "no counters after SIGUSR1"
wait_log srv "udp $addr: received [0-9]+ datagrams, 300001 bytes" || fail "SIGUSR1 counters lack the bytes received"
nd_running srv || fail "server stopped on SIGUSR1"
grep -q "summary:" "$WORK/srv.err" && fail "SIGUSR1 printed a summary as if stopping"

# 3. SIGHUP: mv the log away, HUP, send more: old file = part 1, new file = part 2.
mv "$WORK/out.log" "$WORK/out.log.1"
kill -HUP "$(nd_pid srv)"
wait_log srv "SIGHUP" || fail "the server did not acknowledge SIGHUP"
send part2 400003
wait_file_size "$WORK/out.log" 400003 || fail "no new log file after SIGHUP"
assert_same_sha "$WORK/part1.bin" "$WORK/out.log.1"
assert_same_sha "$WORK/part2.bin" "$WORK/out.log"
cat "$WORK/out.log.1" "$WORK/out.log" >"$WORK/both.bin"
assert_same_sha "$WORK/sent.bin" "$WORK/both.bin"

# 4. SIGHUP after the log was deleted: a fresh file holds exactly what follows.
rm "$WORK/out.log"
kill -HUP "$(nd_pid srv)"
wait_until 5 eval '(($(grep -c SIGHUP "$WORK/srv.err") >= 2))' || fail "second SIGHUP not acknowledged"
send part3 100005
wait_file_size "$WORK/out.log" 100005 || fail "no new log file after the second SIGHUP"
assert_same_sha "$WORK/part3.bin" "$WORK/out.log"

# 5. SIGTERM with data: exit 0 and the summary counts everything received.
rc=0
nd_stop srv TERM || rc=$?
assert_eq 0 "$rc" "exit status on SIGTERM"
total=$((300001 + 400003 + 100005))
grep -q "summary:" "$WORK/srv.err" || fail "no summary on SIGTERM"
sed -n '/summary:/,$p' "$WORK/srv.err" | grep -qE "udp $addr: received [0-9]* datagrams, $total bytes; $(nd_kernel_drops 0 | sed 's/[()]/\\&/g')" ||
  fail "summary does not count $total bytes"
