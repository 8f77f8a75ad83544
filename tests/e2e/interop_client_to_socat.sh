#!/usr/bin/env bash
# ndclient sends to a receiver nobody here wrote, socat (UDP-RECV into a file),
# over IPv4 and IPv6: the file equals the input. socat takes one datagram per
# syscall, so the client is paced with --rate.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"

# start_socat NAME FAMILY HOST FILE: starts socat on a free random high port
# (socat cannot bind port 0 and tell us the port) and sets PORT.
start_socat() {
  local name=$1 family=$2 host=$3 file=$4 try
  for try in 1 2 3 4 5 6 7 8; do
    PORT=$((20000 + RANDOM % 40000))
    ss -Hlun "sport = :$PORT" | grep -q . && continue
    rm -f "$WORK/$name.pid" "$WORK/$name.rc"
    # -b: one datagram must fit in socat's buffer or it is cut.
    nd_start "$name" socat -u -b 65536 "UDP$family-RECV:$PORT,bind=$host,rcvbuf=16777216" "CREATE:$file"
    if wait_until 5 eval 'ss -Hlun "sport = :$PORT" | grep -q . || ! nd_running "$name"' &&
      nd_running "$name"; then
      return 0
    fi
    nd_stop "$name" KILL >/dev/null 2>&1 || true
    echo "socat could not use port $PORT: $(cat "$WORK/$name.err")" >&2
    mv "$WORK/$name.err" "$WORK/$name.err.$try"
  done
  fail "no free port for socat after 8 tries"
}

size=$((2 * 1024 * 1024 + 17))
nd_random_file "$WORK/in.bin" "$size"
for family in 4 6; do
  if [[ $family == 4 ]]; then host=127.0.0.1 addr_host=127.0.0.1; else host='[::1]' addr_host='[::1]'; fi
  start_socat "socat$family" "$family" "$host" "$WORK/out$family.bin"
  nd_start "cli$family" "$ND/ndclient" --path "$WORK/in.bin" --server_addr "$addr_host:$PORT" --rate 200M
  nd_expect_exit "cli$family" 0
  wait_file_size "$WORK/out$family.bin" "$size" || true
  nd_stop "socat$family" TERM >/dev/null 2>&1 || true
  assert_same_sha "$WORK/in.bin" "$WORK/out$family.bin"
done
