#!/usr/bin/env bash
# The Debian package, built, checked, installed and removed on this machine:
# scripts/package builds the .deb (one build), lintian finds no error in it,
# its Depends come from shlibs (every shared library the binary needs is
# named), `dpkg -i` installs what `meson install` installs (netdisp, the four
# nd* names, their man pages and completion, the systemd template units, the
# example confs as conffiles in /etc/netdisp), /usr/bin/ndserver --version prints meson's
# project version, no unit is enabled, `dpkg -r` removes the programs and
# keeps the conffiles, `dpkg --purge` removes those too.
#
# It needs root (dpkg -i); CI runs it as root. It leaves the machine as it
# found it, also when it fails: the package is purged on exit. It refuses to
# run (skips) where netdisp is installed already, by a package or by hand,
# because it could not put that back. Exit 0 pass, 1 fail, 77 skip.
# ND_VERSION: the expected version (meson passes its project version).
# ND_DEB=FILE: check that .deb instead of building one (quicker, by hand).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

((EUID == 0)) || skip "dpkg -i needs root (CI runs the package suite as root)"
for tool in dpkg-buildpackage dh lintian meson python3 readelf; do
  command -v "$tool" >/dev/null || fail "$tool is missing (scripts/deps installs it)"
done

# dpkg-query prints a status for known packages and fails for unknown ones.
pkg_status() { dpkg-query -W -f='${db:Status-Abbrev}' netdisp 2>/dev/null || true; }
status=$(pkg_status)
[[ -z $status || $status == un* ]] ||
  skip "a netdisp package is on this machine already (dpkg status '$status'); not replacing it"
programs=(/usr/bin/netdisp /usr/bin/ndclient /usr/bin/ndproxy /usr/bin/ndreverse-proxy /usr/bin/ndserver)
for path in "${programs[@]}" /etc/netdisp; do
  [[ ! -e $path && ! -L $path ]] || skip "$path exists (not from a package): dpkg -i would replace it"
done

