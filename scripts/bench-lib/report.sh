# shellcheck shell=bash
# shellcheck disable=SC2015  # `[[ x ]] && echo - || awk ...`: echo cannot fail
# scripts/bench's report: docs/benchmarks.md from the trial records in $RES, and
# the goodput plot. Sourced by scripts/bench after the measurements.

# s FILTER... -- FIELD: "median min max count" of FIELD over the matching trials.
s() { vals "$@" | stats; }
med() { field 1 "$(s "$@")"; }

# Formatters for med_range.
fmt_gbit() { gbit "$1"; }
fmt_pct() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf(v == 0 ? "0" : v < 0.01 ? "%.4f" : "%.2f", v) }'; }
fmt_kps() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf "%.0fk", v / 1000 }'; }
fmt_int() { [[ $1 == - ]] && echo - || printf '%.0f' "$1"; }
fmt_mib() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf "%.1f", v / 1048576 }'; }

# zero_runs FILTER... -- FIELD: "k/n" = trials whose FIELD is 0, out of all matching.
zero_runs() {
  vals "$@" | awk '{ n++; if ($1 + 0 == 0) z++ } END { printf "%d/%d", z, n }'
}

# sha_counts FILTER...: "ok x4, - x1" (- = not compared: sizes differ or not a full-size trial).
sha_counts() {
  vals "$@" -- sha | sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }'
}

verdict() { if "$@"; then echo "met"; else echo "**MISSED**"; fi; }

# rate_verdict REACHED ZERO_RUNS: a loss target at a paced rate the sender may not have reached.
rate_verdict() {
  if ! all_zero "$2"; then echo "**MISSED**"
  elif (($1)); then echo "met"
  else echo "not verified: the sender fell short of the rate (no loss at the rate it reached)"; fi
}
all_zero() { [[ ${1%/*} == "${1#*/}" && ${1#*/} != 0 ]]; }

tool_label() {
  case $1 in
    netdisp) echo "netdisp" ;;
    netdisp-plain) echo "netdisp --gso off / --gro off" ;;
    socat) echo "socat (defaults)" ;;
    socat-rcvbuf) echo "socat so-rcvbuf=64M" ;;
    iperf3) echo "iperf3 (discards data)" ;;
    *) echo "$1" ;;
  esac
}

