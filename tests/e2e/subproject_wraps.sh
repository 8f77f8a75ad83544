#!/usr/bin/env bash
# subprojects/*.wrap: the fallbacks for cxxopts, spdlog and Catch2 where
# Debian's packages are missing. Nothing can be downloaded here, so:
# - each wrap parses (python's configparser) and has what a wrap-file needs:
#   directory, an https source_url, source_filename, a sha256 source_hash, and
#   either WrapDB's patch_url/patch_filename/patch_hash or a patch_directory
#   that exists under subprojects/packagefiles/;
# - every dependency(..., fallback : [SUBPROJECT, VARIABLE]) in the meson files
#   has SUBPROJECT.wrap, whose [provide] maps that dependency to VARIABLE;
# - meson itself, told to use the fallback (--force-fallback-for) and not to
#   download (--wrap-mode=nodownload), finds the wrap for each dependency and
#   stops only at the download.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

root=$(cd "$(dirname "$0")/../.." && pwd)

python3 - "$root" <<'EOF' || fail "the wrap files do not match what the meson files expect (above)"
import configparser, os, re, sys

root = sys.argv[1]
sub = os.path.join(root, "subprojects")
sha256 = re.compile(r"^[0-9a-f]{64}$")
bad = []

def check_wrap(name):
    path = os.path.join(sub, name + ".wrap")
    if not os.path.exists(path):
        bad.append(f"{name}.wrap is missing")
        return None
    wrap = configparser.ConfigParser(interpolation=None)
    wrap.read(path)
    if "wrap-file" not in wrap:
        bad.append(f"{name}.wrap: no [wrap-file] section")
        return None
    w = wrap["wrap-file"]
    for key in ("directory", "source_url", "source_filename", "source_hash"):
        if not w.get(key):
            bad.append(f"{name}.wrap: no {key}")
    if not w.get("source_url", "").startswith("https://"):
        bad.append(f"{name}.wrap: source_url is not https")
    if not sha256.match(w.get("source_hash", "")):
        bad.append(f"{name}.wrap: source_hash is not a sha256")
    if "patch_directory" in w:
        overlay = os.path.join(sub, "packagefiles", w["patch_directory"], "meson.build")
        if not os.path.exists(overlay):
            bad.append(f"{name}.wrap: patch_directory without {overlay}")
    else:
        for key in ("patch_url", "patch_filename", "patch_hash"):
            if not w.get(key):
                bad.append(f"{name}.wrap: no {key} (nor a patch_directory)")
        if not sha256.match(w.get("patch_hash", "")):
            bad.append(f"{name}.wrap: patch_hash is not a sha256")
    if "provide" not in wrap:
        bad.append(f"{name}.wrap: no [provide] section")
        return {}
    return dict(wrap["provide"])

# The fallbacks the meson files name.
fallback = re.compile(r"dependency\(\s*'([^']+)'[^)]*fallback\s*:\s*\[\s*'([^']+)'\s*,\s*'([^']+)'\s*\]")
named = []
for meson_file in ("meson.build", "tests/meson.build"):
    named += fallback.findall(open(os.path.join(root, meson_file)).read())
found = {dep for dep, _, _ in named}
for dep in ("cxxopts", "spdlog", "catch2"):
    if dep not in found:
        bad.append(f"no dependency('{dep}', fallback : [...]) in meson.build or tests/meson.build")
for dep, subproject, variable in named:
    provide = check_wrap(subproject)
    if provide is not None and provide.get(dep) != variable:
        bad.append(f"{subproject}.wrap: [provide] {dep} = {provide.get(dep)}, but the meson files expect {variable}")
for line in bad:
    print(line)
print(f"{len(named)} fallbacks checked: {', '.join(dep for dep, _, _ in named)}")
sys.exit(1 if bad else 0)
EOF

# meson's own reading of the wraps, in a throwaway project holding copies of
# them (nothing is written to the source tree): asked for each dependency with
# the fallback forced and downloads off, it finds the wrap that [provide]s it,
# and stops only at the download. (A missing or unreadable wrap says otherwise.)
mkdir -p "$WORK/check/subprojects"
cp -r "$root"/subprojects/*.wrap "$root/subprojects/packagefiles" "$WORK/check/subprojects/"
cat >"$WORK/check/meson.build" <<'MESON'
project('wrap_check', meson_version : '>=0.63')
foreach name : ['cxxopts', 'spdlog', 'catch2']
  dependency(name, required : false, allow_fallback : true)
endforeach
MESON
meson setup "$WORK/check/build" "$WORK/check" --wrap-mode=nodownload --force-fallback-for=cxxopts,spdlog,catch2 \
  >"$WORK/setup.txt" 2>&1 || fail "meson setup with the wraps failed: $(grep -m 3 ERROR "$WORK/setup.txt")"
for dep in cxxopts spdlog catch2; do
  grep -A 3 "Looking for a fallback subproject for the dependency $dep" "$WORK/setup.txt" |
    grep -q "Automatic wrap-based subproject downloading is disabled" ||
    fail "meson found no wrap providing $dep: $(grep -m 3 -i -E "error|$dep" "$WORK/setup.txt")"
done
