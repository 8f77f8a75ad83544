#!/usr/bin/env bash
# Behaviour: a proxy with two listen sockets forwards both streams, sent at the
# same time, to its one downstream: every datagram of each arrives, in order.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# Two streams of 16-byte lines, 512 lines (8192 bytes) per datagram: datagrams
# of the two may interleave at the server, lines never split.
lines=65536
seq -f 'a%014g' 1 "$lines" >"$WORK/a.txt"
seq -f 'b%014g' 1 "$lines" >"$WORK/b.txt"
total=$((2 * lines * 16))

nd_start srv "$ND/ndserver" --path "$WORK/srv.log" --listen-addr 127.0.0.1:0
srv=$(nd_listen_addr srv udp)
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 --listen-addr 127.0.0.1:0 --downstream-addr "$srv"
listen_a=$(nd_listen_addr proxy udp 1)
listen_b=$(nd_listen_addr proxy udp 2)
[[ "$listen_a" != "$listen_b" ]] || fail "both listen sockets report $listen_a"

nd_start client_a "$ND/ndclient" --path "$WORK/a.txt" --server-addr "$listen_a" --rate 200M
nd_start client_b "$ND/ndclient" --path "$WORK/b.txt" --server-addr "$listen_b" --rate 200M
nd_wait client_a 20 || fail "client a exited $?"
nd_wait client_b 20 || fail "client b exited $?"

wait_file_size "$WORK/srv.log" "$total" || fail "the server did not get both streams"
grep '^a' "$WORK/srv.log" >"$WORK/got_a.txt" || true
grep '^b' "$WORK/srv.log" >"$WORK/got_b.txt" || true
assert_same_sha "$WORK/a.txt" "$WORK/got_a.txt"
assert_same_sha "$WORK/b.txt" "$WORK/got_b.txt"
assert_eq "$total" "$(stat -c %s "$WORK/srv.log")" "bytes at the server"

nd_stop_ok proxy
for listen in "$listen_a" "$listen_b"; do
  grep -Eq "udp ${listen//./\\.}: received $((lines / 512)) datagrams, $((lines * 16)) bytes" "$WORK/proxy.err" ||
    fail "the summary does not count $((lines / 512)) datagrams on $listen"
done
