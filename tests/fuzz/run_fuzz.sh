#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time over a temporary copy of its seed
# corpus, so new inputs never land in the source tree.
#   run_fuzz.sh TARGET CORPUS_DIR SECONDS [libFuzzer flags...]
# Crashes are written to $FUZZ_ARTIFACTS (default: the current directory) as
# <target>-crash-<sha1>; the exit status is libFuzzer's (0 = nothing found,
# 1 = a finding: libFuzzer's own default, 77, is meson's "skipped").
set -euo pipefail
# Hostnames in fuzz inputs reach getaddrinfo. Here that is a DNS query to the
# machine's resolver: ~180 ms each on average, up to 5 s, and random names
# sent off the machine. In a private network namespace (no route anywhere)
# the lookup fails in ~0.1 ms and nothing leaves, so run there when we can.
if [[ -z ${ND_FUZZ_IN_NETNS:-} ]] && unshare -n true 2>/dev/null; then
  ND_FUZZ_IN_NETNS=1 exec unshare -n -- "$0" "$@"
fi
[[ -n ${ND_FUZZ_IN_NETNS:-} ]] || echo "run_fuzz.sh: no private network namespace (not root?): hostname lookups in inputs will query DNS and be slow" >&2
target=$1 corpus=$2 seconds=$3
shift 3
name=$(basename "$target")
artifacts=${FUZZ_ARTIFACTS:-$PWD}
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/nd-fuzz-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
# UBSan only reports by default; make its findings crashes that libFuzzer saves.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
"$target" -max_total_time="$seconds" -timeout=5 -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$artifacts/$name-" "$@" "$work"
