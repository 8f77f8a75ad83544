#!/usr/bin/env bash
# `meson install --destdir` of the build under test (--no-rebuild: the build
# is what is tested), then the tree it made:
# - every file meson says it installs is there (meson introspect --installed);
# - bin/netdisp runs (--version) from there, and ndclient, ndproxy,
#   ndreverse-proxy, ndserver are links resolving to it that run their mode;
# - man1/netdisp.1 and the four names' pages (`.so` links), which man(1)
#   opens from the tree;
# - bash completion as `netdisp` plus the four names, which completes from the
#   installed files;
# - when the source has them (data/systemd), the three systemd template units
#   and the example confs in sysconfdir/netdisp.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

root=$(cd "$(dirname "$0")/../.." && pwd)
dest="$WORK/dest"
meson install -C "$ND" --no-rebuild --destdir "$dest" >"$WORK/install.txt" 2>&1 ||
  fail "meson install failed: $(tail -n 5 "$WORK/install.txt")"

# Where this build installs (its prefix and directories), and whether every
# file meson lists as installed is in the tree.
meson introspect "$ND" --buildoptions --installed >"$WORK/introspect.json"
python3 - "$WORK/introspect.json" "$dest" >"$WORK/dirs" <<'EOF2' || fail "meson install left out files it lists: $(cat "$WORK/dirs")"
import json, os, sys
info = json.load(open(sys.argv[1]))
options = {o["name"]: o["value"] for o in info["buildoptions"]}
prefix = options["prefix"]
for name in ("bindir", "mandir", "sysconfdir"):
    value = options[name]
    print(f"{name}={value if value.startswith('/') else prefix + '/' + value}")
missing = [p for p in info["installed"].values() if not os.path.lexists(sys.argv[2] + p)]
print(f"prefix={prefix} listed={len(info['installed'])}")
for p in missing:
    print("not installed:", p)
sys.exit(1 if missing else 0)
EOF2
prefix=$(sed -n 's/^prefix=\([^ ]*\) .*/\1/p' "$WORK/dirs")
bindir=$(sed -n 's/^bindir=//p' "$WORK/dirs")
bin=$dest$bindir
man1=$dest$(sed -n 's/^mandir=//p' "$WORK/dirs")/man1
etc=$dest$(sed -n 's/^sysconfdir=//p' "$WORK/dirs")/netdisp

# The binary and its multi-call names.
[[ -x $bin/netdisp && ! -L $bin/netdisp ]] || fail "$bin/netdisp is not an installed executable"
version=$("$bin/netdisp" --version) || fail "installed netdisp --version exited $?"
[[ $version == "netdisp "* ]] || fail "installed netdisp --version printed '$version'"
for name in ndclient ndproxy ndreverse-proxy ndserver; do
  [[ -L $bin/$name ]] || fail "$bin/$name is not a symlink"
  assert_eq "$bin/netdisp" "$(readlink -f "$bin/$name")" "$name resolves to"
  assert_eq "$version" "$("$bin/$name" --version 2>&1 || true)" "installed $name --version"
done
# The transport modules meson built are installed in libdir/netdisp and load
# from there (NETDISP_MODULE_DIR: the tree is not at its prefix).
libdir=$(meson introspect "$ND" --buildoptions | python3 -c 'import json,sys; print({o["name"]: o["value"] for o in json.load(sys.stdin)}["libdir"])')
[[ $libdir == /* ]] || libdir=$prefix/$libdir
transports=$(NETDISP_MODULE_DIR=$dest$libdir/netdisp "$bin/netdisp" --version | sed -n 2p)
[[ $transports == "transports: "* && $transports != *"cannot load"* ]] ||
  fail "installed modules do not load: '$transports' ($(ls "$dest$libdir/netdisp" 2>&1))"
for module in "$ND"/netdisp-*.so; do
  [[ -e $module ]] || continue
  [[ -f $dest$libdir/netdisp/${module##*/} ]] || fail "${module##*/} is not installed in $libdir/netdisp"
done
"$bin/ndserver" --help | grep -q -- "--listen-addr" || fail "installed ndserver --help is not the server's"
"$bin/ndclient" --help | grep -q -- "--server-addr" || fail "installed ndclient --help is not the client's"

# The man pages: netdisp.1, and each name's page points to it (man opens it).
[[ -f $man1/netdisp.1 ]] || fail "no $man1/netdisp.1"
for name in ndclient ndproxy ndreverse-proxy ndserver; do
  assert_eq ".so man1/netdisp.1" "$(cat "$man1/$name.1")" "$name.1"
done
MANWIDTH=80 man -M "${man1%/man1}" -P cat ndreverse-proxy 2>/dev/null | col -b >"$WORK/man.txt" || true
grep -q "ndreverse-proxy - stream files" "$WORK/man.txt" ||
  fail "man ndreverse-proxy (from the installed tree) does not show netdisp(1): $(head -n 3 "$WORK/man.txt")"

# bash completion: the file and the four names, wherever this build puts completions.
completion=$(find "$dest" -path '*/completions/netdisp' -type f)
[[ -n $completion ]] || fail "no bash completion installed as .../completions/netdisp"
for name in ndclient ndproxy ndreverse-proxy ndserver; do
  assert_eq "$completion" "$(readlink -f "$(dirname "$completion")/$name")" "completion for $name resolves to"
done
# It completes from the installed tree.
got=$(PATH="$bin:$PATH" bash -c 'source "$1"
  COMP_LINE="ndserver --listen" COMP_POINT=17 COMP_WORDS=(ndserver --listen) COMP_CWORD=1
  _netdisp ndserver --listen ndserver; echo "${COMPREPLY[*]}"' _ "$completion")
assert_eq "--listen-addr" "$got" "the installed completion of 'ndserver --listen'"

# The systemd units and example confs, once the source tree has them.
if [[ -d $root/data/systemd ]]; then
  for mode in server proxy reverse-proxy; do
    unit=$(find "$dest" -path "*/systemd/system/netdisp-$mode@.service")
    [[ -n $unit ]] || fail "netdisp-$mode@.service was not installed"
    grep -q "^ExecStart=$bindir/nd$mode " "$unit" ||
      fail "netdisp-$mode@.service does not start the installed $bindir/nd$mode: $(grep ExecStart "$unit")"
  done
fi
if [[ -d $root/data/netdisp ]]; then
  for conf in "$root"/data/netdisp/*.conf; do
    [[ -f $etc/$(basename "$conf") ]] || fail "$(basename "$conf") was not installed in $etc"
  done
fi
echo "installed tree under $dest$prefix: $(find "$dest" -type f -o -type l | wc -l) files and links"
