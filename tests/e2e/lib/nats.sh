# shellcheck shell=bash
# nats-server for the e2e tests: one server, or a three-node cluster, on
# loopback ports nobody else uses, stopped by the test's exit trap. Source it
# after lib/common.sh and nd_setup:
#
#   source "$(dirname "$0")/lib/common.sh"
#   source "$(dirname "$0")/lib/nats.sh"
#   nd_setup
#   nd_nats_need                      # skip (77) when nats-server is missing
#   nd_nats_start bus                 # core NATS; `nd_nats_start bus --js` for JetStream
#   url=$(nd_nats_url bus)            # nats://127.0.0.1:PORT
#
#   nd_nats_cluster --js na nb nc     # three nodes with routes to each other
#   nd_nats_url nb                    # each node's client URL
#   nd_nats_stop nb                   # SIGTERM (nd_nats_stop nb KILL: SIGKILL)
#
# Every server is started with nd_start (own session, $WORK/NAME.err holds its
# log, $WORK/NAME.pid its pid), so nd_exit_trap kills whatever is left. The
# client port and the monitoring (HTTP) port are chosen by the server
# (-p -1, -m -1) and read back from its log; nd_nats_monitor NAME prints the
# monitoring base URL (http://127.0.0.1:PORT, /varz /routez /jsz /connz ...).
#
# JetStream (--js): its store is $WORK/NAME.js (removed with $WORK). In a
# cluster every node has a server name (its NAME) and the cluster name
# "nd-e2e", so a stream with replicas 3 has its three peers.
#
# The cluster: JetStream refuses a cluster without configured routes, so the
# three cluster (route) ports are picked before the start (free ports in
# 20000-59999 that nobody listens on) and every node gets routes to all three
# (a route to itself is ignored). If another process took one of them in
# between, the whole cluster is started again on other ports (up to 5 times).
# nd_nats_cluster returns when every node has routes to the two others and,
# with --js, every node knows the JetStream meta leader.

ND_NATS_SERVER=${ND_NATS_SERVER:-nats-server}

# nd_nats_need: skips the test when nats-server is not installed.
nd_nats_need() {
  command -v "$ND_NATS_SERVER" >/dev/null 2>&1 ||
    skip "no $ND_NATS_SERVER (scripts/deps installs the package nats-server)"
}

# _nd_nats_ports NAME: true once the log of NAME names both its client and
# its monitoring port; writes them to $WORK/NAME.url and $WORK/NAME.http.
_nd_nats_ports() {
  local name=$1 client http
  client=$(grep -Eo 'Listening for client connections on [0-9.]+:[0-9]+' "$WORK/$name.err" 2>/dev/null |
    head -n 1) || return 1
  http=$(grep -Eo 'Starting http monitor on [0-9.]+:[0-9]+' "$WORK/$name.err" 2>/dev/null |
    head -n 1) || return 1
  [[ -n "$client" && -n "$http" ]] || return 1
  echo "nats://${client##* }" >"$WORK/$name.url"
  echo "http://${http##* }" >"$WORK/$name.http"
}

# _nd_nats_launch NAME [--js] [nats-server options...]: starts the server
# without waiting for it.
_nd_nats_launch() {
  local name=$1 args=()
  shift
  if [[ "${1:-}" == --js ]]; then
    shift
    args+=(-js -sd "$WORK/$name.js")
  fi
  rm -f "$WORK/$name.pid" "$WORK/$name.rc" "$WORK/$name.url" "$WORK/$name.http"
  nd_start "$name" "$ND_NATS_SERVER" -a 127.0.0.1 -p -1 -m -1 "${args[@]}" "$@"
}

# _nd_nats_wait_ports NAME: waits up to 10 s for the ports of NAME; 1 when
# the server exited or did not say them in time (its log is kept).
_nd_nats_wait_ports() {
  local name=$1
  wait_until 10 eval '_nd_nats_ports "$name" || ! nd_running "$name"' || return 1
  [[ -s "$WORK/$name.url" ]] && nd_running "$name"
}

