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

# 1. GSO sender -> plain receiver: the kernel cuts the same 301 datagrams.
start_receiver plain
port=$(cat "$WORK/plain.port")
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "127.0.0.1:$port" --datagram-size 1000 --gso on 2>"$WORK/c1.err"
nd_wait plain 15 || fail "the receiver of a GSO sender did not get all 301 datagrams"
assert_eq "$(cat "$WORK/plain.bin.sizes")" "$(cat "$WORK/expected.sizes")" "datagram sizes behind GSO"
assert_same_sha "$WORK/in.bin" "$WORK/plain.bin"

# 2. GSO sender -> netdisp proxy with GRO and GSO -> plain receiver: same datagrams.
start_receiver behind_proxy
port=$(cat "$WORK/behind_proxy.port")
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "127.0.0.1:$port" --gro on --gso on
proxy=$(nd_listen_addr proxy)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --datagram-size 1000 --gso on 2>"$WORK/c2.err"
nd_wait behind_proxy 15 || fail "the receiver behind a GRO/GSO proxy did not get all 301 datagrams"
assert_eq "$(cat "$WORK/behind_proxy.bin.sizes")" "$(cat "$WORK/expected.sizes")" "datagram sizes behind GRO+GSO"
assert_same_sha "$WORK/in.bin" "$WORK/behind_proxy.bin"

# 3. GSO sender -> netdisp server with GRO: it counts 301 datagrams, bytes exact.
nd_start srv "$ND/ndserver" --path "$WORK/srv.log" --listen-addr 127.0.0.1:0 --gro on
server=$(nd_listen_addr srv)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$server" --datagram-size 1000 --gso on 2>"$WORK/c3.err"
wait_file_size "$WORK/srv.log" $((300 * 1000 + 123)) 10 || fail "server with GRO did not receive everything"
nd_stop srv >/dev/null || true
grep -q "received 301 datagrams, 300123 bytes" "$WORK/srv.err" || fail "server with GRO miscounted datagrams: $(grep received "$WORK/srv.err")"
assert_same_sha "$WORK/in.bin" "$WORK/srv.log"
# 4. Both off everywhere: the plain path gives the same datagrams.
start_receiver plain_off
port=$(cat "$WORK/plain_off.port")
nd_start proxy_off "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr "127.0.0.1:$port" --gro off --gso off
proxy=$(nd_listen_addr proxy_off)
"$ND/ndclient" --path "$WORK/in.bin" --server-addr "$proxy" --datagram-size 1000 --gso off 2>"$WORK/c4.err"
nd_wait plain_off 15 || fail "the receiver behind a proxy without GRO/GSO did not get all 301 datagrams"
assert_eq "$(cat "$WORK/plain_off.bin.sizes")" "$(cat "$WORK/expected.sizes")" "datagram sizes without GRO/GSO"
assert_same_sha "$WORK/in.bin" "$WORK/plain_off.bin"
echo "PASS: GSO/GRO keep datagram boundaries (plain receiver, proxy, server; on and off)"
