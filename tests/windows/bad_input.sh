#!/usr/bin/env bash
# Windows under Wine: bad command lines exit 2 and bad runtime input exit 1,
# each with one line on stderr naming what is wrong; what Windows lacks is
# refused with a line naming the system.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
nd_setup

# expect CODE REGEX CMD...: CMD exits CODE and its stderr matches REGEX.
expect() {
  local code=$1 regex=$2 status=0
  shift 2
  "$@" >"$WORK/out" 2>"$WORK/err" </dev/null || status=$?
  [[ $status -eq $code ]] || fail "$* exited $status, expected $code: $(cat "$WORK/err")"
  grep -Eq -- "$regex" "$WORK/err" || fail "$*: stderr does not match /$regex/: $(cat "$WORK/err")"
}

expect 2 "unknown mode 'nosuch'" "$ND/netdisp" nosuch
expect 2 "unknown option" "$ND/ndserver" --nosuch
expect 2 "server-addr|required" "$ND/ndclient" --path "$WORK/none"
expect 2 "port" "$ND/ndserver" --path "$WORK/x.log" --listen-addr 127.0.0.1:99999
expect 2 "not in this build" "$ND/ndclient" --path "$WORK/none" --server-addr srt://127.0.0.1:9000
expect 1 "open --path .*none" "$ND/ndclient" --path "$WORK/none" --server-addr 127.0.0.1:9
expect 1 "Is a directory" "$ND/ndclient" --path "$WORK" --server-addr 127.0.0.1:9
expect 1 "metrics.*not in the Windows build" "$ND/ndserver" --path "$WORK/x.log" --listen-addr 127.0.0.1:0 \
  --metrics-addr 127.0.0.1:0
# The multi-call names: ndserver.exe is server mode; --version names the platform.
"$ND/ndserver" --version >"$WORK/version" || fail "ndserver --version exited $?"
grep -q '^platform: windows' "$WORK/version" || fail "--version does not say windows: $(cat "$WORK/version")"
