#!/usr/bin/env bash
# --rate below one datagram a second is honoured: at 200 kbit/s, datagrams of
# 50,000 bytes leave 2 s apart (the pacer used to sleep at most 1 s per
# datagram, so they left 1 s apart). A stop request during such a pause still
# ends the client at once.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=50000
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen-addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)

# 1. Three datagrams at 200 kbit/s: arrivals 2 s apart.
nd_random_file "$WORK/paced.bin" $((3 * size))
nd_start paced "$ND/ndclient" --path "$WORK/paced.bin" --server-addr "$addr" --rate 200k --datagram-size "$size"
arrivals=()
for n in 1 2 3; do
  wait_file_size "$WORK/out.log" $((n * size)) 8 || fail "datagram $n did not arrive"
  arrivals+=("$(date +%s%3N)")
done
for n in 1 2; do
  gap=$((arrivals[n] - arrivals[n - 1]))
  ((gap >= 1700 && gap <= 2500)) || fail "datagrams $n and $((n + 1)) arrived $gap ms apart; --rate 200k with $size-byte datagrams means 2000 ms"
done
nd_expect_exit paced 0 5
assert_same_sha "$WORK/paced.bin" "$WORK/out.log"

# 2. --rate 100k with 65,000-byte datagrams pauses 5.2 s after each: SIGTERM
# during the pause ends the client within a second.
nd_random_file "$WORK/slow.bin" $((3 * 65000))
nd_start slow "$ND/ndclient" --path "$WORK/slow.bin" --server-addr "$addr" --rate 100k --datagram-size 65000
wait_file_size "$WORK/out.log" $((3 * size + 65000)) 5 || fail "the slow client's first datagram did not arrive"
kill -TERM "$(nd_pid slow)"
rc=0
nd_wait slow 1 || rc=$?
[[ $rc -ne 124 ]] || fail "the client paused by --rate was still running 1 s after SIGTERM"
nd_stop_ok srv
