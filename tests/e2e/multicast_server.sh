#!/usr/bin/env bash
# Behaviour: ndserver listening on an IPv4 group (239.1.2.3) and an IPv6
# link-local group ([ff02::1234%nd0]) joins both and logs, byte for byte, what
# ndclient sends to each group. Runs in a private network namespace.
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

# The namespace is private: fixed ports cannot collide with anything.
group4='239.1.2.3:9931'
group6='[ff02::1234%nd0]:9932'
size=$((2 << 20))
nd_random_file "$WORK/in4.bin" "$size"
nd_random_file "$WORK/in6.bin" "$size"

nd_start srv "$ND/ndserver" --path "$WORK/app.log" --listen_addr "$group4" --listen_addr "$group6"
nd_listen_addr srv udp 2 >/dev/null
# One file per listen address: the address before the extension, '[' ']'
# removed, anything but [A-Za-z0-9.-] turned into '_'.
log4="$WORK/app.239.1.2.3_9931.log"
log6="$WORK/app.ff02__1234_nd0_9932.log"

"$ND/ndclient" --path "$WORK/in4.bin" --server_addr "$group4" --rate 200M 2>"$WORK/client4.err" ||
  fail "ndclient to $group4 exited $?: $(cat "$WORK/client4.err")"
"$ND/ndclient" --path "$WORK/in6.bin" --server_addr "$group6" --rate 200M 2>"$WORK/client6.err" ||
  fail "ndclient to $group6 exited $?: $(cat "$WORK/client6.err")"

wait_file_size "$log4" "$size" || fail "$group4: the server did not log every byte ($(ls "$WORK"))"
wait_file_size "$log6" "$size" || fail "$group6: the server did not log every byte ($(ls "$WORK"))"

nd_stop_ok srv
assert_same_sha "$WORK/in4.bin" "$log4"
assert_same_sha "$WORK/in6.bin" "$log6"
