#!/usr/bin/env bash
# Each mode's --help is its reference: a one-line purpose first, every option
# that takes a value with its default (or marked required), examples of a --tee
# pipeline, a multicast group and TCP; `netdisp help MODE` and `netdisp MODE
# --help` print the same text. Errors suggest the fix where one is known: a
# mistyped option names the closest one, a receive buffer the kernel capped
# names the sysctl to raise.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

failures=()
failed() { failures+=("$*"); }

# Options that take a value and have no default for a good reason: none yet.
# Add "MODE --option" here with the reason beside it.
declare -A kNoDefault=()

# option_problems MODE FILE: prints "--option" for every option line of the
# help in FILE that takes a value but names neither a default nor "required".
# cxxopts prints an option as "  -t, --tee" or "      --path PATH", then its
# description, wrapped onto lines indented further.
option_problems() {
  awk -v mode="$1" '
    function check() {
      if (name != "" && takes_value && desc !~ /default|required/) print name
      name = ""
    }
    /^Addresses are endpoints/ { check(); exit }
    /^(  -[A-Za-z], |      )--[a-z]/ {
      check()
      line = $0
      sub(/^ *(-[A-Za-z], )?/, "", line)
      split(line, words, " ")
      name = words[1]
      # "--path PATH  desc" or "--lines [=N(=0)]  desc": a second word before the gap.
      head = line
      sub(/  .*/, "", head)
      takes_value = (head ~ / /)
      desc = line
      if (sub(/^[^ ]+( [^ ]+)?  +/, "", desc) == 0) desc = ""
      next
    }
    /^        +[^ ]/ { if (name != "") desc = desc " " $0; next }
    { check() }
    END { check() }
  ' "$2"
}

# examples FILE: prints the Examples section of FILE, one command per line
# (lines continued with a backslash joined, comment lines left out).
examples() {
  sed -n '/^Examples:$/,/^Usage:$/p' "$1" | sed -e '1d' -e '$d' |
    sed -e ':a' -e '/\\$/N; s/\\\n *//; ta' | grep -v '^ *#' | grep .
}

kMulticast='(^|[^0-9.])2(2[4-9]|3[0-9])\.[0-9]+\.[0-9]+\.[0-9]+:|\[ff[0-9a-f]{2}:'
"$ND/netdisp" --help >"$WORK/modes.txt" || failed "netdisp --help exited $?"

for mode in client server proxy reverse-proxy; do
  out="$WORK/$mode.help"
  status=0
  "$ND/nd$mode" --help >"$out" 2>"$WORK/$mode.help.stderr" || status=$?
  [[ $status -eq 0 ]] || { failed "nd$mode --help exited $status"; continue; }
  [[ ! -s "$WORK/$mode.help.stderr" ]] || failed "nd$mode --help wrote to stderr: $(head -n 1 "$WORK/$mode.help.stderr")"

  # The same text by every name.
  "$ND/netdisp" help "$mode" >"$WORK/$mode.help2" 2>&1 || failed "netdisp help $mode exited $?"
  cmp -s "$out" "$WORK/$mode.help2" || failed "netdisp help $mode differs from nd$mode --help"
  "$ND/netdisp" "$mode" --help >"$WORK/$mode.help3" 2>&1 || failed "netdisp $mode --help exited $?"
  cmp -s "$out" "$WORK/$mode.help3" || failed "netdisp $mode --help differs from nd$mode --help"

  # A one-line purpose: a sentence on the first line, a blank line after it.
  purpose=$(sed -n 1p "$out")
  [[ "$purpose" =~ ^[A-Z].{20,98}\.$ ]] || failed "nd$mode --help: first line is not a one-line purpose: '$purpose'"
  [[ -z "$(sed -n 2p "$out")" ]] || failed "nd$mode --help: the purpose line is not followed by a blank line"
  # ... which the mode list of `netdisp --help` begins to say too.
  summary=$(sed -n "s/^  $mode  *//p" "$WORK/modes.txt")
  [[ -n "$summary" && "${purpose,,}" == "${summary,,}"* ]] ||
    failed "nd$mode: 'netdisp --help' says '$summary', its --help begins '$purpose'"

  # Every option that takes a value says its default or that it is required.
  while read -r option; do
    [[ -n "$option" ]] || continue
    [[ -z "${kNoDefault["$mode $option"]:-}" ]] && failed "nd$mode --help: $option takes a value but names no default"
  done < <(option_problems "$mode" "$out")
  # The parser must have seen this mode's own options (or it checked nothing).
  seen=$(grep -cE '^(  -[A-Za-z], |      )--[a-z]' "$out" || true)
  ((seen >= 10)) || failed "nd$mode --help: only $seen option lines found"

  # Examples: a --tee pipeline, a multicast group, TCP; each runs this mode.
  examples "$out" >"$WORK/$mode.examples" || true
  grep -q . "$WORK/$mode.examples" || { failed "nd$mode --help: no Examples section"; continue; }
  while read -r example; do
    [[ "$example" == *"nd$mode "* ]] || failed "nd$mode --help: example does not run nd$mode: $example"
  done <"$WORK/$mode.examples"
  grep -Eq -- '--tee .*\| *[a-z]' "$WORK/$mode.examples" || failed "nd$mode --help: no --tee pipeline example"
  grep -Eq -- "$kMulticast" "$WORK/$mode.examples" || failed "nd$mode --help: no multicast example"
  grep -Eq -- 'tcp://' "$WORK/$mode.examples" || failed "nd$mode --help: no TCP example"