report_header() {
  local commit dirty=""
  local elapsed load_before load_after
  elapsed=$(vals sec=meta -- elapsed)
  load_before=$(vals sec=meta -- load_before)
  load_after=$(vals sec=meta -- load_after)
  commit=$(vals sec=meta -- commit)
  [[ $(vals sec=meta -- src_changed) == 0 ]] || dirty=" (with uncommitted changes in src/ or meson.build)"
  # The options that shape the measurements (not --keep, --no-build, --report-from, --out).
  local shown=() i
  for ((i = 0; i < ${#ARGS[@]}; i++)); do
    case ${ARGS[i]} in
      --keep | --no-build) ;;
      --report-from | --out | --build-dir) i=$((i + 1)) ;;
      *) shown+=("${ARGS[i]}") ;;
    esac
  done
  cat <<EOF
# netdisp benchmarks

Written by \`scripts/bench${shown[*]:+ ${shown[*]}}\` on $(vals sec=meta -- date), in $((elapsed / 60)) min $((elapsed % 60)) s.
Rerun it to refresh this page (as root; about 15 minutes plus the build; \`--quick\` for a 2-minute smoke run).
Every trial's raw record is at the end of this page.

| | |
|---|---|
| machine | $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM, shared with other work |
| system | Debian $(cat /etc/debian_version 2>/dev/null || echo ?), kernel $(uname -r) |
| load average (1/5/15 min) | before: ${load_before//,/ }; after: ${load_after//,/ } |
| netdisp | commit $commit$dirty, \`meson setup -Dbuildtype=release\` (the project's default -Os), gcc $(gcc -dumpversion) |
| peers | $(socat -V | awk '/socat version/ { print "socat " $3 }'), $(iperf3 --version | awk 'NR == 1 { print "iperf3 " $2 }') |
| network | loopback of a private network namespace (\`unshare -n\`); multicast over the tests' veth pair |
| files | input: random bytes from /dev/urandom; every receiver writes to \`$DIR\` ($(stat -f -c %T "$DIR")), the same for every tool |
| paced sender | \`ndbench send\` (scripts/bench-lib/ndbench.c), the same for every receiver: sendmmsg of UDP GSO messages (the kernel cuts each into datagrams of the given size before any receiver sees them) on a connected socket; the next batch leaves when it is due; timer slack 1 ns |
| runs | $RUNS per tool and case, tools alternating run by run; figures are median (min-max) |

EOF
}

# ---- targets ----------------------------------------------------------------

report_targets() {
  echo "## Targets (issue 4)"
  echo
  echo "| target | result | measured |"
  echo "|---|---|---|"
  local zr sr nd so ip r
  if section_on 4; then
    ingest_target_row 8192 8000000000
    ingest_target_row 1472 3000000000
  fi
  if section_on 1; then
    ip=$(med sec=client tool=iperf3 size=1472 -- goodput)
    nd=$(med sec=client tool=netdisp size=1472 -- goodput)
    local ingest
    ingest=$(med sec=ingest kind=fixed tool=netdisp size=1472 rate=0 -- goodput)
    if [[ $ingest != - ]]; then
      echo "| server ingest, 1472 B unpaced: goodput >= iperf3's UDP receiver rate | $(verdict ge "$ingest" "$ip")" \
        "| ndserver fed by the unpaced ndbench sender: $(gbit "$ingest") Gbit/s" \
        "(loss $(fmt_pct "$(med sec=ingest kind=fixed tool=netdisp size=1472 rate=0 -- loss_pct)") %)" \
        "vs iperf3 $(gbit "$ip") Gbit/s: x$(ratio "$ingest" "$ip"); ndclient -> ndserver: $(gbit "$nd") Gbit/s, x$(ratio "$nd" "$ip");" \
        "highest sustained lossless rate ($SUSTAIN_SECONDS s trials): $(best_text netdisp 1472 sustained) |"
    else
      echo "| 1472 B unpaced: ndclient -> ndserver goodput >= iperf3's UDP receiver rate | $(verdict ge "$nd" "$ip")" \
        "| netdisp $(gbit "$nd") Gbit/s vs iperf3 $(gbit "$ip") Gbit/s (x$(ratio "$nd" "$ip")) |"
    fi
    nd=$(med sec=client tool=netdisp size=8192 -- goodput)
    so=$(med sec=client tool=socat size=8192 -- goodput)
    local loss
    loss=$(med sec=client tool=netdisp size=8192 -- loss_pct)
    r=$(ratio "$nd" "$so")
    echo "| client->server 8192 B unpaced: median loss 0 | $(verdict ge 0 "$loss") | median loss $(fmt_pct "$loss") %" \
      "($(zero_runs sec=client tool=netdisp size=8192 -- kdrops) runs without kernel drops) |"
    echo "| client->server 8192 B unpaced: goodput >= 2x socat's | $(verdict ge "$r" 2)" \
      "| netdisp $(gbit "$nd") Gbit/s vs socat $(gbit "$so") Gbit/s (x$r) |"
  fi
  if section_on 2; then
    zr=$(zero_runs sec=proxy tool=netdisp mode=paced -- lost)
    echo "| proxy, 512 B to 2 receivers paced at 1 Gbit/s: 0 loss at both, every run | $(verdict all_zero "$zr")" \
      "| $zr runs lossless; sent $(fmt_kps "$(med sec=proxy tool=netdisp mode=paced -- send_rate)") datagrams/s;" \
      "median loss $(fmt_pct "$(med sec=proxy tool=netdisp mode=paced -- loss_pct)") % |"
    nd=$(med sec=proxy tool=netdisp mode=unpaced -- total_rate)
    so=$(med sec=proxy tool=socat mode=unpaced -- total_rate)
    r=$(ratio "$nd" "$so")
    echo "| proxy unpaced: delivered datagrams/s >= 4x a socat relay's | $(verdict ge "$r" 4)" \
      "| netdisp $(fmt_kps "$nd")/s over both receivers ($(fmt_kps "$(med sec=proxy tool=netdisp mode=unpaced -- min_rate)")/s" \
      "each) vs socat $(fmt_kps "$so")/s: x$r (per receiver x$(ratio "$(med sec=proxy tool=netdisp mode=unpaced -- min_rate)" "$so")) |"
  fi
  if section_on 3; then
    zr=$(zero_runs sec=rp kind=fixed -- loss_bytes)
    echo "| reverse-proxy, $RP_CLIENTS clients at 100 Mbit/s upstream: every client gets every byte | $(verdict all_zero "$zr")" \
      "| $zr runs lossless; highest lossless upstream rate $(rp_best_text) |"
  fi
  if section_on 5; then
    local size idle_max
    size=$(vals sec=size -- stripped)
    echo "| stripped binary < 350 KB | $(verdict ge 349999 "$size") | $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.0f", b / 1000 }') KB," \
      "$(awk -v b="$size" 'BEGIN { printf "%.0f", b / 1024 }') KiB) |"
    idle_max=$(for m in client proxy reverse-proxy server; do vals sec=mem mode=$m load=idle -- pd_kb; done | sort -n | tail -n 1)
    echo "| idle Private_Dirty < 1 MB per process | $(verdict ge 1023 "$idle_max") | largest $idle_max KiB;" \
      "$(for m in client proxy reverse-proxy server; do printf '%s %s, ' "$m" "$(vals sec=mem mode=$m load=idle -- pd_kb)"; done)socat $(vals sec=mem mode=socat load=idle -- pd_kb) KiB |"
  fi
  echo
}

# ingest_target_row SIZE RATE: the target "SIZE B paced at RATE, 0 loss every run", with
# the burst and sustained highest lossless rates beside socat's. Met only if the sender
# reached 95% of RATE.
ingest_target_row() {
  local size=$1 rate=$2 zr sr reached=1
  zr=$(zero_runs sec=ingest kind=fixed tool=netdisp size="$size" rate="$rate" -- loss_bytes)
  sr=$(med sec=ingest kind=fixed tool=netdisp size="$size" rate="$rate" -- send_rate)
  ge "$sr" $((rate * 95 / 100)) || reached=0
  echo "| server ingest, $size B paced at $(gbit "$rate") Gbit/s, $INGEST_MIB MiB: 0 bytes lost in every run" \
    "| $(rate_verdict "$reached" "$zr")" \
    "| $zr runs lossless; the sender reached $(gbit "$sr") Gbit/s (median); highest lossless paced rate" \
    "$(best_text netdisp "$size") vs socat $(best_text socat "$size") (socat so-rcvbuf=64M: $(best_text socat-rcvbuf "$size"));" \
    "sustained ($SUSTAIN_SECONDS s trials): $(best_text netdisp "$size" sustained) vs socat so-rcvbuf=64M" \
    "$(best_text socat-rcvbuf "$size" sustained) |"
}

# best_text TOOL SIZE [KIND]: "6.2 Gbit/s" or "no loss even at the sender's top speed" from
# the bisection of KIND: bisect (bursts of at most the ingest size, default) or sustained.
best_text() {
  local kind=${3:-bisect} best worst sec=ingest-best
  [[ $kind == bisect ]] || sec=ingest-$kind
  best=$(vals sec="$sec" tool="$1" size="$2" -- best)
  worst=$(vals sec="$sec" tool="$1" size="$2" -- worst)
  [[ -n $best ]] || { echo "-"; return; }
  if ((worst == 0)); then
    echo "no loss even at the sender's top speed ($(gbit "$(vals sec=ingest kind="$kind" tool="$1" size="$2" rate="$best" -- send_rate | head -n 1)") Gbit/s)"
  elif ((best == 0)); then
    echo "< $(gbit "$worst") Gbit/s"
  else
    echo "$(gbit "$best") Gbit/s"
  fi
}

rp_best_text() {
  local best worst
  best=$(vals sec=rp-best -- best)
  worst=$(vals sec=rp-best -- worst)
  if ((worst == 0)); then echo ">= $(rate_text "$best")bit/s (the top of the search)"
  elif ((best == 0)); then echo "< $(rate_text "$worst")bit/s"
  else echo "$(rate_text "$best")bit/s (loss at $(rate_text "$worst")bit/s)"; fi
}

# ---- sections -----------------------------------------------------------------

report_client() {
  local size tool
  cat <<EOF
## 1. client -> server, unpaced, $SIZE_MIB MiB file

netdisp: \`ndserver --path OUT --listen-addr 127.0.0.1:P\` and \`ndclient --path IN --server-addr 127.0.0.1:P --datagram-size SIZE\`
(defaults: GSO and GRO on, 256 MiB receive buffer); "--gso off / --gro off" adds those options to the client and the server.
socat: \`socat -u -b SIZE UDP-RECV:P,bind=127.0.0.1 CREATE:OUT\` (and with \`,so-rcvbuf=67108864\`, which the kernel caps at
net.core.rmem_max) and \`socat -u -b SIZE OPEN:IN UDP-SENDTO:127.0.0.1:P\`.
iperf3: \`iperf3 -s -1\` and \`iperf3 -c 127.0.0.1 -u -b 0 -l SIZE -t $TRIAL_SECONDS --json\`; its figure is the receiver's rate
(\`end.sum_received\`), loss as iperf3 counts it.
Goodput = bits in the received file / the sender's wall time (process start to exit). The received file is compared
with the input (sha256) whenever its size matches. A receive buffer absorbs part of an unpaced burst, and netdisp's
(512 MiB as the kernel counts it) holds much of the $SIZE_MIB MiB file: these are goodputs of a burst. Section 4's
sustained table gives the rate a receiver keeps up with.

| datagram | tool | goodput Gbit/s | loss % | delivered MiB | kernel drops | rcvbuf (kernel) | sha256 |
|---|---|---|---|---|---|---|---|
EOF
  for size in "${CLIENT_SIZES[@]}"; do
    for tool in "${CLIENT_TOOLS[@]}"; do
      local rb
      rb=$(vals sec=client tool="$tool" size="$size" -- rcvbuf | head -n 1)
      echo "| $size | $(tool_label "$tool") | $(med_range "$(s sec=client tool="$tool" size="$size" -- goodput)" fmt_gbit)" \
        "| $(med_range "$(s sec=client tool="$tool" size="$size" -- loss_pct)" fmt_pct)" \
        "| $(med_range "$(s sec=client tool="$tool" size="$size" -- delivered)" fmt_mib)" \
        "| $(med_range "$(s sec=client tool="$tool" size="$size" -- kdrops)" fmt_int)" \
        "| ${rb:+$((rb / 1024)) KiB} | $(sha_counts sec=client tool="$tool" size="$size") |"
    done
  done
  echo
  echo "Ratios of medians (goodput):"
  echo
  echo "| datagram | netdisp / socat | netdisp / socat so-rcvbuf=64M | netdisp / iperf3 | netdisp --gso/--gro off / socat | netdisp --gso/--gro off / iperf3 |"
  echo "|---|---|---|---|---|---|"
  for size in "${CLIENT_SIZES[@]}"; do
    local nd plain so ip
    nd=$(med sec=client tool=netdisp size="$size" -- goodput)
    plain=$(med sec=client tool=netdisp-plain size="$size" -- goodput)
    so=$(med sec=client tool=socat size="$size" -- goodput)
    ip=$(med sec=client tool=iperf3 size="$size" -- goodput)
    echo "| $size | $(ratio "$nd" "$so") | $(ratio "$nd" "$(med sec=client tool=socat-rcvbuf size="$size" -- goodput)")" \
      "| $(ratio "$nd" "$ip") | $(ratio "$plain" "$so") | $(ratio "$plain" "$ip") |"
  done
  echo
  echo "![goodput by datagram size](goodput.png)"
  echo
}

report_proxy() {
  local mode tool
  cat <<EOF
## 2. proxy, 512-byte datagrams

\`ndbench send --size 512 [--rate 1G] --seconds $TRIAL_SECONDS\` -> proxy -> \`ndbench recv\` (recvmmsg, 64 MiB buffer).
netdisp: \`ndproxy --listen-addr 127.0.0.1:P --downstream-addr 127.0.0.1:R1 --downstream-addr 127.0.0.1:R2\`.
socat: \`socat -u UDP-RECV:P,bind=127.0.0.1 UDP-SENDTO:127.0.0.1:R1\` (one receiver: socat cannot duplicate).
Delivered datagrams/s at a receiver = datagrams it got / time from its first to its last datagram.

| mode | tool | sent/s | delivered/s per receiver | delivered/s, all receivers | loss % | lossless runs | proxy socket drops |
|---|---|---|---|---|---|---|---|
EOF
  for mode in paced unpaced; do
    for tool in netdisp socat; do
      echo "| $mode | $(tool_label "$tool") | $(med_range "$(s sec=proxy tool=$tool mode=$mode -- send_rate)" fmt_kps)" \
        "| $(med_range "$(s sec=proxy tool=$tool mode=$mode -- min_rate)" fmt_kps)" \
        "| $(med_range "$(s sec=proxy tool=$tool mode=$mode -- total_rate)" fmt_kps)" \
        "| $(med_range "$(s sec=proxy tool=$tool mode=$mode -- loss_pct)" fmt_pct)" \
        "| $(zero_runs sec=proxy tool=$tool mode=$mode -- lost) | $(med_range "$(s sec=proxy tool=$tool mode=$mode -- kdrops)" fmt_int) |"
    done
  done
  echo
}

report_rp() {
  cat <<EOF
## 3. reverse-proxy, one upstream -> $RP_CLIENTS TCP clients

\`ndreverse-proxy --udp-listen-addr 127.0.0.1:U --tcp-listen-addr 127.0.0.1:T --multicast-addr $RP_GROUP:G\` (multicast over
the veth pair of the private namespace); \`ndbench tcprecv --clients $RP_CLIENTS\` reads all $RP_CLIENTS connections; the
upstream is \`ndbench send --size $RP_SIZE --rate R --seconds $TRIAL_SECONDS\` (finer pacing than \`pv -L\`).
A client's loss = bytes sent upstream - bytes it read.

| upstream | runs | lossless runs | clients short (max) | worst client loss % | aggregate to clients Gbit/s | kernel drops (client sockets) | datagrams dropped for slow clients |
|---|---|---|---|---|---|---|---|
EOF
  local rate kind
  for kind in fixed bisect; do
    for rate in $(vals sec=rp kind=$kind -- rate | sort -un); do
      local f=(sec=rp "kind=$kind" "rate=$rate")
      echo "| $(rate_text "$rate")bit/s$( [[ $kind == fixed ]] || echo " (bisection)") | $(vals "${f[@]}" -- run | wc -l)" \
        "| $(zero_runs "${f[@]}" -- loss_bytes) | $(field 3 "$(s "${f[@]}" -- short_clients)")" \
        "| $(med_range "$(s "${f[@]}" -- worst_loss_pct)" fmt_pct)" \
        "| $(med_range "$(s "${f[@]}" -- aggregate)" fmt_gbit)" \
        "| $(med_range "$(s "${f[@]}" -- kdrops)" fmt_int) | $(med_range "$(s "${f[@]}" -- sink_drops)" fmt_int) |"
    done
  done
  echo
  echo "Highest upstream rate at which all $RP_CLIENTS clients received every byte (bisection, one trial per step): $(rp_best_text)."
  echo
}

report_ingest() {
  local size rate tool
  cat <<EOF
## 4. paced server ingest

\`ndbench send --file IN --bytes N --size SIZE --rate R\` -> receiver writing a file: \`ndserver\` (its defaults: 256 MiB
SO_RCVBUFFORCE, GRO on; and with --gro off), socat with its defaults, socat with so-rcvbuf=64M (capped by net.core.rmem_max). N = $INGEST_MIB MiB
unpaced and at the target rates, else about $BISECT_SECONDS s of data (at most $INGEST_MIB MiB). Goodput = bits written
to the file / the sender's time. A lossless file is compared with the input (sha256) at $INGEST_MIB MiB.

| datagram | paced rate | tool | lossless runs | loss % | sender reached Gbit/s | goodput Gbit/s | kernel drops | rcvbuf (kernel) | sha256 |
|---|---|---|---|---|---|---|---|---|---|
EOF
  for size in 8192 1472; do
    for rate in ${INGEST_RATES[$size]}; do
      for tool in "${INGEST_TOOLS[@]}"; do
        local rb
        rb=$(vals sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- rcvbuf | head -n 1)
        echo "| $size | $(rate_text "$rate") | $(tool_label "$tool")" \
          "| $(zero_runs sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- loss_bytes)" \
          "| $(med_range "$(s sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- loss_pct)" fmt_pct)" \
          "| $(med_range "$(s sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- send_rate)" fmt_gbit)" \
          "| $(med_range "$(s sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- goodput)" fmt_gbit)" \
          "| $(med_range "$(s sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate" -- kdrops)" fmt_int)" \
          "| ${rb:+$((rb / 1024)) KiB} | $(sha_counts sec=ingest kind=fixed tool="$tool" size="$size" rate="$rate") |"
      done
    done
  done
  echo
  echo "Highest paced rate with 0 loss, bursts: bisection in log space between 50 Mbit/s and 16 Gbit/s, $STEPS steps,"
  echo "one trial each, of about $BISECT_SECONDS s of data but at most $INGEST_MIB MiB (16 Gbit/s means the sender's top speed)."
  echo "netdisp's receive buffer (256 MiB asked, twice that as the kernel counts it) holds a whole $INGEST_MIB MiB burst, so"
  echo "for netdisp these figures show the buffer; the sustained table below shows the rate it keeps up with."
  echo
  bisection_table bisect "${INGEST_TOOLS[@]}"
  echo "Highest sustained paced rate with 0 loss: the same bisection between 50 Mbit/s and $(gbit "$SUSTAIN_TOP") Gbit/s with"
  echo "$SUSTAIN_SECONDS s of data per trial (pattern bytes, not the input file; at 8 Gbit/s that is $((SUSTAIN_SECONDS))e9 bytes, several times what"
  echo "netdisp's receive buffer holds), so a receiver that does not keep up loses data."
  echo
  bisection_table sustained "${SUSTAIN_TOOLS[@]}"
}

# bisection_table KIND TOOL...: highest lossless rate, lowest lossy rate and the rates tried.
bisection_table() {
  local kind=$1 size tool worst sec=ingest-best
  shift
  [[ $kind == bisect ]] || sec=ingest-$kind
  echo "| datagram | tool | highest lossless | lowest lossy | trials |"
  echo "|---|---|---|---|---|"
  for size in 8192 1472; do
    for tool in "$@"; do
      worst=$(vals sec="$sec" tool="$tool" size="$size" -- worst)
      echo "| $size | $(tool_label "$tool") | $(best_text "$tool" "$size" "$kind")" \
        "| $( [[ ${worst:-0} == 0 ]] && echo - || echo "$(gbit "$worst") Gbit/s")" \
        "| $(vals sec=ingest kind="$kind" tool="$tool" size="$size" -- rate | while read -r r; do printf '%s ' "$(rate_text "$r")"; done) |"
    done
  done
  echo
}

report_memory() {
  cat <<EOF
## 5. memory and size

From /proc/PID/smaps_rollup (KiB). Idle: the largest of 10 samples over 0.5 s after start-up. Under load: the largest
sample (every 100 ms) over every netdisp run of that section.

| process | load | RSS KiB | Private_Dirty KiB |
|---|---|---|---|
EOF
  local mode load
  for mode in client server proxy reverse-proxy socat; do
    for load in $(vals sec=mem mode=$mode -- load | awk '!seen[$0]++'); do
      echo "| $mode | ${load//,/ } | $(vals sec=mem mode=$mode load="$load" -- rss_kb | sort -n | tail -n 1)" \
        "| $(vals sec=mem mode=$mode load="$load" -- pd_kb | sort -n | tail -n 1) |"
    done
  done
  echo
  echo "Binary: $(vals sec=size -- unstripped) bytes as built, $(vals sec=size -- stripped) bytes stripped (one binary for all four modes;"
  echo "socat's is $(vals sec=size -- socat) bytes). Shared libraries (libstdc++, libspdlog, libfmt) are not counted in either."
  echo
}

report_tcp() {
  local tool
  cat <<EOF2
## 6. TCP client -> server, loopback, $TCP_MIB MiB file (issue 10)

netdisp: \`ndserver --path OUT --listen-addr tcp://127.0.0.1:P\` and \`ndclient --path IN --server-addr tcp://127.0.0.1:P\` (their defaults).
socat: \`socat -u TCP-LISTEN:P,reuseaddr CREATE:OUT\` and \`socat -u OPEN:IN TCP:127.0.0.1:P\` (its defaults: 8192-byte reads and
writes); "socat -b 1M" adds \`-b 1048576\` to both.
iperf3: \`iperf3 -s -1\` and \`iperf3 -c 127.0.0.1 -n $TCP_BYTES --json\`: memory to memory, it **discards the data** (no file
read or written, no sha256) and times only the transfer (not process start-up); its figure is the receiver's rate (\`end.sum_received\`).
netdisp and socat: goodput = bits in the output file / time from starting the sender to the output file holding every byte
(polled every $TCP_POLL s), so it includes start-up and connecting; the input is random bytes on \`$DIR\`, the output goes
to the same tmpfs, and its sha256 is compared with the input's (a transfer cut off or incomplete has no goodput: "-" in
the sha256 column). $TCP_RUNS runs per tool, tools alternating run by run, each
transfer cut off after $TCP_TIMEOUT s; figures are median (min-max).

| tool | goodput Gbit/s | seconds | complete, sha256 | sender exit status |
|---|---|---|---|---|
EOF2
  for tool in "${TCP_TOOLS[@]}"; do
    echo "| $(tcp_tool_label "$tool") | $(med_range "$(s sec=tcp tool="$tool" -- goodput)" fmt_gbit)" \
      "| $(med_range "$(s sec=tcp tool="$tool" -- seconds)" fmt_sec)" \
      "| $( [[ $tool == iperf3 ]] && echo "- (data discarded)" || sha_counts sec=tcp tool="$tool")" \
      "| $(vals sec=tcp tool="$tool" -- sender_exit | sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }') |"
  done
  local nd so r
  nd=$(med sec=tcp tool=netdisp -- goodput)
  so=$(med sec=tcp tool=socat -- goodput)
  r=$(ratio "$nd" "$so")
  echo
  echo "| ratio of median goodputs | value | target |"
  echo "|---|---|---|"
  echo "| netdisp / socat | x$r | >= 1.5x: $(verdict ge "$r" 1.5) |"
  echo "| netdisp / socat -b 1M | x$(ratio "$nd" "$(med sec=tcp tool=socat-1m -- goodput)") | |"
  echo "| netdisp / iperf3 (iperf3 discards the data) | x$(ratio "$nd" "$(med sec=tcp tool=iperf3 -- goodput)") | |"
  echo
}

tcp_tool_label() {
  case $1 in
    socat) echo "socat (defaults)" ;;
    socat-1m) echo "socat -b 1M" ;;
    *) tool_label "$1" ;;
  esac
}

fmt_sec() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }

report_raw() {
  echo "## Raw trial records"
  echo
  echo "<details><summary>$(grep -Evc '^sec=(lossy|nats)' "$RES") records (sec=section, rates in bit/s, sizes in bytes; sections 7's and 8's are in their parts)</summary>"
  echo
  echo '```'
  grep -Ev '^sec=(lossy|nats)' "$RES" || true
  echo '```'
  echo
  echo "</details>"
}

