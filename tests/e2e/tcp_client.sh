#!/usr/bin/env bash
# ndclient to tcp:// destinations: a receiver nobody here wrote (socat
# TCP-LISTEN) gets the file byte for byte, over IPv4 and IPv6; TCP and UDP
# destinations mix in one run; nc -l receives too; unix:// reaches socat
# UNIX-LISTEN; a destination nobody listens on at start makes the client exit
# 1 naming it (breaks later are retried: tcp_client_reconnect).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

size=$((8 * 1024 * 1024 + 5))
nd_random_file "$WORK/in.bin" "$size"

for family in 4 6; do
  if [[ $family == 4 ]]; then host=127.0.0.1; else host='[::1]'; fi
  nd_start_on_free_port "rx$family" tcp socat -u "TCP$family-LISTEN:{PORT},bind=$host,reuseaddr" \
    "CREATE:$WORK/out$family.bin"
  nd_start "cli$family" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://$host:$PORT"
  nd_expect_exit "cli$family" 0 30
  nd_expect_exit "rx$family" 0
  assert_same_sha "$WORK/in.bin" "$WORK/out$family.bin"
done

# nc -l as the receiver.
nd_start_on_free_port rxnc tcp nc -l 127.0.0.1 "{PORT}"
nd_start ncli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://127.0.0.1:$PORT"
nd_expect_exit ncli 0 30
nd_expect_exit rxnc 0
assert_same_sha "$WORK/in.bin" "$WORK/rxnc.out"

# TCP and UDP in one run.
nd_start srv "$ND/ndserver" --path "$WORK/udp.log" --listen_addr 127.0.0.1:0
udp=$(nd_listen_addr srv udp)
nd_start_on_free_port rx tcp socat -u "TCP4-LISTEN:{PORT},bind=127.0.0.1,reuseaddr" "CREATE:$WORK/mixed.bin"
nd_start mixed "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://127.0.0.1:$PORT" --server_addr "$udp" \
  --rate 2G
nd_expect_exit mixed 0 30
nd_expect_exit rx 0
assert_same_sha "$WORK/in.bin" "$WORK/mixed.bin"
wait_file_size "$WORK/udp.log" "$size" || true
assert_same_sha "$WORK/in.bin" "$WORK/udp.log"
nd_stop_ok srv

# unix://
nd_start urx socat -u "UNIX-LISTEN:$WORK/rx.sock" "CREATE:$WORK/unix.bin"
wait_until 5 test -S "$WORK/rx.sock" || fail "socat did not create its unix socket"
nd_start ucli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "unix://$WORK/rx.sock"
nd_expect_exit ucli 0 30
nd_expect_exit urx 0
assert_same_sha "$WORK/in.bin" "$WORK/unix.bin"

# Nobody listening at start: exit 1 with the reason.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nd_start dead "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://127.0.0.1:$port" --reconnect-timeout 1
nd_expect_exit dead 1 10
grep -q "tcp://127.0.0.1:$port" "$WORK/dead.err" || fail "the client does not name the destination it gave up on"
nd_start once "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://127.0.0.1:$port" --reconnect off
nd_expect_exit once 1 5
