#!/usr/bin/env bash
# Behaviour: norm:// beyond a fixed-rate IPv4 group: NORM-CC congestion
# control (cc=on), a unicast session to one receiver, and an IPv6
# link-local group. In each, ndclient --expect 1 sends a 256 KiB file to one
# ndserver, exits 0 once it acknowledged the whole stream, and the server's
# copy has the input's sha256. Runs in a private network namespace.
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_random_file "$WORK/in.bin" $((256 << 10))

# The three cases run side by side: NAME LISTEN DESTINATION.
cases=(
  "cc norm://239.1.2.13:9966 norm://239.1.2.13:9966?cc=on&rate=100M"
  "unicast norm://127.0.0.1:9967 norm://127.0.0.1:9967?rate=100M"
  "ipv6 norm://[ff02::1:2:14%nd1]:9968 norm://[ff02::1:2:14%nd0]:9968?rate=100M"
)
for c in "${cases[@]}"; do
  read -r name listen _ <<<"$c"
  nd_start "srv_$name" "$ND/ndserver" --path "$WORK/$name.bin" --listen_addr "$listen"
done
for c in "${cases[@]}"; do
  read -r name _ destination <<<"$c"
  wait_log "srv_$name" "listening on norm://" || fail "$name: the server did not start: $(cat "$WORK/srv_$name.err")"
  nd_start "client_$name" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$destination" --expect 1 \
    --expect-timeout 20
done
for c in "${cases[@]}"; do
  read -r name _ <<<"$c"
  nd_wait "client_$name" 30 || fail "$name: ndclient exited $?: $(cat "$WORK/client_$name.err")"
  grep -q "1 receivers heard from, 1 acknowledged the whole stream" "$WORK/client_$name.err" ||
    fail "$name: the client's summary does not count the acknowledgement: $(cat "$WORK/client_$name.err")"
  wait_file_size "$WORK/$name.bin" $((256 << 10)) 10 || fail "$name: the server did not write every byte"
  nd_stop_ok "srv_$name"
  assert_same_sha "$WORK/in.bin" "$WORK/$name.bin"
done
grep -q "at most (NORM-CC)" "$WORK/client_cc.err" || fail "cc: the client did not say NORM-CC: $(cat "$WORK/client_cc.err")"
