#!/usr/bin/env bash
# Behaviour: a reverse-proxy whose channel is a NORM session serves a TCP
# subscriber that connects after the channel's NORM stream began: it gets
# the stream from where it joined, whole datagrams only, while the
# subscriber connected from the start gets every byte. The upstream sends
# part A, the second subscriber joins (its receiver answers the sender),
# the upstream sends part B: the first subscriber has A then B, the second
# exactly B. Runs in a private network namespace (a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_random_file "$WORK/a.bin" $((1 << 20))
nd_random_file "$WORK/b.bin" $((1 << 20))
cat "$WORK/a.bin" "$WORK/b.bin" >"$WORK/ab.bin"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 'norm://239.1.2.12:9964?rate=100M'
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")

joined() { (($(grep -Ec "receiver 0x[0-9a-f]+ joined" "$WORK/rproxy.err") >= $1)); }
nd_start nc1 nc -d 127.0.0.1 "$port"
wait_until 10 joined 1 || fail "the NORM sender did not hear the first subscriber's receiver"

"$ND/ndclient" --path "$WORK/a.bin" --server-addr "$udp" --datagram-size 1000 --rate 50M 2>"$WORK/client_a.err" ||
  fail "ndclient (part A) exited $?: $(cat "$WORK/client_a.err")"
wait_file_size "$WORK/nc1.out" $((1 << 20)) 20 || fail "nc 1 did not get part A"

nd_start nc2 nc -d 127.0.0.1 "$port"
wait_until 10 joined 2 || fail "the NORM sender did not hear the late subscriber's receiver: $(cat "$WORK/rproxy.err")"
"$ND/ndclient" --path "$WORK/b.bin" --server-addr "$udp" --datagram-size 1000 --rate 50M 2>"$WORK/client_b.err" ||
  fail "ndclient (part B) exited $?: $(cat "$WORK/client_b.err")"

wait_file_size "$WORK/nc1.out" $((2 << 20)) 20 || fail "nc 1 did not get part B"
wait_file_size "$WORK/nc2.out" $((1 << 20)) 20 ||
  fail "the late subscriber got $(nd_size "$WORK/nc2.out") of $((1 << 20)) bytes: $(grep -i norm "$WORK/rproxy.err" | tail -n 5)"
nd_stop_ok rproxy
assert_same_sha "$WORK/ab.bin" "$WORK/nc1.out"
assert_same_sha "$WORK/b.bin" "$WORK/nc2.out"
