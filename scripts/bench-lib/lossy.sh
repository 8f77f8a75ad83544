#!/usr/bin/env bash
# scripts/bench section 7 (issue 12): file transfer over a lossy network.
# Run by scripts/bench (not by hand): it re-executes itself inside a private
# mount + network namespace (tests/e2e/lib/lossy.sh) and builds there a sender
# on a bridge and three receiver namespaces r1..r3 behind a tbf bottleneck of
# LOSSY_TBF on the sender's way out. Each trial sets the loss, starts the
# receivers, sends the file, waits until every receiver holds all of it (or the
# cut-off), compares sha256, reads the sender's link counters, and appends one
# record to $RES.
#
# From scripts/bench (exported): ND (netdisp build), W (work directory), RES,
# ROOT, LIB, LOSSY_IN (input file), LOSSY_SHA, LOSSY_RUNS, LOSSY_LOSSES (tenths
# of a percent, e.g. "0 10 50"), LOSSY_RATE (bit/s), LOSSY_TBF (tc rate),
# LOSSY_TOOLS, and the settings of the netdisp SRT and NORM rows.
set -euo pipefail

# shellcheck source=tests/e2e/lib/lossy.sh
source "$ROOT/tests/e2e/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
# shellcheck source=scripts/bench-lib/lib.sh
source "$LIB/lib.sh"
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { echo "bench: $(date +%T) $*" >&2; }
die() {
  echo "bench: $*" >&2
  exit 1
}

nd_lossy_rig 3
nd_lossy_rate ndbr0 "$LOSSY_TBF"
cd "$(dirname "$LOSSY_IN")"

BYTES=$(stat -c %s "$LOSSY_IN")
NAME=$(basename "$LOSSY_IN")
# The ideal transfer time at the paced rate, and the cut-off: 3x that plus 30 s
# of set-up (announcements, handshakes) before a trial counts as hung.
IDEAL=$(awk -v b="$BYTES" -v r="$LOSSY_RATE" 'BEGIN { printf "%.3f", b * 8 / r }')
CUTOFF=$(awk -v i="$IDEAL" 'BEGIN { printf "%d", 3 * i + 30 }')
RATE_KBPS=$((LOSSY_RATE / 1000))
RATE_BYTES=$((LOSSY_RATE / 8))
PORT=30000

# in_ns K CMD...: CMD in receiver K's namespace (its network namespace only:
# nsenter execs CMD: `start NAME nsenter --net=/run/netns/rK CMD` keeps its pid).
in_ns() {
  local k=$1
  shift
  nsenter --net="/run/netns/r$k" "$@"
}


# listening K PROTO PORT: something in rK listens on PORT.
listening() {
  [[ -n $(in_ns "$1" ss -Hln "--$2" "sport = :$3") ]]
}

wait_listening() {
  wait_until 10 listening "$@" || die "nothing listens on $2 port $3 in r$1 after 10 s: $(tail -n 3 "$W"/rx*.err)"
}

# out_of TOOL K: where receiver K's copy lands.
out_of() {
  case $1 in
    uftp* | srt-file-transmit) echo "$W/r$2/$NAME" ;;
    *) echo "$W/r$2.out" ;;
  esac
}

