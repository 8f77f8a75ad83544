#!/usr/bin/env bash
# Behaviour: a TCP client of the reverse-proxy that never reads does not slow
# down or reduce what the other clients receive: they get every byte, the
# stalled one is counted as dropping datagrams, and after --client-timeout
# without progress it is disconnected (logged). Runs in a private network
# namespace (the channel is a multicast group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((16 << 20))
nd_random_file "$WORK/in.bin" "$size"

nd_start rproxy "$ND/ndreverse-proxy" --udp-listen-addr 127.0.0.1:0 --tcp-listen-addr 127.0.0.1:0 \
  --multicast-addr 239.1.2.12:9963 --client-timeout 2
udp=$(nd_listen_addr rproxy udp)
port=$(nd_port "$(nd_listen_addr rproxy tcp)")

# The stalled client: a 4 KiB receive buffer, connected, then never reads.
cat >"$WORK/stalled.py" <<'PY'
import os, signal, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
signal.pause()  # never read; killed by the test's cleanup
PY
nd_start stalled python3 "$WORK/stalled.py" "$port" "$WORK/stalled.port"
wait_until 10 test -s "$WORK/stalled.port" || fail "the stalled client did not connect"
stalled="127.0.0.1:$(<"$WORK/stalled.port")"
wait_log rproxy "tcp client $stalled connected \(1 clients\)" || fail "no connection line for $stalled"
nd_start reader1 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(2 clients\)' || fail "reader 1 did not connect"
nd_start reader2 nc -d 127.0.0.1 "$port"
wait_log rproxy 'connected \(3 clients\)' || fail "reader 2 did not connect"

"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$udp" --rate 400M 2>"$WORK/client.err" ||
  fail "ndclient exited $?: $(cat "$WORK/client.err")"

wait_file_size "$WORK/reader1.out" "$size" || fail "reader 1 lost bytes beside a stalled client"
wait_file_size "$WORK/reader2.out" "$size" || fail "reader 2 lost bytes beside a stalled client"

# Counted as dropping (a rate-limited warning), then disconnected.
wait_log rproxy "tcp client $stalled: too slow, dropped [1-9][0-9]* datagrams" 5 ||
  fail "no warning that $stalled dropped datagrams"
wait_log rproxy "tcp client $stalled: closed \(could not write for --client-timeout\); sent [0-9]+ bytes, dropped [1-9][0-9]* datagrams" 8 ||
  fail "$stalled was not disconnected after --client-timeout 2 (or its drops were not counted)"
warnings=$(grep -c "tcp client $stalled: too slow" "$WORK/rproxy.err" || true)
((warnings <= 3)) || fail "$warnings 'too slow' warnings for $stalled in a few seconds: not rate-limited"

nd_stop_ok rproxy
nd_wait reader1 5 || fail "reader 1 did not see EOF when the reverse-proxy stopped"
nd_wait reader2 5 || fail "reader 2 did not see EOF when the reverse-proxy stopped"
assert_same_sha "$WORK/in.bin" "$WORK/reader1.out"
assert_same_sha "$WORK/in.bin" "$WORK/reader2.out"
readers=$(grep -Ec "closed \(shutting down\); sent $size bytes, dropped 0 datagrams \(0 bytes\)" "$WORK/rproxy.err" || true)
assert_eq 2 "$readers" "clients closed at shutdown with every byte sent and nothing dropped"
