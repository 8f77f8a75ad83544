# shellcheck shell=bash
# Shared helpers for the e2e tests: source this file, then call nd_setup.
#
#   source "$(dirname "$0")/lib/common.sh"
#   nd_setup
#   nd_start srv "$ND/ndserver" --path "$WORK/out.log" --listen-addr 127.0.0.1:0
#   addr=$(nd_listen_addr srv udp)
#
# Conventions: exit 0 = pass, 77 = skip, anything else = fail. No fixed sleeps:
# every wait polls a condition every 50 ms until a deadline.
# ND_BUILD is the build directory holding the nd* names; ND_KEEP=1 keeps $WORK.

ND="${ND_BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build}"
ND_POLL=0.05   # poll step of every wait below (the only sleep the tests use)

# ---- outcome ---------------------------------------------------------------

# fail MSG...: print the reason and end the test as failed.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# skip MSG...: print why and end the test as skipped (meson counts 77 as skip).
skip() {
  echo "SKIP: $*" >&2
  exit 77
}

# assert_eq A B MSG: fail unless A and B are the same string.
assert_eq() {
  [[ "$1" == "$2" ]] || fail "$3: expected '$1', got '$2'"
}

# nd_sha FILE: prints the sha256 of FILE.
nd_sha() {
  sha256sum <"$1" | cut -d' ' -f1
}

# assert_same_sha EXPECTED_FILE ACTUAL_FILE: byte-identical or fail with sizes.
assert_same_sha() {
  [[ -f "$1" ]] || fail "assert_same_sha: expected file $1 does not exist"
  [[ -f "$2" ]] || fail "assert_same_sha: actual file $2 does not exist"
  local expected actual
  expected=$(nd_sha "$1")
  actual=$(nd_sha "$2")
  if [[ "$expected" != "$actual" ]]; then
    fail "$2 differs from $1: $(stat -c %s "$2") bytes (sha256 ${actual:0:16}) vs" \
      "$(stat -c %s "$1") bytes (sha256 ${expected:0:16}); $(cmp "$1" "$2" 2>&1 | head -n 1)"
  fi
}

# ---- work directory and cleanup ---------------------------------------------

ND_CLEANUP=()
ND_PIDS=() # every pid nd_start started, kept here too in case $WORK is gone
declare -A ND_REAPED=() # pids already waited for: never signal them (reuse)

# nd_on_exit CMD...: run CMD (one string, eval'ed) at exit, before $WORK is removed.
nd_on_exit() {
  ND_CLEANUP+=("$*")
}

