#!/usr/bin/env bash
# ndclient reads stdin (--path -) from a pipe and from a fifo, sends what it has
# at once (a live writer's first part arrives before the writer closes), ends
# with exit 0 at EOF, and streams an endless device until SIGTERM (exit 0).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
expected="$WORK/expected.bin"
: >"$expected"

# 1. A pipe: cat FILE | ndclient --path -
nd_random_file "$WORK/piped.bin" $((1024 * 1024 + 5))
nd_start pipe bash -c 'cat "$1" | "$2/ndclient" --path - --server_addr "$3"' _ "$WORK/piped.bin" "$ND" "$addr"
nd_expect_exit pipe 0
cat "$WORK/piped.bin" >>"$expected"
wait_file_size "$WORK/out.log" "$(stat -c %s "$expected")" || true
assert_same_sha "$expected" "$WORK/out.log"

# 2. A fifo with a live writer: part 1 must reach the server while the writer
#    still holds the fifo open, part 2 after; EOF ends the client with 0.
mkfifo "$WORK/fifo"
nd_start fifo "$ND/ndclient" --path "$WORK/fifo" --server_addr "$addr"
printf 'first line from a live writer\n' >"$WORK/part1"
nd_random_file "$WORK/part2" 300000
exec 3>"$WORK/fifo"
cat "$WORK/part1" >&3
cat "$WORK/part1" >>"$expected"
wait_file_size "$WORK/out.log" "$(stat -c %s "$expected")" ||
  fail "the client held back a live writer's first line until more input came"
nd_running fifo || fail "the client exited before the fifo's writer closed"
cat "$WORK/part2" >&3
exec 3>&-
cat "$WORK/part2" >>"$expected"
nd_expect_exit fifo 0
wait_file_size "$WORK/out.log" "$(stat -c %s "$expected")" || true
assert_same_sha "$expected" "$WORK/out.log"

# 3. A fifo fed by head -c from /dev/zero.
mkfifo "$WORK/zfifo"
nd_start zfifo bash -c 'head -c 2000000 /dev/zero >"$1"' _ "$WORK/zfifo"
nd_start zcli "$ND/ndclient" --path "$WORK/zfifo" --server_addr "$addr" --datagram-size 1000
nd_expect_exit zcli 0
nd_expect_exit zfifo 0
head -c 2000000 /dev/zero >>"$expected"
wait_file_size "$WORK/out.log" "$(stat -c %s "$expected")" || true
assert_same_sha "$expected" "$WORK/out.log"

# 4. --path /dev/zero is endless: SIGTERM after >= 4 MiB arrived ends it with
#    143 (an interrupted transfer), and the server has exactly what the client
#    reports as sent.
before=$(stat -c %s "$WORK/out.log")
nd_start zero "$ND/ndclient" --path /dev/zero --server_addr "$addr" --rate 400M
wait_file_size "$WORK/out.log" $((before + 4 * 1024 * 1024)) || fail "/dev/zero did not stream"
nd_stop_interrupted zero
sent=$(grep -Eo -- "-> udp $addr: sent [0-9]+ datagrams, [0-9]+ bytes" "$WORK/zero.err" |
  awk '{print $(NF-1)}')
[[ -n "$sent" ]] || fail "client on /dev/zero printed no summary"
head -c "$sent" /dev/zero >>"$expected"
wait_file_size "$WORK/out.log" "$(stat -c %s "$expected")" || true
assert_same_sha "$expected" "$WORK/out.log"
nd_stop srv || fail "server exited $? on SIGTERM"