# start_receivers TOOL N
start_receivers() {
  local tool=$1 n=$2 k
  for ((k = 1; k <= n; k++)); do
    rm -rf "${W:?}/r$k" "$W/r$k.out"
    mkdir -p "$W/r$k"
    case $tool in
      nd-tcp) start "rx$k" nsenter "--net=/run/netns/r$k" "$ND/ndserver" --path "$(out_of "$tool" "$k")" --listen-addr "tcp://$(nd_lossy_addr "$k"):$PORT" ;;
      socat-tcp) start "rx$k" nsenter "--net=/run/netns/r$k" socat -u "TCP4-LISTEN:$PORT,bind=$(nd_lossy_addr "$k"),reuseaddr" "CREATE:$(out_of "$tool" "$k")" ;;
      srt-file-transmit) start "rx$k" nsenter "--net=/run/netns/r$k" srt-file-transmit -q "srt://:$PORT?mode=listener" "file://$W/r$k/" ;;
      uftp*) start "rx$k" nsenter "--net=/run/netns/r$k" uftpd -d -q -x 1 -B 104857600 -I eth0 -p "$PORT" -M 239.88.1.1 \
        -D "$W/r$k" ;;
      nd-srt) start "rx$k" nsenter "--net=/run/netns/r$k" "$ND/ndserver" --path "$(out_of "$tool" "$k")" \
        --listen-addr "srt://$(nd_lossy_addr "$k"):$PORT${ND_SRT_RX_PARAMS:+?$ND_SRT_RX_PARAMS}" ;;
      nd-norm*) start "rx$k" nsenter "--net=/run/netns/r$k" "$ND/ndserver" --path "$(out_of "$tool" "$k")" \
        --listen-addr "norm://239.88.1.1:$PORT${ND_NORM_RX_PARAMS:+?$ND_NORM_RX_PARAMS}" ;;
      *) die "unknown tool $tool" ;;
    esac
  done
  for ((k = 1; k <= n; k++)); do
    case $tool in
      nd-tcp | socat-tcp) wait_listening "$k" tcp "$PORT" ;;
      *) wait_listening "$k" udp "$PORT" ;;
    esac
  done
}

start_sender() {
  local tool=$1
  case $tool in
    nd-tcp) start tx timeout "$CUTOFF" "$ND/ndclient" --path "$LOSSY_IN" --server-addr "tcp://$(nd_lossy_addr 1):$PORT" \
      --rate "$LOSSY_RATE" ;;
    # SO_MAX_PACING_RATE (SOL_SOCKET 1, option 47, bytes/s): the kernel paces the TCP socket.
    socat-tcp) start tx timeout "$CUTOFF" socat -u "OPEN:$LOSSY_IN" \
      "TCP4:$(nd_lossy_addr 1):$PORT,setsockopt-int=1:47:$RATE_BYTES" ;;
    srt-file-transmit) start tx timeout "$CUTOFF" srt-file-transmit -q "file://$LOSSY_IN" \
      "srt://$(nd_lossy_addr 1):$PORT?maxbw=$RATE_BYTES" ;;
    # (run in the input's directory: uftp announces the path as given)
    uftp*) start tx timeout "$CUTOFF" uftp -q -x 1 -B 104857600 -R "$RATE_KBPS" -I ndbr0 -p "$PORT" -M 239.88.1.1 -P 239.88.2.1 \
      -b 1400 "$NAME" ;;
    nd-srt) start tx timeout "$CUTOFF" "$ND/ndclient" --path "$LOSSY_IN" --rate "$LOSSY_RATE" \
      --server-addr "srt://$(nd_lossy_addr 1):$PORT${ND_SRT_TX_PARAMS:+?$ND_SRT_TX_PARAMS}" ;;
    # --expect N: the sender waits until all N receivers acknowledged the end.
    nd-norm*) start tx timeout "$CUTOFF" "$ND/ndclient" --path "$LOSSY_IN" --rate "$LOSSY_RATE" \
      --expect "$(receivers_of "$tool")" --server-addr "norm://239.88.1.1:$PORT${ND_NORM_TX_PARAMS:+?$ND_NORM_TX_PARAMS}" ;;
  esac
}

receivers_of() {
  case $1 in
    *3) echo 3 ;;
    *) echo 1 ;;
  esac
}

# all_complete TOOL N: every receiver's copy has the input's size.
all_complete() {
  local k
  for ((k = 1; k <= $2; k++)); do
    [[ $(file_size "$(out_of "$1" "$k")") == "$BYTES" ]] || return 1
  done
}

# The sender's side of the wire: what ndbr0 sent (once per multicast datagram)
# and what came back to it.
counters() { nd_lossy_link ndbr0; }

