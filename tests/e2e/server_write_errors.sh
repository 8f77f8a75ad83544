#!/usr/bin/env bash
# A log file that cannot be written (--path /dev/full): the server keeps
# receiving, logs one error line naming the path and "No space left on device"
# for the whole episode (not one per datagram or batch), and its summary counts
# the bytes lost. With --exit-on-write-error it exits 1 instead.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
[[ -w /dev/full ]] || skip "/dev/full is not writable here"

nd_start srv "$ND/ndserver" --path /dev/full --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
# One burst, then 10 small clients one after the other: 10 more batches.
nd_random_file "$WORK/burst.bin" 100000
nd_random_file "$WORK/small.bin" 1000
nd_start burst "$ND/ndclient" --path "$WORK/burst.bin" --server_addr "$addr"
nd_expect_exit burst 0
for i in 1 2 3 4 5 6 7 8 9 10; do
  nd_start "small$i" "$ND/ndclient" --path "$WORK/small.bin" --server_addr "$addr"
  nd_expect_exit "small$i" 0
done
total=110000
wait_until 10 eval "kill -USR1 $(nd_pid srv); grep -q 'received [0-9]* datagrams, $total bytes' '$WORK/srv.err'" ||
  fail "the server did not receive all $total bytes while its file failed"
nd_running srv || fail "the server stopped on a write error without --exit-on-write-error"

errors=$(grep -c "error: .*/dev/full.*No space left on device" "$WORK/srv.err" || true)
assert_eq 1 "$errors" "error lines for one failure episode"
# Nothing else per batch: besides the start-up line, the error, the counters and
# the summary, at most a couple of lines may mention the file.
noise=$(grep -v -e "counters" -e "summary" -e "-> file /dev/full: wrote" -e "udp $addr -> file /dev/full" \
  -e "No space left on device" "$WORK/srv.err" | grep -c "/dev/full" || true)
((noise <= 2)) || fail "$noise more log lines about /dev/full for one failure episode (one per batch?): $(
  grep "/dev/full" "$WORK/srv.err" | grep -v -e counters -e "wrote" | sed -n 2,4p)"

rc=0
nd_stop srv || rc=$?
assert_eq 0 "$rc" "exit status on SIGTERM after write errors"
sed -n '/summary:/,$p' "$WORK/srv.err" | grep -Eq -- "-> file /dev/full: wrote 0 bytes, 0 datagrams; $total bytes lost to [1-9][0-9]* write errors" ||
  fail "summary does not count $total bytes lost"

# --exit-on-write-error: exit 1 at the first failed write, naming path and cause.
nd_start strict "$ND/ndserver" --path /dev/full --listen_addr 127.0.0.1:0 --exit-on-write-error
addr=$(nd_listen_addr strict udp)
# The server may exit while the burst is still on its way: port unreachable
# reports are then the client's business, not what this checks.
nd_start burst2 "$ND/ndclient" --path "$WORK/burst.bin" --server_addr "$addr" --ignore-send-errors
nd_expect_exit burst2 0
nd_expect_exit strict 1 5
grep -q "/dev/full.*No space left on device" "$WORK/strict.err" || fail "no error naming /dev/full and its cause"
grep -q "summary:" "$WORK/strict.err" || fail "no summary before exiting on a write error"
