#!/usr/bin/env bash
# The example confs of the systemd units (data/netdisp/*-example.conf, installed
# to /etc/netdisp) are command lines that work: each mode starts from its ARGS,
# split at whitespace as systemd splits $ARGS, with /var/log/netdisp moved to
# the test's directory, and listens where the comments say. As the examples
# say, a datagram to the proxy's port reaches the server's log. Runs in a
# private network namespace (the examples bind fixed ports, join a group).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
nd_setup

confs="$(cd "$(dirname "$0")/../../data/netdisp" && pwd)"
mkdir "$WORK/log"
for mode in server proxy reverse-proxy; do
  conf="$confs/$mode-example.conf"
  [[ -f "$conf" ]] || fail "no $conf"
  line=$(grep '^ARGS=' "$conf") || fail "$conf sets no ARGS"
  [[ "$line" =~ ^ARGS=\"([^\"\'\\\$]*)\"$ ]] || fail "$conf: ARGS is not one plain double-quoted value: $line"
  read -ra args <<<"${BASH_REMATCH[1]//\/var\/log\/netdisp/$WORK/log}"
  nd_start "$mode" "$ND/nd$mode" "${args[@]}"
done

nd_listen_addr server udp >/dev/null
nd_listen_addr server tcp >/dev/null
nd_listen_addr proxy udp >/dev/null
nd_listen_addr reverse-proxy udp >/dev/null
nd_listen_addr reverse-proxy tcp >/dev/null

echo "through the example proxy" | socat -u - UDP-SENDTO:127.0.0.1:9931
wait_until 10 eval 'cat "$WORK"/log/example*.log 2>/dev/null | grep -q "through the example proxy"' ||
  fail "the datagram sent to the example proxy did not reach the example server's log"
nd_stop_ok server proxy reverse-proxy
