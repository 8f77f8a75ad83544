#!/usr/bin/env bash
# The man page netdisp.1 (built from doc/netdisp.1.scd by scdoc):
# - mandoc -T lint -W warning finds nothing but "skipping paragraph macro",
#   the redundant .P that scdoc 1.11 writes after every heading and list (it
#   changes nothing in the output). Style notes (lines over 80 bytes in the
#   generated roff, a lower-case title) are allowed. groff (man --warnings,
#   as lintian runs it) warns about nothing.
# - every long option in each mode's --help is defined in the page (a
#   "*--option*" entry) for that mode: in the mode's own OPTIONS subsection, in
#   "Every mode", or in a shared subsection whose entry names the mode in
#   parentheses. And no entry names a mode that has no such option.
# - every counter name (src/stage/stats.cpp) is in its COUNTERS section.
# - ndclient.1 ... are `.so` links to it, and the page names every mode,
#   scheme, signal and exit status.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

src="$(dirname "$0")/../../doc/netdisp.1.scd"
page="$ND/doc/netdisp.1"
[[ -f $page ]] || fail "$page was not built (is scdoc installed? scripts/deps installs it)"

# Lint at warning level; only scdoc's redundant paragraph macros are accepted.
mandoc -T lint -W warning "$page" >"$WORK/lint.txt" 2>&1 || true
if grep -v "WARNING: skipping paragraph macro" "$WORK/lint.txt" | grep -q .; then
  fail "mandoc -T lint -W warning: $(grep -v 'skipping paragraph macro' "$WORK/lint.txt" | head -n 5)"
fi
# groff, through man(1) as lintian runs it, has no warning either.
LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>"$WORK/groff.txt" >/dev/null ||
  fail "man -l $page failed: $(head -n 3 "$WORK/groff.txt")"
[[ ! -s $WORK/groff.txt ]] || fail "groff warns about the page: $(head -n 5 "$WORK/groff.txt")"
# It renders, with its sections.
mandoc -T utf8 "$page" | col -b >"$WORK/page.txt"
for section in NAME SYNOPSIS DESCRIPTION MODES OPTIONS ENDPOINTS "SERVER LOG FILES" COUNTERS SIGNALS "EXIT STATUS" \
  ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
  grep -q "^$section\$" "$WORK/page.txt" || fail "the rendered page has no $section section"
done
for word in udp:// tcp:// unix:// unixgram:// source= bind= SIGINT SIGTERM SIGHUP SIGUSR1 JOURNAL_STREAM \
  NOTIFY_SOCKET /etc/netdisp netdisp-server@.service 'socat(1)' 'nc(1)' 'systemd.unit(5)' '128 + N'; do
  grep -qF -- "$word" "$WORK/page.txt" || fail "the page does not mention $word"
done

# The aliases.
for name in ndclient ndproxy ndreverse-proxy ndserver; do
  assert_eq ".so man1/netdisp.1" "$(cat "$ND/doc/$name.1")" "$name.1"
done

# Every option of every mode, from the binary's own --help, against the page's entries.
for mode in client proxy reverse-proxy server; do
  "$ND/nd$mode" --help >"$WORK/help.$mode" || fail "nd$mode --help exited $?"
  grep -q -- "--help" "$WORK/help.$mode" || fail "nd$mode --help printed no options"
done
stats="$(dirname "$0")/../../src/stage/stats.cpp"
python3 - "$src" "$WORK" "$stats" <<'EOF' || fail "the man page disagrees with the modes' --help or the counter names (above)"
import re, sys

source, work, stats = sys.argv[1], sys.argv[2], sys.argv[3]
modes = ["client", "proxy", "reverse-proxy", "server"]

# Options each mode really has: cxxopts' lines "  -t, --tee  ..." / "      --gro on|off  ...".
real = {}
for mode in modes:
    text = open(f"{work}/help.{mode}").read()
    text = text[text.index("Usage:"):]
    real[mode] = set(re.findall(r"^ {2,}(?:-\w, )?--([\w-]+)", text, re.M))

# Options the page defines, per mode: an entry is an unindented line starting
# with "*-" whose description follows, indented, in a "## " subsection of OPTIONS.
documented = {mode: set() for mode in modes}
section = subsection = None
lines = open(source).read().split("\n")
for line, after in zip(lines, lines[1:]):
    if line.startswith("# "):
        section, subsection = line[2:].strip(), None
    elif line.startswith("## "):
        subsection = line[3:].strip()
    elif section == "OPTIONS" and subsection and line.startswith("*-") and after.startswith("\t"):
        names = re.findall(r"\*--([\w-]+)\*", line)
        if subsection in modes:
            owners = {subsection}
        elif subsection == "Every mode":
            owners = set(modes)
        else:
            listed = re.search(r"\(([^)]*)\)\s*$", line)
            if not listed:
                sys.exit(f"entry without its modes in ({subsection}): {line.strip()}")
            owners = set(modes) if listed.group(1) == "every mode" else \
                {m.strip() for m in listed.group(1).split(",")}
            if not owners <= set(modes):
                sys.exit(f"unknown mode in: {line.strip()}")
        for mode in owners:
            documented[mode].update(names)

bad = False
for mode in modes:
    for option in sorted(real[mode] - documented[mode]):
        print(f"nd{mode} --{option} is not documented for {mode} in {source}")
        bad = True
    for option in sorted(documented[mode] - real[mode]):
        print(f"the man page documents --{option} for {mode}, which nd{mode} --help does not list")
        bad = True
# Every counter name (stage/stats.cpp's table: JSON keys, metric names) is in COUNTERS.
text = open(source).read()
counters = text[text.index("# COUNTERS"):text.index("\n# ", text.index("# COUNTERS") + 1)]
for name in re.findall(r'^\s*\{"(\w+)", "', open(stats).read(), re.M):
    if f"*{name}*" not in counters:
        print(f"counter {name} (src/stage/stats.cpp) is not in the man page's COUNTERS section")
        bad = True
if bad:
    sys.exit(1)
total = sum(len(options) for options in real.values())
print(f"{total} options of 4 modes, each documented for its mode")
EOF
