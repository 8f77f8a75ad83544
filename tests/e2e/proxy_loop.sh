#!/usr/bin/env bash
# A proxy whose --downstream-addr is one of its own --listen-addr would forward
# every datagram back to itself forever: refused at start-up (exit 2, one line
# naming both options). A downstream that is an address of this host at the
# port of a wildcard listen address may loop the same way: a warning. Runs in
# a private network namespace (wildcard listeners, fixed ports).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

# refused NAME LISTEN... -- DOWNSTREAM: ndproxy exits 2 with one line naming both options.
refused() {
  local name=$1 args=()
  shift
  while [[ $1 != -- ]]; do args+=(--listen-addr "$1"); shift; done
  args+=(--downstream-addr "$2")
  nd_start "$name" "$ND/ndproxy" "${args[@]}"
  nd_expect_exit "$name" 2 5
  assert_eq 1 "$(wc -l <"$WORK/$name.err")" "$name: lines on stderr"
  grep -q -- "--downstream-addr.*--listen-addr" "$WORK/$name.err" ||
    fail "$name: the error does not name both options: $(cat "$WORK/$name.err")"
}
refused same4 127.0.0.1:9950 -- 127.0.0.1:9950
refused same6 '[::1]:9950' -- '[::1]:9950'
refused group 239.77.0.1:9951 -- 239.77.0.1:9951            # multicast loop delivers it back
refused second 127.0.0.1:9952 10.77.0.1:9953 -- 10.77.0.1:9953

# warned NAME LISTEN DOWNSTREAM: ndproxy starts, warns naming both, and stops with 0 on SIGTERM.
# quiet NAME LISTEN DOWNSTREAM: the same without the warning.
start_proxy() {
  nd_start "$1" "$ND/ndproxy" --listen-addr "$2" --downstream-addr "$3"
  nd_listen_addr "$1" udp >/dev/null
  nd_stop_ok "$1"
}
warned() {
  start_proxy "$@"
  grep -qF -- "--downstream-addr $3 is an address of this host at the port of --listen-addr" "$WORK/$1.err" ||
    fail "$1: no warning about a possible loop: $(cat "$WORK/$1.err")"
}
quiet() {
  start_proxy "$@"
  grep -q -- "loop" "$WORK/$1.err" && fail "$1: a warning about a loop that cannot happen: $(grep loop "$WORK/$1.err")"
  true
}
warned any_lo 0.0.0.0:9960 127.0.0.1:9960
warned any_if 0.0.0.0:9961 10.77.0.2:9961
warned any6_lo '[::]:9962' '[::1]:9962'
warned bare_v4 9963 127.0.0.1:9963                  # a bare port listens on IPv4 too
quiet any6_v4 '[::]:9968' 127.0.0.1:9968            # [::] is IPv6 only
quiet other_port 0.0.0.0:9964 127.0.0.1:9965
quiet not_local 0.0.0.0:9966 10.77.0.99:9966
quiet other_host_addr 127.0.0.1:9967 10.77.0.2:9967  # a socket bound to 127.0.0.1 never sees it
