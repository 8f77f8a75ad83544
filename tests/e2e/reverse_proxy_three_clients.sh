#!/usr/bin/env bash
# Behaviour: three TCP clients of the reverse-proxy (nc, socat, nc), connected
# before the upstream sends, each receive the whole upstream stream byte for
# byte. Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((4 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 239.1.2.10:9961
udp=$(nd_listen_addr rproxy udp)
tcp=$(nd_listen_addr rproxy tcp)
port=$(nd_port "$tcp")

nd_start nc1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(1 clients\)' || fail "nc 1 did not connect"
nd_start socat2 socat -u "TCP:127.0.0.1:$port" "CREATE:$WORK/socat2.bin"
wait_log rproxy 'connected \(2 clients\)' || fail "socat did not connect"
nd_start nc3 nc -d 127.0.0.1 "$port"
wait_log rproxy 'tcp client [^ ]+ connected \(3 clients\)' || fail "nc 3 did not connect"

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 200M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

for out in nc1.out socat2.bin nc3.out; do
  wait_file_size "$WORK/$out" "$size" || fail "$out: not every byte arrived"
done

# Stopping the reverse-proxy closes the connections: every client sees EOF.
nd_stop_ok rproxy
for client in nc1 socat2 nc3; do
  status=0
  nd_wait "$client" 5 || status=$?
  assert_eq 0 "$status" "$client exit status after the reverse-proxy closed the connection"
done
assert_same_sha "$WORK/in.bin" "$WORK/nc1.out"
assert_same_sha "$WORK/in.bin" "$WORK/socat2.bin"
assert_same_sha "$WORK/in.bin" "$WORK/nc3.out"
grep -Eq "sent $size bytes, dropped 0 datagrams" "$WORK/rproxy.err" ||
  fail "the reverse-proxy does not log a client closed with $size bytes sent and 0 dropped"
