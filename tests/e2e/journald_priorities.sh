#!/usr/bin/env bash
# Logging under systemd: when JOURNAL_STREAM names stderr's device and inode
# (systemd sets it when stderr is the journal), every line starts with its
# sd-daemon(3) priority (<6> info, <4> warning, <3> the error that ends the
# program) and carries no timestamp; the summary (report()) too. Elsewhere, and
# when JOURNAL_STREAM names another file (inherited by a child whose stderr is
# not the journal), the format is the usual "DATE TIME ndserver LEVEL: text".
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# run_server NAME [JOURNAL_STREAM]: a server refusing every peer but 127.0.0.2,
# sent one datagram from 127.0.0.1 (a warning), then stopped (the summary).
run_server() {
  local name=$1 stream=${2:-} addr environment=(env -u JOURNAL_STREAM)
  : >"$WORK/$name.err" # nd_start keeps this file (and its inode) for stderr
  [[ "$stream" != stderr ]] || stream=$(stat -c '%d:%i' "$WORK/$name.err")
  [[ -z "$stream" ]] || environment=(env JOURNAL_STREAM="$stream")
  nd_start "$name" "${environment[@]}" "$ND/ndserver" --path "$WORK/$name.log" \
    --listen-addr 127.0.0.1:0 --allow 127.0.0.2/32
  addr=$(nd_listen_addr "$name" udp)
  echo hello | socat -u - "UDP-SENDTO:$addr"
  wait_log "$name" "refused datagram from 127\.0\.0\.1" || fail "$name: no warning for the refused datagram"
  nd_stop_ok "$name"
}

# 1. stderr is the journal.
run_server journal stderr
grep -Eq '^<6>ndserver info: listening on udp 127\.0\.0\.1:[0-9]+' "$WORK/journal.err" ||
  fail "no '<6>ndserver info: listening' line: $(head -n 3 "$WORK/journal.err")"
grep -Eq '^<4>ndserver warning: udp .*refused datagram from 127\.0\.0\.1' "$WORK/journal.err" ||
  fail "the warning does not start with <4>: $(grep refused "$WORK/journal.err")"
grep -Eq '^<6>ndserver info: summary:' "$WORK/journal.err" || fail "the summary does not start with <6>"
bad=$(grep -Ev '^<[2-7]>ndserver ' "$WORK/journal.err" || true)
[[ -z "$bad" ]] || fail "lines without a priority prefix: $bad"
! grep -Eq '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}' "$WORK/journal.err" || fail "a line carries a timestamp"

# The error that ends it: <3>. The same port again: bind fails, exit 1.
: >"$WORK/taken.err"
nd_start holder "$ND/ndserver" --path "$WORK/holder.log" --listen-addr 127.0.0.1:0
held=$(nd_listen_addr holder udp)
nd_start taken env JOURNAL_STREAM="$(stat -c '%d:%i' "$WORK/taken.err")" "$ND/ndserver" \
  --path "$WORK/taken.log" --listen-addr "$held"
nd_expect_exit taken 1
grep -Eq '^<3>ndserver: .*'"$held" "$WORK/taken.err" || fail "the bind error does not start with <3>: $(cat "$WORK/taken.err")"
nd_stop_ok holder

# 2. JOURNAL_STREAM naming another file, and 3. no JOURNAL_STREAM: the usual format.
other=$(stat -c '%d:%i' "$WORK/journal.err")
run_server elsewhere "$other"
run_server plain
for name in elsewhere plain; do
  ts='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} ndserver'
  grep -Eq "$ts info: listening on udp" "$WORK/$name.err" || fail "$name: info line not in the usual format"
  grep -Eq "$ts warning: udp .*refused datagram" "$WORK/$name.err" || fail "$name: warning not in the usual format"
  ! grep -q '^<[0-9]>' "$WORK/$name.err" || fail "$name: a priority prefix where stderr is not the journal"
done
