#!/usr/bin/env bash
# Behaviour: 200 SRT callers (ndclients, 50 at a time) connecting to one
# ndserver srt:// listener, each sending a little and leaving, leave nothing
# behind: the server's open fds and threads (its own and libsrt's) return to
# where they were after the first caller, every byte of every caller is in
# the log, and a stop with a caller still connected takes under a second.
# Callers that close the moment their bytes are acknowledged (libsrt driven
# from python, no linger) lose nothing either: SRT holds acknowledged packets
# until their delivery time, and the listener reads them after the close.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

callers=200
printf '%01000d' 0 >"$WORK/in.bin"
nd_start srv "$ND/ndserver" --path "$WORK/out.bin" --listen-addr "srt://127.0.0.1:0"
server=$(nd_listen_addr srv srt)
pid=$(nd_pid srv)
fds() {
  local n
  n=$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l)
  # Under ThreadSanitizer its symbolizer's two pipes are not the server's (nd_tsan).
  if nd_tsan && pgrep -P "$pid" -f llvm-symbolizer >/dev/null; then n=$((n - 2)); fi
  echo "$n"
}
threads() { awk '/^Threads:/ {print $2}' "/proc/$pid/status"; }
send() { "$ND/ndclient" --path "$WORK/in.bin" --server-addr "srt://$server" --linger 0 2>"$WORK/client$1.err"; }

# The first caller starts whatever the library starts once; count from there.
send 0 || fail "the first caller failed: $(cat "$WORK/client0.err")"
wait_file_size "$WORK/out.bin" 1000 || fail "the first caller's bytes did not arrive"
abrupt=5
python3 "$(dirname "$0")/lib/srt_close_at_ack.py" 127.0.0.1 "${server##*:}" "$WORK/in.bin" "$abrupt" ||
  fail "the callers closing at acknowledgement failed"
wait_file_size "$WORK/out.bin" $(((abrupt + 1) * 1000)) ||
  fail "callers that closed when acknowledged: $(($(nd_size "$WORK/out.bin") / 1000 - 1)) of $abrupt reached the log"
fds0=$(fds)
threads0=$(threads)
for ((first = 1; first <= callers; first += 50)); do
  pids=()
  for ((i = first; i < first + 50 && i <= callers; i++)); do
    send "$i" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    wait "$p" || fail "a caller failed: $(cat "$WORK"/client*.err | grep -v info | head -3)"
  done
done
wait_file_size "$WORK/out.bin" $(((callers + abrupt + 1) * 1000)) || fail "not every caller's bytes arrived"
ended() { (($(grep -c "srt caller [^ ]* ended" "$WORK/srv.err") == callers + abrupt + 1)); }
wait_until 10 ended ||
  fail "$(grep -c "srt caller [^ ]* ended" "$WORK/srv.err") of $((callers + abrupt + 1)) callers logged as gone"
back_down() { (($(fds) <= fds0 && $(threads) <= threads0)); }
wait_until 10 back_down ||
  fail "after $callers callers came and went: $(fds) fds (was $fds0), $(threads) threads (was $threads0)"

# A stop with a caller connected (a live stream that never ends) is quick.
nd_start live "$ND/ndclient" --path /dev/zero --datagram-size 1316 --rate 2M --server-addr "srt://$server"
wait_until 10 eval '(($(grep -c "srt caller [^ ]* connected" "$WORK/srv.err") == callers + abrupt + 2))' ||
  fail "the last caller did not connect"
start=$(date +%s%N)
nd_stop_ok srv
ms=$((($(date +%s%N) - start) / 1000000))
nd_check_stop_ms "$ms" "the server (a caller connected)"
nd_stop live || true
echo "$callers callers came and went (fds $fds0, threads $threads0 before and after); stopped in $ms ms"
