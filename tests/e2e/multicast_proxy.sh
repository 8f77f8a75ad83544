#!/usr/bin/env bash
# Behaviour: ndproxy speaks multicast and broadcast both ways, inside a private
# network namespace (nothing leaves the machine):
#   1. IPv4 group listen (joins 239.1.2.4) -> unicast downstream
#   2. unicast -> IPv4 group downstream, received by a server joined to it
#   3. IPv6 link-local group listen [ff02::1234%nd0] -> unicast downstream
#   4. unicast -> IPv6 link-local group downstream [ff02::1235%nd0]
#   5. --multicast-if picks the interface for joins and sends, by name and by address
#   6. broadcast downstream 10.77.0.255 reaches servers on 0.0.0.0 and 10.77.0.255
#   7. the command lines of SEED.md (ndX for `cargo run --bin X --`) run unchanged
#      and carry data
# Every stream is compared by sha256. The veth MTU is 1500, and GSO is on by
# default: the 8192-byte datagrams of 2. must go singly (and be fragmented),
# the 1000-byte ones of 4. go as GSO messages.
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((1 << 20))
nd_random_file "$WORK/in.bin" "$size"

# send ADDR [OPTION...]: ndclient sends in.bin to ADDR, paced.
send() {
  "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$1" --rate 200M "${@:2}" 2>>"$WORK/client.err" ||
    fail "ndclient --server-addr $1 failed: $(tail -n 3 "$WORK/client.err")"
}

# expect_file NAME FILE: FILE (written by NAME) ends up equal to in.bin.
expect_file() {
  wait_file_size "$2" "$size" || fail "$1: not every byte arrived"
  assert_same_sha "$WORK/in.bin" "$2"
}

# ---- 1. IPv4 group -> unicast --------------------------------------------------
nd_start srv1 "$ND/ndserver" --path "$WORK/srv1.log" --listen-addr 127.0.0.1:0
srv1=$(nd_listen_addr srv1 udp)
nd_start proxy1 "$ND/ndproxy" --listen-addr 239.1.2.4:9941 --downstream-addr "$srv1"
nd_listen_addr proxy1 udp >/dev/null
send 239.1.2.4:9941
expect_file "239.1.2.4 -> $srv1" "$WORK/srv1.log"
nd_stop_ok proxy1 srv1

# ---- 2. unicast -> IPv4 group ----------------------------------------------------
nd_start srv2 "$ND/ndserver" --path "$WORK/srv2.log" --listen-addr 239.1.2.5:9942
nd_listen_addr srv2 udp >/dev/null
nd_start proxy2 "$ND/ndproxy" --listen-addr 127.0.0.1:0 --downstream-addr 239.1.2.5:9942
proxy2=$(nd_listen_addr proxy2 udp)
send "$proxy2"
expect_file "$proxy2 -> 239.1.2.5:9942" "$WORK/srv2.log"
nd_stop_ok proxy2 srv2

# ---- 3. IPv6 link-local group -> unicast ------------------------------------------
nd_start srv3 "$ND/ndserver" --path "$WORK/srv3.log" --listen-addr '[::1]:0'
srv3=$(nd_listen_addr srv3 udp)
nd_start proxy3 "$ND/ndproxy" --listen-addr '[ff02::1234%nd0]:9943' --downstream-addr "$srv3"
nd_listen_addr proxy3 udp >/dev/null
send '[ff02::1234%nd0]:9943'
expect_file "[ff02::1234%nd0]:9943 -> $srv3" "$WORK/srv3.log"
nd_stop_ok proxy3 srv3

# ---- 4. unicast -> IPv6 link-local group ------------------------------------------
nd_start srv4 "$ND/ndserver" --path "$WORK/srv4.log" --listen-addr '[ff02::1235%nd0]:9944'
nd_listen_addr srv4 udp >/dev/null
nd_start proxy4 "$ND/ndproxy" --listen-addr '[::1]:0' --downstream-addr '[ff02::1235%nd0]:9944'
proxy4=$(nd_listen_addr proxy4 udp)
send "$proxy4" --datagram-size 1000
expect_file "$proxy4 -> [ff02::1235%nd0]:9944" "$WORK/srv4.log"
nd_stop_ok proxy4 srv4

# ---- 5. --multicast-if by name and by address --------------------------------------
# 224.0.0.0/4 is routed via nd0, so only a proxy that honours --multicast-if
# joins and sends on nd1. The peers are independent (python): the sender puts
# datagrams on nd1 only; the receiver joins on nd1 only, takes nothing joined
# elsewhere (IP_MULTICAST_ALL off) and checks each datagram's interface.
cat >"$WORK/mcast_peer.py" <<'PY'
import socket, struct, sys, time

IP_PKTINFO, IP_MULTICAST_ALL, SO_RCVBUFFORCE = 8, 49, 33
mode, group, port, ifaddr, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "send":
    s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(ifaddr))
    data = open(path, "rb").read()
    for i in range(0, len(data), 8192):
        s.sendto(data[i:i + 8192], (group, port))
    sys.exit(0)
