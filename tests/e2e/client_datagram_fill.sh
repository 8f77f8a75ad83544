#!/usr/bin/env bash
# ndclient --path - fills every datagram to --datagram-size from a pipe whose
# writer writes odd-sized pieces (1000-byte pieces of an MPEG-TS-like stream
# into 1316-byte datagrams): every datagram is 1316 bytes, the stream
# arrives whole. And it stays live: a slow writer's lines each arrive
# within a second (the default --flush-after 5 ms sends a partial datagram
# once the writer pauses).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v python3 >/dev/null || skip "no python3"

nd_random_file "$WORK/ts.bin" $((1316 * 300))

# 1. Alignment. --flush-after 200: a pause of the writer (a busy machine)
#    must not be taken for the end of a burst here.
python3 - "$ND/ndclient" "$WORK/ts.bin" "$WORK/fill.err" <<'PY' || fail "datagram fill: see above"
import socket, subprocess, sys, time
client, path, err = sys.argv[1:4]
data = open(path, "rb").read()
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
rx.bind(("127.0.0.1", 0))
port = rx.getsockname()[1]
proc = subprocess.Popen([client, "--path", "-", "--datagram-size", "1316", "--flush-after", "200",
                         "--server_addr", f"127.0.0.1:{port}"], stdin=subprocess.PIPE, stderr=open(err, "w"))
for offset in range(0, len(data), 1000):
    proc.stdin.write(data[offset:offset + 1000])
    proc.stdin.flush()
proc.stdin.close()
got, sizes = b"", []
rx.settimeout(10)
deadline = time.monotonic() + 20
while len(got) < len(data) and time.monotonic() < deadline:
    datagram = rx.recv(65536)
    sizes.append(len(datagram))
    got += datagram
status = proc.wait(timeout=10)
bad = [s for s in sizes if s != 1316]
print(f"{len(sizes)} datagrams, sizes other than 1316: {bad[:10]}", file=sys.stderr)
if status != 0: sys.exit(f"ndclient exited {status}")
if bad: sys.exit("a datagram was not 1316 bytes")
if got != data: sys.exit("the stream did not arrive whole and in order")
PY

# 2. Liveness with the default --flush-after: each line of a slow writer
#    (the next is written only once the last arrived) arrives within 1 s.
python3 - "$ND/ndclient" "$WORK/live.err" <<'PY' || fail "liveness: see above"
import socket, subprocess, sys, time
client, err = sys.argv[1:3]
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
port = rx.getsockname()[1]
proc = subprocess.Popen([client, "--path", "-", "--datagram-size", "1316", "--server_addr", f"127.0.0.1:{port}"],
                        stdin=subprocess.PIPE, stderr=open(err, "w"))
rx.settimeout(1.0)
for i in range(5):
    line = f"line {i} from a slow writer\n".encode()
    start = time.monotonic()
    proc.stdin.write(line)
    proc.stdin.flush()
    try:
        datagram = rx.recv(65536)
    except socket.timeout:
        sys.exit(f"line {i} did not arrive within 1 s")
    if datagram != line: sys.exit(f"line {i}: got {datagram!r}")
    print(f"line {i}: {1000 * (time.monotonic() - start):.1f} ms", file=sys.stderr)
proc.stdin.close()
if proc.wait(timeout=10) != 0: sys.exit("ndclient did not exit 0")
PY
echo "PASS"
