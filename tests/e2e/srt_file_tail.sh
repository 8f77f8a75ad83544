#!/usr/bin/env bash
# Behaviour: in srt:// file mode (?transtype=file) a transfer whose last
# packet is lost still arrives whole, at once: the network drops exactly the
# first copy of the last packet (the one packet of its size), and the client
# exits 0 within seconds with sha256 equal, having sent end-of-data probes
# (srt_tail_probes) that made the receiver see the gap and ask for it again.
# libsrt's live congestion control alone never resent it (the client waited
# 30 s, then exited 1 "100 bytes not delivered"). And data that looks like a
# probe is data: a file made of 31-byte messages equal to the probe text (a
# run of them in the middle, and the last) arrives unchanged.
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_lossy_rig 1

port=9310
server=$(nd_lossy_addr 1):$port
# 1 MiB in datagrams of 8192 bytes (SRT packets of 1456 and 912 bytes), then
# one of 100 bytes: UDP length 100 + 16 (SRT header) + 8 = 124, unique here.
nd_random_file "$WORK/in.bin" $(((1 << 20) + 100))
ip netns exec r1 nft -f - <<EOF
add table inet nd_tail
add chain inet nd_tail input { type filter hook input priority 0; policy accept; }
add rule inet nd_tail input udp dport $port udp length 124 numgen inc mod 1000000000 == 0 counter drop
EOF
tail_drops() { ip netns exec r1 nft list chain inet nd_tail input | awk '/packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'; }

nd_start srv ip netns exec r1 "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://$server?transtype=file" \
  --stats-format json
nd_listen_addr srv srt >/dev/null
start=$(date +%s%N)
status=0
timeout 60 "$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?transtype=file&maxbw=25000000" \
  --stats-format json 2>"$WORK/client.err" || status=$?
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq 0 "$status" "ndclient's exit status ($ms ms): $(grep -v '^{' "$WORK/client.err" | tail -3)"
assert_eq 1 "$(tail_drops)" "first copies of the last packet dropped"
((ms < 10000)) || fail "the client took $ms ms to have the lost last packet repaired"

# 2. Data equal to the probe, to the same server: 400 messages of 31 bytes,
# random but for the probe's text at 100, 101, 102 and the last.
probe() { printf '\0netdisp srt end-of-data probe\0'; }
{ head -c $((31 * 100)) /dev/urandom; probe; probe; probe; head -c $((31 * 296)) /dev/urandom; probe; } >"$WORK/probes.bin"
assert_eq $((31 * 400)) "$(nd_size "$WORK/probes.bin")" "the size of the file of probe-like messages"
"$ND/ndclient" --path "$WORK/probes.bin" --datagram-size 31 \
  --server-addr "srt://$server?transtype=file&maxbw=25000000" --stats-format json 2>"$WORK/client2.err" ||
  fail "ndclient exited $?: $(grep -v '^{' "$WORK/client2.err")"
cat "$WORK/in.bin" "$WORK/probes.bin" >"$WORK/both.bin"
wait_file_size "$WORK/out.bin" "$(nd_size "$WORK/both.bin")" || true # the comparison says what is wrong
nd_stop_ok srv
assert_same_sha "$WORK/both.bin" "$WORK/out.bin"

# The counters: the first client sent probes and a retransmission, the
# second none; the server dropped the probes it got and lost nothing.
read -r probes retransmitted probes2 got lost < <(python3 - "$WORK" <<'PY'
import json, sys
def summary(name, role):
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/{name}.err") if l.startswith("{")]
    rows = [r for r in rows if r["event"] == "summary" and r["role"] == role and r["endpoint"].startswith("srt://")]
    return rows[-1]["counters"] if rows else {}
client, client2, server = summary("client", "sink"), summary("client2", "sink"), summary("srv", "source")
print(client.get("srt_tail_probes", 0), client.get("srt_retransmitted_packets", 0),
      client2.get("srt_tail_probes", 0), server.get("srt_tail_probes", 0), server.get("srt_lost_at_end_bytes", "none"))
PY
)
((probes >= 1)) || fail "the first client's summary counts $probes end-of-data probes"
((retransmitted >= 1)) || fail "the first client's summary counts $retransmitted retransmissions"
((got >= 1 && got <= probes + probes2)) || fail "the server dropped $got probes, the clients sent $probes + $probes2"
assert_eq 0 "$lost" "the server's srt_lost_at_end_bytes"
echo "last packet lost once: repaired after $probes probe(s), client done in $ms ms; probe-like data kept"
