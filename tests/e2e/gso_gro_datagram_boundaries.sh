#!/usr/bin/env bash
# Behaviour: UDP GSO (--gso, the sender) and GRO (--gro, a listener), both on
# by default, change how datagrams travel through the kernel, never what
# arrives: a receiver nobody here wrote sees exactly the datagrams it would see
# without them, and netdisp's own listeners split coalesced messages back
# apart. With both off (4.) the datagrams are the same too.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# recv.py PORTFILE COUNT OUT: receives COUNT datagrams (10 s deadline each),
# writes their sizes to OUT.sizes and their bytes to OUT.
cat >"$WORK/recv.py" <<'PY'
import os, socket, sys
port_file, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("127.0.0.1", 0))
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
s.settimeout(10)  # deadline per datagram
with open(out, "wb") as data, open(out + ".sizes", "w") as sizes:
    for _ in range(count):
        d = s.recv(65536)
        data.write(d)
        sizes.write("%d\n" % len(d))
PY

# 300 datagrams of 1000 bytes and a last one of 123.
nd_random_file "$WORK/in.bin" $((300 * 1000 + 123))
{ for _ in $(seq 300); do echo 1000; done; echo 123; } >"$WORK/expected.sizes"

start_receiver() {  # NAME: a python receiver (started here, so the test can wait for it)
  nd_start "$1" python3 "$WORK/recv.py" "$WORK/$1.port" 301 "$WORK/$1.bin"
  wait_until 10 test -s "$WORK/$1.port" || fail "$1 did not start"
}

# expect_datagrams NAME WHAT: receiver NAME got the 301 datagrams, sizes and bytes exact.
expect_datagrams() {
  nd_wait "$1" 15 || fail "$2: the receiver did not get all 301 datagrams"
  assert_eq "$(cat "$WORK/$1.bin.sizes")" "$(cat "$WORK/expected.sizes")" "datagram sizes, $2"
  assert_same_sha "$WORK/in.bin" "$WORK/$1.bin"
}

# through_proxy NAME on|off: ndclient -> ndproxy -> receiver NAME, with GSO and GRO on or off everywhere.
through_proxy() {
  local name=$1 mode=$2 port proxy
  start_receiver "$name"
  port=$(cat "$WORK/$name.port")
  nd_start "${name}_proxy" "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "127.0.0.1:$port" \
    --gro "$mode" --gso "$mode"
  proxy=$(nd_listen_addr "${name}_proxy")
  "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --datagram-size 1000 --gso "$mode" \
    2>"$WORK/${name}_client.err"
  expect_datagrams "$name" "behind a proxy with GRO/GSO $mode"
}

# 1. GSO sender -> plain receiver: the kernel cuts the same 301 datagrams.
start_receiver plain
port=$(cat "$WORK/plain.port")
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "127.0.0.1:$port" --datagram-size 1000 --gso on 2>"$WORK/c1.err"
expect_datagrams plain "behind GSO"

# 2. GSO sender -> netdisp proxy with GRO and GSO -> plain receiver: same datagrams.
through_proxy behind_proxy on

# 3. GSO sender -> netdisp server with GRO: it counts 301 datagrams, bytes exact.
nd_start srv "$ND/ndserver" --path "$WORK/srv.log" --listen-addr 127.0.0.1:0 --gro on
server=$(nd_listen_addr srv)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$server" --datagram-size 1000 --gso on 2>"$WORK/c3.err"
wait_file_size "$WORK/srv.log" $((300 * 1000 + 123)) 10 || fail "server with GRO did not receive everything"
nd_stop srv >/dev/null || true
grep -q "received 301 datagrams, 300123 bytes" "$WORK/srv.err" || fail "server with GRO miscounted datagrams: $(grep received "$WORK/srv.err")"
assert_same_sha "$WORK/in.bin" "$WORK/srv.log"

# 4. Both off everywhere: the plain path gives the same datagrams.
through_proxy behind_proxy_off off
echo "PASS: GSO/GRO keep datagram boundaries (plain receiver, proxy, server; on and off)"
