#!/usr/bin/env bash
# ndserver on a tcp:// listen address takes any number of senders, one thread
# per connection, and appends each connection's bytes to that address's file:
# nc, socat and ndclient (tcp://) one after the other land byte for byte; three
# at once land whole (the file is as long as the three together, and each
# sender's bytes are there in order); a TCP and a UDP listen address in one
# server keep one file each; --max-clients and --allow work as on the
# reverse-proxy; a unix:// listen address takes socat UNIX-CONNECT senders.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

nd_random_file "$WORK/a.bin" 1000003
nd_random_file "$WORK/b.bin" 2000003
nd_random_file "$WORK/c.bin" 3000007

nd_start srv "$ND/ndserver" --path "$WORK/app.log" --listen_addr tcp://127.0.0.1:0 --listen_addr 127.0.0.1:0
tcp=$(nd_listen_addr srv tcp)
udp=$(nd_listen_addr srv udp)
tlog="$WORK/app.tcp___127.0.0.1_0.log"
ulog="$WORK/app.127.0.0.1_0.log"

# One after the other: nc, socat, ndclient.
nc -N 127.0.0.1 "$(nd_port "$tcp")" <"$WORK/a.bin"
wait_file_size "$tlog" 1000003 || fail "nc's bytes did not arrive"
socat -u "OPEN:$WORK/b.bin" "TCP:$tcp"
wait_file_size "$tlog" 3000006 || fail "socat's bytes did not arrive"
nd_start cli "$ND/ndclient" --path "$WORK/c.bin" --server_addr "tcp://$tcp"
nd_expect_exit cli 0
wait_file_size "$tlog" 6000013 || fail "ndclient's bytes did not arrive"
cat "$WORK/a.bin" "$WORK/b.bin" "$WORK/c.bin" >"$WORK/abc.bin"
assert_same_sha "$WORK/abc.bin" "$tlog"
grep -q "tcp client 127.0.0.1:[0-9]* connected" "$WORK/srv.err" || fail "no log line per connection"

# The UDP address of the same server writes its own file.
nd_start ucli "$ND/ndclient" --path "$WORK/a.bin" --server_addr "$udp"
nd_expect_exit ucli 0
wait_file_size "$ulog" 1000003 || true
assert_same_sha "$WORK/a.bin" "$ulog"

# Three at once: every byte arrives, each connection's bytes in order.
: >"$tlog"
for name in a b c; do nd_start "at_$name" socat -u "OPEN:$WORK/$name.bin" "TCP:$tcp"; done
for name in a b c; do nd_expect_exit "at_$name" 0; done
wait_file_size "$tlog" 6000013 || fail "not every concurrent connection's bytes arrived"
assert_eq 6000013 "$(nd_size "$tlog")" "log size after three concurrent senders"
nd_stop_ok srv
grep -Eq "tcp 127\.0\.0\.1:[0-9]+: 0 clients now; [0-9]+ accepted" "$WORK/srv.err" || fail "no acceptor line in the summary"

# --max-clients 1 and --allow.
nd_start lim "$ND/ndserver" --path "$WORK/lim.log" --listen_addr tcp://127.0.0.1:0 --max-clients 1 --allow 127.0.0.2
lim=$(nd_listen_addr lim tcp)
nc -N 127.0.0.1 "$(nd_port "$lim")" <"$WORK/a.bin" || true
wait_log lim "refused client 127.0.0.1:[0-9]+ \(not in --allow\)" || fail "--allow did not refuse 127.0.0.1"
nd_start hold nc -d -s 127.0.0.2 127.0.0.1 "$(nd_port "$lim")"
wait_log lim "tcp client 127.0.0.2:[0-9]+ connected" || fail "the allowed client did not connect"
nd_start extra nc -d -s 127.0.0.2 127.0.0.1 "$(nd_port "$lim")"
wait_log lim "closed client 127.0.0.2:[0-9]+ at once: --max-clients 1 reached" || fail "--max-clients 1 let a second in"
nd_stop_ok lim
assert_eq 0 "$(nd_size "$WORK/lim.log")" "bytes logged from a refused client"

# unix:// with socat UNIX-CONNECT.
nd_start usrv "$ND/ndserver" --path "$WORK/unix.log" --listen_addr "unix://$WORK/srv.sock"
wait_log usrv "listening on unix $WORK/srv.sock" || fail "no unix listener"
socat -u "OPEN:$WORK/b.bin" "UNIX-CONNECT:$WORK/srv.sock"
wait_file_size "$WORK/unix.log" 2000003 || true
assert_same_sha "$WORK/b.bin" "$WORK/unix.log"
nd_stop_ok usrv
