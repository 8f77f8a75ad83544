# shellcheck shell=bash
# shellcheck disable=SC2015  # `[[ x ]] && echo - || awk ...`: echo cannot fail
# Helpers for scripts/bench: processes, waiting, memory sampling, results.
# Sourced after $W (work directory) and $RES (results file) are set.
#
# Results are one line per trial of space-separated key=value pairs, so any
# figure can be pulled back out with `vals FILTER... -- KEY` and summarised
# with `stats`.

BENCH_POLL=0.05  # poll step of every wait below

declare -A BENCH_PIDS=()

# ---- processes ----------------------------------------------------------------

# start NAME CMD...: CMD in the background, stdout/stderr to $W/NAME.out/.err.
start() {
  local name=$1
  shift
  # Emptied here, not by the child's redirection: a wait_log right after must
  # not read the previous run's lines while the child has not started yet.
  : >"$W/$name.out"
  : >"$W/$name.err"
  "$@" >>"$W/$name.out" 2>>"$W/$name.err" &
  BENCH_PIDS[$name]=$!
}

pid_of() { echo "${BENCH_PIDS[$1]}"; }

running() {
  local pid=${BENCH_PIDS[$1]:-}
  [[ -n $pid ]] || return 1
  local state
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}

# finish NAME [SECONDS]: waits (default 60 s) for NAME to exit by itself; kills it after that.
finish() {
  local name=$1 seconds=${2:-60} pid=${BENCH_PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  wait_until "$seconds" eval '! running "$name"' || {
    echo "bench: $name still running after ${seconds}s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  }
  wait "$pid" 2>/dev/null || true
  unset "BENCH_PIDS[$name]"
}

# stop NAME [SIGNAL]: signals NAME (default TERM) and waits up to 10 s for it.
stop() {
  local name=$1 pid=${BENCH_PIDS[$1]:-}
  [[ -n $pid ]] || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  finish "$name" 10
}

stop_all() {
  local name
  for name in "${!BENCH_PIDS[@]}"; do stop "$name" KILL; done
}

# ---- waiting ------------------------------------------------------------------

# wait_until SECONDS CMD...: polls CMD until it succeeds; 1 at the deadline.
wait_until() {
  local deadline=$((${EPOCHREALTIME/./} + ${1%.*} * 1000000))
  shift
  until "$@"; do
    ((${EPOCHREALTIME/./} < deadline)) || return 1
    sleep "$BENCH_POLL" # poll step until the deadline
  done
}

udp_bound() { [[ -n $(ss -Hunl "sport = :$1") ]]; }
tcp_bound() { [[ -n $(ss -Htln "sport = :$1") ]]; }

wait_udp() { wait_until 10 udp_bound "$1" || die "nothing listens on udp port $1 after 10 s"; }
wait_tcp() { wait_until 10 tcp_bound "$1" || die "nothing listens on tcp port $1 after 10 s"; }

# wait_log NAME REGEX [SECONDS]: waits for a line of $W/NAME.err.
wait_log() {
  wait_until "${3:-10}" grep -qE -- "$2" "$W/$1.err" || die "$1 did not log /$2/ in ${3:-10} s: $(tail -n 3 "$W/$1.err")"
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# wait_quiet FILE [SECONDS]: waits until FILE's size has not changed for 300 ms
# (the receiver has taken everything it will take), at most SECONDS (default 60).
wait_quiet() {
  local file=$1 deadline=$((${EPOCHREALTIME/./} + ${2:-60} * 1000000))
  local last=-1 since=${EPOCHREALTIME/./} size now
  while :; do
    size=$(file_size "$file")
    now=${EPOCHREALTIME/./}
    if [[ $size != "$last" ]]; then
      last=$size
      since=$now
    elif ((now - since >= 300000)); then
      return 0
    fi
    ((now < deadline)) || return 1
    sleep "$BENCH_POLL" # poll step until the deadline
  done
}

# ---- measuring ------------------------------------------------------------------

# udp_drops PORT: the drops column of /proc/net/udp{,6} for sockets bound to PORT.
udp_drops() {
  local hex
  hex=$(printf '%04X' "$1")
  awk -v port=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == port { n += $NF } END { print n + 0 }' \
    /proc/net/udp /proc/net/udp6
}

# mem_watch PID OUT: until PID exits, samples /proc/PID/smaps_rollup every 100 ms
# and keeps the largest Rss and Private_Dirty (KiB) in OUT as "rss_kb=R pd_kb=P".
mem_watch() {
  local pid=$1 out=$2 key value _ rss=0 pd=0 max_rss=0 max_pd=0
  while [[ -r /proc/$pid/smaps_rollup ]]; do
    rss=0 pd=0
    while read -r key value _; do
      case $key in
        Rss:) rss=$value ;;
        Private_Dirty:) pd=$value ;;
      esac
    done <"/proc/$pid/smaps_rollup" 2>/dev/null || break
    ((rss > max_rss)) && max_rss=$rss
    ((pd > max_pd)) && max_pd=$pd
    echo "rss_kb=$max_rss pd_kb=$max_pd" >"$out"
    sleep 0.1 # sampling poll step
  done
}

# mem_now PID: "rss_kb=R pd_kb=P" from smaps_rollup right now.
mem_now() {
  awk '/^Rss:/ { r = $2 } /^Private_Dirty:/ { p = $2 } END { printf "rss_kb=%d pd_kb=%d\n", r, p }' \
    "/proc/$1/smaps_rollup"
}

# ---- results ------------------------------------------------------------------

# record KEY=VALUE...: one trial.
record() { echo "$*" >>"$RES"; }

# vals KEY=VALUE... -- FIELD: FIELD of every trial matching all filters, one per line.
vals() {
  local filters=()
  while [[ $1 != -- ]]; do
    filters+=("$1")
    shift
  done
  awk -v filters="${filters[*]}" -v field="$2" '
    BEGIN { n = split(filters, f, " ") }
    {
      delete kv
      for (i = 1; i <= NF; i++) { p = index($i, "="); kv[substr($i, 1, p - 1)] = substr($i, p + 1) }
      for (i = 1; i <= n; i++) { p = index(f[i], "="); if (kv[substr(f[i], 1, p - 1)] != substr(f[i], p + 1)) next }
      if (field in kv) print kv[field]
    }' "$RES"
}

# stats: numbers on stdin -> "median min max count" ("- - - 0" when none).
stats() {
  awk 'NF && $1 != "-"' | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - - 0"; exit }
    m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    print m, v[1], v[NR], NR }'
}

