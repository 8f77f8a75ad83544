#!/usr/bin/env bash
# A datagram larger than the route's MTU travels as IP fragments, which many
# networks drop: ndclient warns once per such destination at start, naming the
# size that would not fragment. Over veths of MTU 1500 (IPv4 and IPv6, unicast
# and a multicast group) the default 8192 bytes is warned about; a size that
# fits is not, and neither is loopback. Runs in a private network namespace.
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

size=$((256 << 10))
nd_random_file "$WORK/in.bin" "$size"
warning="datagrams exceed the route MTU and travel as IP fragments, which many networks drop"

# client NAME DEST [OPTION...]: sends in.bin to DEST and must exit 0.
client() {
  local name=$1 dest=$2
  shift 2
  nd_start "$name" "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$dest" --rate 200M "$@"
  nd_expect_exit "$name" 0
}
# warned NAME DEST FITS [OPTION...]: the client warns once that DEST fragments, naming FITS.
warned() {
  local name=$1 dest=$2 fits=$3
  client "$name" "$dest" "${@:4}"
  local lines
  lines=$(grep -cF -- "udp $dest: 8192-byte $warning; --datagram-size $fits or less avoids it" "$WORK/$name.err" || true)
  assert_eq 1 "$lines" "$name: warnings naming udp $dest and --datagram-size $fits"
}
# quiet NAME DEST [OPTION...]: no fragmentation warning.
quiet() {
  client "$@"
  grep -qF -- "$warning" "$WORK/$1.err" && fail "$1: warned about fragments: $(grep -F -- "$warning" "$WORK/$1.err")"
  true
}

# 1. A multicast group routed over nd0 (MTU 1500): warned; the data still arrives.
group='239.77.0.15:9970'
nd_start srv "$ND/ndserver" --path "$WORK/group.log" --listen-addr "$group"
nd_listen_addr srv udp >/dev/null
warned group "$group" 1472
wait_file_size "$WORK/group.log" "$size" || fail "the group's receiver did not get every byte"
assert_same_sha "$WORK/in.bin" "$WORK/group.log"
nd_stop_ok srv

# 2. Unicast over the veth, IPv4 and IPv6 (20 bytes more of IP header).
# Nobody answers at 10.77.0.3 and fd77::3 (on the veth, not ours): the
# datagrams are only sent, and the exit status must not depend on it.
ign=--ignore-send-errors
warned uni4 10.77.0.3:9971 1472 "$ign"
warned uni6 '[fd77::3]:9971' 1452 "$ign"

# 3. Sizes that fit: no warning.
quiet fits4 10.77.0.3:9971 --datagram-size 1472 "$ign"
quiet fits6 '[fd77::3]:9971' --datagram-size 1452 "$ign"
quiet fits_group "$group" --datagram-size 1472

# 4. Loopback (MTU 65536): no warning at the default size, nor at 65000.
nd_start lo "$ND/ndserver" --path "$WORK/lo.log" --listen-addr 127.0.0.1:0
lo=$(nd_listen_addr lo udp)
quiet loop4 "$lo"
quiet loop4_big "$lo" --datagram-size 65000
wait_file_size "$WORK/lo.log" $((2 * size)) || fail "loopback: the server did not get every byte"
nd_stop_ok lo
