#!/usr/bin/env bash
# Behaviour: ndreverse-proxy refuses a --multicast_addr that is not a
# multicast group: exit 2 (usage error), one line on stderr saying so, and
# nothing opened. No multicast is sent, so no namespace is needed.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

for group in 127.0.0.1:9 '[::1]:9'; do
  status=0
  timeout 10 "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --udp_listen_addr 127.0.0.1:0 \
    --multicast_addr "$group" >"$WORK/out" 2>"$WORK/err" || status=$?
  ((status != 124)) || fail "--multicast_addr $group: the reverse-proxy started instead of refusing"
  assert_eq 2 "$status" "exit status for --multicast_addr $group"
  grep -Fq -- "$group" "$WORK/err" || fail "the error does not name $group: $(cat "$WORK/err")"
  grep -Eiq 'not a multicast' "$WORK/err" || fail "the error does not say $group is not multicast: $(cat "$WORK/err")"
  assert_eq 1 "$(wc -l <"$WORK/err")" "lines on stderr for --multicast_addr $group"
  ! grep -q 'listening on' "$WORK/err" || fail "--multicast_addr $group: sockets were opened before the check"
  assert_eq 0 "$(stat -c %s "$WORK/out")" "bytes on stdout for --multicast_addr $group"
done
