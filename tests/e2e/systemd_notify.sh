#!/usr/bin/env bash
# sd_notify for Type=notify units: with NOTIFY_SOCKET set (as systemd sets
# it), ndserver sends READY=1 once, only when every listen socket is bound
# and its log file open (both "listening" lines logged; a datagram sent at
# once lands in the file), and STOPPING=1 when SIGTERM begins the stop.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

if grep -qs '^#define NETDISP_SYSTEMD 0' "$ND/netdisp_systemd.h"; then
  skip "built without libsystemd (-Dsystemd=disabled or not found): no sd_notify"
fi

# systemd's end of it: a unixgram socket. Each notification becomes one line,
# with the number of "listening" lines ndserver had logged when it arrived.
nd_start notify python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "ab", buffering=0) as log:
    while True:
        state = s.recv(4096).replace(b"\n", b" ")
        try:
            listening = open(sys.argv[3], "rb").read().count(b"listening on udp")
        except OSError:
            listening = 0
        log.write(b"%s listening=%d\n" % (state, listening))
' "$WORK/notify.sock" "$WORK/notify.log" "$WORK/srv.err"
wait_until 10 test -S "$WORK/notify.sock" || fail "the notify socket was not made"
: >"$WORK/notify.log"

NOTIFY_SOCKET="$WORK/notify.sock" nd_start srv "$ND/ndserver" --path "$WORK/out.log" \
  --listen-addr 127.0.0.1:0 --listen-addr '[::1]:0'
wait_until 10 grep -q READY=1 "$WORK/notify.log" || fail "no READY=1 within 10 s: $(cat "$WORK/notify.log")"
assert_eq "READY=1 listening=2" "$(cat "$WORK/notify.log")" "notifications when setup is over"

# Both sockets take data from now on, into their files.
for n in 1 2; do
  addr=$(nd_listen_addr srv udp "$n")
  echo "hello $n" | socat -u - "UDP-SENDTO:$addr"
done
for file in "$WORK"/out.*.log; do
  wait_until 10 grep -q hello "$file" || fail "$file did not get its datagram"
done
grep -q STOPPING "$WORK/notify.log" && fail "STOPPING=1 before any stop"

nd_stop_ok srv
wait_until 5 grep -q STOPPING=1 "$WORK/notify.log" || fail "no STOPPING=1 after SIGTERM: $(cat "$WORK/notify.log")"
assert_eq "READY=1 listening=2 STOPPING=1 listening=2" "$(paste -sd' ' "$WORK/notify.log")" "notifications in order"