write_report() {
  report_header
  report_targets
  section_on 1 && report_client
  section_on 2 && report_proxy
  section_on 3 && report_rp
  section_on 4 && report_ingest
  section_on 5 && report_memory
  section_on 6 && report_tcp
  section_on 7 && report_lossy
  section_on 8 && report_nats
  report_raw
}

# write_plot PNG: goodput by datagram size, median with min-max bars, per tool.
write_plot() {
  local data=$W/goodput.dat size tool
  {
    echo "# size, then median min max (Gbit/s) of: ${CLIENT_TOOLS[*]}"
    for size in "${CLIENT_SIZES[@]}"; do
      printf '%s' "$size"
      for tool in "${CLIENT_TOOLS[@]}"; do
        local st
        st=$(s sec=client tool="$tool" size="$size" -- goodput)
        printf ' %s %s %s' "$(gbit "$(field 1 "$st")")" "$(gbit "$(field 2 "$st")")" "$(gbit "$(field 3 "$st")")"
      done
      echo
    done
  } >"$data"
  gnuplot <<EOF
set terminal pngcairo size 800,480 font "sans,10"
set output "$1"
set title "client -> server over loopback, $SIZE_MIB MiB, median and min-max of $RUNS runs ($(nproc) cores)"
set xlabel "datagram size (bytes)"
set ylabel "goodput (Gbit/s)"
set logscale x
set xtics ("1472" 1472, "8192" 8192, "65000" 65000)
set xrange [1000:100000]
set yrange [0:*]
set key top left
set grid ytics
$(plot_lines "$data")
EOF
}

