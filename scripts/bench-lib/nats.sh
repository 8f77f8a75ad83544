#!/usr/bin/env bash
# scripts/bench section 8 (issue 13): NATS beside plain UDP, in one run.
# Run by scripts/bench (not by hand), inside its network namespace. 512-byte
# datagrams ndclient -> ndserver, the same file and the same server options,
# over five paths:
#   udp        plain UDP on loopback (the reference)
#   nats       through one nats-server (core NATS)
#   cluster    published through node A of a three-node cluster, subscribed through node B
#   js         through one nats-server -js with ?stream= (JetStream: acknowledged
#              publications with message ids, a durable consumer acknowledging after the write)
#   js-cluster the same on the three-node cluster, stream with 3 replicas
# For each path: unpaced (the messages/s delivered, the loss, and the CPU each
# process and its busiest thread used: where the bottleneck is), then paced at
# a ladder of rates (--rate) for the highest rate of the ladder with no loss.
# Delivered messages/s = datagrams in the server's log / (client start to the
# log's last write). Uses tests/e2e/lib/nats.sh for the servers.
#
# From scripts/bench (exported): ND (netdisp build), W (work directory), RES,
# ROOT, NATS_MIB (file size), NATS_RATES (the ladder, thousand datagrams/s).
set -euo pipefail
export ND_BUILD=$ND TMPDIR=$W
# shellcheck source=tests/e2e/lib/common.sh
source "$ROOT/tests/e2e/lib/common.sh"
# shellcheck source=tests/e2e/lib/nats.sh
source "$ROOT/tests/e2e/lib/nats.sh"
nd_setup
nd_nats_need
[[ -e "$ND/netdisp-nats.so" ]] || { echo "bench: no $ND/netdisp-nats.so: section 8 needs libnats-dev" >&2; exit 1; }

log() { echo "bench: $(date +%T) $*" >&2; }
record() { echo "$*" >>"$RES"; }

SIZE=$((NATS_MIB << 20)) DGRAM=512
COUNT=$((SIZE / DGRAM))
nd_random_file "$WORK/in.bin" "$SIZE"
nd_nats_start bus
nd_nats_start jsbus --js
nd_nats_cluster --js na nb nc
bus=$(nd_nats_url bus) jsbus=$(nd_nats_url jsbus) a=$(nd_nats_url na) b=$(nd_nats_url nb)
trial=0

# The CPU sampler: every 0.2 s, the clock ticks of every thread of the named
# processes (LABEL=PID, or LABEL=@PIDFILE for one started after it); at
# SIGTERM it writes, per process, the CPU seconds it used and its busiest
# thread's (`top -H`, summed over the trial); run() divides them by the
# trial's time (client start to the last write). It says
# "ready" in $WORK/cpu.ready once it samples (a python start takes seconds on
# a loaded machine: the trial waits for it).
cat >"$WORK/cpu.py" <<'PY'
import glob, json, os, signal, sys, time
out, named = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
first, last = {}, {}
def sample():
    for label, pid in named:
        if pid.startswith("@"):
            try:
                pid = open(pid[1:]).read().strip()
            except OSError:
                continue
        for stat in glob.glob(f"/proc/{pid}/task/*/stat"):
            try:
                text = open(stat).read()
            except OSError:
                continue
            comm = text[text.index("(") + 1:text.rindex(")")]
            fields = text[text.rindex(")") + 2:].split()
            key = (label, stat.split("/")[4], comm)
            ticks = int(fields[11]) + int(fields[12])
            first.setdefault(key, ticks if label != "client" else 0)
            last[key] = ticks
def done(*_):
    sample()
    result = {}
    for (label, tid, comm), ticks in last.items():
        used = (ticks - first[(label, tid, comm)]) / 100
        entry = result.setdefault(label, {"cpu": 0.0, "thread": "-", "thread_cpu": 0.0})
        entry["cpu"] += used
        if used > entry["thread_cpu"]:
            entry["thread"], entry["thread_cpu"] = comm.replace(" ", "_"), used
    json.dump(result, open(out, "w"))
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
open(sys.argv[1] + ".ready", "w").close()
while True:
    sample()
    time.sleep(0.2)
PY

