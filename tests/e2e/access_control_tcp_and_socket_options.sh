#!/usr/bin/env bash
# Behaviour: --allow guards the reverse-proxy's TCP listener too (a client
# from outside the ranges is closed at once and counted); ports are shared
# only with --reuse-port; a multicast interface of the wrong family is a
# usage error naming both. Runs in a private network namespace (multicast).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

# 1. TCP --allow: 127.0.0.2 may subscribe, 127.0.0.1 may not.
nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.77.1.1:47123 --allow 127.0.0.2/32
tcp=$(nd_listen_addr rproxy tcp)
# The refused client reads EOF at once (timeout is only a deadline).
timeout 5 nc -s 127.0.0.1 127.0.0.1 "$(nd_port "$tcp")" </dev/null >"$WORK/refused.out" || true
wait_log rproxy "refused client 127.0.0.1:[0-9]+ \(not in --allow\)" 5 || fail "no log line for the refused TCP client"
assert_eq "$(nd_size "$WORK/refused.out")" 0 "bytes sent to a refused client"
nd_start allowed socat -u TCP:127.0.0.1:"$(nd_port "$tcp")",bind=127.0.0.2 CREATE:"$WORK/allowed.out"
wait_log rproxy "tcp client 127.0.0.2:[0-9]+ connected" 5 || fail "the allowed client was not accepted"
upstream=$(nd_listen_addr rproxy udp)
nd_random_file "$WORK/in.bin" 65536
# --allow guards the UDP upstream as well: send from the allowed address.
socat -u FILE:"$WORK/in.bin" UDP-SENDTO:"$upstream",bind=127.0.0.2 2>"$WORK/sender.err"
wait_file_size "$WORK/allowed.out" 65536 10 || fail "the allowed client did not receive the stream"
assert_same_sha "$WORK/in.bin" "$WORK/allowed.out"
nd_stop rproxy >/dev/null || true
grep -Eq "1 accepted, 1 refused by --allow" "$WORK/rproxy.err" || fail "summary does not count the refused client"

# 2. A port is shared only with --reuse-port on every socket that binds it.
nd_start first "$ND/ndserver" --path "$WORK/first.log" --listen-addr 127.0.0.1:0 --reuse-port
port=$(nd_port "$(nd_listen_addr first)")
"$ND/ndserver" --path "$WORK/x.log" --listen-addr "127.0.0.1:$port" 2>"$WORK/plain.err" &
nd_on_exit "kill $! 2>/dev/null || true"
wait_until 5 grep -q "Address already in use" "$WORK/plain.err" || fail "a second server without --reuse-port could bind"
nd_start second "$ND/ndserver" --path "$WORK/second.log" --listen-addr "127.0.0.1:$port" --reuse-port
nd_listen_addr second >/dev/null
nd_running second || fail "a second server with --reuse-port could not share the port"

# 3. IPv4 group with an IPv6 interface address, and the reverse: exit 2, one line.
ip -6 addr add fd77::9/64 dev nd1 nodad 2>/dev/null || true
set +e
"$ND/ndserver" --path "$WORK/m.log" --listen-addr 239.77.1.2:47124 --multicast-if fd77::9 2>"$WORK/v4group.err"
v4=$?
"$ND/ndserver" --path "$WORK/m.log" --listen-addr '[ff02::77%nd0]:47125' --multicast-if 10.77.0.1 2>"$WORK/v6group.err"
v6=$?
set -e
assert_eq "$v4" 2 "exit code for an IPv4 group with an IPv6 interface"
assert_eq "$v6" 2 "exit code for an IPv6 group with an IPv4 interface"
grep -q "is an IPv6 address, but the group 239.77.1.2:47124 is IPv4" "$WORK/v4group.err" || fail "message: $(cat "$WORK/v4group.err")"
grep -q "is an IPv4 address, but the group .* is IPv6" "$WORK/v6group.err" || fail "message: $(cat "$WORK/v6group.err")"
assert_eq "$(wc -l <"$WORK/v4group.err")" 1 "lines of the error"
echo "PASS: TCP --allow, --reuse-port, multicast interface family checks"
