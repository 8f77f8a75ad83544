#!/usr/bin/env bash
# What SIGHUP means in each mode, and what -q and -v print.
# - proxy and reverse-proxy have no files: SIGHUP says there is nothing to
#   reopen and they go on forwarding (the client's SIGHUP: client_interrupted).
# - -q quiets lifecycle lines, never what the user asked for: the SIGUSR1
#   counters and the summary are printed anyway.
# - -v adds debug lines about the batches a socket moves, at most about one a
#   second per socket however fast the data comes.
# Runs in a private network namespace (the reverse-proxy's multicast channel).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_random_file "$WORK/in.bin" 100000

# proxy: HUP, then data still flows to the downstream.
nd_start sink "$ND/ndserver" --path "$WORK/sink.log" --listen_addr 127.0.0.1:0
sink=$(nd_listen_addr sink udp)
nd_start proxy "$ND/ndproxy" --listen_addr 127.0.0.1:0 --downstream_addr "$sink"
paddr=$(nd_listen_addr proxy udp)
kill -HUP "$(nd_pid proxy)"
wait_log proxy "SIGHUP: nothing to reopen" || fail "the proxy did not answer SIGHUP"
grep -q "reopening log files" "$WORK/proxy.err" && fail "the proxy claims to reopen log files"
nd_start c1 "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$paddr"
nd_expect_exit c1 0
wait_file_size "$WORK/sink.log" 100000 || fail "the proxy stopped forwarding after SIGHUP"
assert_same_sha "$WORK/in.bin" "$WORK/sink.log"
nd_stop_ok proxy

# reverse-proxy: HUP, then a TCP subscriber still gets the stream.
nd_start rp "$ND/ndreverse-proxy" --udp_listen_addr 127.0.0.1:0 --tcp_listen_addr 127.0.0.1:0 \
  --multicast_addr 239.1.2.5:9941 --multicast-if nd0
up=$(nd_listen_addr rp udp)
tcp=$(nd_listen_addr rp tcp)
kill -HUP "$(nd_pid rp)"
wait_log rp "SIGHUP: nothing to reopen" || fail "the reverse-proxy did not answer SIGHUP"
nd_running rp || fail "the reverse-proxy ended on SIGHUP"
nd_start sub nc 127.0.0.1 "$(nd_port "$tcp")"
wait_log rp "tcp client .* connected" || fail "the subscriber did not connect"
nd_start c2 "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$up"
nd_expect_exit c2 0
wait_file_size "$WORK/sub.out" 100000 || fail "the subscriber got nothing after SIGHUP"
assert_same_sha "$WORK/in.bin" "$WORK/sub.out"
nd_stop_ok rp

# -q: no lifecycle chatter, but the counters and the summary.
nd_stop_ok sink
nd_start quiet "$ND/ndserver" -q --path "$WORK/q.log" --listen_addr 127.0.0.1:0
# It does not log "listening on": ask the kernel which port it bound.
quiet_port() { ss -ulnp | grep -F "pid=$(nd_pid quiet)," | grep -Eo '127\.0\.0\.1:[0-9]+' | head -n 1; }
wait_until 10 eval '[[ -n $(quiet_port) ]]' || fail "cannot find the quiet server's port"
port=$(quiet_port)
nd_start c3 "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$port"
nd_expect_exit c3 0
wait_file_size "$WORK/q.log" 100000 || fail "the quiet server got nothing"
kill -USR1 "$(nd_pid quiet)"
wait_log quiet "counters \(SIGUSR1\)" || fail "-q hid the SIGUSR1 counters"
wait_log quiet "received [0-9]+ datagrams, 100000 bytes" || fail "-q hid the SIGUSR1 counter lines"
nd_stop_ok quiet
grep -q "summary:" "$WORK/quiet.err" || fail "-q hid the summary"
grep -q "listening on" "$WORK/quiet.err" && fail "-q still logs lifecycle lines"

# -v: batch lines at debug level, rate-limited: 8 MiB in some 1000 batches gives a few lines, not hundreds.
nd_random_file "$WORK/big.bin" $((8 << 20))
nd_start verbose "$ND/ndserver" -v --path "$WORK/v.log" --listen_addr 127.0.0.1:0 --gro off
vaddr=$(nd_listen_addr verbose udp)
nd_start c4 "$ND/ndclient" --path "$WORK/big.bin" --server_addr "$vaddr" --rate 40M --datagram-size 1000 --gso off
nd_expect_exit c4 0 20
wait_file_size "$WORK/v.log" $((8 << 20)) || true
nd_stop_ok verbose
lines=$(grep -c "debug: udp $vaddr: batch" "$WORK/verbose.err" || true)
((lines >= 1)) || fail "-v printed no batch lines"
((lines <= 10)) || fail "-v printed $lines batch lines in about 2 s: not rate-limited"
