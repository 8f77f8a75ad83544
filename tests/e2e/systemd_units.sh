#!/usr/bin/env bash
# The systemd units as `meson install` puts them (DESTDIR): netdisp-server@,
# netdisp-proxy@ and netdisp-reverse-proxy@ are installed, run the installed
# nd<mode>, read sysconfdir/netdisp/<mode>-%i.conf (an example conf is
# installed there), pass `systemd-analyze verify` without a word, and their
# sandbox scores 2.0 or lower ("OK") in `systemd-analyze security --offline`.
# No systemd needs to run: both read the unit files only.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (Debian package systemd, in scripts/deps)"
root="$WORK/root"
meson install -C "$ND" --no-rebuild --quiet --destdir "$root" >"$WORK/install.log" 2>&1 ||
  fail "meson install --destdir failed: $(tail -n 5 "$WORK/install.log")"

mkdir "$WORK/units"
for mode in server proxy reverse-proxy; do
  unit=$(find "$root" -path "*/systemd/system/netdisp-$mode@.service" | head -n 1)
  [[ -n "$unit" ]] || fail "netdisp-$mode@.service is not installed (looked under $root)"

  # The unit runs the installed nd<mode> and reads <mode>-%i.conf, where the example is.
  exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
  assert_eq "nd$mode" "$(basename "$exec_start")" "netdisp-$mode@.service ExecStart binary"
  [[ -x "$root$exec_start" ]] || fail "netdisp-$mode@.service runs $exec_start, which is not installed"
  grep -q '^ExecStart=[^ ]* \$ARGS$' "$unit" || fail "netdisp-$mode@.service ExecStart does not pass \$ARGS unbraced"
  env_file=$(sed -n 's/^EnvironmentFile=//p' "$unit")
  [[ "$(basename "$env_file")" == "$mode-%i.conf" ]] || fail "netdisp-$mode@.service reads $env_file, not $mode-%i.conf"
  example="$root$(dirname "$env_file")/$mode-example.conf"
  [[ -f "$example" ]] || fail "no example conf $mode-example.conf beside $env_file"
  grep -q '^ARGS="--' "$example" || fail "$example sets no ARGS"

  # A copy whose absolute paths lead into the DESTDIR tree, for verify to
  # find the binary there (--root would also need systemd's own units there).
  sed -e "s|^ExecStart=/|ExecStart=$root/|" -e "s|^EnvironmentFile=/|EnvironmentFile=$root/|" \
    "$unit" >"$WORK/units/netdisp-$mode@.service"
  # verify exits 0 even on a setting it ignores: every line it prints is a finding.
  # The man page is another test's business (--man=no).
  out=$(systemd-analyze verify --man=no "$WORK/units/netdisp-$mode@example.service" 2>&1) ||
    fail "systemd-analyze verify netdisp-$mode@example.service: $out"
  [[ -z "$out" ]] || fail "systemd-analyze verify netdisp-$mode@example.service: $out"

  report=$(systemd-analyze security --offline=true "$unit" 2>&1) ||
    fail "systemd-analyze security netdisp-$mode@.service failed: $(tail -n 3 <<<"$report")"
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) .*/\1/p' <<<"$report")
  [[ -n "$score" ]] || fail "no exposure level in systemd-analyze security output: $(tail -n 3 <<<"$report")"
  echo "netdisp-$mode@.service: exposure $score"
  awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
    fail "netdisp-$mode@.service exposure $score is above 2.0; open settings:$(grep '^✗' <<<"$report" | cut -c1-70)"
done
