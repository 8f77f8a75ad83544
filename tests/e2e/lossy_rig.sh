#!/usr/bin/env bash
# Behaviour: the lossy test network of lib/lossy.sh does what the tests and
# scripts/bench rely on. 20,000 numbered datagrams sent by ndclient to a group
# reach three ndservers in their own namespaces, each behind a 5.0 % loss rule:
# each loses between 3.5 % and 6.5 %, exactly what its rule dropped (nothing
# else is lost on the rig), and the receivers lose different datagrams (each
# draws on its own). A rule on the sender's side drops on the way back (the
# feedback path) the same way, and a tbf bottleneck holds TCP to its rate.
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_lossy_rig 3

# 20,000 records of 1000 bytes, one per datagram: an 8-digit number, padding,
# a newline. What a receiver logged then says which datagrams it got.
count=20000
awk -v n="$count" 'BEGIN { pad = sprintf("%991s", ""); gsub(/ /, "x", pad)
  for (i = 0; i < n; i++) printf "%08d%s\n", i, pad }' >"$WORK/in.bin"
seq -f %08g 0 $((count - 1)) >"$WORK/all.txt"

# lost_ok NAME LOG DROPPED: LOG holds whole records, DROPPED fewer than sent,
# and the loss is 3.5 % .. 6.5 %; writes the missing numbers to NAME.missing.
lost_ok() {
  local name=$1 log=$2 dropped=$3 size got
  size=$(nd_size "$log")
  ((size % 1000 == 0)) || fail "$name: $size bytes logged, not whole 1000-byte datagrams"
  got=$((size / 1000))
  cut -c1-8 "$log" | sort | comm -23 "$WORK/all.txt" - >"$WORK/$name.missing"
  (($(wc -l <"$WORK/$name.missing") == count - got)) || fail "$name: duplicate or unknown datagrams"
  ((count - got == dropped)) ||
    fail "$name: $((count - got)) datagrams missing, but its loss rule dropped $dropped: the rig lost others"
  ((dropped * 1000 >= 35 * count && dropped * 1000 <= 65 * count)) ||
    fail "$name: a 5.0 % rule dropped $dropped of $count datagrams ($((dropped * 1000 / count)) per mille)"
  echo "$name: lost $dropped of $count"
}

# 1. Multicast to three receivers, 5.0 % loss on each.
group=239.1.2.3:9931
for k in 1 2 3; do
  nd_lossy_drop "r$k" 50 9931
  nd_start "srv$k" ip netns exec "r$k" "$ND/ndserver" --path "$WORK/r$k.log" --listen_addr "$group"
done
for k in 1 2 3; do nd_listen_addr "srv$k" udp >/dev/null; done
"$ND/ndclient" --path "$WORK/in.bin" --server_addr "$group" --datagram-size 1000 --rate 100M \
  2>"$WORK/client.err" || fail "ndclient exited $?: $(cat "$WORK/client.err")"
# Every datagram is in or dropped: wait until the logs hold the rest.
for k in 1 2 3; do
  expect=$(((count - $(nd_lossy_dropped "r$k")) * 1000))
  wait_file_size "$WORK/r$k.log" "$expect" || true # lost_ok says what is wrong
done
nd_stop_ok srv1 srv2 srv3
for k in 1 2 3; do lost_ok "r$k" "$WORK/r$k.log" "$(nd_lossy_dropped "r$k")"; done
# Independent draws: two receivers share about 0.25 % of the datagrams lost
# (50 of 20,000), not most of their ~1000 each.
for pair in "1 2" "1 3" "2 3"; do
  read -r a b <<<"$pair"
  both=$(comm -12 "$WORK/r$a.missing" "$WORK/r$b.missing" | wc -l)
  ((both * 4 < $(wc -l <"$WORK/r$a.missing"))) ||
    fail "r$a and r$b lost $both of the same datagrams: their losses are not independent"
done

# 2. The feedback path: a rule on the sender's side drops what r1 sends back.
nd_lossy_drop sender 50 9941
nd_start back "$ND/ndserver" --path "$WORK/back.log" --listen_addr 10.88.0.1:9941
nd_listen_addr back udp >/dev/null
ip netns exec r1 "$ND/ndclient" --path "$WORK/in.bin" --server_addr 10.88.0.1:9941 --datagram-size 1000 \
  --rate 100M 2>"$WORK/client_back.err" || fail "ndclient in r1 exited $?: $(cat "$WORK/client_back.err")"
wait_file_size "$WORK/back.log" $(((count - $(nd_lossy_dropped sender)) * 1000)) || true
nd_stop_ok back
lost_ok sender "$WORK/back.log" "$(nd_lossy_dropped sender)"

# 3. A 40 Mbit/s tbf on the sender's way out: 2 MiB over TCP to r2 take at
# least 0.42 s (0.38 s allowed for the burst), and arrive whole.
command -v socat >/dev/null || skip "socat is not installed (parts 1 and 2 passed)"
nd_lossy_rate ndbr0 40mbit
head -c $((2 << 20)) "$WORK/in.bin" >"$WORK/tcp.bin"
nd_start rx ip netns exec r2 socat -u TCP4-LISTEN:9951,bind=10.88.0.12,reuseaddr "CREATE:$WORK/tcp_out.bin"
wait_until 5 eval 'ip netns exec r2 ss -Hlnt "sport = :9951" | grep -q .' || fail "socat in r2 did not listen"
start=$(date +%s%3N)
"$ND/ndclient" --path "$WORK/tcp.bin" --server_addr tcp://10.88.0.12:9951 2>"$WORK/tcp_client.err" ||
  fail "ndclient over TCP exited $?: $(cat "$WORK/tcp_client.err")"
nd_expect_exit rx 0
took=$(($(date +%s%3N) - start))
assert_same_sha "$WORK/tcp.bin" "$WORK/tcp_out.bin"
((took >= 380)) || fail "2 MiB through a 40 Mbit/s tbf took $took ms, expected at least 420"
echo "tcp through tbf 40mbit: $took ms"