# run PATH RATE_K: one trial (RATE_K thousand datagrams/s, or max); records
# it and writes "delivered_per_s loss_percent" to $WORK/result.
run() {
  local path=$1 rate=$2 listen dest out srv rate_opt=() nodes=()
  trial=$((trial + 1))
  srv=srv$trial out=$WORK/out$trial
  case $path in
    udp) listen=127.0.0.1:0 ;;
    nats) listen=$bus/b.t$trial dest=$bus/b.t$trial nodes=(bus) ;;
    cluster) listen=$b/b.t$trial dest=$a/b.t$trial nodes=(na nb nc) ;;
    js) listen="$jsbus/b.t$trial?stream=T$trial&durable=d&create=1"
      dest="$jsbus/b.t$trial?stream=T$trial" nodes=(jsbus) ;;
    js-cluster) listen="$b/b.t$trial?stream=T$trial&durable=d&create=1&replicas=3"
      dest="$a/b.t$trial?stream=T$trial" nodes=(na nb nc) ;;
  esac
  nd_start "$srv" "$ND/ndserver" --path "$out" --listen-addr "$listen"
  if [[ $path == udp ]]; then dest=$(nd_listen_addr "$srv" udp); else wait_log "$srv" "listening on" 30 >/dev/null; fi
  [[ $path == nats || $path == cluster ]] && sleep 0.5 # interest reaches the publishing node (bench only)
  [[ $rate == max ]] || rate_opt=(--rate $((rate * 1000 * DGRAM * 8)))
  local start end sampler=() node sampler_pid=""
  if [[ $rate == max ]]; then
    sampler=("client=@$WORK/client$trial.pid" "server=$(nd_pid "$srv")")
    for node in "${nodes[@]}"; do sampler+=("nats-server=$(nd_pid "$node")"); done
    python3 "$WORK/cpu.py" "$WORK/cpu$trial.json" "${sampler[@]}" &
    sampler_pid=$!
    wait_until 30 test -e "$WORK/cpu$trial.json.ready" || true
  fi
  start=$(date +%s%N)
  nd_start "client$trial" "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$dest" --datagram-size $DGRAM \
    "${rate_opt[@]}"
  # The server has it all, or nothing more arrives for 2 s once the client is done.
  local last=-1 now
  while true; do
    now=$(nd_size "$out")
    ((now >= SIZE)) && break
    if ((now == last)) && ! nd_running "client$trial"; then break; fi
    last=$now
    sleep 1
  done
  end=$(date -r "$out" +%s%N 2>/dev/null || date +%s%N)
  if [[ -n $sampler_pid ]]; then
    kill -TERM "$sampler_pid"
    wait "$sampler_pid" || true
  fi
  nd_stop "client$trial" >/dev/null 2>&1 || true
  nd_stop "$srv" >/dev/null 2>&1 || true
  local got=$(($(nd_size "$out") / DGRAM))
  python3 -c "import sys; got,count,ns=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]); print(f'{got/(ns/1e9):.0f} {100*(count-got)/count:.2f}')" \
    "$got" "$COUNT" $((end - start)) >"$WORK/result"
  local delivered loss cpu=""
  read -r delivered loss <"$WORK/result"
  if [[ $rate == max && -s $WORK/cpu$trial.json ]]; then
    # Percent of one core over the trial.
    cpu=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1])); s=int(sys.argv[2])/1e9/100
print(' '.join(f'{k.replace(\"-\",\"_\")}_cpu={v[\"cpu\"]/s:.0f} {k.replace(\"-\",\"_\")}_thread={v[\"thread\"]}:{v[\"thread_cpu\"]/s:.0f}' for k,v in sorted(r.items())))" \
      "$WORK/cpu$trial.json" $((end - start)))
  fi
  record sec=nats path="$path" rate="$rate" datagrams="$COUNT" delivered_per_s="$delivered" loss="$loss" \
    seconds="$(awk -v ns=$((end - start)) 'BEGIN { printf "%.3f", ns / 1e9 }')" $cpu
  log "8. nats $path rate=$rate: ${delivered}/s delivered, $loss % lost${cpu:+; cpu % $cpu}"
  rm -f "$out"
}

for path in udp nats cluster js js-cluster; do
  run "$path" max
  for rate in $NATS_RATES; do
    run "$path" "$rate"
    read -r _ rloss <"$WORK/result"
    [[ $rloss == 0.00 ]] || break
  done
done
