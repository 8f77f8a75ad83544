#!/usr/bin/env bash
# When stderr is a file or a pipe, ndclient shows no progress (no "\r", no
# escape codes) unless asked with --progress: then each update is a whole
# line of its own on stderr, while stdout (--tee) carries the file's bytes
# only. --progress with --no-progress is a usage error. (-q and --no-progress
# on a terminal: client_progress_terminal.sh.)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# 4 MiB at 20 Mbit/s: about 1.7 s, past the first once-a-second update.
size=$((4 * 1024 * 1024))
nd_random_file "$WORK/in.bin" "$size"
nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen-addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
client=("$ND/ndclient" --path "$WORK/in.bin" --server-addr "$addr" --rate 20M)

# no_progress FILE: FILE has no progress text and no terminal control characters.
no_progress() {
  if grep -Eq -- '/s\]|ETA|of 4\.00MiB' "$1" || grep -q $'\r\|\x1b' "$1"; then
    fail "progress output in $1: $(cat -A "$1" | head -n 5)"
  fi
}

# Side by side: stderr to a file, stderr to a pipe, and --progress --tee
# into sha256sum with stderr to a file.
"${client[@]}" 2>"$WORK/file.err" &
file_pid=$!
{ "${client[@]}" 2>&1 >/dev/null | cat >"$WORK/pipe.err"; } &
pipe_pid=$!
"${client[@]}" --progress --tee 2>"$WORK/forced.err" | sha256sum | cut -d' ' -f1 >"$WORK/forced.sha"
wait "$file_pid" || fail "ndclient with stderr to a file exited $?"
wait "$pipe_pid" || fail "ndclient with stderr to a pipe exited $?"

no_progress "$WORK/file.err"
no_progress "$WORK/pipe.err"
assert_eq "$(nd_sha "$WORK/in.bin")" "$(cat "$WORK/forced.sha")" "--tee output with --progress"
if grep -q $'\r\|\x1b' "$WORK/forced.err"; then fail "control characters in --progress lines: $(cat -A "$WORK/forced.err")"; fi
line='^[0-9. ]{4}( B|[KMG]iB) of 4\.00MiB [0-9]+:[0-9]{2}:[0-9]{2} \[[0-9. ]{4}( B|[KMG]iB)/s\] \[[0-9. ]{4}( B|[KMG]iB)/s\] +[0-9]+%'
grep -Eq -- "$line" "$WORK/forced.err" || fail "no progress line in --progress output: $(cat "$WORK/forced.err")"
grep -q 'ndclient info: summary:' "$WORK/forced.err" || fail "no summary after the progress lines"

rc=0
"${client[@]}" --progress --no-progress 2>"$WORK/both.err" || rc=$?
assert_eq 2 "$rc" "exit status of --progress --no-progress"
grep -q 'contradict' "$WORK/both.err" || fail "no reason given: $(cat "$WORK/both.err")"

wait_file_size "$WORK/out.log" $((3 * size)) || fail "the server did not receive all three copies"
nd_stop_ok srv
