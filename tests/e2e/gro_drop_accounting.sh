#!/usr/bin/env bash
# Kernel drops are never reported as fewer datagrams than were lost. A server
# with a small receive buffer is held by SIGSTOP while a client sends N
# datagrams with GSO (the default), so most are dropped. With --gro on the
# kernel counts a dropped coalesced message as one drop: the counters must say
# so and give a bound of at least N - received datagrams (SIGUSR1 and the
# summary alike). With --gro off the kernel counts datagrams, and received +
# dropped (+ discarded at stop) is exactly N.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_require_linux_platform "a kernel drop counter (SO_MEMINFO, SO_RXQ_OVFL) with GRO"

datagrams=2048 # of 8192 bytes: 16 MiB into a buffer of about 512 KiB

# flood NAME SERVER-OPTIONS...: the server, held by SIGSTOP while the client
# sends, then SIGCONT, SIGUSR1 (counters) and SIGTERM (summary).
flood() {
  local name=$1 addr pid
  shift
  nd_start "$name" "$ND/ndserver" --path "$WORK/$name.log" --listen-addr 127.0.0.1:0 --rcvbuf 262144 "$@"
  addr=$(nd_listen_addr "$name" udp)
  pid=$(nd_pid "$name")
  kill -STOP "$pid"
  nd_random_file "$WORK/$name.bin" $((datagrams * 8192))
  nd_start "$name-client" "$ND/ndclient" --path "$WORK/$name.bin" --server-addr "$addr" --gso on
  nd_expect_exit "$name-client" 0 20
  kill -CONT "$pid"
  kill -USR1 "$pid"
  wait_log "$name" "counters" || fail "$name: no counters after SIGUSR1"
  wait_until 5 eval "sed -n '/counters/,\$p' '$WORK/$name.err' | grep -q 'udp 127'" || fail "$name: SIGUSR1 printed no udp line"
  nd_stop_ok "$name"
}

# figure NAME SECTION REGEX: the number REGEX captures in the udp line after SECTION.
figure() {
  sed -n "/$2/,\$p" "$WORK/$1.err" | grep -m 1 'udp 127' | sed -nE "s/.*$3.*/\\1/p"
}

# 1. --gro on (the default): each reported figure bounds the loss from above.
flood gro_on --gro on
for section in "counters" "summary:"; do
  line=$(sed -n "/$section/,\$p" "$WORK/gro_on.err" | grep -m 1 'udp 127')
  received=$(figure gro_on "$section" 'received ([0-9]+) datagrams')
  dropped=$(figure gro_on "$section" '; ([0-9]+) dropped by the kernel')
  discarded=$(figure gro_on "$section" '; ([0-9]+) datagrams \([0-9]+ bytes\) discarded at stop')
  bound=$(figure gro_on "$section" 'up to ([0-9]+) datagrams')
  [[ -n "$received" && -n "$dropped" ]] || fail "gro on, $section: no counters in: $line"
  lost=$((datagrams - received - ${discarded:-0}))
  ((lost > 0)) || fail "gro on, $section: nothing was dropped, the test proves nothing: $line"
  [[ -n "$bound" ]] || fail "gro on, $section: $dropped kernel drops for $lost datagrams lost, and no bound: $line"
  ((bound >= lost)) || fail "gro on, $section: says up to $bound datagrams dropped, $lost were: $line"
  grep -q -- "--gro off counts datagrams exactly" <<<"$line" || fail "gro on, $section: no hint at --gro off: $line"
done

# 2. --gro off: the kernel's figure is exact, in datagrams.
flood gro_off --gro off
line=$(sed -n '/summary:/,$p' "$WORK/gro_off.err" | grep -m 1 'udp 127')
received=$(figure gro_off "summary:" 'received ([0-9]+) datagrams')
dropped=$(figure gro_off "summary:" '; ([0-9]+) dropped by the kernel')
discarded=$(figure gro_off "summary:" '; ([0-9]+) datagrams \([0-9]+ bytes\) discarded at stop')
[[ -n "$received" && -n "$dropped" ]] || fail "gro off: no counters in: $line"
((dropped > 0)) || fail "gro off: nothing was dropped, the test proves nothing: $line"
assert_eq "$datagrams" $((received + dropped + ${discarded:-0})) "gro off: received + dropped (+ discarded) in: $line"
grep -q "up to" <<<"$line" && fail "gro off: the exact figure is hedged: $line"
true