# plot_lines DATA: gnuplot's plot command, one line per tool of CLIENT_TOOLS.
plot_lines() {
  local i tool column dx sep="plot"
  for i in "${!CLIENT_TOOLS[@]}"; do
    tool=${CLIENT_TOOLS[$i]}
    column=$((2 + 3 * i))
    dx=$(awk -v i="$i" -v n="${#CLIENT_TOOLS[@]}" 'BEGIN { printf "%.3f", 1 + 0.03 * (i - (n - 1) / 2) }')
    local style="lw 2"
    [[ $tool != iperf3 ]] || style='lw 2 dt 2 lc rgb "#555555"'
    printf '%s "%s" using ($1*%s):%d:%d:%d with yerrorlines %s pt %d title "%s"' "$sep" "$1" "$dx" \
      "$column" $((column + 1)) $((column + 2)) "$style" $((5 + 2 * i)) "$(tool_label "$tool")"
    sep=", \\
    "
  done
  echo
}

# ---- 7. lossy network (issue 12) ------------------------------------------------------

lossy_label() {
  case $1 in
    nd-tcp) echo "netdisp TCP (unicast)" ;;
    nd-srt) echo "netdisp SRT file mode (unicast)" ;;
    nd-norm1) echo "netdisp NORM, 1 receiver" ;;
    nd-norm3) echo "netdisp NORM, 3 receivers" ;;
    uftp1) echo "uftp/uftpd, 1 receiver" ;;
    uftp3) echo "uftp/uftpd, 3 receivers" ;;
    srt-file-transmit) echo "srt-file-transmit (unicast)" ;;
    socat-tcp) echo "socat over TCP (unicast)" ;;
    *) echo "$1" ;;
  esac
}

