#!/usr/bin/env bash
# Behaviour: an srt:// file-mode transfer given no rate at all (no --rate,
# no maxbw=: libsrt's live profile then sends up to 1 Gbit/s) arrives whole,
# quickly. File mode hands data on as soon as it is contiguous (no delivery
# by timestamp), so the receiver never holds a latency's worth of packets.
# With delivery by timestamp the receiver held 1000 ms of data, overflowed
# its 64 MiB buffer, and the transfer stalled for good after 61-87 MB (3 of 3
# runs of 256 MiB on loopback; 128 MiB is past that): the old module fails
# this test at the 60 s bound.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://127.0.0.1:0?transtype=file"
server=$(nd_listen_addr srv srt)
nd_random_file "$WORK/in.bin" $((128 << 20))

status=0
start=$(date +%s%N)
timeout 60 "$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server?transtype=file" \
  2>"$WORK/client.err" || status=$?
ms=$((($(date +%s%N) - start) / 1000000))
assert_eq 0 "$status" "ndclient's exit status ($ms ms): $(tail -3 "$WORK/client.err")"
wait_file_size "$WORK/out.bin" $((128 << 20)) || fail "ndserver did not write the whole file"
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"
nd_stop_ok srv
echo "ok: 128 MiB unpaced in srt:// file mode, whole, client done in $ms ms"
