#!/usr/bin/env bash
# Behaviour: a reverse-proxy channel on NATS (--channel nats://.../SUBJECT,
# the alias of --multicast_addr) instead of a multicast group: two
# reverse-proxy processes serve one subject, the first also takes the
# upstream (UDP) and publishes it there. nc subscribers on each get
# identical bytes, the whole upstream. No namespace needed: no multicast.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need

SIZE=$((4 << 20))
nd_nats_start bus
bus=$(nd_nats_url bus)
bus=${bus#nats://}
nd_random_file "$WORK/in.bin" "$SIZE"

nd_start rp1 "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --channel "nats://$bus/nd.channel"
nd_start rp2 "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --multicast_addr "nats://$bus/nd.channel"
udp=$(nd_listen_addr rp1 udp)
port1=$(nd_port "$(nd_listen_addr rp1 tcp)")
port2=$(nd_port "$(nd_listen_addr rp2 tcp)")
grep -q "subscribers of nats://$bus/nd.channel" "$WORK/rp2.err" || fail "rp2 does not name its channel"

nd_start nc1 nc -d 127.0.0.1 "$port1"
nd_start nc2 nc -d 127.0.0.1 "$port2"
wait_log rp1 'connected \(1 clients\)' || fail "nc 1 did not connect"
wait_log rp2 'connected \(1 clients\)' || fail "nc 2 did not connect"
# Each subscriber has its own subscription: both are at the server before the upstream sends.
subscriptions() { nd_nats_get bus '/connz?subs=1' | grep -c '"nd.channel"' || true; }
wait_until 10 eval '(( $(subscriptions) >= 2 ))' || fail "the server has $(subscriptions) subscriptions of nd.channel"

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 200M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"
wait_file_size "$WORK/nc1.out" "$SIZE" || fail "nc 1 did not get every byte"
wait_file_size "$WORK/nc2.out" "$SIZE" || fail "nc 2 did not get every byte"
nd_stop_ok rp1 rp2
for client in nc1 nc2; do
  nd_wait "$client" 5 || fail "$client did not see the end of its connection"
done
assert_same_sha "$WORK/in.bin" "$WORK/nc1.out"
assert_same_sha "$WORK/in.bin" "$WORK/nc2.out"
