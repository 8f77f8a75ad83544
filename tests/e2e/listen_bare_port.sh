#!/usr/bin/env bash
# A bare port as a listen address means every local address, IPv4 and IPv6 on
# one socket (as `nc -l 9950`): a server on "0" receives from 127.0.0.1 and
# from ::1, byte for byte, and --allow with an IPv4 range still matches IPv4
# peers (which such a socket sees as ::ffff:a.b.c.d). An IPv4-mapped IPv6
# address, [::ffff:127.0.0.1]:P, works as a listen address and as a destination.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_random_file "$WORK/a.bin" 300001
nd_random_file "$WORK/b.bin" 200003
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 0
addr=$(nd_listen_addr srv udp)
port=$(nd_port "$addr")
nd_start c4 "$ND/ndclient" --path "$WORK/a.bin" --server_addr "127.0.0.1:$port"
nd_expect_exit c4 0
wait_file_size "$WORK/out.log" 300001 || fail "nothing from 127.0.0.1 reached the bare-port listener"
nd_start c6 "$ND/ndclient" --path "$WORK/b.bin" --server_addr "[::1]:$port"
nd_expect_exit c6 0
wait_file_size "$WORK/out.log" 500004 || fail "nothing from ::1 reached the bare-port listener"
cat "$WORK/a.bin" "$WORK/b.bin" >"$WORK/both.bin"
assert_same_sha "$WORK/both.bin" "$WORK/out.log"
nd_stop_ok srv

# --allow 127.0.0.1/32 on a bare port: the IPv4 peer passes, the IPv6 one is refused and counted.
nd_start allow "$ND/ndserver" --path "$WORK/allow.log" --listen_addr 0 --allow 127.0.0.1/32
port=$(nd_port "$(nd_listen_addr allow udp)")
nd_start a4 "$ND/ndclient" --path "$WORK/a.bin" --server_addr "127.0.0.1:$port"
nd_expect_exit a4 0
wait_file_size "$WORK/allow.log" 300001 || fail "--allow 127.0.0.1/32 refused 127.0.0.1 on a bare-port listener"
nd_start a6 "$ND/ndclient" --path "$WORK/b.bin" --server_addr "[::1]:$port"
nd_expect_exit a6 0
wait_log allow "refused datagram from \[::1\]" || fail "::1 was not refused"
nd_stop_ok allow
assert_same_sha "$WORK/a.bin" "$WORK/allow.log"

# [::ffff:127.0.0.1]:P is 127.0.0.1:P, on both sides.
nd_start mapped "$ND/ndserver" --path "$WORK/mapped.log" --listen_addr '[::ffff:127.0.0.1]:0'
addr=$(nd_listen_addr mapped udp)
[[ $addr == 127.0.0.1:* ]] || fail "[::ffff:127.0.0.1]:0 listens on $addr"
nd_start m "$ND/ndclient" --path "$WORK/a.bin" --server_addr "[::ffff:127.0.0.1]:$(nd_port "$addr")"
nd_expect_exit m 0
wait_file_size "$WORK/mapped.log" 300001 || true
nd_stop_ok mapped
assert_same_sha "$WORK/a.bin" "$WORK/mapped.log"