version=${ND_VERSION:-$(meson introspect --projectinfo "$repo/meson.build" |
                        python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')}

work=$(mktemp -d "${TMPDIR:-/tmp}/nd-package.XXXXXX")
installed=0
cleanup() {
  local rc=$?
  set +e
  if ((installed)) && [[ -n $(pkg_status) && $(pkg_status) != un* ]]; then
    echo "cleanup: dpkg --purge netdisp" >&2
    dpkg --purge netdisp >&2 || rc=1
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM

# ---- build: one package build (ND_DEB=FILE checks a .deb built before) -------------
deb=$work/deb/netdisp_${version}_$(dpkg --print-architecture).deb
if [[ -n ${ND_DEB:-} ]]; then
  mkdir "$work/deb" && cp "$ND_DEB" "$deb" && echo "$ND_DEB" >"$work/debs"
else
  start=$(now)
  # One package, no debug symbols package (and so no -g: a faster build).
  DEB_BUILD_OPTIONS="noddebs${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}" \
    "$repo/scripts/package" --out "$work/deb" >"$work/debs" || fail "scripts/package failed"
  echo "scripts/package: built in $(took "$start") s"
fi
[[ -f $deb ]] || fail "no $(basename "$deb") among: $(tr '\n' ' ' <"$work/debs")"
echo "$(basename "$deb"): $(stat -c %s "$deb") bytes, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
[[ $(dpkg-deb -f "$deb" Version) == "$version" ]] ||
  fail "package version $(dpkg-deb -f "$deb" Version), meson project version $version"

# ---- lintian: no error --------------------------------------------------------------
start=$(now)
lintian_rc=0
lintian --fail-on error "$deb" >"$work/lintian" 2>&1 || lintian_rc=$?
echo "lintian ($(took "$start") s):"
sed 's/^/  /' "$work/lintian"
! grep -q '^E:' "$work/lintian" || fail "lintian reports errors"
((lintian_rc == 0)) || fail "lintian exited $lintian_rc"

# ---- Depends from shlibs: every library the binary needs, by its package -----------
dpkg-deb -x "$deb" "$work/root"
depends=$(dpkg-deb -f "$deb" Depends)
echo "usr/bin/netdisp: $(stat -c %s "$work/root/usr/bin/netdisp") bytes"
echo "Depends: $depends"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
while read -r lib; do
  owner=$(dpkg-query -S "*/$multiarch/$lib" 2>/dev/null | awk -F'[:,]' '!/^diversion/ { print $1; exit }') || true
  [[ -n $owner ]] || fail "no package here holds $lib, which usr/bin/netdisp needs"
  # shlibs may name a virtual package the owner provides (libspdlog1.10-fmt9).
  named=0
  for name in "$owner" $(dpkg-query -W -f='${Provides}' "$owner" | sed 's/([^)]*)//g; s/,/ /g'); do
    [[ ", $depends," == *", $name "* || ", $depends," == *", $name,"* ]] && named=1
  done
  ((named)) || fail "usr/bin/netdisp needs $lib (package $owner) but Depends does not name it: $depends"
done < <(readelf -d "$work/root/usr/bin/netdisp" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
for lib in libspdlog libfmt; do
  [[ $depends == *"$lib"* ]] || fail "Depends names no $lib package: $depends"
done

# ---- install ------------------------------------------------------------------------
installed=1
dpkg -i "$deb" >"$work/dpkg-i" 2>&1 || { cat "$work/dpkg-i" >&2; fail "dpkg -i failed"; }
[[ $(pkg_status) == ii* ]] || fail "dpkg status after dpkg -i: '$(pkg_status)'"
[[ -x /usr/bin/netdisp && ! -L /usr/bin/netdisp ]] || fail "/usr/bin/netdisp is not installed"
for name in ndclient ndproxy ndreverse-proxy ndserver; do
  [[ $(readlink "/usr/bin/$name") == netdisp ]] || fail "/usr/bin/$name is not a symlink to netdisp"
done
out=$(/usr/bin/ndserver --version 2>&1) || fail "/usr/bin/ndserver --version failed: $out"
[[ $(head -n 1 <<<"$out") == "netdisp $version" ]] ||
  fail "/usr/bin/ndserver --version printed '$out', expected 'netdisp $version' first"
# The package always has the three transport modules, and they load from /usr/lib/<triplet>/netdisp.
[[ $(sed -n 2p <<<"$out") == "transports: udp, tcp, unix, unixgram, srt, norm, nats" ]] ||
  fail "/usr/bin/ndserver --version: the transports line is not every transport loading: '$out'"
echo "/usr/bin/ndserver --version: $out"

# What else meson installs: man pages, completion, units, example confs.
files=$(dpkg -L netdisp)
has() { grep -qx "$1" <<<"$files" || fail "the package has no $1"; [[ -e $1 ]] || fail "$1 is missing after dpkg -i"; }
for name in netdisp ndclient ndproxy ndreverse-proxy ndserver; do
  has "/usr/share/man/man1/$name.1.gz"
  has "/usr/share/bash-completion/completions/$name"
done
for name in netdisp-server@.service netdisp-proxy@.service netdisp-reverse-proxy@.service; do
  path=$(grep -xE "(/usr)?/lib/systemd/system/$name" <<<"$files") || fail "the package has no unit $name"
  [[ -f $path ]] || fail "$path is missing after dpkg -i"
done
# Templates are not enabled (an instance needs a conf first); nothing else is either.
! compgen -G "/etc/systemd/system/*.wants/netdisp*" >/dev/null || fail "a netdisp unit was enabled"
# Every example conf in the tree is a conffile in /etc/netdisp.
conffiles=$(dpkg-query -W -f='${Conffiles}\n' netdisp | awk 'NF { print $1 }')
confs=0
for conf in "$repo"/data/netdisp/*.conf; do
  [[ -f $conf ]] || continue
  confs=$((confs + 1))
  path=/etc/netdisp/$(basename "$conf")
  has "$path"
  grep -qx "$path" <<<"$conffiles" || fail "$path is not a conffile (conffiles: $conffiles)"
done
((confs)) || fail "no data/netdisp/*.conf in the tree"
echo "installed: $(wc -l <<<"$files") paths, conffiles: $(tr '\n' ' ' <<<"$conffiles")"

# ---- remove, then purge --------------------------------------------------------------
dpkg -r netdisp >"$work/dpkg-r" 2>&1 || { cat "$work/dpkg-r" >&2; fail "dpkg -r failed"; }
for path in "${programs[@]}"; do
  [[ ! -e $path && ! -L $path ]] || fail "$path is still there after dpkg -r"
done
for path in $conffiles; do
  [[ -f $path ]] || fail "conffile $path went with dpkg -r (only --purge removes conffiles)"
done
dpkg --purge netdisp >"$work/dpkg-purge" 2>&1 || { cat "$work/dpkg-purge" >&2; fail "dpkg --purge failed"; }
[[ -z $(pkg_status) || $(pkg_status) == un* ]] || fail "dpkg status after --purge: '$(pkg_status)'"
[[ ! -e /etc/netdisp ]] || fail "/etc/netdisp is still there after dpkg --purge"
installed=0
echo "dpkg -i, -r and --purge: ok"