# The issue's figures for the anchors on such a rig (goodput / paced rate at 0, 1, 5 % loss).
declare -A LOSSY_ISSUE=([uftp1]="0.975 0.936 0.879" [uftp3]="0.970 0.909 0.795"
  [srt-file-transmit]="0.946 0.143 0.046" [socat-tcp]="0.817 0.376 ~0.03")

fmt_3() { [[ $1 == - ]] && echo - || awk -v v="$1" 'BEGIN { printf "%.3f", v }'; }

loss_text() { awk -v t="$1" 'BEGIN { s = sprintf("%.1f", t / 10); sub(/\.0$/, "", s); print s }'; }

# lossy_min TENTHS: the least a sender can put on the wire per file byte, 1/(1-p).
lossy_min() { awk -v t="$1" 'BEGIN { printf "%.4f", 1 / (1 - t / 1000) }'; }

# lossy_ok_runs TOOL LOSS FIELD: "k/n" runs where FIELD is 1 (within_3x) or,
# for sha_ok, equals the number of receivers.
lossy_ok_runs() {
  local f=(sec=lossy "tool=$1" "loss=$2")
  if [[ $3 == sha_ok ]]; then
    paste -d' ' <(vals "${f[@]}" -- sha_ok) <(vals "${f[@]}" -- receivers) |
      awk '{ n++; if ($1 == $2) k++ } END { printf "%d/%d", k, n }'
  else
    vals "${f[@]}" -- "$3" | awk '{ n++; if ($1 == 1) k++ } END { printf "%d/%d", k, n }'
  fi
}