# nd_kill_all: SIGKILL every process started with nd_start that is still there.
nd_kill_all() {
  local pid
  for pid in "${ND_PIDS[@]}"; do
    [[ -z "${ND_REAPED[$pid]:-}" ]] || continue
    # nd_start puts each command in its own session: kill the whole group.
    kill -KILL -- "-$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}

nd_exit_trap() {
  local status=$? cmd
  trap "" PIPE # a closed stderr (e.g. `| head`) must not stop the cleanup
  set +e
  nd_kill_all
  for cmd in "${ND_CLEANUP[@]}"; do eval "$cmd"; done
  if [[ $status -ne 0 && $status -ne 77 ]]; then
    local err
    for err in "$WORK"/*.err; do
      [[ -s "$err" ]] || continue
      # Processes that ended with 0 are not what went wrong: keep the output short.
      [[ "$(cat "${err%.err}.rc" 2>/dev/null)" != 0 ]] || continue
      echo "---- last lines of $(basename "$err") ----" >&2
      tail -n 15 "$err" >&2
    done
  fi
  if [[ "${ND_KEEP:-0}" == 1 ]]; then
    echo "kept work directory $WORK" >&2
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}

# The build's platform flavour, as `netdisp --version` prints it (its
# "platform:" line; net/platform.h): "linux" (the fast paths) or "portable"
# (-Dportable=true: generic POSIX, what macOS and the BSDs build).
nd_platform() { "$ND/netdisp" --version | sed -n 's/^platform: //p'; }

# nd_tsan: true when ND_BUILD is a ThreadSanitizer build (b_sanitize=thread,
# scripts/test --tsan). Its instrumented code runs 5-15x slower; and its
# symbolizer (llvm-symbolizer, a child process started at the first report,
# a suppressed one too) holds two pipes of the process under test.
nd_tsan() {
  grep -q '"name": "b_sanitize", "value": "thread"' "$ND/meson-info/intro-buildoptions.json" 2>/dev/null
}

# nd_check_stop_ms MS WHAT: WHAT took MS ms to stop; fails unless under 1 s,
# the contract with library threads running. Under ThreadSanitizer (5-15x
# slower) it only says so: the release and ASan builds check it.
nd_check_stop_ms() {
  ((${1} < 1000)) && return 0
  if nd_tsan; then
    echo "$2 took $1 ms to stop: not checked under ThreadSanitizer (5-15x slower)" >&2
    return 0
  fi
  fail "$2 took $1 ms to stop"
}

# nd_require_linux_platform WHAT: skip, saying why, in a portable build.
nd_require_linux_platform() {
  [[ "$(nd_platform)" == linux ]] || skip "$* is Linux's only; this is a $(nd_platform) build (net/platform.h)"
}

# nd_kernel_drops N: how a UDP listener's summary line says that the kernel
# dropped N datagrams; a portable build has no such counter and says so.
nd_kernel_drops() {
  if [[ "$(nd_platform)" == linux ]]; then
    echo "$1 dropped by the kernel"
  else
    echo "kernel drops unknown (this portable POSIX build keeps no per-socket counter)"
  fi
}

# nd_setup: make $WORK, check the binaries, install the cleanup trap.
nd_setup() {
  [[ -x "$ND/netdisp" ]] || fail "no netdisp in ND_BUILD=$ND"
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/nd-e2e.XXXXXX")
  export WORK ND
  trap nd_exit_trap EXIT
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 141' PIPE
  trap 'exit 143' TERM
}

# ---- processes ----------------------------------------------------------------

# nd_start NAME CMD...: run CMD in the background (own session, stdin kept),
# stdout to $WORK/NAME.out, stderr to $WORK/NAME.err, pid in $WORK/NAME.pid.
nd_start() {
  local name=$1
  shift
  [[ ! -e "$WORK/$name.pid" ]] || fail "nd_start: $name already started"
  # setsid does not fork here (we are not a group leader), so $! is CMD itself.
  # The explicit <&0 keeps the caller's stdin instead of bash's /dev/null.
  setsid "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" <&0 &
  ND_PIDS+=($!)
  echo $! >"$WORK/$name.pid"
}

# nd_pid NAME: prints the pid of NAME.
nd_pid() {
  [[ -e "$WORK/$1.pid" ]] || fail "nd_pid: $1 was never started"
  cat "$WORK/$1.pid"
}

# nd_running NAME: true while NAME has not exited (a zombie counts as exited).
nd_running() {
  local pid stat state
  pid=$(nd_pid "$1")
  [[ -z "${ND_REAPED[$pid]:-}" ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  state=${stat##*) } # the state follows "(comm) ", and comm may hold spaces
  state=${state%% *}
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# nd_wait NAME [SECONDS]: waits (default 10 s) for NAME to exit by itself and
# returns its exit status (also stored in $WORK/NAME.rc); 124 on timeout.
nd_wait() {
  local name=$1 seconds=${2:-10} pid status=0
  pid=$(nd_pid "$name")
  if ! wait_until "$seconds" eval '! nd_running "$name"'; then
    echo "nd_wait: $name (pid $pid) still running after ${seconds}s" >&2
    return 124
  fi
  wait "$pid" || status=$?
  ND_REAPED[$pid]=1
  echo "$status" >"$WORK/$name.rc"
  return "$status"
}

# nd_expect_exit NAME CODE [SECONDS]: waits (default 10 s) for NAME to exit by
# itself and fails the test unless its exit status is CODE.
nd_expect_exit() {
  local name=$1 code=$2 seconds=${3:-10} status=0
  nd_wait "$name" "$seconds" || status=$?
  [[ $status -eq $code ]] || fail "$name exited $status, expected $code"
}

# nd_stop NAME [SIGNAL]: sends SIGNAL (default TERM), waits up to 5 s for the
# exit and returns its status; on timeout kills it and returns 124.
nd_stop() {
  local name=$1 signal=${2:-TERM} pid status=0
  pid=$(nd_pid "$name")
  if [[ -e "$WORK/$name.rc" ]]; then return "$(<"$WORK/$name.rc")"; fi
  kill -"$signal" "$pid" 2>/dev/null || true
  nd_wait "$name" 5 || status=$?
  if [[ $status -eq 124 ]] && nd_running "$name"; then
    echo "nd_stop: $name ignored SIG$signal for 5 s, killing it" >&2
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    ND_REAPED[$pid]=1
    echo 124 >"$WORK/$name.rc"
  fi
  return "$status"
}

# nd_stop_expect CODE NAME...: stops each NAME with SIGTERM; the test fails
# unless it exits CODE.
nd_stop_expect() {
  local code=$1 name status
  shift
  for name in "$@"; do
    status=0
    nd_stop "$name" || status=$?
    assert_eq "$code" "$status" "$name exit status on SIGTERM"
  done
}

# nd_stop_ok NAME...: stops each NAME with SIGTERM; it must exit 0.
nd_stop_ok() { nd_stop_expect 0 "$@"; }

# nd_stop_interrupted NAME...: stops each client NAME with SIGTERM before the
# end of its input; it must exit 143 (128 + SIGTERM), as an interrupted transfer does.
nd_stop_interrupted() { nd_stop_expect 143 "$@"; }

# ---- waiting --------------------------------------------------------------------

# wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds; 1 at the deadline.
wait_until() {
  local seconds=$1
  shift
  local whole=${seconds%.*} frac=000 deadline now
  [[ "$seconds" == *.* ]] && frac=${seconds#*.}000
  deadline=$(($(date +%s%3N) + 10#${whole:-0} * 1000 + 10#${frac:0:3}))
  while true; do
    if "$@"; then return 0; fi
    now=$(date +%s%3N)
    ((now < deadline)) || return 1
    sleep "$ND_POLL" # poll step until the deadline
  done
}

nd_size() {
  stat -c %s "$1" 2>/dev/null || echo 0
}

nd_size_at_least() {
  (($(nd_size "$1") >= $2))
}

# wait_file_size FILE BYTES [SECONDS]: waits (default 10 s) until FILE holds at
# least BYTES bytes; returns 1 with a message at the deadline.
wait_file_size() {
  local file=$1 bytes=$2 seconds=${3:-10}
  if ! wait_until "$seconds" nd_size_at_least "$file" "$bytes"; then
    echo "wait_file_size: $file has $(nd_size "$file") bytes after ${seconds}s, expected $bytes" >&2
    return 1
  fi
}

# wait_log NAME REGEX [SECONDS]: waits (default 10 s) for a line matching the
# extended REGEX in $WORK/NAME.err; returns 1 with a message at the deadline.
wait_log() {
  local name=$1 regex=$2 seconds=${3:-10}
  if ! wait_until "$seconds" grep -Eq -- "$regex" "$WORK/$name.err"; then
    echo "wait_log: no line matching /$regex/ in $name.err after ${seconds}s" >&2
    return 1
  fi
}

# nd_listen_addr NAME [udp|tcp] [N]: waits up to 10 s for the Nth `listening on
# PROTO ADDR` line of NAME and prints ADDR; fails the test on timeout.
nd_listen_addr() {
  local name=$1 proto=${2:-udp} n=${3:-1} addr
  local pattern="listening on $proto [^ ]+"
  nd_nth_listen() {
    grep -Eo -- "$pattern" "$WORK/$name.err" 2>/dev/null | sed -n "${n}p" | grep -q .
  }
  if ! wait_until 10 nd_nth_listen; then
    echo "---- $name.err ----" >&2
    cat "$WORK/$name.err" >&2 || true
    fail "nd_listen_addr: $name did not log listening on $proto (#$n) within 10 s"
  fi
  addr=$(grep -Eo -- "$pattern" "$WORK/$name.err" | sed -n "${n}p")
  echo "${addr##* }"
}

# nd_start_on_free_port NAME tcp|udp CMD...: starts CMD, a peer that cannot
# bind port 0 and tell us the port (socat, nc), on a free random high port:
# every argument's "{PORT}" becomes the port. Waits until the port listens and
# sets PORT; fails the test after 8 ports that did not work.
nd_start_on_free_port() {
  local name=$1 proto=$2 try arg cmd
  shift 2
  for try in 1 2 3 4 5 6 7 8; do
    PORT=$((20000 + RANDOM % 40000))
    ss -Hln --"$proto" "sport = :$PORT" | grep -q . && continue
    cmd=()
    for arg in "$@"; do cmd+=("${arg//\{PORT\}/$PORT}"); done
    rm -f "$WORK/$name.pid" "$WORK/$name.rc"
    nd_start "$name" "${cmd[@]}"
    if wait_until 5 eval 'ss -Hln --"$proto" "sport = :$PORT" | grep -q . || ! nd_running "$name"' &&
      nd_running "$name"; then
      return 0
    fi
    nd_stop "$name" KILL >/dev/null 2>&1 || true
    echo "$name could not use port $PORT: $(cat "$WORK/$name.err")" >&2
    mv "$WORK/$name.err" "$WORK/$name.err.$try"
  done
  fail "no free port for $name after 8 tries"
}

# nd_port ADDR: prints the port of 1.2.3.4:5 or [::1]:5.
nd_port() {
  echo "${1##*:}"
}

# ---- data ------------------------------------------------------------------------

# nd_random_file FILE BYTES: FILE filled with BYTES random bytes.
nd_random_file() {
  head -c "$2" /dev/urandom >"$1"
}

# nd_is_root: true when running as root (permission checks do not apply).
nd_is_root() {
  [[ $(id -u) -eq 0 ]]
}

# nd_have_pty: true where a pseudo-terminal can be opened (tmux needs one; a
# chroot without /dev/pts mounted has none).
nd_have_pty() {
  python3 -c 'import os; os.openpty()' 2>/dev/null
}
