#!/usr/bin/env bash
# Behaviour: netdisp and srt-live-transmit (a peer nobody here wrote) speak
# live SRT to each other both ways: srt-live-transmit as the sender, relaying
# UDP to ndserver's srt:// listener; and as the receiver, listening for
# ndclient's srt:// caller. Each way the bytes arrive unchanged (sha256).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
command -v srt-live-transmit >/dev/null || skip "srt-live-transmit is not installed (srt-tools)"
nd_setup
nd_random_file "$WORK/in.bin" $((1316 * 400))

# 1. srt-live-transmit sends: UDP in, SRT caller out, to ndserver's listener.
nd_start srv "$ND/ndserver" --path "$WORK/out1.bin" --listen-addr "srt://127.0.0.1:0"
server=$(nd_listen_addr srv srt)
nd_start_on_free_port slt udp srt-live-transmit -q "udp://127.0.0.1:{PORT}" "srt://$server"
wait_log srv "srt caller [^ ]+ connected" || fail "srt-live-transmit did not connect: $(cat "$WORK/slt.err")"
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "127.0.0.1:$PORT" --datagram-size 1316 --rate 20M \
  2>"$WORK/client1.err" || fail "ndclient exited $?: $(cat "$WORK/client1.err")"
wait_file_size "$WORK/out1.bin" $((1316 * 400)) || true
nd_stop slt || true
nd_stop_ok srv
assert_same_sha "$WORK/in.bin" "$WORK/out1.bin"

# 2. srt-live-transmit receives: it listens, ndclient calls.
nd_start_on_free_port rx udp srt-live-transmit -q "srt://127.0.0.1:{PORT}?mode=listener" file://con
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://127.0.0.1:$PORT" --datagram-size 1316 --rate 20M \
  2>"$WORK/client2.err" || fail "ndclient exited $?: $(cat "$WORK/client2.err")"
wait_until 10 eval '(($(nd_size "$WORK/rx.out") >= 1316 * 400))' || true
nd_stop rx || true
assert_same_sha "$WORK/in.bin" "$WORK/rx.out"
