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

# --tee would copy stdout onto itself: exit 2 with one line.
rc=0
"$ND/ndserver" --path - --tee --listen-addr 127.0.0.1:0 >"$WORK/tee.out" 2>"$WORK/tee.err" </dev/null || rc=$?
assert_eq 2 "$rc" "exit status of --path - --tee"
assert_eq 1 "$(wc -l <"$WORK/tee.err")" "lines on stderr for --path - --tee ($(cat "$WORK/tee.err"))"
grep -q -- '--tee' "$WORK/tee.err" || fail "the error does not name --tee: $(cat "$WORK/tee.err")"
[[ ! -s "$WORK/tee.out" ]] || fail "--path - --tee wrote to stdout"