lossy_trial() {
  local tool=$1 loss=$2 run=$3 n k
  n=$(receivers_of "$tool")
  PORT=$((PORT + 1))
  local ns
  for ns in sender r1 r2 r3; do nd_lossy_set "$ns" "$loss" all; done
  start_receivers "$tool" "$n"
  local before after t0 done_at="" now
  before=$(counters)
  t0=$EPOCHREALTIME
  start_sender "$tool"
  # Done when every copy is whole and, for senders that wait for the receivers'
  # confirmation (uftp: it exits once all have the file, whose size is there from
  # the start), the sender has exited.
  local deadline=$((${t0/./} + CUTOFF * 1000000))
  while :; do
    now=$EPOCHREALTIME
    if all_complete "$tool" "$n"; then
      if [[ $tool != uftp* ]] || ! running tx; then done_at=$now; break; fi
    fi
    ((${now/./} < deadline)) || break
    # uftp ended without every copy whole (the check above came first: one more look).
    if [[ $tool == uftp* ]] && ! running tx; then
      all_complete "$tool" "$n" && done_at=$EPOCHREALTIME
      break
    fi
    sleep 0.02 # poll step until the cut-off
  done
  # Senders that stop by themselves do so soon after; a TCP or SRT sender may
  # still be lingering on its close.
  local pid rc=0 sender_exit
  pid=$(pid_of tx)
  wait_until 10 eval '! running tx' || kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || rc=$?
  unset "BENCH_PIDS[tx]"
  sender_exit=$(tail -n 1 "$W/tx.err" | tr -c '[:alnum:] ._-' ' ' | cut -c1-80)
  after=$(counters)
  for ((k = 1; k <= n; k++)); do stop "rx$k"; done
  # Each trial's logs (kept with the work directory by --keep), e.g. for a slow run.
  local logs="$W/logs/$tool-loss$loss-run$run"
  mkdir -p "$logs"
  cp "$W/tx.err" "$logs/"
  for ((k = 1; k <= n; k++)); do cp "$W/rx$k.err" "$logs/"; done
  local shas=0 delivered=0 size
  for ((k = 1; k <= n; k++)); do
    size=$(file_size "$(out_of "$tool" "$k")")
    delivered=$((delivered + size))
    if [[ $size == "$BYTES" && $(sha256sum <"$(out_of "$tool" "$k")" | cut -d' ' -f1) == "$LOSSY_SHA" ]]; then
      shas=$((shas + 1))
    fi
    rm -rf "${W:?}/r$k" "$W/r$k.out"
  done
  local seconds=- share=- bound=0 complete=0
  if [[ -n $done_at ]]; then
    complete=1
    seconds=$(awk -v a="$t0" -v b="$done_at" 'BEGIN { printf "%.3f", b - a }')
    share=$(awk -v b="$BYTES" -v s="$seconds" -v r="$LOSSY_RATE" 'BEGIN { printf "%.4f", b * 8 / s / r }')
    bound=$(awk -v s="$seconds" -v i="$IDEAL" 'BEGIN { print (s <= 3 * i) ? 1 : 0 }')
  fi
  local -a b a
  read -ra b <<<"$before"
  read -ra a <<<"$after"
  local wire=$((a[2] - b[2])) data_pkts=$((a[3] - b[3])) fb_pkts=$((a[1] - b[1]))
  record sec=lossy tool="$tool" loss="$loss" run="$run" receivers="$n" bytes="$BYTES" complete="$complete" \
    sha_ok="$shas" seconds="$seconds" ideal="$IDEAL" within_3x="$bound" share="$share" \
    wire_bytes="$wire" overhead="$(awk -v w="$wire" -v b="$BYTES" 'BEGIN { printf "%.4f", w / b }')" \
    data_pkts="$data_pkts" fb_pkts="$fb_pkts" \
    fb_per_data="$(awk -v f="$fb_pkts" -v d="$data_pkts" 'BEGIN { printf "%.4f", (d > 0 ? f / d : 0) }')" \
    dropped="$(for ns in sender r1 r2 r3; do nd_lossy_dropped "$ns"; done | paste -sd,)" \
    delivered="$delivered" sender_rc="$rc" sender_said="${sender_exit// /_}"
  log "7. lossy $tool loss $((loss / 10)).$((loss % 10)) % run $run: complete=$complete sha_ok=$shas/$n seconds=$seconds share=$share overhead=$(vals sec=lossy tool="$tool" loss="$loss" run="$run" -- overhead)"
}

for ((run = 1; run <= LOSSY_RUNS; run++)); do
  for loss in $LOSSY_LOSSES; do
    # Tools take turns going first.
    read -ra tools <<<"$LOSSY_TOOLS"
    count=${#tools[@]}
    for ((i = 0; i < count; i++)); do
      tool=${tools[(i + run) % count]}
      lossy_trial "$tool" "$loss" "$run"
    done
  done
done
