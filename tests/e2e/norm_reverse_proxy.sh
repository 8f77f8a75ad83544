#!/usr/bin/env bash
# Behaviour: a reverse-proxy whose channel is a NORM session
# (--multicast_addr norm://GROUP:PORT): two nc subscribers, connected before
# the upstream sends, each receive the whole upstream stream byte for byte,
# and the NORM sender heard both subscribers' receivers. Runs in a private
# network namespace (the session is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((4 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 'norm://239.1.2.11:9962?rate=200M'
udp=$(nd_listen_addr rproxy udp)
tcp=$(nd_listen_addr rproxy tcp)
port=$(nd_port "$tcp")

nd_start nc1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(1 clients\)' || fail "nc 1 did not connect"
nd_start nc2 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(2 clients\)' || fail "nc 2 did not connect"

# Each subscriber's NORM receiver answers the sender's first probe: both
# known to the sender before any data flows.
wait_until 10 eval '(($(grep -Ec "receiver 0x[0-9a-f]+ joined" "$WORK/rproxy.err") >= 2))' ||
  fail "the NORM sender did not hear both subscribers' receivers"

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 100M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

for out in nc1.out nc2.out; do
  wait_file_size "$WORK/$out" "$size" 20 || fail "$out: not every byte arrived"
done
nd_stop_ok rproxy
for client in nc1 nc2; do
  status=0
  nd_wait "$client" 5 || status=$?
  assert_eq 0 "$status" "$client exit status after the reverse-proxy closed the connection"
done
assert_same_sha "$WORK/in.bin" "$WORK/nc1.out"
assert_same_sha "$WORK/in.bin" "$WORK/nc2.out"
grep -Eq "norm://239.1.2.11:9962: sent [0-9]+ datagrams, $size bytes; 2 receivers heard from" "$WORK/rproxy.err" ||
  fail "the NORM sender's summary does not show $size bytes sent to 2 receivers: $(grep norm "$WORK/rproxy.err")"
