#!/usr/bin/env bash
# Behaviour: ndclient sends a 16 MiB file over norm:// to a multicast group
# with three ndservers in their own namespaces, each losing 5.0 % of the
# group's packets on its own, and 5.0 % of the feedback is lost on the way
# back: NORM repairs every gap, each server's file has the sha256 of the
# input, and --expect 3 exits 0 once all three acknowledged the whole stream.
# The same with Reed-Solomon parity repairs (parity=16&autoparity=2).
# Then (loss rules removed) --expect 4 with a 2 s --expect-timeout waits
# that long for a fourth receiver before sending, sends to those heard from,
# and exits 1 saying that 3 of the 4 acknowledged and 1 was never heard from. Runs on
# lib/lossy.sh's private rig.
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_lossy_rig 3

port=9940
group="239.1.2.5:$port"
size=$((16 << 20))
nd_random_file "$WORK/in.bin" "$size"
for k in 1 2 3; do
  nd_lossy_drop "r$k" 50 "$port"
  nd_start "srv$k" ip netns exec "r$k" "$ND/ndserver" --path "$WORK/out$k.bin" --listen_addr "norm://$group"
done
nd_lossy_drop sender 50 udp
for k in 1 2 3; do wait_log "srv$k" "listening on norm://" || fail "srv$k did not start"; done

"$ND/ndclient" --path "$WORK/in.bin" --server_addr "norm://$group?rate=100M" --expect 3 --expect-timeout 60 \
  2>"$WORK/client.err" || fail "ndclient --expect 3 exited $?: $(cat "$WORK/client.err")"
grep -q "3 receivers heard from, 3 acknowledged" "$WORK/client.err" ||
  fail "the client's summary does not count 3 acknowledgements: $(cat "$WORK/client.err")"
for k in 1 2 3; do
  wait_file_size "$WORK/out$k.bin" "$size" 20 || fail "srv$k did not write every byte"
done
for k in 1 2 3; do
  dropped=$(nd_lossy_dropped "r$k")
  ((dropped > 0)) || fail "r$k's loss rule dropped nothing: the test did not test repairs"
  assert_same_sha "$WORK/in.bin" "$WORK/out$k.bin"
done

# Repairs with Reed-Solomon parity (parity= is 0 by default: lost packets
# are resent), still at 5 % loss, with 2 parity packets of every block sent
# before any NACK: a second sender's 4 MiB stream, appended by each server.
head -c $((4 << 20)) "$WORK/in.bin" >"$WORK/fec.bin"
cat "$WORK/in.bin" "$WORK/fec.bin" >"$WORK/both.bin"
"$ND/ndclient" --path "$WORK/fec.bin" --server_addr "norm://$group?rate=100M&parity=16&autoparity=2" --expect 3 \
  --expect-timeout 60 2>"$WORK/client_fec.err" || fail "ndclient with parity=16 exited $?: $(cat "$WORK/client_fec.err")"
for k in 1 2 3; do
  wait_file_size "$WORK/out$k.bin" $((size + (4 << 20))) 20 || fail "srv$k did not write every byte sent with parity"
  assert_same_sha "$WORK/both.bin" "$WORK/out$k.bin"
done

# Four expected, three there: exit 1 after the timeout, saying so. (No loss
# for this part: it is about the count; the three's answers then come sooner.)
for ns in r1 r2 r3 sender; do nd_lossy_clear "$ns"; done
head -c 65536 "$WORK/in.bin" >"$WORK/small.bin"
status=0
"$ND/ndclient" --path "$WORK/small.bin" --server_addr "norm://$group?rate=200M" --expect 4 --expect-timeout 2 \
  2>"$WORK/client4.err" || status=$?
assert_eq 1 "$status" "ndclient --expect 4 with three receivers"
# (How many answered the first probes within those 2 s varies on a busy host.)
grep -Eq "[0-3] of 4 expected receivers heard from after 2 s: sending to those" "$WORK/client4.err" ||
  fail "no line saying the client started without the fourth receiver: $(cat "$WORK/client4.err")"
# A receiver first heard after those 2 s is a late joiner (named on a line of
# its own, not waited for), so 2 or 3 acknowledged; seen in a loaded ASan run:
# the third server answered a probe 2.8 s after the start.
late=$(grep -c "joined [0-9]* bytes into the stream and did not acknowledge its end" "$WORK/client4.err" || true)
grep -q "$((3 - late)) of 4 expected receivers acknowledged the whole stream after 2 s (1 never heard from)" \
  "$WORK/client4.err" || fail "no line naming the missing receiver: $(cat "$WORK/client4.err")"
nd_stop_ok srv1 srv2 srv3
