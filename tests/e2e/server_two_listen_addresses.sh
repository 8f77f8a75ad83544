#!/usr/bin/env bash
# A server with two --listen_addr (IPv4 and IPv6) writes one file per address,
# named by inserting the address as written before --path's extension
# ('[' ']' dropped, ':' -> '_'), and each file holds only its own address's data.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

mkdir "$WORK/logs"
nd_start srv "$ND/ndserver" --path "$WORK/logs/app.log" --listen_addr 127.0.0.1:0 --listen-addr '[::1]:0'
addr4=$(nd_listen_addr srv udp 1)
addr6=$(nd_listen_addr srv udp 2)
# The listen lines come in the order given; make sure which is which.
[[ $addr4 == 127.0.0.1:* && $addr6 == '[::1]:'* ]] || fail "unexpected listen addresses $addr4 $addr6"
file4="$WORK/logs/app.127.0.0.1_0.log"
file6="$WORK/logs/app.__1_0.log"
for pair in "$addr4 -> file $file4" "$addr6 -> file $file6"; do
  wait_until 5 grep -qF -- "udp $pair" "$WORK/srv.err" || fail "server did not log 'udp $pair'"
done

nd_random_file "$WORK/in4.bin" 500000
nd_random_file "$WORK/in6.bin" 700001
nd_start cli4 "$ND/ndclient" --path "$WORK/in4.bin" --server_addr "$addr4"
nd_start cli6 "$ND/ndclient" --path "$WORK/in6.bin" --server_addr "$addr6"
nd_expect_exit cli4 0
nd_expect_exit cli6 0
wait_file_size "$file4" 500000 || true
wait_file_size "$file6" 700001 || true
assert_same_sha "$WORK/in4.bin" "$file4"
assert_same_sha "$WORK/in6.bin" "$file6"
nd_stop srv || fail "server exited $? on SIGTERM"
# No other file appeared (e.g. a bare app.log).
assert_eq 2 "$(find "$WORK/logs" -type f | wc -l)" "files in the log directory"
