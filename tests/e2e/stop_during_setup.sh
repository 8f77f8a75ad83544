#!/usr/bin/env bash
# Waits at start-up end promptly on a signal: a client opening a fifo that no
# writer has opened yet, and a client or server whose name lookup hangs (a
# name server that never answers), stop within a second of SIGINT/SIGTERM,
# with one line naming the signal: the client exits 128 + the signal number,
# the server 0 as on any SIGTERM. Runs in a private network and mount
# namespace, where /etc/resolv.conf points at a silent local "name server".
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
ND_NETNS_MOUNT=1 nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

# expect_prompt_stop NAME SIGNAL CODE: NAME ends within 1 s of SIGNAL with CODE
# and one line saying so.
expect_prompt_stop() {
  local name=$1 sig=$2 code=$3 rc=0
  kill -"$sig" "$(nd_pid "$name")"
  nd_wait "$name" 1 || rc=$?
  [[ $rc -ne 124 ]] || fail "$name still running 1 s after SIG$sig"
  assert_eq "$code" "$rc" "exit status of $name after SIG$sig"
  grep -q "SIG$sig during start-up: stopping" "$WORK/$name.err" || fail "$name did not say why it stopped"
}

# 1. A fifo without a writer: open() waits until one comes.
mkfifo "$WORK/ff"
nd_start fifo_int "$ND/ndclient" --path "$WORK/ff" --server_addr 127.0.0.1:9
wait_log fifo_int "fifo; waiting for a writer" || fail "the client does not say it waits for the fifo's writer"
expect_prompt_stop fifo_int INT 130
nd_start fifo_term "$ND/ndclient" --path "$WORK/ff" --server_addr 127.0.0.1:9
wait_log fifo_term "fifo; waiting for a writer" || fail "the client does not say it waits for the fifo's writer"
expect_prompt_stop fifo_term TERM 143

# 2. A name lookup that hangs: the only name server is a socket that reads and never answers.
# Bind-mounting /etc files needs a private mount namespace (none in a chroot).
if [[ ${ND_NETNS_PRIVATE_MOUNTS:-0} != 1 ]]; then
  echo "note: no private mount namespace here (a chroot?): the hanging name lookup part is skipped" >&2
  exit 0
fi
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' >"$WORK/resolv.conf"
printf 'hosts: dns\n' >"$WORK/nsswitch.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf || skip "cannot bind-mount /etc/resolv.conf here"
mount --bind "$WORK/nsswitch.conf" /etc/nsswitch.conf || skip "cannot bind-mount /etc/nsswitch.conf here"
nd_start dns socat -u UDP-RECV:53,bind=127.0.0.1 "OPEN:$WORK/queries.bin,creat,append"
wait_until 5 eval 'ss -uln | grep -q "127.0.0.1:53 "' || fail "the silent name server did not start"

: >"$WORK/queries.bin"
nd_start lookup_client "$ND/ndclient" --path /dev/null --server_addr slow.example:9
wait_file_size "$WORK/queries.bin" 1 || fail "the client sent no DNS query"
expect_prompt_stop lookup_client INT 130

: >"$WORK/queries.bin"
nd_start lookup_server "$ND/ndserver" --path "$WORK/s.log" --listen_addr slow.example:9
wait_file_size "$WORK/queries.bin" 1 || fail "the server sent no DNS query"
expect_prompt_stop lookup_server TERM 0
