#!/usr/bin/env bash
# Behaviour: a wrong SRT passphrase is refused with one clear line on both
# sides: ndclient exits 1 saying "wrong passphrase" and sends nothing, the
# listening ndserver warns that it refused the caller (naming it) and keeps
# running; srt-live-transmit with a wrong passphrase is refused the same way,
# and the right passphrase then works (sha256 equal).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

secret=correct-horse-battery
nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://127.0.0.1:0?passphrase=$secret"
server=$(nd_listen_addr srv srt)
nd_random_file "$WORK/in.bin" 200000

status=0
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?passphrase=wrong-passphrase" \
  2>"$WORK/client.err" || status=$?
assert_eq 1 "$status" "ndclient's exit status with a wrong passphrase"
assert_eq 1 "$(wc -l <"$WORK/client.err")" "lines ndclient wrote: $(cat "$WORK/client.err")"
grep -q "wrong passphrase" "$WORK/client.err" || fail "ndclient did not say why: $(cat "$WORK/client.err")"
wait_log srv "refused caller 127\.0\.0\.1:[0-9]+: wrong passphrase" || fail "ndserver did not name the refused caller"
refusals() { grep -c "refused caller 127\.0\.0\.1:[0-9]*: wrong passphrase" "$WORK/srv.err"; }

# A second refused caller from the same host within the second (refusals
# from one host are one line a second) still gets its line, a second later.
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?passphrase=wrong-passphrase" \
  2>"$WORK/client1.err" && fail "the second ndclient with a wrong passphrase exited 0"
wait_until 10 eval '(($(refusals) >= 2))' || fail "the second refused caller was not named: $(cat "$WORK/srv.err")"

# srt-live-transmit (retrying 30 times a second from new ports) is refused
# too, and named in a line of its own within a second or two (refusals from
# one host are one line a second, the later ones counted into the next).
if command -v srt-live-transmit >/dev/null; then
  nd_start_on_free_port slt udp srt-live-transmit -q "udp://127.0.0.1:{PORT}" \
    "srt://$server?passphrase=not-the-secret"
  wait_until 10 eval '(($(refusals) >= 3))' ||
    fail "ndserver did not refuse srt-live-transmit's wrong passphrase: $(cat "$WORK/srv.err")"
  nd_stop slt || true
  grep -q "Incorrect passphrase" "$WORK/slt.err" || fail "srt-live-transmit was not told: $(head -3 "$WORK/slt.err")"
fi
nd_running srv || fail "ndserver exited after refusing callers"
[[ ! -s "$WORK/out.bin" ]] || fail "ndserver wrote data from a refused caller"

"$ND/ndclient" --path "$WORK/in.bin" --datagram-size 1316 --server-addr "srt://$server?passphrase=$secret" \
  2>"$WORK/client2.err" || fail "ndclient with the right passphrase exited $?: $(cat "$WORK/client2.err")"
wait_file_size "$WORK/out.bin" 200000 || true
nd_stop_ok srv
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"
