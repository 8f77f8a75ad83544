#!/usr/bin/env bash
# A client stopped by SIGINT, SIGTERM or SIGHUP (a closed terminal) before the
# end of its input exits 128 + the signal number, as shells report it, and its
# summary says how far it got: "interrupted by SIGINT after N of M bytes". A
# finished transfer exits 0 and says nothing of the kind, so a script can tell
# the two apart. -q does not hide that line.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((16 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)

declare -A code=([INT]=130 [TERM]=143 [HUP]=129)
for sig in INT TERM HUP; do
  : >"$WORK/out.log"
  # 16 MiB at 20 Mbit/s would take 6.7 s: the signal comes long before the end.
  nd_start "cli$sig" "$ND/ndclient" -q --path "$WORK/in.bin" --server_addr "$addr" --rate 20M
  wait_file_size "$WORK/out.log" 1 || fail "no data reached the server before SIG$sig"
  kill -"$sig" "$(nd_pid "cli$sig")"
  rc=0
  nd_wait "cli$sig" 1 || rc=$?
  [[ $rc -ne 124 ]] || fail "client still running 1 s after SIG$sig"
  assert_eq "${code[$sig]}" "$rc" "exit status of a client stopped by SIG$sig"
  grep -Eq "interrupted by SIG$sig after [0-9]+ of $size bytes; exit ${code[$sig]}" "$WORK/cli$sig.err" ||
    fail "the SIG$sig summary does not say how far the transfer got: $(tail -n 3 "$WORK/cli$sig.err")"
  got=$(grep -Eo "interrupted by SIG$sig after [0-9]+" "$WORK/cli$sig.err" | grep -Eo '[0-9]+$')
  ((got < size)) || fail "SIG$sig: claims $got of $size bytes"
done

# The same client left alone finishes: exit 0, no "interrupted".
: >"$WORK/out.log"
nd_start whole "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr" --rate 2G
nd_expect_exit whole 0 20
grep -q interrupted "$WORK/whole.err" && fail "a finished transfer says it was interrupted"
wait_file_size "$WORK/out.log" "$size" || true
assert_same_sha "$WORK/in.bin" "$WORK/out.log"
nd_stop_ok srv
