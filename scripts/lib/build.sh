# shellcheck shell=bash disable=SC2034  # sourced; ND_RELEASE_OPTIONS is used by the sourcing scripts
# scripts/lib/build.sh: helpers shared by scripts/test, scripts/demo and
# scripts/bench. Source it from the repository root.

# now: seconds since the epoch, with fractions; took START: "12.3s" since START.
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# cpu_now: CPU seconds (user + system) used so far by this shell's finished
# children; cpu_took START: "cpu 123.4s" since START. On a loaded machine the
# CPU time says more about the work than the wall time does.
cpu_now() {
  # Fields 16 and 17 of /proc/PID/stat: children's user and system clock ticks.
  # $$ is this shell even inside $(...).
  local stat
  stat=$(</proc/$$/stat)
  awk -v f="${stat##*) }" -v hz="$(getconf CLK_TCK)" 'BEGIN { split(f, v, " "); print (v[14] + v[15]) / hz }'
}
cpu_took() { awk -v a="$1" -v b="$(cpu_now)" 'BEGIN { printf "cpu %.1fs", b - a }'; }

# meson_setup DIR ARGS...: configure DIR, or reconfigure it so that new tests
# and changed options are picked up; start over when the old one is unusable
# (e.g. made by another meson version). A reconfigure leaves out -Dbuildtype:
# meson 1.0 applies the project's default optimization=s at the first setup
# but the build type's own level (-O2 for debugoptimized) when it is given
# again, so repeating it would recompile everything once.
meson_setup() {
  local dir=$1 arg again=(); shift
  if [[ -f $dir/meson-private/coredata.dat ]]; then
    for arg in "$@"; do [[ $arg == -Dbuildtype=* ]] || again+=("$arg"); done
    meson setup --reconfigure "$dir" "${again[@]}" || meson setup --wipe "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi
}

# The options of the normal build in build/, used by every script that shares
# it, so that one script's setup does not undo another's. The build type is
# the project's default (release, -Os); naming it here would reset -Os to -O3.
ND_RELEASE_OPTIONS=(-Dtests=true)
