#!/usr/bin/env bash
# The reverse-proxy's upstream may be a stream: a tcp:// --udp_listen_addr
# takes a TCP sender (here ndclient over tcp://, paced) and feeds the
# multicast channel in datagrams; TCP subscribers (nc) get the stream byte for
# byte. Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((4 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr tcp://127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 239.1.2.11:9962
upstream=$(nd_listen_addr rproxy tcp 1)
subscribers=$(nd_listen_addr rproxy tcp 2)
nd_start sub nc -d 127.0.0.1 "$(nd_port "$subscribers")"
wait_log rproxy 'tcp client [^ ]+ connected \(1 clients\)' || fail "the subscriber did not connect"

nd_start up "$ND/ndclient" --path "$WORK/in.bin" --server-addr "tcp://$upstream" --rate 100M
nd_expect_exit up 0 20
wait_file_size "$WORK/sub.out" "$size" || fail "the subscriber did not get the whole stream"
assert_same_sha "$WORK/in.bin" "$WORK/sub.out"
nd_stop_ok rproxy