# nd_nats_start NAME [--js] [nats-server options...]: starts one nats-server
# on 127.0.0.1 and waits until it accepts clients; fails the test otherwise.
nd_nats_start() {
  local name=$1
  _nd_nats_launch "$@"
  if ! _nd_nats_wait_ports "$name"; then
    echo "---- $name.err ----" >&2
    cat "$WORK/$name.err" >&2
    fail "nats-server $name did not start"
  fi
}

# nd_nats_url NAME: prints nats://127.0.0.1:PORT of the server NAME.
nd_nats_url() {
  [[ -s "$WORK/$1.url" ]] || fail "nd_nats_url: nats-server $1 was not started"
  cat "$WORK/$1.url"
}

# nd_nats_monitor NAME: prints http://127.0.0.1:PORT, the monitoring base URL.
nd_nats_monitor() {
  [[ -s "$WORK/$1.http" ]] || fail "nd_nats_monitor: nats-server $1 was not started"
  cat "$WORK/$1.http"
}

# nd_nats_get NAME PATH: prints the monitoring page PATH (/varz, /routez, ...).
nd_nats_get() {
  curl -fsS --max-time 2 "$(nd_nats_monitor "$1")$2"
}

# _nd_nats_free_port: sets PORT to a random high TCP port nobody listens on
# (no subshell: $RANDOM must advance in this shell).
_nd_nats_free_port() {
  while true; do
    PORT=$((20000 + RANDOM % 40000))
    ss -Hlnt "sport = :$PORT" | grep -q . || break
  done
}

# _nd_nats_routes NAME N: true when NAME has N routes.
_nd_nats_routes() {
  local n
  n=$(nd_nats_get "$1" /routez 2>/dev/null | grep -Eo '"num_routes": *[0-9]+' | grep -Eo '[0-9]+$')
  [[ "${n:-0}" -ge "$2" ]]
}

# _nd_nats_meta_leader NAME: true when NAME knows the JetStream meta leader.
_nd_nats_meta_leader() {
  nd_nats_get "$1" /jsz 2>/dev/null | grep -Eq '"leader": *"[^"]+"'
}