done

# The checker itself finds an option without a default.
printf '%s\n' 'Usage:' '      --thing N           does a thing' '      --other N           fine (default 3)' \
  '      --long-one-here SECONDS' '                          wrapped (default' '                          5)' \
  >"$WORK/fake.help"
assert_eq "--thing" "$(option_problems fake "$WORK/fake.help")" "option_problems on a made-up help"

# A mistyped option names the closest known one, in every mode.
typo() {
  local mode=$1 wrong=$2 right=$3 status=0
  "$ND/nd$mode" "$wrong" x >/dev/null 2>"$WORK/typo.stderr" || status=$?
  [[ $status -eq 2 ]] || failed "nd$mode $wrong: exit $status, expected 2"
  grep -q -- "did you mean $right?" "$WORK/typo.stderr" ||
    failed "nd$mode $wrong: no 'did you mean $right?' in: $(head -n 1 "$WORK/typo.stderr")"
}
typo client --server-adr --server-addr
typo server --listen_adr --listen-addr
typo proxy --downstream --downstream-addr
typo reverse-proxy --multicast-adr --multicast-addr

# A receive buffer the kernel capped names the sysctl that caps it. Without
# CAP_NET_ADMIN (dropped here even for root) SO_RCVBUFFORCE is refused.
rmem_max=$(cat /proc/sys/net/core/rmem_max)
ask=$((rmem_max * 4 > 1 << 30 ? 1 << 30 : rmem_max * 4))
if ((ask <= rmem_max)); then
  echo "note: net.core.rmem_max is $rmem_max, no larger buffer can be asked for: sysctl hint not checked" >&2
else
  drop=()   # a user other than root has no CAP_NET_ADMIN to drop
  ! nd_is_root || drop=(setpriv --inh-caps=-net_admin --bounding-set=-net_admin)
  nd_start capped "${drop[@]}" "$ND/ndserver" --path "$WORK/capped.log" --listen-addr 127.0.0.1:0 --rcvbuf "$ask"
  nd_listen_addr capped udp >/dev/null
  wait_log capped 'warning: .*receive buffer' ||
    failed "ndserver --rcvbuf $ask without CAP_NET_ADMIN: no warning about the receive buffer"
  grep -q "sysctl -w net.core.rmem_max=$ask" "$WORK/capped.err" ||
    failed "the capped receive buffer warning does not name net.core.rmem_max: $(grep -m1 warn "$WORK/capped.err")"
  nd_stop_ok capped
fi

if ((${#failures[@]})); then
  printf 'FAIL: %s\n' "${failures[@]}" >&2
  exit 1
fi
echo "help texts: 4 modes checked"
