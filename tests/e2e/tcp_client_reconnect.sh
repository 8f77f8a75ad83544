#!/usr/bin/env bash
# ndclient streams a file to a TCP receiver nobody here wrote (socat
# TCP-LISTEN into a file). The receiver is killed mid-stream and restarted on
# the same port: the client reconnects once and resumes. What arrived is
# checked against what the client reports: the first file is a prefix of the
# input, the second its suffix (resumed in order, nothing twice), and the bytes
# missing between them are reported against the "bytes possibly lost at
# breaks" the client counted (the kernel's unacknowledged bytes at the break),
# and the client exits 1 whenever bytes are missing.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup
command -v socat >/dev/null || skip "socat is not installed"
status=0
timeout 10 "$ND/ndclient" --server_addr tcp://127.0.0.1:9 --path /dev/null >/dev/null 2>&1 || status=$?
((status != 2)) || skip "tcp:// not wired yet"

size=$((16 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
nd_start_on_free_port recv1 tcp socat -u "TCP-LISTEN:{PORT},bind=127.0.0.1,reuseaddr" "CREATE:$WORK/out1.bin"
# Paced (about 5 MB/s), so the stream is still running when the receiver dies.
nd_start cli "$ND/ndclient" --path "$WORK/in.bin" --server_addr "tcp://127.0.0.1:$PORT" --rate 40M
wait_file_size "$WORK/out1.bin" $((2 * 1024 * 1024)) || fail "the first receiver got too little"
nd_stop recv1 KILL >/dev/null 2>&1 || true
wait_log cli "connection lost" || fail "the client did not notice the break"
nd_start recv2 socat -u "TCP-LISTEN:$PORT,bind=127.0.0.1,reuseaddr" "CREATE:$WORK/out2.bin"
wait_log cli "reconnected" 20 || fail "the client did not reconnect"
status=0
nd_wait cli 60 || status=$?
wait_until 10 eval '! nd_running recv2' || nd_stop recv2 TERM >/dev/null 2>&1 || true

counters="-> tcp://127\.0\.0\.1:$PORT: sent [0-9]+ bytes; [0-9]+ reconnects; [0-9]+ bytes possibly lost at breaks"
line=$(grep -Eo -- "$counters" "$WORK/cli.err" | tail -n 1) ||
  fail "no counters line for the destination in cli.err: $(cat "$WORK/cli.err")"
read -r sent reconnects lost < <(sed -E 's/.*sent ([0-9]+) bytes; ([0-9]+) reconnects; ([0-9]+) bytes.*/\1 \2 \3/' \
  <<<"$line")
got1=$(nd_size "$WORK/out1.bin")
got2=$(nd_size "$WORK/out2.bin")
missing=$((size - got1 - got2))
echo "sent $sent, reconnects $reconnects, possibly lost $lost; received $got1 + $got2, missing $missing" \
  "(unseen by the sender: $((missing - lost))); client exit $status"

assert_eq 1 "$reconnects" "reconnects"
assert_eq "$size" "$sent" "bytes the client handed to the kernel"
cmp -s -n "$got1" "$WORK/in.bin" "$WORK/out1.bin" || fail "the first receiver's file is not a prefix of the input"
cmp -s "$WORK/out2.bin" <(tail -c "$got2" "$WORK/in.bin") || fail "the second receiver's file is not the input's suffix"
# Neither figure bounds the other: the kernel's unacknowledged bytes at the
# break include bytes the peer had received but not yet acknowledged (a
# delayed ACK: seen here, 73728 counted with 65536 missing), and socat may
# have received bytes it never wrote. What must hold: a loss is never hidden.
((missing == 0 || lost > 0)) || fail "$missing bytes are missing, but the client counted none possibly lost"
# Exit 0 only when everything was acknowledged; a loss it counted means exit 1.
if ((lost > 0)); then assert_eq 1 "$status" "client exit status after a lossy break"; fi
