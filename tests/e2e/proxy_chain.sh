#!/usr/bin/env bash
# Behaviour: proxies chain: client -> proxy -> proxy -> server delivers the
# file byte for byte, and each hop counts every datagram.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((4 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start srv "$ND/ndserver" --path "$WORK/srv.log" --listen-addr 127.0.0.1:0
srv=$(nd_listen_addr srv udp)
nd_start hop2 "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "$srv"
hop2=$(nd_listen_addr hop2 udp)
nd_start hop1 "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "$hop2"
hop1=$(nd_listen_addr hop1 udp)

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$hop1" --rate 400M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

wait_file_size "$WORK/srv.log" "$size" || fail "the server did not get every byte through the chain"
assert_same_sha "$WORK/in.bin" "$WORK/srv.log"

datagrams=$((size / 8192))
for hop in hop1 hop2; do
  nd_stop_ok "$hop"
  grep -Eq -- "-> udp [^ ]+: sent $datagrams datagrams, $size bytes; 0 not sent" "$WORK/$hop.err" ||
    fail "$hop: the summary does not say $datagrams datagrams were forwarded"
done
