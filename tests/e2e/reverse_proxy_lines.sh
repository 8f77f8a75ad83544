#!/usr/bin/env bash
# --lines on the reverse-proxy applies to what its TCP subscribers receive:
# syslog-style datagrams without a final newline (`logger --udp`) reach an nc
# subscriber as one line each, with --prefix time a receive timestamp before
# each. Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v logger >/dev/null || skip "no logger"

nd_start rproxy "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 239.1.2.12:9963 --lines --prefix time
udp=$(nd_listen_addr rproxy udp)
tcp=$(nd_listen_addr rproxy tcp)
nd_start sub nc -d 127.0.0.1 "$(nd_port "$tcp")"
wait_log rproxy 'tcp client [^ ]+ connected \(1 clients\)' || fail "the subscriber did not connect"

seq 1 500 | sed 's/^/subscriber line /' | logger --udp --server 127.0.0.1 --port "$(nd_port "$udp")" -t ndtest
wait_until 10 eval '[[ $(wc -l <"$WORK/sub.out") -ge 500 ]]' || fail "the subscriber got $(wc -l <"$WORK/sub.out") of 500 lines"
nd_stop_ok rproxy
assert_eq 500 "$(wc -l <"$WORK/sub.out")" "lines the subscriber received"
assert_eq 500 "$(grep -Ec '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z <13>.*ndtest.* subscriber line [0-9]+$' "$WORK/sub.out")" \
  "whole, timestamped lines"
