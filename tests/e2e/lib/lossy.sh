# shellcheck shell=bash
# A lossy test network for e2e tests and scripts/bench: one sender and N
# receivers, each receiver losing packets on its own, nothing leaving the
# machine. This kernel has no netem: loss is an nftables rule, rate a tbf.
#
#   source "$(dirname "$0")/lib/lossy.sh"
#   nd_lossy_reexec "$0" "$@"      # first: re-runs the script in a private net+mount namespace
#   nd_lossy_rig 3                 # sender side + receiver namespaces r1 r2 r3
#   nd_lossy_drop r1 50 9931       # r1 drops 5.0 % of the UDP datagrams to port 9931
#   nd_lossy_drop sender 10 all    # the sender drops 1.0 % of what comes back (feedback)
#   nd_lossy_rate ndbr0 500mbit    # a 500 Mbit/s bottleneck on the sender's way out
#   nd_in r1 "$ND/ndserver" ...    # run a command in r1
#
# The rig (addresses IPv4 only):
#
#   sender (the private namespace itself)          receiver namespace rK (K = 1..N)
#   bridge ndbr0 10.88.0.1/24 --- ndvK <--veth--> eth0 10.88.0.(10+K)/24
#   224.0.0.0/4 via ndbr0                          224.0.0.0/4 via eth0
#
# The bridge floods multicast to every port (snooping off), so each receiver
# gets every datagram sent to a group, receivers hear each other's multicast
# (NACK suppression works as on a LAN), and a rule in one receiver drops only
# what that receiver would have got: each loses on its own. gso_max_segs is 1
# on every veth and on the bridge, as a real NIC segments before the wire:
# otherwise one dropped GSO packet would remove up to 64 datagrams (or ~44 TCP
# segments) at once.
#
# Functions:
#   nd_lossy_reexec SCRIPT ARGS...  Outside: exec SCRIPT under `unshare -m -n`
#       (-r -m -n when not root), or exit 77 saying why it cannot. Inside
#       (decided by comparing /proc/self/ns/net with the starting namespace,
#       never by an environment variable alone): mounts a tmpfs on /run/netns
#       (so `ip netns add` names live and die with this mount namespace), sets
#       ND_IN_LOSSY=1 and returns. When the script ends, its namespaces go with
#       it: nothing to remove, nothing left behind. (/run/netns is created,
#       empty, on the real file system if it did not exist, as iproute2 does.)
#   nd_lossy_rig N          The picture above; skips (77) with ip's message when
#       a piece cannot be made. Sets ND_LOSSY_N=N, ND_LOSSY_SENDER=10.88.0.1.
#   nd_lossy_addr K         Prints receiver K's address (10.88.0.(10+K)).
#   nd_lossy_drop NS TENTHS [WHAT]  Adds to NS's input chain (NS: rK, or
#       'sender' for the sender's side, i.e. the feedback path) the rule
#         WHAT numgen random mod 1000 < TENTHS counter drop
#       i.e. TENTHS/10 % of the matching packets are dropped, each on its own
#       draw (measured: 4.9 % for 50). WHAT: a port number (udp dport PORT,
#       the default being every UDP packet), 'udp', 'tcp', 'tcp:PORT' (TCP with
#       source or destination port PORT: in the receiver the data of a
#       connection to PORT, in the sender its ACKs) or 'all' (every IPv4/IPv6
#       packet that did not come over lo; ARP is not in this hook, so
#       neighbours still resolve).
#       TENTHS 0 adds nothing. Rules add up; nd_lossy_clear NS removes them.
#   nd_lossy_clear NS       Removes every loss rule of NS.
#   nd_lossy_set NS TENTHS [WHAT]  Replaces NS's loss rules with this one (one
#       nft run: clear + drop, for a bench that changes the loss between trials).
#   nd_lossy_dropped NS     Prints how many packets NS's loss rules dropped.
#   nd_lossy_rate DEV RATE [NS]  tbf at RATE (tc syntax: 500mbit) on DEV's way
#       out (ndbr0: everything the sender sends; ndvK: what goes to rK only;
#       eth0 in rK: rK's feedback). RATE 'off' removes it.
#   nd_lossy_link DEV [NS]  Prints "RX_BYTES RX_PACKETS TX_BYTES TX_PACKETS" of
#       DEV (ndbr0's TX is what the sender put on the wire, once per multicast
#       datagram; its RX what came back to it).
#   nd_in NS CMD...         Runs CMD in NS (ip netns exec; 'sender' runs it
#       here). A function: to start a process in the background use
#       nd_start NAME ip netns exec rK CMD... (ip execs CMD: the pid is CMD's).

