#!/usr/bin/env bash
# Behaviour: an ndproxy with two listen addresses (UDP and tcp://) and one
# srt:// listener destination (mode=listener) starts, and its one SRT
# listener serves what both inputs receive: each input thread (and each TCP
# connection) opens the destinations, and a second SRT listener on the port
# failed ("Another socket is already listening on the same port": the proxy
# exited 1, or the TCP connection's pipe could not start). An ndserver
# calling the listener writes the UDP input's file, then the TCP one's
# (sha256 equal), and the summary has one row for the listener.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_random_file "$WORK/a.bin" $((1316 * 200))
nd_random_file "$WORK/b.bin" 300000

nd_start_on_free_port proxy udp "$ND/ndproxy" --listen-addr 127.0.0.1:0 --listen-addr tcp://127.0.0.1:0 \
  --downstream-addr "srt://127.0.0.1:{PORT}?mode=listener" --stats-format json
udp=$(nd_listen_addr proxy udp)
tcp=$(nd_listen_addr proxy tcp)
nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://127.0.0.1:$PORT?mode=caller"
wait_log proxy "srt caller [^ ]+ connected" || fail "ndserver did not call the proxy's listener: $(cat "$WORK/srv.err")"

"$ND/ndclient" --path "$WORK/a.bin" --server-addr "$udp" --datagram-size 1316 --rate 4M 2>"$WORK/client1.err" ||
  fail "ndclient (UDP) exited $?: $(cat "$WORK/client1.err")"
wait_file_size "$WORK/out.bin" $((1316 * 200)) || fail "the UDP input did not reach the SRT caller"
"$ND/ndclient" --path "$WORK/b.bin" --server-addr "tcp://$tcp" 2>"$WORK/client2.err" ||
  fail "ndclient (tcp://) exited $?: $(cat "$WORK/client2.err")"
wait_file_size "$WORK/out.bin" $((1316 * 200 + 300000)) || true # the comparison says what is wrong
nd_running proxy || fail "the proxy exited: $(grep -v '^{' "$WORK/proxy.err")"
nd_stop_ok srv proxy
cat "$WORK/a.bin" "$WORK/b.bin" >"$WORK/both.bin"
assert_same_sha "$WORK/both.bin" "$WORK/out.bin"
rows=$(grep -c "\"event\":\"summary\",\"role\":\"listener\",\"endpoint\":\"srt://127.0.0.1:$PORT\"" "$WORK/proxy.err")
assert_eq 1 "$rows" "summary rows of the srt:// listener"