# _nd_nats_cluster_ready JS NAME...: every node has routes to all the others
# (and knows the meta leader when JS is 1).
_nd_nats_cluster_ready() {
  local js=$1 name
  shift
  for name in "$@"; do
    _nd_nats_routes "$name" $(($# - 1)) || return 1
    [[ $js == 0 ]] || _nd_nats_meta_leader "$name" || return 1
  done
}

# nd_nats_cluster [--js] NAME1 NAME2 NAME3: starts a cluster of three
# nats-server processes (cluster name nd-e2e, server names NAME1..3) with
# routes to each other and waits (up to 20 s) until it has formed.
nd_nats_cluster() {
  local js=0 js_arg=() try i routes name
  if [[ "${1:-}" == --js ]]; then
    js=1
    js_arg=(--js)
    shift
  fi
  (($# == 3)) || fail "nd_nats_cluster: three names expected, got $#"
  local names=("$@") ports=()
  for try in 1 2 3 4 5; do
    ports=()
    for i in 0 1 2; do
      _nd_nats_free_port
      ports+=("$PORT")
    done
    [[ ${ports[0]} != "${ports[1]}" && ${ports[1]} != "${ports[2]}" &&
      ${ports[0]} != "${ports[2]}" ]] || continue
    routes="nats://127.0.0.1:${ports[0]},nats://127.0.0.1:${ports[1]},nats://127.0.0.1:${ports[2]}"
    for i in 0 1 2; do
      name=${names[$i]}
      _nd_nats_launch "$name" "${js_arg[@]}" -n "$name" --cluster_name nd-e2e \
        --cluster "nats://127.0.0.1:${ports[$i]}" --routes "$routes"
    done
    local ok=1
    for name in "${names[@]}"; do
      _nd_nats_wait_ports "$name" || ok=0
    done
    if ((ok)) && wait_until 20 _nd_nats_cluster_ready "$js" "${names[@]}"; then
      return 0
    fi
    # A port was taken (or the cluster did not form): keep the logs, retry.
    for name in "${names[@]}"; do
      nd_stop "$name" KILL >/dev/null 2>&1 || true
      mv "$WORK/$name.err" "$WORK/$name.err.$try"
      rm -rf "$WORK/$name.js"
    done
    echo "nd_nats_cluster: try $try on cluster ports ${ports[*]} failed:" \
      "$(grep -h -E 'FTL|ERR' "$WORK"/*.err."$try" | head -n 3)" >&2
  done
  fail "nd_nats_cluster: the cluster did not form after 5 tries"
}

# nd_nats_stop NAME [SIGNAL]: stops the server NAME (default SIGTERM; KILL
# for a crash) and waits until it has exited.
nd_nats_stop() {
  nd_stop "$1" "${2:-TERM}" >/dev/null 2>&1 || true
  ! nd_running "$1" || fail "nd_nats_stop: nats-server $1 is still running"
}

# nd_nats_request NAME SUBJECT [PAYLOAD]: a request through the server NAME
# (the NATS protocol spoken by bash over /dev/tcp, no client tool needed);
# prints the reply's payload; fails after 5 s without one. For JetStream's
# API ($JS.API.STREAM.INFO.S, $JS.API.STREAM.LEADER.STEPDOWN.S ...).
nd_nats_request() {
  local url address payload=${3:-} line size body fd
  url=$(nd_nats_url "$1")
  address=${url#nats://}
  exec {fd}<>"/dev/tcp/${address%:*}/${address##*:}" || return 1
  printf 'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\nSUB _INBOX.nd 1\r\nPUB %s _INBOX.nd %d\r\n%s\r\n' \
    "$2" "${#payload}" "$payload" >&"$fd"
  while IFS= read -r -t 5 line <&"$fd"; do
    line=${line%$'\r'}
    case $line in
      PING) printf 'PONG\r\n' >&"$fd" ;;
      MSG* | HMSG*)
        size=${line##* }
        IFS= read -r -N "$size" -t 5 body <&"$fd" || break
        exec {fd}>&-
        [[ $line == HMSG* ]] && body=${body#*$'\r\n\r\n'}
        printf '%s\n' "$body"
        return 0
        ;;
    esac
  done
  exec {fd}>&-
  return 1
}

# nd_nats_stream_leader NAME STREAM: prints the server name of STREAM's
# leader, asked through NAME (empty while there is none).
nd_nats_stream_leader() {
  local info
  info=$(nd_nats_request "$1" "\$JS.API.STREAM.INFO.$2" 2>/dev/null) || return 0
  info=$(grep -Eo '"cluster": *\{[^}]*"leader": *"[^"]*"' <<<"$info" | head -n 1) || return 0
  info=${info%\"}
  echo "${info##*\"}"
}

# nd_nats_stream_leader_to NAME STREAM TARGET: asks STREAM's leader to step
# down (through NAME) until TARGET leads it; fails after 30 s.
nd_nats_stream_leader_to() {
  local name=$1 stream=$2 target=$3 leader deadline=$((SECONDS + 30))
  while true; do
    leader=$(nd_nats_stream_leader "$name" "$stream")
    [[ $leader != "$target" ]] || return 0
    ((SECONDS < deadline)) || fail "stream $stream: $target did not become its leader in 30 s (leader: ${leader:-none})"
    if [[ -n $leader ]]; then
      nd_nats_request "$name" "\$JS.API.STREAM.LEADER.STEPDOWN.$stream" >/dev/null || true
      # The next leader: elected within a few seconds.
      wait_until 10 eval '[[ -n $(nd_nats_stream_leader "$name" "$stream") && $(nd_nats_stream_leader "$name" "$stream") != "$leader" ]]' || true
    else
      wait_until 10 eval '[[ -n $(nd_nats_stream_leader "$name" "$stream") ]]' || true  # none elected yet
    fi
  done
}
