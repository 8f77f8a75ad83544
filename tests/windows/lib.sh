# shellcheck shell=bash
# The e2e helpers (tests/e2e/lib/common.sh) for the Windows build, run under
# Wine. ND_BUILD is the MinGW build directory (netdisp.exe, ndclient.exe ...);
# $ND becomes a directory of small wrappers named as on Linux (netdisp,
# ndclient ...) that run the .exe under Wine, so the e2e helpers work as they
# are. Differences from Linux, each test says where it meets one:
# - stop with SIGINT (Wine turns it into the console's Ctrl-C); SIGTERM ends
#   a Wine process without letting it run its shutdown;
# - no SIGHUP/SIGUSR1, no GSO/GRO, no kernel drop counter;
# - Wine receives UDP slowly (5-20k datagrams/s): senders are paced (--rate).
ND_WIN_BUILD="${ND_BUILD:?ND_BUILD: the Windows build directory}"
ND_WINE=/usr/lib/wine/wine64
export WINEPREFIX="${WINEPREFIX:-$ND_WIN_BUILD/wine-prefix}"
export WINEDEBUG="${WINEDEBUG:--all}"

[[ -x $ND_WINE ]] || { echo "SKIP: no Wine ($ND_WINE; scripts/deps --windows)" >&2; exit 77; }
[[ -f $ND_WIN_BUILD/netdisp.exe ]] || { echo "FAIL: no netdisp.exe in $ND_WIN_BUILD" >&2; exit 1; }

nd_win_wrappers() {
  local dir=$ND_WIN_BUILD/wine-bin name
  mkdir -p "$dir"
  for name in netdisp ndclient ndproxy ndreverse-proxy ndserver; do
    printf '#!/bin/sh\n# runs %s.exe under Wine (tests/windows/lib.sh)\nexec %s %s "$@"\n' \
      "$name" "$ND_WINE" "$ND_WIN_BUILD/$name.exe" >"$dir/$name.tmp"
    chmod +x "$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
  done
  echo "$dir"
}
ND_BUILD=$(nd_win_wrappers)
export ND_BUILD

source "${ND_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}/tests/e2e/lib/common.sh"

# Stops with SIGINT (Ctrl-C under Wine) instead of SIGTERM.
nd_stop_expect() {
  local code=$1 name status
  shift
  for name in "$@"; do
    status=0
    nd_stop "$name" INT || status=$?
    assert_eq "$code" "$status" "$name exit status on SIGINT"
  done
}
nd_stop_ok() { nd_stop_expect 0 "$@"; }

# The summary's words for a listener's kernel drops: Windows keeps no counter.
nd_kernel_drops() { echo "kernel drops unknown (Windows keeps no per-socket counter)"; }

# nd_win_namespace_prefix: call after nd_setup in a test that runs in a private
# network namespace. Wine creates a program's sockets in its wineserver, so a
# wineserver started outside the namespace (scripts/test's persistent one)
# would put them on the machine's network: a copy of the prefix made of hard
# links (cp -al) gets a wineserver of its own, started inside, and stopped at exit.
nd_win_namespace_prefix() {
  local prefix=$WORK/wine-prefix
  cp -al "$WINEPREFIX" "$prefix" || skip "cannot copy the Wine prefix $WINEPREFIX with hard links"
  export WINEPREFIX=$prefix
  nd_on_exit "WINEPREFIX='$prefix' /usr/lib/wine/wineserver -k 2>/dev/null"
}
