#!/usr/bin/env bash
# Behaviour: ndproxy --tee copies exactly the payloads that pass through it to
# stdout (no logs there), while still forwarding them downstream.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((3 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start srv "$ND/ndserver" --path "$WORK/srv.log" --listen-addr 127.0.0.1:0
srv=$(nd_listen_addr srv udp)
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "$srv" --tee
proxy=$(nd_listen_addr proxy udp)

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --rate 400M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

wait_file_size "$WORK/srv.log" "$size" || fail "the downstream server did not get every byte"
wait_file_size "$WORK/proxy.out" "$size" || fail "--tee did not write every byte to stdout"
assert_same_sha "$WORK/in.bin" "$WORK/srv.log"

nd_stop_ok proxy
# Checked after the exit, so nothing written at shutdown escapes the comparison.
assert_same_sha "$WORK/in.bin" "$WORK/proxy.out"