_nd_lossy_skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# Runs CMD... and skips with its message when it fails.
_nd_lossy_do() {
  local out
  if ! out=$("$@" 2>&1); then
    _nd_lossy_skip "lossy network set-up failed: $*: $out"
  fi
}

nd_lossy_reexec() {
  local script=$1 here
  shift
  here=$(readlink /proc/self/ns/net 2>/dev/null) || _nd_lossy_skip "cannot read /proc/self/ns/net"
  if [[ -n ${ND_LOSSY_OUTER:-} && $here != "$ND_LOSSY_OUTER" ]]; then
    [[ -d /run/netns ]] || _nd_lossy_do mkdir -p /run/netns
    _nd_lossy_do mount -t tmpfs -o size=1m,mode=755 nd-lossy /run/netns
    _nd_lossy_do ip link set lo up
    export ND_IN_LOSSY=1
    return 0
  fi
  local tool
  for tool in unshare ip nft tc; do
    command -v "$tool" >/dev/null || _nd_lossy_skip "$tool is not installed (util-linux, iproute2, nftables)"
  done
  local why flags=(-m -n)
  if ! why=$(unshare -m -n -- true 2>&1); then
    flags=(-r -m -n)
    why+=$'; '$(unshare -r -m -n -- true 2>&1) ||
      _nd_lossy_skip "cannot create a mount+network namespace (unshare -m -n, unshare -r -m -n): $why"
  fi
  # --propagation private (unshare's default with -m): the tmpfs stays here.
  ND_LOSSY_OUTER=$here exec unshare "${flags[@]}" -- "${BASH:-bash}" "$script" "$@"
}

_nd_lossy_inside() {
  [[ ${ND_IN_LOSSY:-0} == 1 && -n ${ND_LOSSY_OUTER:-} &&
    $(readlink /proc/self/ns/net) != "$ND_LOSSY_OUTER" ]] ||
    { echo "FAIL: lossy.sh: call nd_lossy_reexec first (refusing to touch the real network)" >&2; exit 1; }
}

nd_in() {
  local ns=$1
  shift
  if [[ $ns == sender ]]; then "$@"; else ip netns exec "$ns" "$@"; fi
}

# _nd_lossy_net NS CMD...: CMD in NS's network namespace only (nsenter: no
# /sys remount, cheaper than ip netns exec; enough for nft, tc and ip).
_nd_lossy_net() {
  local ns=$1
  shift
  if [[ $ns == sender ]]; then "$@"; else nsenter --net="/run/netns/$ns" "$@"; fi
}

nd_lossy_addr() {
  echo "10.88.0.$((10 + $1))"
}

nd_lossy_rig() {
  local n=$1 k ns batch=""
  _nd_lossy_inside
  # One `ip -batch` per namespace: on a loaded machine every process costs.
  batch+="link add ndbr0 type bridge mcast_snooping 0"$'\n'
  batch+="addr add 10.88.0.1/24 brd + dev ndbr0"$'\n'
  batch+="link set ndbr0 up"$'\n'
  batch+="route add 224.0.0.0/4 dev ndbr0"$'\n'
  for ((k = 1; k <= n; k++)); do
    batch+="netns add r$k"$'\n'
    batch+="link add ndv$k gso_max_segs 1 type veth peer name eth0 netns r$k gso_max_segs 1"$'\n'
    batch+="link set ndv$k master ndbr0 up"$'\n'
  done
  _nd_lossy_do ip -batch - <<<"$batch"
  # Older kernels refuse gso_max_segs on a bridge: the ports' setting holds.
  ip link set ndbr0 gso_max_segs 1 2>/dev/null || true
  for ((k = 1; k <= n; k++)); do
    ns=r$k
    _nd_lossy_do ip -n "$ns" -batch - <<EOB
link set lo up
addr add $(nd_lossy_addr "$k")/24 brd + dev eth0
link set eth0 up
route add 224.0.0.0/4 dev eth0
EOB
  done
  # Carrier on every veth (LOWER_UP on ndvK: both ends up); no STP: the
  # bridge forwards at once.
  local deadline=$((SECONDS + 5))
  until (($(ip -o link show master ndbr0 | grep -c LOWER_UP) == n)); do
    ((SECONDS < deadline)) || _nd_lossy_skip "the rig's veths did not come up within 5 s: $(ip -o link show master ndbr0)"
    sleep 0.05 # poll step until the deadline above
  done
  ND_LOSSY_N=$n
  ND_LOSSY_SENDER=10.88.0.1
  export ND_LOSSY_N ND_LOSSY_SENDER
}

