#!/usr/bin/env bash
# ndproxy with stream endpoints:
# - a tcp:// listen address turns each connection into datagrams of at most
#   --datagram-size for UDP downstreams (the stream arrives whole);
# - a tcp:// downstream (socat TCP-LISTEN) receives the datagrams' payloads
#   concatenated, byte for byte;
# - unixgram:// as a listen address makes a syslog relay: `logger -u PATH`
#   messages and a socat UNIX-SENDTO datagram reach a UDP server.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

size=$((4 * 1024 * 1024 + 3))
nd_random_file "$WORK/in.bin" "$size"

# TCP in, UDP out.
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
srv=$(nd_listen_addr srv udp)
nd_start px "$ND/ndproxy" --listen_addr tcp://127.0.0.1:0 --downstream_addr "$srv" --datagram-size 1316
ptcp=$(nd_listen_addr px tcp)
socat -u "OPEN:$WORK/in.bin" "TCP:$ptcp"
wait_file_size "$WORK/out.log" "$size" || fail "the stream did not arrive through the proxy"
assert_same_sha "$WORK/in.bin" "$WORK/out.log"
nd_stop_ok px

# UDP in, TCP out.
nd_start_on_free_port rx tcp socat -u "TCP4-LISTEN:{PORT},bind=127.0.0.1,reuseaddr" "CREATE:$WORK/tcp_out.bin"
nd_start px2 "$ND/ndproxy" --listen_addr 127.0.0.1:0 --downstream_addr "tcp://127.0.0.1:$PORT"
pudp=$(nd_listen_addr px2 udp)
nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$pudp" --rate 500M
nd_expect_exit cli 0 30
wait_file_size "$WORK/tcp_out.bin" "$size" || fail "the datagrams did not reach the TCP downstream"
nd_stop_ok px2
nd_expect_exit rx 0
assert_same_sha "$WORK/in.bin" "$WORK/tcp_out.bin"
grep -q -- "-> tcp://127.0.0.1:$PORT: sent $size bytes" "$WORK/px2.err" || fail "the proxy's summary lacks the TCP downstream"

# A syslog relay: unixgram in, UDP out.
: >"$WORK/out.log"
nd_start relay "$ND/ndproxy" --listen_addr "unixgram://$WORK/log.sock" --downstream_addr "udp://$srv"
wait_log relay "listening on unixgram $WORK/log.sock" || fail "no unixgram listener"
logger -u "$WORK/log.sock" "relay test message one"
logger -u "$WORK/log.sock" "relay test message two"
wait_until 5 eval 'grep -q "relay test message two" "$WORK/out.log"' || fail "logger's messages did not reach the server"
grep -q "relay test message one" "$WORK/out.log" || fail "the first message is missing"
echo "a datagram from socat" | socat -u - "UNIX-SENDTO:$WORK/log.sock"
wait_until 5 eval 'grep -q "a datagram from socat" "$WORK/out.log"' || fail "socat's UNIX-SENDTO datagram did not arrive"
nd_stop_ok relay srv
