#!/usr/bin/env bash
# A stopping server keeps what the kernel had already queued for it: with the
# server held by SIGSTOP, a client sends data that fits in its receive buffer;
# SIGTERM then SIGCONT, and the log holds all of it (the drain, bounded by
# --drain-timeout). With --drain-timeout 0 what is still queued is read and
# counted instead: received + discarded at stop + dropped by the kernel is
# exactly what was sent (--gro off, so the kernel counts datagrams).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_require_linux_platform "counting every datagram (received + discarded + kernel drops: SO_MEMINFO)"

# summary_figure NAME REGEX: the first number captured by REGEX in NAME's summary.
summary_figure() {
  sed -n '/summary:/,$p' "$WORK/$1.err" | sed -nE "s/.*$2.*/\\1/p" | head -n 1
}

# queue_then_stop NAME BYTES SERVER-OPTIONS...: a stopped server, a client that
# sends BYTES to it and ends, then SIGTERM and SIGCONT; the server must exit 0.
queue_then_stop() {
  local name=$1 bytes=$2 addr pid
  shift 2
  nd_start "$name" "$ND/ndserver" --path "$WORK/$name.log" --listen-addr 127.0.0.1:0 "$@"
  addr=$(nd_listen_addr "$name" udp)
  pid=$(nd_pid "$name")
  kill -STOP "$pid"
  nd_random_file "$WORK/$name.bin" "$bytes"
  nd_start "$name-client" "$ND/ndclient" --path "$WORK/$name.bin" --server-addr "$addr"
  nd_expect_exit "$name-client" 0 20
  kill -TERM "$pid"
  kill -CONT "$pid"
  local rc=0
  nd_wait "$name" 5 || rc=$?
  assert_eq 0 "$rc" "$name exit status after SIGTERM and SIGCONT"
}

# 1. 4 MiB (512 datagrams of 8192 bytes) fit in a 64 MiB receive buffer: all written.
queue_then_stop drained $((4 << 20)) --rcvbuf 67108864
assert_same_sha "$WORK/drained.bin" "$WORK/drained.log"
received=$(summary_figure drained 'received ([0-9]+) datagrams')
assert_eq 512 "$received" "datagrams the drained server received"
grep -q "discarded at stop" "$WORK/drained.err" && fail "the drained server discarded data at stop"

# 2. --drain-timeout 0, a 1 MiB buffer that holds only part of 4 MiB: every
# datagram is received, dropped by the kernel or discarded at stop, and counted.
queue_then_stop counted $((4 << 20)) --rcvbuf 1048576 --gro off --drain-timeout 0
received=$(summary_figure counted 'received ([0-9]+) datagrams')
received_bytes=$(summary_figure counted 'received [0-9]+ datagrams, ([0-9]+) bytes')
dropped=$(summary_figure counted '; ([0-9]+) dropped by the kernel')
discarded=$(summary_figure counted '; ([0-9]+) datagrams \([0-9]+ bytes\) discarded at stop')
[[ -n "$received" && -n "$dropped" ]] || fail "summary lacks the counters: $(grep udp "$WORK/counted.err" | tail -n 1)"
# The summary names a discard only when there was one: after SIGCONT the
# pipe's thread may read the whole queue (received) before the supervisor's
# thread has read SIGTERM from its signalfd (seen in CI under load: 232
# received, 280 dropped, none discarded). The sum below holds either way;
# tests/unit/pipe_test.cpp counts a discard at stop deterministically.
discarded=${discarded:-0}
assert_eq 512 $((received + discarded + dropped)) \
  "received ($received) + discarded at stop ($discarded) + dropped ($dropped)"
assert_eq "$received_bytes" "$(nd_size "$WORK/counted.log")" "log size vs bytes received"