# _nd_lossy_nft NS RULE...: adds RULE to NS's loss chain (table and chain
# made on first use: 'add' of an existing one changes nothing), one nft run;
# with _ND_LOSSY_FLUSH=1 the chain's rules are removed first.
_nd_lossy_nft() {
  local ns=$1 flush=""
  shift
  [[ ${_ND_LOSSY_FLUSH:-0} != 1 ]] || flush="flush chain inet nd_lossy input"
  _nd_lossy_do _nd_lossy_nft_in "$ns" <<EON
add table inet nd_lossy
add chain inet nd_lossy input { type filter hook input priority 0; policy accept; }
$flush
${*:+add rule inet nd_lossy input $*}
EON
}

_nd_lossy_nft_in() {
  _nd_lossy_net "$1" nft -f -
}

nd_lossy_drop() {
  local ns=$1 tenths=$2 what=${3:-udp} match
  _nd_lossy_inside
  [[ $tenths =~ ^[0-9]+$ && $tenths -le 1000 ]] || { echo "FAIL: nd_lossy_drop: TENTHS '$tenths' is not 0..1000" >&2; exit 1; }
  if ((tenths == 0)); then
    [[ ${_ND_LOSSY_FLUSH:-0} != 1 ]] || _nd_lossy_nft "$ns"
    return 0
  fi
  case $what in
    all) match="iifname != lo meta nfproto { ipv4, ipv6 }" ;;
    udp) match="meta l4proto udp" ;;
    tcp) match="meta l4proto tcp" ;;
    tcp:[0-9]*) match="tcp dport ${what#tcp:} numgen random mod 1000 < $tenths counter drop
add rule inet nd_lossy input tcp sport ${what#tcp:}" ;;
    [0-9]*) match="udp dport $what" ;;
  esac
  [[ -n ${match:-} && $what =~ ^(all|udp|tcp|tcp:[0-9]+|[0-9]+)$ ]] ||
    { echo "FAIL: nd_lossy_drop: WHAT '$what' is not PORT, udp, tcp, tcp:PORT or all" >&2; exit 1; }
  _nd_lossy_nft "$ns" "$match numgen random mod 1000 < $tenths counter drop"
}

nd_lossy_set() {
  _ND_LOSSY_FLUSH=1 nd_lossy_drop "$@"
}

nd_lossy_clear() {
  _nd_lossy_inside
  _nd_lossy_net "$1" nft flush chain inet nd_lossy input 2>/dev/null || true
}

nd_lossy_dropped() {
  _nd_lossy_net "$1" nft list chain inet nd_lossy input 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1) } END { print n + 0 }'
}

nd_lossy_rate() {
  local dev=$1 rate=$2 ns=${3:-sender} bits burst
  _nd_lossy_inside
  if [[ $rate == off ]]; then
    _nd_lossy_net "$ns" tc qdisc del dev "$dev" root 2>/dev/null || true
    return 0
  fi
  # burst: 2 ms at RATE (at least 16 KiB), as a timer tick must not starve it.
  [[ ${rate,,} =~ ^([0-9]+)([kmg]?)bit$ ]] ||
    { echo "FAIL: nd_lossy_rate: RATE '$rate' is not like 500mbit" >&2; exit 1; }
  bits=${BASH_REMATCH[1]}
  case ${BASH_REMATCH[2]} in k) bits=$((bits * 1000)) ;; m) bits=$((bits * 1000000)) ;; g) bits=$((bits * 1000000000)) ;; esac
  burst=$((bits / 8 / 500))
  ((burst >= 16384)) || burst=16384
  _nd_lossy_do _nd_lossy_net "$ns" tc qdisc replace dev "$dev" root tbf rate "$rate" burst "$burst" latency 50ms
}

nd_lossy_link() {
  local dev=$1 ns=${2:-sender}
  # "ip -s -o link": ... RX: bytes packets ... \ RXB RXP ... \ TX: ... \ TXB TXP ...
  _nd_lossy_net "$ns" ip -s -o link show dev "$dev" | tr '\134' '\n' | awk '
    /RX:/ { rx = 1; next } /TX:/ { tx = 1; next }
    rx == 1 { rb = $1; rp = $2; rx = 2 } tx == 1 { tb = $1; tp = $2; tx = 2 }
    END { print rb, rp, tb, tp }'
}
