#!/usr/bin/env bash
# Source-specific multicast: a listener joined to 232.1.2.3 (and ff32::8000:1234)
# for source 10.77.0.1 (fd77::1) gets what a sender bound to that address
# sends and nothing from one bound to 10.77.0.2 (fd77::2), while an
# any-source listener on the same group gets both. Runs the [ssm] unit tests
# inside the private namespace (both addresses are local there), then the
# same with the real binaries: ndserver on udp://GROUP?source=10.77.0.1 and
# two ndclients sending from udp://GROUP?bind=10.77.0.1 / ?bind=10.77.0.2.
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
ND_BUILD=${ND_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
unit="$ND_BUILD/tests/unit_tests"
[[ -x $unit ]] || { echo "SKIP: $unit not built (-Dtests=true with Catch2)" >&2; exit 77; }
timeout 60 "$unit" --warn NoTests '[ssm]' || exit $?

# The same through the command line: ?source= on ndserver's listen address,
# ?bind= on each ndclient's destination to pick the sender's address.
source "$(dirname "$0")/lib/common.sh"
nd_setup
nd_random_file "$WORK/from1.bin" 300007
nd_random_file "$WORK/from2.bin" 200003
group=232.1.2.4:9974
nd_start srv "$ND/ndserver" --path "$WORK/ssm.log" --listen_addr "udp://$group?source=10.77.0.1" --multicast-if nd0
nd_start any "$ND/ndserver" --path "$WORK/any.log" --listen_addr "udp://$group" --multicast-if nd0
nd_listen_addr srv udp >/dev/null
nd_listen_addr any udp >/dev/null
nd_start c1 "$ND/ndclient" --path "$WORK/from1.bin" --server_addr "udp://$group?bind=10.77.0.1" --multicast-if nd0 --rate 100M
nd_expect_exit c1 0
nd_start c2 "$ND/ndclient" --path "$WORK/from2.bin" --server_addr "udp://$group?bind=10.77.0.2" --multicast-if nd0 --rate 100M
nd_expect_exit c2 0
wait_file_size "$WORK/any.log" 500010 || fail "the any-source listener did not get both senders"
wait_file_size "$WORK/ssm.log" 300007 || true
nd_stop_ok srv any
assert_same_sha "$WORK/from1.bin" "$WORK/ssm.log"
