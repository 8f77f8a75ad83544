#!/usr/bin/env bash
# Behaviour: with --max-clients 2, a third TCP client is closed at once (it
# reads EOF, nothing else) and a log line says why; once one of the two has
# left, a new client is accepted and served. Runs in a private network
# namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.1.2.14:9965 --max-clients 2
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")

nd_start c1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'tcp client [^ ]+ connected \(1 clients\)' || fail "client 1 was not accepted"
nd_start c2 nc -d 127.0.0.1 "$port"
wait_log rproxy 'tcp client [^ ]+ connected \(2 clients\)' || fail "client 2 was not accepted"

# The third: closed at once, so nc sees EOF and exits by itself.
nd_start c3 nc -d 127.0.0.1 "$port"
wait_log rproxy "closed client 127\.0\.0\.1:[0-9]+ at once: --max-clients 2 reached" ||
  fail "no log line saying the third client was closed because of --max-clients 2"
status=0
nd_wait c3 5 || status=$?
((status != 124)) || fail "the third client was not closed (nc still running after 5 s)"
assert_eq 0 "$(stat -c %s "$WORK/c3.out")" "bytes the refused client received"

# One leaves; the next one is accepted in its place and gets the stream.
nd_stop c1 || true
wait_log rproxy 'tcp client [^ ]+: closed \(' || fail "the reverse-proxy did not notice client 1 leaving"
nd_start c4 nc -d 127.0.0.1 "$port"
two_clients_twice() { (($(grep -Ec 'connected \(2 clients\)' "$WORK/rproxy.err") == 2)); }
wait_until 10 two_clients_twice || fail "a client arriving after one left was not accepted: $(tail -n 2 "$WORK/rproxy.err")"

size=$((1 << 20))
nd_random_file "$WORK/in.bin" "$size"
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 200M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"
wait_file_size "$WORK/c2.out" "$size" || fail "client 2 did not get the stream"
wait_file_size "$WORK/c4.out" "$size" || fail "client 4 did not get the stream"

nd_stop_ok rproxy
nd_wait c2 5 || fail "client 2 did not see EOF when the reverse-proxy stopped"
nd_wait c4 5 || fail "client 4 did not see EOF when the reverse-proxy stopped"
assert_same_sha "$WORK/in.bin" "$WORK/c2.out"
assert_same_sha "$WORK/in.bin" "$WORK/c4.out"
grep -Eq "3 accepted, 0 refused by --allow, 1 over --max-clients" "$WORK/rproxy.err" ||
  fail "the summary does not count 3 accepted and 1 over --max-clients"