# field N "a b c d": the Nth word.
field() {
  local -a words
  read -ra words <<<"$2"
  echo "${words[$1 - 1]:-}"
}

# kv KEY "k1=v1 k2=v2": value of KEY in a key=value line.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n 1; }

# ---- formatting -----------------------------------------------------------------

# gbit BITS_PER_SECOND: "6.42" (Gbit/s, 2 decimals).
gbit() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf "%.2f", v / 1e9 }'; }

# rate_text BITS: 8000000000 -> 8G, 250000000 -> 250M.
rate_text() {
  awk -v v="$1" 'BEGIN {
    if (v == 0) print "unpaced"
    else if (v >= 1e9) { s = sprintf("%.2f", v / 1e9); sub(/\.?0+$/, "", s); print s "G" }
    else { s = sprintf("%.1f", v / 1e6); sub(/\.?0+$/, "", s); print s "M" } }'
}

# pct PART WHOLE: percentage with 4 decimals.
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", (b > 0 ? 100 * a / b : 0) }'; }

# ratio A B: A/B with 2 decimals, "-" when B is 0 or missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }

# ge A B: true when A >= B (floats).
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "-" && b != "-" && a + 0 >= b + 0) }'; }

# med_range "median min max n" FORMATTER: "median (min-max)".
med_range() {
  local s=$1 fmt=${2:-echo}
  [[ $(field 4 "$s") == 0 ]] && { echo "-"; return; }
  echo "$($fmt "$(field 1 "$s")") ($($fmt "$(field 2 "$s")")-$($fmt "$(field 3 "$s")"))"
}

# mem_file FILE: what mem_watch left in FILE ("rss_kb=- pd_kb=-" when it saw nothing).
mem_file() { cat "$1" 2>/dev/null || echo "rss_kb=- pd_kb=-"; }
