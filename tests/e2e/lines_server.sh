#!/usr/bin/env bash
# ndserver --lines writes whole lines only:
# 1. syslog senders (`logger --udp`) send one message per datagram without a
#    newline: each lands as its own line (before: all of them on one line).
# 2. 8 senders x 100,000 distinct numbered lines of varying length over UDP
#    (ndclient --lines, paced with --rate) and the same 8 over TCP at once,
#    into one ndserver --lines --prefix peer with a UDP and a TCP listen
#    address: in each log every line is intact, carries the address of the
#    sender that sent it (one address per sender, all distinct), and the
#    lines are exactly those sent, each once (over TCP nothing may be lost).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v python3 >/dev/null || skip "no python3"
command -v logger >/dev/null || skip "no logger"

# 1. logger --udp
nd_start syslog "$ND/ndserver" --path "$WORK/syslog.log" --listen_addr 127.0.0.1:0 --lines
port=$(nd_port "$(nd_listen_addr syslog udp)")
seq 1 2000 | sed 's/^/message number /' | logger --udp --server 127.0.0.1 --port "$port" -t ndtest
wait_until 10 eval '[[ $(wc -l <"$WORK/syslog.log") -ge 2000 ]]' || true
nd_stop_ok syslog
assert_eq 2000 "$(wc -l <"$WORK/syslog.log")" "lines in the log (one per logger message)"
assert_eq 2000 "$(grep -Ec '^<13>.*ndtest.* message number [0-9]+$' "$WORK/syslog.log")" "whole syslog lines"
grep -q -- "--lines: 2000 newlines added" "$WORK/syslog.err" || fail "the summary did not count 2000 added newlines"

# 2. Eight senders, --prefix peer.
lines=${ND_LINES_PER_SENDER:-100000}
python3 - "$WORK" "$lines" <<'PY'
import sys
work, n = sys.argv[1], int(sys.argv[2])
for k in range(8):
    with open(f"{work}/sender{k}.txt", "w") as f:
        for i in range(n):
            f.write(f"s{k} {i} " + chr(97 + (k + i) % 26) * ((k * 7919 + i * 31) % 200) + "\n")
PY
# The same eight files over UDP (paced) and over TCP at once, into one server
# with a listen address of each kind (one log file each).
nd_start srv "$ND/ndserver" --path "$WORK/all.log" --listen_addr 127.0.0.1:0 --listen_addr tcp://127.0.0.1:0 \
  --lines --prefix peer
addr=$(nd_listen_addr srv udp)
tcp=$(nd_listen_addr srv tcp)
for k in 0 1 2 3 4 5 6 7; do
  nd_start "c$k" "$ND/ndclient" --path "$WORK/sender$k.txt" --lines --rate 40M --server_addr "$addr"
  nd_start "t$k" "$ND/ndclient" --path "$WORK/sender$k.txt" --server_addr "tcp://$tcp"
done
for k in 0 1 2 3 4 5 6 7; do nd_expect_exit "c$k" 0 120; nd_expect_exit "t$k" 0 120; done
total=$(cat "$WORK"/sender*.txt | wc -l)
udp_log="$WORK/all.127.0.0.1_0.log" tcp_log="$WORK/all.tcp___127.0.0.1_0.log"
wait_until 20 eval '[[ $(wc -l <"$udp_log") -ge $total && $(wc -l <"$tcp_log") -ge $total ]]' || true
nd_stop_ok srv
for log in "$udp_log" "$tcp_log"; do
  python3 - "$WORK" "$lines" "$log" <<'PY' || fail "the log $log of the eight senders is wrong (see above)"
import collections, re, sys
work, n, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
line_re = re.compile(r"(127\.0\.0\.1:\d+) s(\d) (\d+) ([a-z]*)\n")
peer_of, seen, bad = {}, collections.Counter(), 0
with open(log) as f:
    for line in f:
        m = line_re.fullmatch(line)
        if not m:
            bad += 1
            if bad < 5: print("not a whole line:", line[:120], file=sys.stderr)
            continue
        peer, k, i, pad = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
        if pad != chr(97 + (k + i) % 26) * ((k * 7919 + i * 31) % 200):
            bad += 1
            print("damaged line:", line[:120], file=sys.stderr)
        if peer_of.setdefault(k, peer) != peer:
            bad += 1
            print(f"sender {k} seen as {peer_of[k]} and {peer}", file=sys.stderr)
        seen[(k, i)] += 1
twice = sum(1 for count in seen.values() if count > 1)
print(f"{log}: {len(seen)} of {8 * n} lines, {twice} more than once, {bad} bad; peers {sorted(peer_of.values())}",
      file=sys.stderr)
if bad or twice or len(set(peer_of.values())) != 8: sys.exit(1)
if len(seen) != 8 * n: sys.exit("lines missing")
PY
done
echo "PASS"