ifindex, expected, ready = int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
s.bind((group, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton(group) + socket.inet_aton(ifaddr))
s.setsockopt(socket.IPPROTO_IP, IP_MULTICAST_ALL, 0)
s.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
open(ready, "w").close()
got, deadline = 0, time.monotonic() + 10
with open(path, "wb") as out:
    while got < expected:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, ancillary, _, peer = s.recvmsg(65536, 256)
        except socket.timeout:
            sys.exit("received %d of %d bytes within 10 s" % (got, expected))
        for level, kind, value in ancillary:
            if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
                arrived = struct.unpack("@i4s4s", value[:12])[0]
                if arrived != ifindex:
                    sys.exit("datagram from %s arrived on ifindex %d, expected %d" % (peer, arrived, ifindex))
        out.write(data)
        got += len(data)
PY
nd1_index=$(ip -o link show nd1 | cut -d: -f1)

for multicast_if in nd1 10.77.0.2; do
  tag="if_${multicast_if//./_}"
  nd_start "${tag}_recv" python3 "$WORK/mcast_peer.py" recv 239.1.2.7 9951 10.77.0.2 "$WORK/$tag.out" \
    "$nd1_index" "$size" "$WORK/$tag.ready"
  wait_until 10 test -e "$WORK/$tag.ready" || fail "python receiver for $tag did not start"
  nd_start "${tag}_proxy" "$ND/ndproxy" --multicast-if "$multicast_if" \
    --listen-addr 239.1.2.8:9952 --downstream-addr 239.1.2.7:9951
  nd_listen_addr "${tag}_proxy" udp >/dev/null
  python3 "$WORK/mcast_peer.py" send 239.1.2.8 9952 10.77.0.2 "$WORK/in.bin" ||
    fail "python sender to 239.1.2.8:9952 via nd1 failed"
  status=0
  nd_wait "${tag}_recv" 15 || status=$?
  ((status == 0)) || fail "--multicast-if $multicast_if: receiver on nd1 failed: $(cat "$WORK/${tag}_recv.err")"
  assert_same_sha "$WORK/in.bin" "$WORK/$tag.out"
  nd_stop_ok "${tag}_proxy"
done

# ---- 6. broadcast downstream ------------------------------------------------------
nd_start bcast_any "$ND/ndserver" --path "$WORK/bcast_any.log" --listen-addr 0.0.0.0:9946
nd_start bcast_brd "$ND/ndserver" --path "$WORK/bcast_brd.log" --listen-addr 10.77.0.255:9947
nd_listen_addr bcast_any udp >/dev/null
nd_listen_addr bcast_brd udp >/dev/null
nd_start bcast_proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr 10.77.0.255:9946 --downstream-addr 10.77.0.255:9947
bcast_proxy=$(nd_listen_addr bcast_proxy udp)
send "$bcast_proxy"
expect_file "broadcast -> 0.0.0.0:9946" "$WORK/bcast_any.log"
expect_file "broadcast -> 10.77.0.255:9947" "$WORK/bcast_brd.log"
nd_stop_ok bcast_proxy bcast_any bcast_brd

# ---- 7. SEED.md command lines, unchanged ------------------------------------------
# They use fixed ports and relative paths: run them in $WORK, one scene at a time
# (the proxy and the server of SEED.md both bind 0.0.0.0:9921).
cd "$WORK"

# Client -> proxy (--tee): what the proxy copied to stdout is what it forwarded.
nd_start seed_down "$ND/ndserver" --path "$WORK/seed_down.log" --listen-addr '[::1]:9922'
nd_listen_addr seed_down udp >/dev/null
nd_start seed_proxy "$ND/ndproxy" --listen_addr '0.0.0.0:9921' --downstream_addr '[::1]:9922' --tee
nd_listen_addr seed_proxy udp >/dev/null
nd_start seed_client "$ND/ndclient" --path '/dev/random' --server_addr '127.0.0.1:9921'
wait_file_size "$WORK/seed_proxy.out" $((2 << 20)) || fail "seed client -> seed proxy: no data on --tee"
nd_stop_interrupted seed_client
nd_stop_ok seed_proxy
wait_until 10 eval '(($(stat -c %s seed_down.log) == $(stat -c %s seed_proxy.out)))' ||
  fail "seed proxy: forwarded $(stat -c %s seed_down.log) bytes, --tee copied $(stat -c %s seed_proxy.out)"
assert_same_sha "$WORK/seed_proxy.out" "$WORK/seed_down.log"
nd_stop_ok seed_down

# Client -> server: the server of SEED.md logs 0.0.0.0:9921 and [::]:9922 apart.
nd_start seed_server "$ND/ndserver" --path logfile.log --listen_addr '0.0.0.0:9921' --listen_addr '[::]:9922'
nd_listen_addr seed_server udp 2 >/dev/null
nd_start seed_client2 "$ND/ndclient" --path '/dev/random' --server_addr '127.0.0.1:9921'
wait_file_size "$WORK/logfile.0.0.0.0_9921.log" $((2 << 20)) || fail "seed client -> seed server: no data"
nd_stop_interrupted seed_client2
send '[::1]:9922'
expect_file "seed server [::]:9922" "$WORK/logfile.___9922.log"
nd_stop_ok seed_server

# Reverse-proxy: a TCP client subscribed through 224.0.0.1:9922 gets the stream.
nd_start seed_rproxy "$ND/ndreverse-proxy" --udp_listen_addr '0.0.0.0:9921' --tcp_listen_addr '0.0.0.0:9921' \
  --multicast_addr '224.0.0.1:9922'
nd_listen_addr seed_rproxy tcp >/dev/null
nd_start seed_tcp nc -d 127.0.0.1 9921
wait_log seed_rproxy 'tcp client [^ ]+ connected \(1 clients\)' || fail "seed reverse-proxy: nc did not connect"
send 127.0.0.1:9921
expect_file "seed reverse-proxy -> nc" "$WORK/seed_tcp.out"
nd_stop_ok seed_rproxy
