#!/usr/bin/env bash
# ndserver --allow CIDR: datagrams from peers outside every range are dropped
# and counted as "refused by --allow"; peers inside get through unchanged.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0 --allow 127.0.0.2/32
addr=$(nd_listen_addr srv udp)
port=$(nd_port "$addr")

# counters_show REGEX: asks for the counters until a line matches.
counters_show() {
  local regex=$1
  wait_until 10 eval 'kill -USR1 "$(nd_pid srv)"; grep -Eq -- "$regex" "$WORK/srv.err"'
}

# 1. ndclient sends from 127.0.0.1: refused, nothing written.
nd_random_file "$WORK/refused.bin" $((10 * 8192))
nd_start cli "$ND/ndclient" --path "$WORK/refused.bin" --server_addr "$addr"
nd_expect_exit cli 0
counters_show "udp $addr: .* 10 refused by --allow" || fail "the 10 datagrams from 127.0.0.1 were not counted as refused"
assert_eq 0 "$(stat -c %s "$WORK/out.log")" "bytes written from a refused peer"

# 2. socat sends from 127.0.0.2: accepted, byte for byte.
nd_random_file "$WORK/allowed.bin" $((300 * 1000))
nd_start socat socat -u -b 1000 "OPEN:$WORK/allowed.bin,rdonly" "UDP4-SENDTO:127.0.0.1:$port,bind=127.0.0.2"
nd_expect_exit socat 0
wait_file_size "$WORK/out.log" 300000 || true
assert_same_sha "$WORK/allowed.bin" "$WORK/out.log"

# 3. The summary tells both apart: 300 datagrams received, 10 refused.
nd_stop srv || fail "server exited $? on SIGTERM"
sed -n '/summary:/,$p' "$WORK/srv.err" | grep -qF "udp $addr: received 300 datagrams, 300000 bytes; $(nd_kernel_drops 0); 10 refused by --allow" ||
  fail "summary does not show 300 datagrams received and 10 refused: $(grep -A3 summary: "$WORK/srv.err")"

# 4. Several --allow and IPv6: ::1 is in the second range.
nd_start srv6 "$ND/ndserver" --path "$WORK/out6.log" --listen_addr '[::1]:0' --allow fd00::/8 --allow ::1/128
addr6=$(nd_listen_addr srv6 udp)
nd_random_file "$WORK/in6.bin" 100000
nd_start cli6 "$ND/ndclient" --path "$WORK/in6.bin" --server_addr "$addr6"
nd_expect_exit cli6 0
wait_file_size "$WORK/out6.log" 100000 || true
assert_same_sha "$WORK/in6.bin" "$WORK/out6.log"
nd_stop srv6 || fail "IPv6 server exited $? on SIGTERM"
grep -q "0 refused by --allow" "$WORK/srv6.err" || fail "IPv6 server refused datagrams from ::1"
