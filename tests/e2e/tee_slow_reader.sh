#!/usr/bin/env bash
# Behaviour: --tee into a reader that does not read (a fifo nobody reads yet).
# - server and proxy: stdout never holds up the socket or the other sink: the
#   log file (the downstream) gets every byte, SIGTERM ends the process within
#   1 s with exit 0, and the stdout line accounts for every byte received
#   (written + dropped + still waiting at stop + lost to errors), the bytes
#   written being exactly what the reader finally gets;
# - client: waits for the reader (tee(1)), but SIGTERM ends it within 1 s.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((4 << 20))
nd_random_file "$WORK/in.bin" "$size"

# stalled_reader NAME: a fifo $WORK/NAME.fifo held open for reading by this
# shell, which does not read it until resume_reader: a reader that stalled
# from the start (opened read-write, so opening it never blocks).
declare -A ND_FIFO=()
stalled_reader() {
  local fd
  mkfifo "$WORK/$1.fifo"
  exec {fd}<>"$WORK/$1.fifo"
  ND_FIFO[$1]=$fd
}
# resume_reader NAME: takes what the fifo holds into $WORK/NAME-reader.out.
resume_reader() {
  local fd=${ND_FIFO[$1]}
  dd if="/dev/fd/$fd" of="$WORK/$1-reader.out" bs=65536 iflag=nonblock status=none 2>/dev/null || true
  exec {fd}<&-
}

# start_into_fifo NAME CMD...: nd_start NAME with its stdout into $WORK/NAME.fifo.
start_into_fifo() {
  local name=$1
  shift
  # shellcheck disable=SC2016 # expanded by the inner bash
  nd_start "$name" bash -c 'exec "$@" >"$0"' "$WORK/$name.fifo" "$@"
}

# stop_within_1s NAME: SIGTERM; fails unless NAME exits within 1 s; its status in $status.
stop_within_1s() {
  local name=$1 pid start
  status=0
  pid=$(nd_pid "$name")
  start=$(date +%s%3N)
  kill -TERM "$pid"
  nd_wait "$name" 5 || status=$?
  local took=$(($(date +%s%3N) - start))
  ((status != 124)) || fail "$name ignored SIGTERM for 5 s with a stalled stdout reader"
  ((took <= 1000)) || fail "$name took ${took} ms to stop on SIGTERM with a stalled stdout reader"
  echo "$name stopped ${took} ms after SIGTERM" >&2
}

# check_accounting NAME: the summary's stdout line adds up to what the
# udp line received, and the reader got exactly the bytes written.
check_accounting() {
  local name=$1 summary received line written dropped waiting lost
  summary=$(sed -n '/summary:/,$p' "$WORK/$name.err")
  received=$(grep -Eo 'received [0-9]+ datagrams, [0-9]+ bytes' <<<"$summary" | awk '{print $4}')
  line=$(grep -E -- '-> stdout:' <<<"$summary") || fail "$name: no stdout line in the summary"
  [[ $line =~ wrote\ ([0-9]+)\ bytes\;\ dropped\ [0-9]+\ datagrams\ \(([0-9]+)\ bytes\).*\ ([0-9]+)\ bytes\ still\ waiting\ at\ stop\;\ [0-9]+\ write\ errors\ \(([0-9]+)\ bytes ]] ||
    fail "$name: unexpected stdout line: $line"
  written=${BASH_REMATCH[1]} dropped=${BASH_REMATCH[2]} waiting=${BASH_REMATCH[3]} lost=${BASH_REMATCH[4]}
  assert_eq "$size" "$received" "$name: bytes received"
  assert_eq "$received" $((written + dropped + waiting + lost)) "$name: written + dropped + waiting + lost (line: $line)"
  ((dropped > 0)) || fail "$name: a stalled reader of a 4 MiB stream dropped nothing? $line"
  grep -q 'stdout: the reader is too slow, dropped' "$WORK/$name.err" || fail "$name: no warning about the drops"
  resume_reader "$name"
  assert_eq "$written" "$(nd_size "$WORK/$name-reader.out")" "$name: bytes the reader got vs 'wrote'"
}

# ---- server --path FILE --tee ----
stalled_reader srv
start_into_fifo srv "$ND/ndserver" --path "$WORK/srv.log" \
  --listen-addr 127.0.0.1:0 --tee
addr=$(nd_listen_addr srv udp)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --rate 200M 2>"$WORK/cli.err" ||
  fail "ndclient exited $?: $(cat "$WORK/cli.err")"
wait_file_size "$WORK/srv.log" "$size" || fail "the log file stopped getting data behind a stalled --tee reader"
assert_same_sha "$WORK/in.bin" "$WORK/srv.log"
stop_within_1s srv
assert_eq 0 "$status" "server exit status on SIGTERM"
check_accounting srv

# ---- proxy --tee: the downstream gets everything ----
nd_start down "$ND/ndserver" --path "$WORK/down.log" --listen-addr 127.0.0.1:0
down=$(nd_listen_addr down udp)
stalled_reader proxy
start_into_fifo proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr "$down" --tee
addr=$(nd_listen_addr proxy udp)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --rate 200M 2>"$WORK/cli2.err" ||
  fail "ndclient exited $?: $(cat "$WORK/cli2.err")"
wait_file_size "$WORK/down.log" "$size" || fail "the downstream stopped getting data behind a stalled --tee reader"
assert_same_sha "$WORK/in.bin" "$WORK/down.log"
stop_within_1s proxy
assert_eq 0 "$status" "proxy exit status on SIGTERM"
check_accounting proxy
nd_stop_ok down

# ---- client --tee: waits for the reader, but not past SIGTERM ----
big=$((16 << 20))
nd_random_file "$WORK/big.bin" "$big"
nd_start sink "$ND/ndserver" --path "$WORK/sink.log" --listen-addr 127.0.0.1:0
addr=$(nd_listen_addr sink udp)
stalled_reader cli
start_into_fifo cli "$ND/ndclient" --path "$WORK/big.bin" \
  --server-addr "$addr" --rate 400M --tee
# The client sends until the fifo (64 KiB) is full, then waits on stdout: it must stay there.
wait_file_size "$WORK/sink.log" $((64 << 10)) || fail "the client sent nothing"
nd_running cli || fail "the client ended although its stdout reader was stopped"
stop_within_1s cli
line=$(grep -E -- '-> stdout:' "$WORK/cli.err") || fail "client: no stdout line in the summary"
[[ $line =~ wrote\ ([0-9]+)\ bytes ]] || fail "client: unexpected stdout line: $line"
written=${BASH_REMATCH[1]}
resume_reader cli
assert_eq "$written" "$(nd_size "$WORK/cli-reader.out")" "client: bytes the reader got vs 'wrote'"
cmp -s -n "$written" "$WORK/cli-reader.out" "$WORK/big.bin" || fail "client: the reader got other bytes than the input's start"
nd_stop_ok sink
