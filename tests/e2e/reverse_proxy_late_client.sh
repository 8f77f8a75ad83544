#!/usr/bin/env bash
# Behaviour: a TCP client that connects to the reverse-proxy in the middle of
# a stream receives exactly what is sent after it connected, from a datagram
# boundary on; the client that was there from the start receives everything.
# Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((2 << 20))
nd_random_file "$WORK/part1.bin" "$size"
nd_random_file "$WORK/part2.bin" "$size"
cat "$WORK/part1.bin" "$WORK/part2.bin" >"$WORK/all.bin"

nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.1.2.11:9962
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")

# Phase 1: only the early client is there.
nd_start early nc -d 127.0.0.1 "$port"
wait_log rproxy 'tcp client [^ ]+ connected \(1 clients\)' || fail "the early client did not connect"
"$ND/ndclient" --path "$WORK/part1.bin" --server-addr "$udp" --rate 200M 2>>"$WORK/client.err" ||
  fail "ndclient (part 1) exited $?"
wait_file_size "$WORK/early.out" "$size" || fail "the early client did not get part 1"

# Phase 2: the late client connected, then the rest of the stream.
nd_start late nc -d 127.0.0.1 "$port"
wait_log rproxy 'tcp client [^ ]+ connected \(2 clients\)' || fail "the late client did not connect"
"$ND/ndclient" --path "$WORK/part2.bin" --server-addr "$udp" --rate 200M 2>>"$WORK/client.err" ||
  fail "ndclient (part 2) exited $?"
wait_file_size "$WORK/early.out" $((2 * size)) || fail "the early client did not get part 2"
wait_file_size "$WORK/late.out" "$size" || fail "the late client did not get part 2"

nd_stop_ok rproxy
nd_wait early 5 || fail "the early client did not see EOF when the reverse-proxy stopped"
nd_wait late 5 || fail "the late client did not see EOF when the reverse-proxy stopped"
assert_same_sha "$WORK/all.bin" "$WORK/early.out"
assert_same_sha "$WORK/part2.bin" "$WORK/late.out"
