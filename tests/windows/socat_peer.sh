#!/usr/bin/env bash
# Windows under Wine with a Linux peer nobody here wrote (socat) on the other
# side: socat sends UDP datagrams to ndserver.exe, and ndclient.exe streams a
# file over TCP to a socat listener; both arrive byte for byte.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

# socat -> ndserver.exe over UDP (one datagram per 8192-byte block; paced by
# socat's own pace, small enough for Wine).
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
port=$(nd_port "$(nd_listen_addr srv udp)")
nd_random_file "$WORK/udp.bin" 300000
nd_start socat_udp socat -u "OPEN:$WORK/udp.bin,rdonly" "UDP4-SENDTO:127.0.0.1:$port"
nd_expect_exit socat_udp 0
wait_file_size "$WORK/out.log" 300000 20 || true
assert_same_sha "$WORK/udp.bin" "$WORK/out.log"
nd_stop_ok srv

# ndclient.exe -> socat over TCP (lossless: a larger file, unpaced).
size=$((4 * 1024 * 1024))
nd_random_file "$WORK/tcp.bin" "$size"
nd_start_on_free_port socat_tcp tcp socat -u "TCP4-LISTEN:{PORT},bind=127.0.0.1,reuseaddr" "CREATE:$WORK/tcp.out"
nd_start cli "$ND/ndclient" --path "$WORK/tcp.bin" --server-addr "tcp://127.0.0.1:$PORT"
nd_expect_exit cli 0 60
nd_expect_exit socat_tcp 0 20
assert_same_sha "$WORK/tcp.bin" "$WORK/tcp.out"
