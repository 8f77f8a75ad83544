#!/usr/bin/env bash
# Behaviour: `ndserver --path -` writes everything received to stdout (as
# `ndclient --path -` reads stdin), with one or several --listen-addr, and
# creates no file named "-"; `--path - --tee` is a usage error (exit 2, one line).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
cd "$WORK" # where a file named "-" would appear

nd_random_file "$WORK/a.bin" $((3 << 20))
nd_random_file "$WORK/b.bin" $((1 << 20))

# send FILE ADDR: sends FILE to ADDR with ndclient.
send() {
  "$ND/ndclient" --path "$1" --server-addr "$2" --rate 400M 2>"$WORK/cli.err" ||
    fail "ndclient exited $?: $(cat "$WORK/cli.err")"
}

# One listen address.
nd_start one "$ND/ndserver" --path - --listen-addr 127.0.0.1:0
send "$WORK/a.bin" "$(nd_listen_addr one udp)"
wait_file_size "$WORK/one.out" $((3 << 20)) || fail "--path - did not write what was received to stdout"
nd_stop_ok one
assert_same_sha "$WORK/a.bin" "$WORK/one.out"
[[ ! -e "$WORK/-" ]] || fail "--path - created a file named '-'"

# Two listen addresses (IPv4 and IPv6) into the one stdout, one after the other.
nd_start two "$ND/ndserver" --path - --listen-addr 127.0.0.1:0 --listen-addr '[::1]:0'
first=$(nd_listen_addr two udp 1)
second=$(nd_listen_addr two udp 2)
send "$WORK/a.bin" "$first"
wait_file_size "$WORK/two.out" $((3 << 20)) || fail "--path - with two addresses: the first one's data is missing"
send "$WORK/b.bin" "$second"
wait_file_size "$WORK/two.out" $((4 << 20)) || fail "--path - with two addresses: the second one's data is missing"
nd_stop_ok two
cat "$WORK/a.bin" "$WORK/b.bin" >"$WORK/ab.bin"
assert_same_sha "$WORK/ab.bin" "$WORK/two.out"
[[ -z "$(find "$WORK" -maxdepth 1 -name '-*' -print -quit)" ]] || fail "--path - created a file named like '-...'"

# Two senders at once into a stdout nobody reads yet (a fifo this shell holds
# open), then a reader takes what waits: the pipes share one pending buffer, so
# the reader gets whole datagrams (here 128 whole 64-byte lines each), never
# two interleaved; each stdout line of the summary adds up to what its pipe
# received, and 'wrote' adds up to what the reader got.
seq -f "A%062g" 1 32768 >"$WORK/a.lines"
seq -f "B%062g" 1 32768 >"$WORK/b.lines"
mkfifo "$WORK/both.fifo"
exec {hold}<>"$WORK/both.fifo"
# shellcheck disable=SC2016 # expanded by the inner bash
nd_start both bash -c 'exec "$@" >"$0"' "$WORK/both.fifo" "$ND/ndserver" --path - \
  --listen-addr 127.0.0.1:0 --listen-addr 127.0.0.1:0
first=$(nd_listen_addr both udp 1)
second=$(nd_listen_addr both udp 2)
"$ND/ndclient" --path "$WORK/a.lines" --server-addr "$first" --rate 400M 2>"$WORK/cli-a.err" &
sender_a=$!
"$ND/ndclient" --path "$WORK/b.lines" --server-addr "$second" --rate 400M 2>"$WORK/cli-b.err" ||
  fail "ndclient b exited $?: $(cat "$WORK/cli-b.err")"
wait "$sender_a" || fail "ndclient a exited $?: $(cat "$WORK/cli-a.err")"
# last_sum REGEX: the sum of the first number REGEX captures, over the last two matching lines.
last_sum() {
  sed -En "s/.*$1.*/\\1/p" "$WORK/both.err" | tail -n 2 | awk '{ sum += $1 } END { print sum + 0 }'
}
received_all() {
  kill -USR1 "$(nd_pid both)"
  [[ "$(last_sum 'received [0-9]+ datagrams, ([0-9]+) bytes')" == $((4 << 20)) ]]
}
wait_until 10 received_all || fail "the server did not receive both streams"
# (without the copy of $hold it inherits, or it would never see the end)
# shellcheck disable=SC2016 # expanded by the inner bash
nd_start reader bash -c 'eval "exec $1<&-"; exec cat "$0"' "$WORK/both.fifo" "$hold"
# Nothing left waiting: every byte received was written or dropped.
drained() {
  kill -USR1 "$(nd_pid both)"
  [[ $(($(last_sum 'wrote ([0-9]+) bytes') + $(last_sum 'datagrams \(([0-9]+) bytes\) a slow'))) == $((4 << 20)) ]]
}
wait_until 10 drained || fail "what waited for stdout was not written once the reader came"
nd_stop_ok both
exec {hold}<&-
nd_expect_exit reader 0 5
summary=$(sed -n '/summary:/,$p' "$WORK/both.err")
line='-> stdout: wrote ([0-9]+) bytes; dropped [0-9]+ datagrams \(([0-9]+) bytes\)[^;]*, ([0-9]+) bytes still waiting at stop; [0-9]+ write errors \(([0-9]+)'
# Each pipe's stdout line accounts for what that pipe received, exactly,
# although the pipes wrote out each other's queued bytes.
accounted=$(grep -Eo -- "$line" <<<"$summary" | sed -E "s/$line/\\1 \\2 \\3 \\4/" | awk '{ print $1 + $2 + $3 + $4 }' |
  paste -sd' ')
received=$(grep -Eo 'received [0-9]+ datagrams, [0-9]+ bytes' <<<"$summary" | awk '{print $4}' | paste -sd' ')
assert_eq "$received" "$accounted" "per pipe: bytes received vs written + dropped + waiting + lost on its stdout line"
written=$(grep -Eo -- "$line" <<<"$summary" | sed -E "s/$line/\\1/" | awk '{ sum += $1 } END { print sum + 0 }')
assert_eq "$written" "$(nd_size "$WORK/reader.out")" "bytes the reader got vs the two 'wrote'"
(($(nd_size "$WORK/reader.out") > (1 << 20))) || fail "the reader got only $(nd_size "$WORK/reader.out") bytes"
sort "$WORK/a.lines" "$WORK/b.lines" >"$WORK/all.sorted"
sort "$WORK/reader.out" | comm -23 - "$WORK/all.sorted" >"$WORK/broken"
[[ ! -s "$WORK/broken" ]] || fail "stdout holds lines no sender sent (datagrams interleaved): $(head -c 200 "$WORK/broken")"
(($(nd_size "$WORK/reader.out") % 8192 == 0)) || fail "the reader got a partial datagram: $(nd_size "$WORK/reader.out") bytes"

# --tee would copy stdout onto itself: exit 2 with one line.
rc=0
"$ND/ndserver" --path - --tee --listen-addr 127.0.0.1:0 >"$WORK/tee.out" 2>"$WORK/tee.err" </dev/null || rc=$?
assert_eq 2 "$rc" "exit status of --path - --tee"
assert_eq 1 "$(wc -l <"$WORK/tee.err")" "lines on stderr for --path - --tee ($(cat "$WORK/tee.err"))"
grep -q -- '--tee' "$WORK/tee.err" || fail "the error does not name --tee: $(cat "$WORK/tee.err")"
[[ ! -s "$WORK/tee.out" ]] || fail "--path - --tee wrote to stdout"
