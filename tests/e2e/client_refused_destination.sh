#!/usr/bin/env bash
# ndclient at end of input waits briefly (--linger, 200 ms) for the ICMP
# 'port unreachable' reports of its last datagrams, and exits 1 when a
# destination refused (nobody listening there), with a last line naming the
# destination and the count; --ignore-send-errors exits 0 all the same. A good
# destination beside a dead one still gets everything; a healthy run exits 0.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# closed_port HOST: a UDP port on HOST that nobody listens on (bound, read, closed).
closed_port() {
  python3 -c 'import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1"
}

size=$((1 << 20))
nd_random_file "$WORK/in.bin" "$size"

# refused_line NAME DEST: the client's final line for DEST, with a count > 0.
check_refused_line() {
  local name=$1 dest=$2 line count
  line=$(grep -F -- "ndclient: udp $dest: " "$WORK/$name.err" | tail -n 1) ||
    fail "$name: no final line naming udp $dest: $(tail -n 3 "$WORK/$name.err")"
  count=$(sed -E 's/.*: ([0-9]+) port unreachable reports.*/\1/' <<<"$line")
  if ! [[ "$count" =~ ^[0-9]+$ ]] || ((count == 0)); then fail "$name: expected a refused count > 0 in: $line"; fi
  grep -Fq -- "--ignore-send-errors" <<<"$line" || fail "$name: the final line does not name --ignore-send-errors: $line"
  summary_refused "$name" "$dest"
}

# summary_refused NAME DEST: NAME's summary counts port unreachable reports for DEST.
summary_refused() {
  grep -F -- "-> udp $2: sent " "$WORK/$1.err" | grep -Eq "; [1-9][0-9]* port unreachable reports" ||
    fail "$1: the summary does not count port unreachable reports for $2"
}

# 1. Nobody listening, IPv4 and IPv6: exit 1, the final line says where and how much.
dead4="127.0.0.1:$(closed_port 127.0.0.1)"
dead6="[::1]:$(closed_port ::1)"
for dest in "$dead4" "$dead6"; do
  name=dead$([[ $dest == \[* ]] && echo 6 || echo 4)
  nd_start "$name" "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$dest"
  nd_expect_exit "$name" 1
  check_refused_line "$name" "$dest"
done

# 2. --ignore-send-errors: the same, but exit 0 (the summary still counts the reports).
nd_start ignored "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$dead4" --ignore-send-errors
nd_expect_exit ignored 0
summary_refused ignored "$dead4"

# 3. A good destination and a dead one: exit 1 naming only the dead one; the good one got everything.
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen-addr 127.0.0.1:0
good=$(nd_listen_addr srv udp)
nd_start both "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$good" --server-addr "$dead4" --rate 200M
nd_expect_exit both 1
check_refused_line both "$dead4"
grep -qF -- "ndclient: udp $good:" "$WORK/both.err" && fail "the final lines name the good destination $good"
wait_file_size "$WORK/out.log" "$size" || fail "the good destination did not get every byte"
assert_same_sha "$WORK/in.bin" "$WORK/out.log"

# 4. A healthy single destination: exit 0, no loss line.
nd_start healthy "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$good" --rate 200M
nd_expect_exit healthy 0
grep -q "ndclient: udp" "$WORK/healthy.err" && fail "a healthy run printed a loss line: $(grep "ndclient: udp" "$WORK/healthy.err")"
wait_file_size "$WORK/out.log" $((2 * size)) || fail "the healthy run did not deliver every byte"
nd_stop_ok srv
