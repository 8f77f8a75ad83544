#!/usr/bin/env bash
# Behaviour: 200 TCP clients connecting to the reverse-proxy and going away
# (after a read, with a reset, half-closed, or at once) while a stream flows
# leave nothing behind: its open fds and threads return to where they started.
# Runs in a private network namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

clients=200
nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.1.2.13:9964
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")
pid=$(nd_pid rproxy)

fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$pid/status"; }
fds0=$(fds)
threads0=$(threads)

# A live stream during the churn, so client threads are writing when peers leave.
nd_start upstream "$ND/ndclient" --path /dev/zero --server-addr "$udp" --rate 20M

# Groups of 10 clients at once; each reads one byte of the stream (so it was
# accepted and subscribed) unless it is of the kind that leaves at once.
cat >"$WORK/churn.py" <<'PY'
import socket, struct, sys
port, total, group = int(sys.argv[1]), int(sys.argv[2]), 10
for first in range(0, total, group):
    socks = []
    for i in range(first, min(first + group, total)):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        socks.append((i, s))
    for i, s in socks:
        kind = i % 4
        if kind != 3 and not s.recv(1):
            sys.exit("client %d: EOF before any data" % i)
        if kind == 1:  # reset instead of FIN
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif kind == 2:  # half-close first
            s.shutdown(socket.SHUT_WR)
        s.close()
PY
python3 "$WORK/churn.py" "$port" "$clients" 2>"$WORK/churn.err" || fail "churn clients failed: $(cat "$WORK/churn.err")"
nd_stop upstream || true

# lines REGEX: how many lines of rproxy.err match.
lines() { grep -Ec -- "$1" "$WORK/rproxy.err" || true; }
all_logged() { (($(lines 'tcp client [^ ]+ connected') == clients && $(lines 'tcp client [^ ]+: closed') == clients)); }
wait_until 10 all_logged ||
  fail "of $clients clients, $(lines 'tcp client [^ ]+ connected') logged as connected, $(lines 'tcp client [^ ]+: closed') as closed"
back_down() { (($(fds) <= fds0 && $(threads) <= threads0)); }
wait_until 10 back_down ||
  fail "after $clients clients came and went: $(fds) fds (was $fds0), $(threads) threads (was $threads0)"

nd_running rproxy || fail "the reverse-proxy exited during the churn"
nd_stop_ok rproxy
grep -Eq "0 clients now; $clients accepted" "$WORK/rproxy.err" ||
  fail "the summary does not say 0 clients now, $clients accepted"
