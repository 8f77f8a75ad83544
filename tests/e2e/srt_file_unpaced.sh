#!/usr/bin/env bash
# Behaviour: an srt:// file-mode transfer given no rate at all (no --rate,
# no maxbw=) still arrives whole. A file-mode receiver holds every packet for
# the latency (1000 ms) before handing it on, so the sender must not outrun
# what its receive buffer holds for that long: without maxbw= the client
# sends at what 64 MiB holds for 1.1 s (about 61 MB/s) and says so. Before,
# libsrt's live profile sent up to 1 Gbit/s, the receiver's buffer
# overflowed, and the transfer stalled for good after 61-87 MB (3 of 3 runs
# of 256 MiB on loopback; 128 MiB is past that). A maxbw= above what the
# receive buffer holds is warned about.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://127.0.0.1:0?transtype=file"
server=$(nd_listen_addr srv srt)
nd_random_file "$WORK/in.bin" $((128 << 20))

status=0
timeout 60 "$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?transtype=file" \
  2>"$WORK/client.err" || status=$?
assert_eq 0 "$status" "ndclient's exit status: $(tail -3 "$WORK/client.err")"
grep -q "file mode without maxbw=: sending at most 61008058 bytes/s" "$WORK/client.err" ||
  fail "ndclient did not say the rate it chose: $(head -3 "$WORK/client.err")"
wait_file_size "$WORK/out.bin" $((128 << 20)) || fail "ndserver did not write the whole file"
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"

# 200 MB/s held for 1.1 s needs 210 MiB at the receiver: warned, and it runs.
nd_random_file "$WORK/small.bin" 100000
timeout 60 "$ND/ndclient" --path "$WORK/small.bin" --server-addr "srt://$server?transtype=file&maxbw=200000000" \
  2>"$WORK/client2.err" || fail "the client with maxbw=200000000 failed: $(tail -3 "$WORK/client2.err")"
grep -q "maxbw=200000000 with latency=1000 ms needs a receive buffer of 210 MiB" "$WORK/client2.err" ||
  fail "no warning for a maxbw= the receive buffer cannot hold: $(head -3 "$WORK/client2.err")"
nd_stop_ok srv
echo "ok: 128 MiB unpaced in file mode whole at the fitted rate; a too high maxbw= warned"
