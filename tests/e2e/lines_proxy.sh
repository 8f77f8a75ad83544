#!/usr/bin/env bash
# ndproxy --lines=1 turns datagrams that cut lines anywhere (ndclient without
# --lines: 8192-byte chunks of a log) back into one whole line per datagram,
# waiting --flush-after (default 200 ms here) for the rest of a cut line.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v python3 >/dev/null || skip "no python3"

python3 - "$WORK/app.log" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(2000):
        f.write(f"line {i} " + "x" * (i * 37 % 500) + "\n")
PY
python3 - "$ND" "$WORK" <<'PY' || fail "the proxy did not send one whole line per datagram (see above)"
import re, socket, subprocess, sys, time
nd, work = sys.argv[1:3]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
rx.bind(("127.0.0.1", 0))
proxy = subprocess.Popen([f"{nd}/ndproxy", "--listen_addr", "127.0.0.1:0", "--lines=1", "--downstream_addr",
                          f"127.0.0.1:{rx.getsockname()[1]}"], stderr=open(f"{work}/proxy.err", "w"))
try:
    deadline = time.monotonic() + 10
    listen = None
    while listen is None and time.monotonic() < deadline:
        m = re.search(r"listening on udp (\S+)", open(f"{work}/proxy.err").read())
        listen = m.group(1) if m else None
        if listen is None: time.sleep(0.05)  # poll step
    if listen is None: sys.exit("the proxy did not listen")
    client = subprocess.run([f"{nd}/ndclient", "--path", f"{work}/app.log", "--rate", "50M", "--server_addr", listen],
                            stderr=open(f"{work}/client.err", "w"), timeout=60)
    if client.returncode != 0: sys.exit("ndclient failed")
    expected = open(f"{work}/app.log", "rb").read().splitlines(keepends=True)
    rx.settimeout(5)
    got = [rx.recv(65536) for _ in expected]
    if got != expected:
        bad = next(i for i, (a, b) in enumerate(zip(got, expected)) if a != b)
        sys.exit(f"datagram {bad}: {got[bad][:60]!r} expected {expected[bad][:60]!r}")
    # A line cut by a datagram boundary, its rest 30 ms later: joined (the
    # proxy's --flush-after is 200 ms with --lines; at 5 ms a loaded machine
    # split a line of the transfer above).
    host, port = listen.rsplit(":", 1)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tx.sendto(b"first half ", (host, int(port)))
    # For 30 ms the proxy must hold the half line: nothing may arrive.
    rx.settimeout(0.03)
    try:
        sys.exit(f"the proxy sent half a line on its own: {rx.recv(65536)!r}")
    except socket.timeout:
        pass
    rx.settimeout(5)
    tx.sendto(b"second half\n", (host, int(port)))
    joined = rx.recv(65536)
    if joined != b"first half second half\n": sys.exit(f"a line cut by a datagram arrived as {joined!r}")
finally:
    proxy.terminate()
    proxy.wait(timeout=10)
PY
echo "PASS"
