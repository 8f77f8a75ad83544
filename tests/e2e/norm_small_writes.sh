#!/usr/bin/env bash
# Behaviour: ndclient --expect 1 sends a pipe fed 1-200 bytes at a time
# (--flush-after 0: each read is a datagram, each batch flushed, so each
# takes a NORM segment of its own) over norm:// with a small stream buffer
# (buffer=1M) to one ndserver losing 5.0 % of the packets, and 5.0 % of the
# feedback lost too. The server's file has the input's sha256 and no break,
# and the client exits 0. Flow control counted the window in bytes: 3/4 of
# 1 MiB, while the library holds 1,408 segments of 1-200 bytes; the client
# wrote over data not yet acknowledged, the library dropped it, and the
# client still said the receiver had the whole stream (2 of 2 runs: 22-54
# breaks, 2-4 % of the bytes missing). Runs on lib/lossy.sh's private rig.
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_lossy_rig 1

port=9942
group="239.1.2.7:$port"
size=$((1 << 20))
nd_random_file "$WORK/in.bin" "$size"
nd_lossy_drop r1 50 "$port"
nd_lossy_drop sender 50 udp
nd_start srv1 ip netns exec r1 "$ND/ndserver" --path "$WORK/out.bin" --listen_addr "norm://$group"
wait_log srv1 "listening on norm://" || fail "srv1 did not start"

# The feeder writes a piece of 1-200 bytes, then waits until the client has
# read it (the pipe is empty, FIONREAD) before the next: the client reads the
# pieces one at a time, whatever the host's load.
feed() {
  python3 -c '
import fcntl, os, random, struct, sys, termios, time
data = open(sys.argv[1], "rb").read()
rng, i = random.Random(12), 0
deadline = time.monotonic() + 60
def queued():
    return struct.unpack("i", fcntl.ioctl(1, termios.FIONREAD, b"\0" * 4))[0]
while i < len(data):
    n = rng.randint(1, 200)
    os.write(1, data[i:i + n])
    i += n
    while queued() > 0:
        if time.monotonic() > deadline:
            sys.exit("the client stopped reading its input")
        time.sleep(20e-6)  # poll step until the deadline
' "$WORK/in.bin"
}
feed | "$ND/ndclient" --path - --server_addr "norm://$group?rate=100M&buffer=1M" --flush-after 0 --expect 1 \
  --expect-timeout 60 2>"$WORK/client.err" || fail "ndclient --expect 1 exited $?: $(cat "$WORK/client.err")"
grep -Eq "read $size bytes into [0-9]+ datagrams \(([0-9]+) sent short" "$WORK/client.err" ||
  fail "the client's input was not read in short pieces: $(grep 'file -' "$WORK/client.err")"
wait_file_size "$WORK/out.bin" "$size" 10 || fail "srv1 did not write every byte"
nd_stop_ok srv1
((${dropped:=$(nd_lossy_dropped r1)} > 0)) || fail "r1's loss rule dropped nothing: the test did not test repairs"
grep -q " 0 breaks NORM could not repair" "$WORK/srv1.err" ||
  fail "the server had breaks: $(grep -E 'received|break' "$WORK/srv1.err" | tail -n 2)"
assert_same_sha "$WORK/in.bin" "$WORK/out.bin"
