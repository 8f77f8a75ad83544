#!/usr/bin/env bash
# Source-specific multicast: a listener joined to 232.1.2.3 (and ff32::8000:1234)
# for source 10.77.0.1 (fd77::1) gets what a sender bound to that address
# sends and nothing from one bound to 10.77.0.2 (fd77::2), while an
# any-source listener on the same group gets both. Runs the [ssm] unit tests
# inside the private namespace (both addresses are local there).
set -euo pipefail
source "$(dirname "$0")/lib/netns.sh"
nd_netns_reexec "$0" "$@"
ND_BUILD=${ND_BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
unit="$ND_BUILD/tests/unit_tests"
[[ -x $unit ]] || { echo "SKIP: $unit not built (-Dtests=true with Catch2)" >&2; exit 77; }
timeout 60 "$unit" --warn NoTests '[ssm]'
