#!/usr/bin/env bash
# Behaviour: the proxy forwards datagrams unchanged, one for one: empty
# datagrams and the largest UDP payloads (65507 bytes over IPv4, 65527 over
# IPv6) arrive with their exact sizes and contents, in order.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# udp_peer.py recv ADDR PORTFILE COUNT REPORT | send HOST PORT SIZES... > REPORT
cat >"$WORK/udp_peer.py" <<'PY'
import hashlib, os, socket, sys

def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET

def line(data):
    return "%d %s\n" % (len(data), hashlib.sha256(data).hexdigest())

if sys.argv[1] == "recv":
    host, port_file, count, report = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((host, 0))
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    s.settimeout(10)  # deadline for each datagram
    with open(report, "w") as out:
        for _ in range(count):
            out.write(line(s.recv(65536)))
            out.flush()
else:
    host, port, sizes = sys.argv[2], int(sys.argv[3]), [int(n) for n in sys.argv[4:]]
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    for size in sizes:
        data = os.urandom(size)
        s.sendto(data, (host, port))
        sys.stdout.write(line(data))
PY

have_ipv6() {
  python3 -c 'import socket; socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))' 2>/dev/null
}

# check TAG HOST MAX: datagrams through a proxy on HOST, the largest MAX bytes.
check() {
  local tag=$1 host=$2 max=$3
  local sizes=(0 1 "$max" 0 1472 "$max" 8192 65536 0 "$max" 7 0)
  # 65536 cannot be sent over UDP at all; drop it from what we expect to see.
  local sendable=()
  for size in "${sizes[@]}"; do ((size <= max)) && sendable+=("$size"); done

  nd_start "recv$tag" python3 "$WORK/udp_peer.py" recv "$host" "$WORK/recv$tag.port" "${#sendable[@]}" "$WORK/recv$tag.report"
  wait_until 10 test -s "$WORK/recv$tag.port" || fail "python receiver on $host did not start"
  local port bracket=$host
  port=$(<"$WORK/recv$tag.port")
  [[ $host == *:* ]] && bracket="[$host]"

  nd_start "proxy$tag" "$ND/ndproxy" --listen-addr "$bracket:0" --downstream-addr "$bracket:$port"
  local proxy
  proxy=$(nd_listen_addr "proxy$tag" udp)

  python3 "$WORK/udp_peer.py" send "$host" "$(nd_port "$proxy")" "${sendable[@]}" >"$WORK/sent$tag.report" ||
    fail "python sender to $proxy failed"
  local status=0
  nd_wait "recv$tag" 15 || status=$?
  ((status == 0)) || fail "$tag: the receiver did not get ${#sendable[@]} datagrams (exit $status): got $(wc -l <"$WORK/recv$tag.report" 2>/dev/null || echo 0)"
  if ! cmp -s "$WORK/sent$tag.report" "$WORK/recv$tag.report"; then
    diff "$WORK/sent$tag.report" "$WORK/recv$tag.report" >&2 || true
    fail "$tag: datagrams (size sha256) received differ from those sent"
  fi
  nd_stop_ok "proxy$tag"
  grep -Eq "received ${#sendable[@]} datagrams" "$WORK/proxy$tag.err" ||
    fail "$tag: the proxy summary does not count ${#sendable[@]} datagrams received"
}

check 4 127.0.0.1 65507
if have_ipv6; then
  check 6 ::1 65527
else
  echo "note: no IPv6 loopback, IPv6 part not run" >&2
fi
