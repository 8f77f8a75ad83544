# shellcheck shell=bash
# Private network namespace for e2e tests whose traffic must never leave the
# machine (multicast, broadcast). Usage, at the top of a test, before anything
# else that touches the network:
#
#   source "$(dirname "$0")/lib/netns.sh"
#   nd_netns_reexec "$0" "$@"
#
# Outside a namespace it re-executes the script under `unshare -n` (exit 77
# with the reason when that cannot be done). Inside, it brings lo up and builds
#   nd0 10.77.0.1/24 fd77::1/64  <--veth-->  nd1 10.77.0.2/24 fd77::2/64
# with 224.0.0.0/4 routed via nd0, then sets ND_IN_NETNS=1 and returns.
# With ND_NETNS_MOUNT=1 set before the call, the mount namespace is private too
# where it can be (then ND_NETNS_PRIVATE_MOUNTS=1).
#
# "Inside" is decided by comparing /proc/self/ns/net with the namespace the
# script was started in (ND_NETNS_OUTER), never by trusting ND_IN_NETNS alone:
# a stray ND_IN_NETNS=1 in the environment must not put multicast on the
# machine's real interfaces.

_nd_netns_skip() {
  echo "SKIP: $*" >&2
  exit 77
}

_nd_netns_id() {
  readlink /proc/self/ns/net 2>/dev/null
}

# Runs "ip ARGS..." and skips the test with ip's message when it fails.
_nd_netns_ip() {
  local out
  if ! out=$(ip "$@" 2>&1); then
    _nd_netns_skip "network namespace set-up failed: ip $*: $out"
  fi
}

_nd_netns_up() {
  local deadline=$((SECONDS + 5))
  # Wait until both veth ends have carrier and no IPv6 address is tentative.
  while :; do
    # (/sys belongs to the outer namespace unless remounted: ask ip.)
    if ip -o link show nd0 | grep -q LOWER_UP && ip -o link show nd1 | grep -q LOWER_UP &&
       ! ip -6 addr show tentative | grep -q inet6; then
      return 0
    fi
    ((SECONDS < deadline)) || _nd_netns_skip "veth nd0/nd1 did not come up within 5 s"
    sleep 0.05 # poll step until the deadline above
  done
}

_nd_netns_setup() {
  # No duplicate address detection: link-local addresses usable at once.
  sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
    >/dev/null 2>&1 || true
  _nd_netns_ip link set lo up
  _nd_netns_ip link add nd0 type veth peer name nd1
  _nd_netns_ip addr add 10.77.0.1/24 brd + dev nd0
  _nd_netns_ip addr add 10.77.0.2/24 brd + dev nd1
  _nd_netns_ip -6 addr add fd77::1/64 dev nd0 nodad
  _nd_netns_ip -6 addr add fd77::2/64 dev nd1 nodad
  _nd_netns_ip link set nd0 up
  _nd_netns_ip link set nd1 up
  _nd_netns_ip route add 224.0.0.0/4 dev nd0
  _nd_netns_up
}

nd_netns_reexec() {
  local script=$1
  shift
  local here
  here=$(_nd_netns_id) || _nd_netns_skip "cannot read /proc/self/ns/net"
  if [[ -n ${ND_NETNS_OUTER:-} && $here != "$ND_NETNS_OUTER" ]]; then
    _nd_netns_setup
    export ND_IN_NETNS=1
    return 0
  fi
  command -v unshare >/dev/null || _nd_netns_skip "unshare (util-linux) is not installed"
  command -v ip >/dev/null || _nd_netns_skip "ip (iproute2) is not installed"
  # As root a plain network namespace; otherwise inside a user namespace
  # where we are root (unprivileged user namespaces, when the kernel allows).
  local why flags=(-n)
  if ! why=$(unshare -n -- true 2>&1); then
    flags=(-r -n)
    why+=$'; '$(unshare -r -n -- true 2>&1) ||
      _nd_netns_skip "cannot create a network namespace (unshare -n, unshare -r -n): $why"
  fi
  # ND_NETNS_MOUNT=1: a private mount namespace too (to bind-mount /etc files),
  # when one can be made (not in a chroot, whose / is no mount point): the
  # script then finds ND_NETNS_PRIVATE_MOUNTS=1 and must not mount without it.
  if [[ ${ND_NETNS_MOUNT:-0} == 1 ]] && unshare -m "${flags[@]}" -- true 2>/dev/null; then
    flags=(-m "${flags[@]}")
    export ND_NETNS_PRIVATE_MOUNTS=1
  fi
  ND_NETNS_OUTER=$here exec unshare "${flags[@]}" -- "${BASH:-bash}" "$script" "$@"
}
