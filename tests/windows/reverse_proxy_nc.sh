#!/usr/bin/env bash
# Windows under Wine: two TCP clients nobody here wrote (nc, socat) of
# ndreverse-proxy.exe, connected before the upstream sends, each receive the
# whole upstream stream byte for byte, and see EOF when Ctrl-C stops it. In a
# private network namespace (the channel is a multicast group), with a Wine
# prefix (and wineserver) of its own there.
set -euo pipefail
source "$(dirname "$0")/../e2e/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib.sh"
nd_setup
nd_win_namespace_prefix
command -v socat >/dev/null || skip "socat is not installed"

size=$((1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 239.1.2.10:9961
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")

nd_start nc1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(1 clients\)' 20 || fail "nc did not connect"
nd_start socat2 socat -u "TCP:127.0.0.1:$port" "CREATE:$WORK/socat2.bin"
wait_log rproxy 'connected \(2 clients\)' 20 || fail "socat did not connect"

nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 10M
nd_expect_exit cli 0 30
wait_file_size "$WORK/nc1.out" "$size" 20 || true
wait_file_size "$WORK/socat2.bin" "$size" 20 || true

nd_stop_ok rproxy
for client in nc1 socat2; do
  status=0
  nd_wait "$client" 10 || status=$?
  assert_eq 0 "$status" "$client exit status after the reverse-proxy closed the connection"
done
assert_same_sha "$WORK/in.bin" "$WORK/nc1.out"
assert_same_sha "$WORK/in.bin" "$WORK/socat2.bin"
