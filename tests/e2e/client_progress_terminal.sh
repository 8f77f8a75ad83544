#!/usr/bin/env bash
# On a terminal (a tmux pane of 80 columns) ndclient shows one live progress
# line on stderr, redrawn in place: bytes of the file's size, the time, the
# current and average rates in pv's units, percent and ETA. Log lines
# (SIGUSR1's counters) and JSON stats lines start on a line of their own,
# never after the progress text; at exit the line is erased and the summary
# follows. -q and --no-progress show none. Four panes run side by side.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# 6 MiB at 24 Mbit/s: about 2.1 s, long enough to watch.
size=$((6 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
nd_have_pty || skip "no pseudo-terminals here (is /dev/pts mounted?): tmux cannot open a pane"
sock="nd-progress-$$"
tmux_() { tmux -L "$sock" "$@"; }
printf 'set -g remain-on-exit on\nset -g status off\n' >"$WORK/tmux.conf"
nd_on_exit 'tmux -L "$sock" kill-server 2>/dev/null'

# pane NAME ARGS...: runs ndclient ARGS in a new 80x24 tmux session NAME,
# sending the file to its server (started below); its pid goes to
# $WORK/NAME.pane-pid, its exit status to $WORK/NAME.pane-rc.
pane() {
  local name=$1 addr cmd
  shift
  addr=$(nd_listen_addr "srv-$name" udp)
  cmd=$(printf '%q ' "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --rate 24M "$@")
  tmux_ -f "$WORK/tmux.conf" new-session -d -s "$name" -x 80 -y 24 \
    "$cmd & echo \$! >$WORK/$name.pane-pid; wait \$!; echo \$? >$WORK/$name.pane-rc"
}
# screen NAME: the pane's text and history (a dead pane scrolls), wrapped lines joined, without tmux's own
# "Pane is dead" line.
screen() { tmux_ capture-pane -p -J -S - -t "$1" | grep -v '^Pane is dead'; }
dead() { [[ "$(tmux_ display -p -t "$1" '#{pane_dead}')" == 1 ]]; }
exit_status() { cat "$WORK/$1.pane-rc"; }

progress_re='[0-9. ]{4}( B|[KMG]iB) of 6\.00MiB [0-9]+:[0-9]{2}:[0-9]{2} \[[0-9. ]{4}( B|[KMG]iB)/s\] \[[0-9. ]{4}( B|[KMG]iB)/s\]'
for name in json quiet off text; do
  nd_start "srv-$name" "$ND/ndserver" --path "$WORK/$name.log" --listen-addr 127.0.0.1:0
done
pane json --stats-interval 0.5 --stats-format json
pane quiet -q
pane off --no-progress
pane text  # last: watched from its start

# While they run: the progress line, on one line, mid-way; none in the others.
seen_mid=0 signalled=0
# watch: one look at the panes (fails the test on what must not be); true once pane text has ended.
watch() {
  local other lines
  screen text >"$WORK/text.screen"
  lines=$(grep -Ec -- "$progress_re" "$WORK/text.screen" || true)
  ((lines <= 1)) || fail "the progress line scrolled instead of being redrawn in place: $(cat "$WORK/text.screen")"
  if grep -Eq -- "$progress_re +([1-9]|[1-9][0-9])% ETA [0-9]+:[0-9]{2}:[0-9]{2}\$" "$WORK/text.screen"; then
    seen_mid=1
    # Log lines must start on a line of their own: SIGUSR1's counters, once.
    if ((signalled == 0)); then kill -USR1 "$(cat "$WORK/text.pane-pid")" && signalled=1; fi
  fi
  for other in quiet off; do
    if screen "$other" | grep -Eq -- '/s\]|ETA|of 6\.00MiB'; then fail "progress text with $other: $(screen "$other")"; fi
  done
  dead text
}
wait_until 20 watch || fail "ndclient in pane text did not end within 20 s"
((seen_mid)) || fail "never saw a progress line mid-way with percent and ETA"

for name in text json quiet off; do
  wait_until 10 dead "$name" || fail "ndclient in pane $name did not end"
  assert_eq 0 "$(exit_status "$name")" "ndclient exit status in pane $name"
  assert_same_sha "$WORK/in.bin" "$WORK/$name.log"
  screen "$name" >"$WORK/$name.screen"
  # Erased at exit: no progress text is left, and the summary is there.
  if grep -Eq -- '/s\]|ETA|of 6\.00MiB' "$WORK/$name.screen"; then
    fail "progress text left in pane $name after exit: $(cat "$WORK/$name.screen")"
  fi
  if grep -q $'\r\|\x1b' "$WORK/$name.screen"; then fail "control characters left in pane $name"; fi
done
# Text panes: every non-empty line is a log line from its first column.
for name in text quiet off; do
  if grep -Ev '^$|^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:.]+ ndclient ' "$WORK/$name.screen" | grep -q .; then
    fail "a line of pane $name is not a log line: $(cat "$WORK/$name.screen")"
  fi
  grep -q 'ndclient info: summary:' "$WORK/$name.screen" || fail "no summary in pane $name: $(cat "$WORK/$name.screen")"
done
grep -q 'ndclient info: counters (SIGUSR1):' "$WORK/text.screen" || fail "no SIGUSR1 counters in pane text"
# JSON pane: after the start-up log lines, every line is a whole JSON object.
grep -v '^$' "$WORK/json.screen" | grep -Ev '^20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9:.]+ ndclient info: ' >"$WORK/json.lines"
grep -q '"event":"summary"' "$WORK/json.lines" || fail "no JSON summary in pane json: $(cat "$WORK/json.screen")"
python3 -c 'import json, sys
for line in open(sys.argv[1]): json.loads(line)' "$WORK/json.lines" ||
  fail "a line of pane json is not JSON: $(cat "$WORK/json.screen")"

nd_stop_ok srv-text srv-json srv-quiet srv-off