# lossy_share TOOL LOSS: median goodput share ("-" when the row did not run).
lossy_share() { med sec=lossy "tool=$1" "loss=$2" -- share; }

# The anchors' rates in the issue, by position of the loss rate (0, 1, 5 %).
lossy_issue_figure() {
  local tool=$1 loss=$2 i=0
  case $loss in 0) i=1 ;; 10) i=2 ;; 50) i=3 ;; esac
  ((i > 0)) && [[ -n ${LOSSY_ISSUE[$tool]:-} ]] && field "$i" "${LOSSY_ISSUE[$tool]}"
  return 0
}

lossy_buildtype() {
  python3 -c 'import json, sys; print(next(o["value"] for o in json.load(open(sys.argv[1])) if o["name"] == "buildtype"))' \
    "$BUILD/meson-info/intro-buildoptions.json" 2>/dev/null || echo "an unknown"
}

report_lossy() {
  local tool loss losses tools cmd="" i
  losses=$(vals sec=lossy -- loss | sort -un | tr '\n' ' ')
  # In the order of the option's list: netdisp's rows first, then the anchors.
  tools=$(for t in ${LOSSY_TOOLS_ALL//,/ }; do [[ -z $(vals sec=lossy tool="$t" -- run) ]] || echo "$t"; done | tr '\n' ' ')
  for ((i = 0; i < ${#ARGS[@]}; i++)); do
    case ${ARGS[i]} in
      --keep | --no-build) ;;
      --report-from | --out | --build-dir) i=$((i + 1)) ;;
      *) cmd+=" ${ARGS[i]}" ;;
    esac
  done
  local bytes ideal runs
  bytes=$(vals sec=lossy -- bytes | head -n 1)
  ideal=$(vals sec=lossy -- ideal | head -n 1)
  runs=$(vals sec=lossy -- run | sort -un | wc -l)
  echo "<!-- lossy:begin (scripts/bench --sections lossy rewrites from here to lossy:end) -->"
  cat <<EOS
## 7. File transfer over a lossy network (issue 12)

Measured by \`scripts/bench$cmd\` on $(vals sec=meta -- date), netdisp commit $(vals sec=meta -- commit)$( [[ $(vals sec=meta -- src_changed) == 0 ]] || echo " (with uncommitted changes in src/ or meson.build)"), $(lossy_buildtype) build.
Measured on a 2-core machine (load average before: $(vals sec=meta -- load_before | tr , ' '); after:
$(vals sec=meta -- load_after | tr , ' ')): other work on it lowers every row, so with a high load the ratios between
rows mean more than the absolute figures.

The network (\`tests/e2e/lib/lossy.sh\`; this kernel has no netem): inside a private mount + network namespace, the
sender on a bridge (10.88.0.1) and three receiver namespaces r1..r3 (10.88.0.11-13), each joined by a veth pair with
\`gso_max_segs 1\` (segmented as on a real NIC), multicast flooded to every receiver. A tbf of $LOSSY_TBF on the
sender's way out is the bottleneck; every sender is paced at $(rate_text "$LOSSY_RATE")bit/s. Loss p: an nftables rule
\`numgen random mod 1000 < 10p\` drops each packet coming into each host (every receiver, and the sender: data and
feedback alike), each host on its own draw. The file: $((${bytes:-0} / MIB)) MiB of random bytes (ideal transfer time at
the paced rate: $ideal s). A trial starts the receivers, then the sender, and ends when every receiver holds the whole
file (uftp: and the sender has exited, as it does once every receiver confirmed), or is cut off as hung after
3 x ideal + 30 s. $runs run(s) per row and loss rate, rows taking turns going first. The kernel's random numbers
cannot be seeded: runs differ in which packets are lost, not in the rate.

Columns: runs whose copies all have the input's sha256 / runs; runs done within 3 x the ideal time; goodput = file
bits / (time from starting the sender to the last receiver holding the file), as a share of the paced rate (median,
min-max); repair overhead (over the runs that arrived whole) = bytes the sender put on the wire (its bridge's TX counter: Ethernet, IP and UDP or TCP
headers included, once per multicast datagram) / file size, beside the minimum 1/(1-p) that a sender without any
header needs; feedback = packets that came back to the sender (acknowledgements, NACKs, reports) per packet it sent; sender exit
status: 124 = still running at the cut-off (timeout), 137 = still running 10 s after the last copy was whole (killed).

Commands (P a fresh port per trial, R = 10.88.0.11, OUT a file and DIR a directory beside the receiver):
- netdisp TCP: \`ndserver --path OUT --listen-addr tcp://R:P\`, \`ndclient --path IN --server-addr tcp://R:P --rate $LOSSY_RATE\`
- netdisp SRT: \`ndserver --path OUT --listen-addr srt://R:P${ND_SRT_RX_PARAMS:+?$ND_SRT_RX_PARAMS}\`, \`ndclient --path IN --rate $LOSSY_RATE --server-addr srt://R:P${ND_SRT_TX_PARAMS:+?$ND_SRT_TX_PARAMS}\`
- netdisp NORM: \`ndserver --path OUT --listen-addr norm://239.88.1.1:P${ND_NORM_RX_PARAMS:+?$ND_NORM_RX_PARAMS}\` in each receiver, \`ndclient --path IN --rate $LOSSY_RATE --expect N --server-addr norm://239.88.1.1:P${ND_NORM_TX_PARAMS:+?$ND_NORM_TX_PARAMS}\`
- uftp $(dpkg-query -W -f='${Version}' uftp 2>/dev/null): \`uftpd -d -q -B 104857600 -I eth0 -p P -M 239.88.1.1 -D DIR\` in each receiver, \`uftp -q -B 104857600 -R $((LOSSY_RATE / 1000)) -I ndbr0 -p P -M 239.88.1.1 -P 239.88.2.1 -b 1400 FILE\` (open group, congestion control off: \`-R\` is the rate in kbit/s; -B: its largest UDP buffers, 100 MB, as netdisp asks for large ones)
- srt-file-transmit (srt-tools $(dpkg-query -W -f='${Version}' srt-tools 2>/dev/null)): \`srt-file-transmit "srt://:P?mode=listener" file://DIR/\`, \`srt-file-transmit file://IN "srt://R:P?maxbw=$((LOSSY_RATE / 8))"\` (file mode; maxbw in bytes/s)
- socat over TCP: \`socat -u TCP4-LISTEN:P,bind=R CREATE:OUT\`, \`socat -u OPEN:IN TCP4:R:P,setsockopt-int=1:47:$((LOSSY_RATE / 8))\` (SO_MAX_PACING_RATE: the kernel paces it at the same rate)

| row | loss % | sha256 equal | within 3x ideal | goodput / paced rate | repair overhead | minimum | feedback per data packet | sender exit status | the issue's figure (goodput) |
|---|---|---|---|---|---|---|---|---|---|
EOS
  local all_tools why
  all_tools="$tools $(vals sec=lossy-missing -- tool | tr '\n' ' ')"
  for tool in $all_tools; do
    why=$(vals sec=lossy-missing tool="$tool" -- why | head -n 1)
    if [[ -n $why ]]; then
      echo "| $(lossy_label "$tool") | - | ${why//_/ } | | | | | | | |"
      continue
    fi
    for loss in $losses; do
      local f=(sec=lossy "tool=$tool" "loss=$loss")
      echo "| $(lossy_label "$tool") | $(loss_text "$loss") | $(lossy_ok_runs "$tool" "$loss" sha_ok)" \
        "| $(lossy_ok_runs "$tool" "$loss" within_3x) | $(med_range "$(s "${f[@]}" -- share)" fmt_3)" \
        "| $(med_range "$(s "${f[@]}" complete=1 -- overhead)" fmt_3) | $(fmt_3 "$(lossy_min "$loss")")" \
        "| $(med_range "$(s "${f[@]}" -- fb_per_data)" fmt_3)" \
        "| $(vals "${f[@]}" -- sender_rc | sort | uniq -c | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }')" \
        "| $(lossy_issue_figure "$tool" "$loss") |"
    done
  done
  echo
  lossy_targets "$losses"
  echo "<details><summary>section 7's $(grep -c '^sec=lossy' "$RES") trial records</summary>"
  echo
  echo '```'
  grep '^sec=lossy' "$RES" || true
  echo '```'
  echo
  echo "</details>"
  echo "<!-- lossy:end -->"
  echo
}

lossy_targets() {
  local losses=$1 tool loss spec row want r nd_tools
  echo "| target (issue 12) | result | measured |"
  echo "|---|---|---|"
  nd_tools=$(vals sec=lossy -- tool | grep '^nd-' | awk '!seen[$0]++' | tr '\n' ' ' || true)
  local missed="" total=0
  for tool in $nd_tools; do
    for loss in $losses; do
      local sha in3
      sha=$(lossy_ok_runs "$tool" "$loss" sha_ok)
      in3=$(lossy_ok_runs "$tool" "$loss" within_3x)
      total=$((total + ${sha#*/}))
      [[ ${sha%/*} == "${sha#*/}" && ${in3%/*} == "${in3#*/}" ]] ||
        missed+="$(lossy_label "$tool") at $(loss_text "$loss") %: sha256 equal $sha, in time $in3; "
    done
  done
  if ((total == 0)); then
    echo "| every run of every netdisp row arrives whole (sha256) within 3x the ideal time, never a hang | not measured | no netdisp row ran |"
  else
    echo "| every run of every netdisp row arrives whole (sha256) within 3x the ideal time, never a hang" \
      "| $([[ -z $missed ]] && echo met || echo "**MISSED**")" \
      "| $([[ -z $missed ]] && echo "all $total runs" || echo "${missed%; }") |"
  fi
  # Goodput: unicast >= 0.95 at 1 %, 0.90 at 5 %; NORM to 3 receivers >= 0.93 / 0.82.
  for spec in "nd-tcp 10 0.95" "nd-tcp 50 0.90" "nd-srt 10 0.95" "nd-srt 50 0.90" "nd-norm1 10 0.95" \
    "nd-norm1 50 0.90" "nd-norm3 10 0.93" "nd-norm3 50 0.82"; do
    read -r row loss want <<<"$spec"
    [[ " $losses " == *" $loss "* ]] || continue
    r=$(lossy_share "$row" "$loss")
    if [[ $r == - && -n $(vals sec=lossy tool="$row" loss="$loss" -- run) ]]; then
      echo "| $(lossy_label "$row") at $(loss_text "$loss") % loss: goodput >= $want of the paced rate | **MISSED**" \
        "| no run arrived whole before the cut-off |"
    elif [[ $r == - ]]; then
      echo "| $(lossy_label "$row") at $(loss_text "$loss") % loss: goodput >= $want of the paced rate | not measured" \
        "| $(vals sec=lossy-missing tool="$row" -- why | head -n 1 | tr _ ' ') |"
    else
      echo "| $(lossy_label "$row") at $(loss_text "$loss") % loss: goodput >= $want of the paced rate" \
        "| $(verdict ge "$r" "$want") | median $(fmt_3 "$r") |"
    fi
  done
  for tool in $nd_tools; do
    for loss in $losses; do
      ((loss > 0)) || continue
      local o m
      o=$(med sec=lossy "tool=$tool" "loss=$loss" complete=1 -- overhead)
      m=$(lossy_min "$loss")
      if [[ $o == - ]]; then
        echo "| $(lossy_label "$tool") at $(loss_text "$loss") %: repair overhead <= 1.3 x the minimum | **MISSED** | no run arrived whole |"
        continue
      fi
      echo "| $(lossy_label "$tool") at $(loss_text "$loss") %: repair overhead <= 1.3 x the minimum" \
        "($(awk -v m="$m" 'BEGIN { printf "%.3f", 1.3 * m }')) | $(verdict ge "$(awk -v m="$m" 'BEGIN { print 1.3 * m }')" "$o")" \
        "| median $(fmt_3 "$o") (x$(ratio "$o" "$m") the minimum, headers included) |"
    done
  done
  local n u a b measured=0
  for spec in "nd-norm1 uftp1" "nd-norm3 uftp3"; do
    read -r n u <<<"$spec"
    for loss in $losses; do
      a=$(lossy_share "$n" "$loss")
      b=$(lossy_share "$u" "$loss")
      [[ $a != - && $b != - ]] || continue
      measured=1
      echo "| $(lossy_label "$n") at $(loss_text "$loss") %: goodput >= uftp's on the same network" \
        "| $(verdict ge "$a" "$b") | $(fmt_3 "$a") vs uftp $(fmt_3 "$b") |"
    done
  done
  if ((!measured)); then
    echo "| netdisp NORM's goodput >= uftp's on the same network | not measured" \
      "| $(vals sec=lossy-missing tool=nd-norm3 -- why | head -n 1 | tr _ ' ') |"
  fi
  echo
}

# splice_lossy PAGE: PAGE with its section 7 (lossy:begin .. lossy:end) replaced
# by this run's, or with it put before the raw records when PAGE has none.
splice_lossy() {
  local page=$1 part=$W/lossy-part.md
  report_lossy >"$part"
  if grep -q '^<!-- lossy:begin' "$page"; then
    awk -v part="$part" '
      /^<!-- lossy:begin/ { while ((getline line < part) > 0) print line; skip = 1; next }
      skip && /^<!-- lossy:end -->/ { skip = 2; next }
      skip == 2 && /^$/ { skip = 0; next }
      skip == 2 { skip = 0 }
      !skip { print }' "$page"
  elif grep -q '^## Raw trial records' "$page"; then
    awk -v part="$part" '/^## Raw trial records/ { while ((getline line < part) > 0) print line } { print }' "$page"
  else
    cat "$page" "$part"
  fi
}

# ---- 8. NATS (issue 13) -----------------------------------------------------------------------

# nats_cell PATH FIELD: FIELD of PATH's unpaced trial ("-" when none).
nats_cell() { vals sec=nats path="$1" rate=max -- "$2" | head -n 1 | grep . || echo -; }

# nats_ladder PATH: "RATEk (DELIVERED/s)" for the highest lossless rate of the ladder, or why none.
nats_ladder() {
  local rate best="" first_loss=""
  for rate in $(vals sec=nats path="$1" -- rate | grep -v max); do
    if [[ $(vals sec=nats path="$1" rate="$rate" -- loss | head -n 1) == 0.00 ]]; then
      best=$rate
    else
      first_loss=$rate
      break
    fi
  done
  if [[ -z $best ]]; then
    echo "none (${first_loss}k lost $(vals sec=nats path="$1" rate="$first_loss" -- loss | head -n 1) %)"
  else
    local got
    got=$(vals sec=nats path="$1" rate="$best" -- delivered_per_s | head -n 1)
    echo "${best}k asked, $(fmt_kps "$got")/s delivered${first_loss:+; lost at ${first_loss}k}"
  fi
}

# nats_cpu PATH WHO: "US µs/message, CPU % (busiest thread: %)" of the process
# WHO in PATH's unpaced trial: CPU time per delivered message (what a loaded
# machine changes least), then its share of one core over the trial.
nats_cpu() {
  local cpu thread seconds datagrams us
  cpu=$(nats_cell "$1" "${2}_cpu")
  thread=$(nats_cell "$1" "${2}_thread")
  [[ $cpu == - ]] && { echo -; return; }
  seconds=$(nats_cell "$1" seconds)
  datagrams=$(nats_cell "$1" datagrams)
  us=$(awk -v c="$cpu" -v s="$seconds" -v n="$datagrams" 'BEGIN { printf "%.1f", c / 100 * s / n * 1e6 }')
  echo "$us µs/msg, $cpu % (${thread%:*} ${thread##*:} %)"
}

report_nats() {
  local path mib
  mib=$(($(vals sec=nats path=udp rate=max -- datagrams | head -n 1 | grep . || echo 0) * 512 / 1048576))
  echo "<!-- nats:begin (scripts/bench --sections nats rewrites from here to nats:end) -->"
  cat <<EOS
## 8. NATS (issue 13)

Measured by \`scripts/bench\` section 8 (scripts/bench-lib/nats.sh) on $(vals sec=meta -- date), commit
$(vals sec=meta -- commit), load average $(vals sec=meta -- load_before) before the run and
$(vals sec=meta -- load_after) after (2 cores shared with other work: the figures compare paths, they are
not what a quiet machine does). $mib MiB of random bytes as 512-byte datagrams, \`ndclient --datagram-size
512\` -> \`ndserver --path OUT\`; delivered = datagrams in the log / (client start to the log's last write).
Paths: udp (loopback, the reference), nats (one \`nats-server\`), cluster (published through node A of
three, subscribed through node B), js (\`?stream=T&create=1\` on the client, \`?stream=T&durable=d&create=1\`
on the server, one \`nats-server -js\`), js-cluster (the same on the three-node cluster, \`replicas=3\`).
CPU, per process of the unpaced trial (nats-server: all nodes of the path summed), sampled every 0.2 s
from /proc: its CPU time per delivered message, its percent of one core over the trial, and its busiest
thread with that thread's percent (\`top -H\`'s view). The paced ladder (\`--rate\`) stops at the first
rate that lost a datagram.

| path | unpaced: delivered/s | loss % | CPU: client | CPU: server | CPU: nats-server | paced ladder: highest rate with no loss |
|---|---|---|---|---|---|---|
EOS
  for path in udp nats cluster js js-cluster; do
    [[ $(nats_cell "$path" delivered_per_s) != - ]] || continue
    echo "| $path | $(fmt_kps "$(nats_cell "$path" delivered_per_s)") | $(nats_cell "$path" loss)" \
      "| $(nats_cpu "$path" client) | $(nats_cpu "$path" server) | $(nats_cpu "$path" nats_server) | $(nats_ladder "$path") |"
  done
  echo
  echo "<details><summary>$(grep -c '^sec=nats' "$RES") records of section 8</summary>"
  echo
  echo '```'
  grep '^sec=nats' "$RES" || true
  echo '```'
  echo
  echo "</details>"
  echo "<!-- nats:end -->"
  echo
}

# splice_nats PAGE: PAGE with its section 8 (nats:begin .. nats:end, or an
# older "## 8. NATS" up to the raw records) replaced by this run's, or with it
# put before the raw records when PAGE has none.
splice_nats() {
  local page=$1 part=$W/nats-new.md
  report_nats >"$part"
  if grep -q '^<!-- nats:begin' "$page"; then
    awk -v part="$part" '
      /^<!-- nats:begin/ { while ((getline line < part) > 0) print line; skip = 1; next }
      skip && /^<!-- nats:end -->/ { skip = 2; next }
      skip == 2 && /^$/ { skip = 0; next }
      skip == 2 { skip = 0 }
      !skip { print }' "$page"
  elif grep -q '^## 8\. NATS' "$page"; then
    awk -v part="$part" '
      /^## 8\. NATS/ { while ((getline line < part) > 0) print line; skip = 1; next }
      skip && /^## Raw trial records/ { skip = 0 }
      !skip { print }' "$page"
  elif grep -q '^## Raw trial records' "$page"; then
    awk -v part="$part" '/^## Raw trial records/ { while ((getline line < part) > 0) print line } { print }' "$page"
  else
    cat "$page" "$part"
  fi
}
