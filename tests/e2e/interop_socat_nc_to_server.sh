#!/usr/bin/env bash
# Plain UDP senders that nobody here wrote, socat and nc (netcat-openbsd), send
# to ndserver over IPv4 and IPv6: the log holds exactly the bytes they sent.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"
command -v nc >/dev/null || skip "nc is not installed"

nd_start srv4 "$ND/ndserver" --path "$WORK/out4.log" --listen_addr 127.0.0.1:0
nd_start srv6 "$ND/ndserver" --path "$WORK/out6.log" --listen_addr '[::1]:0'
port4=$(nd_port "$(nd_listen_addr srv4 udp)")
port6=$(nd_port "$(nd_listen_addr srv6 udp)")
: >"$WORK/expected4"
: >"$WORK/expected6"

# send NAME FAMILY SIZE CMD...: runs a sender with the file on stdin, waits for
# the bytes in the matching log and compares everything sent so far.
send() {
  local name=$1 family=$2 size=$3
  shift 3
  nd_random_file "$WORK/$name.bin" "$size"
  nd_start "$name" "$@" <"$WORK/$name.bin"
  nd_expect_exit "$name" 0
  cat "$WORK/$name.bin" >>"$WORK/expected$family"
  wait_file_size "$WORK/out$family.log" "$(stat -c %s "$WORK/expected$family")" || true
  assert_same_sha "$WORK/expected$family" "$WORK/out$family.log"
}

# socat sends one datagram per 8192-byte block it reads.
send socat4 4 $((1024 * 1024 + 11)) socat -u STDIN "UDP4-SENDTO:127.0.0.1:$port4"
send socat6 6 $((1024 * 1024 + 13)) socat -u STDIN "UDP6-SENDTO:[::1]:$port6"
# socat reading the file itself (FILE address) rather than stdin.
nd_random_file "$WORK/file.bin" 200000
nd_start socatfile socat -u "OPEN:$WORK/file.bin,rdonly" "UDP-SENDTO:127.0.0.1:$port4"
nd_expect_exit socatfile 0
cat "$WORK/file.bin" >>"$WORK/expected4"
wait_file_size "$WORK/out4.log" "$(stat -c %s "$WORK/expected4")" || true
assert_same_sha "$WORK/expected4" "$WORK/out4.log"

# nc -u: -q0 ends it at EOF of stdin, -w1 bounds it anyway.
send nc4 4 100000 nc -u -w1 -q0 127.0.0.1 "$port4"
send nc6 6 100003 nc -u -w1 -q0 ::1 "$port6"
# Small line data, the field-receiver case.
printf '$GPGGA,123519,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47\r\n' >"$WORK/line"
nd_start ncline nc -u -w1 -q0 127.0.0.1 "$port4" <"$WORK/line"
nd_expect_exit ncline 0
cat "$WORK/line" >>"$WORK/expected4"
wait_file_size "$WORK/out4.log" "$(stat -c %s "$WORK/expected4")" || true
assert_same_sha "$WORK/expected4" "$WORK/out4.log"

nd_stop srv4 || fail "server 4 exited $? on SIGTERM"
nd_stop srv6 || fail "server 6 exited $? on SIGTERM"
grep -qF "$(nd_kernel_drops 0)" "$WORK/srv4.err" || fail "server 4 reports kernel drops"
