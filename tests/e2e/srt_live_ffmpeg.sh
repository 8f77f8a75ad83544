#!/usr/bin/env bash
# Behaviour: ndproxy turns a live MPEG-TS stream over UDP into an srt://
# listener, and ffmpeg (a peer nobody here wrote) reads it as an SRT caller
# through a network that drops 1 % of the datagrams each way: the recording
# decodes without a continuity-counter error, and the loss rule really
# dropped packets (SRT repaired them within its latency).
set -euo pipefail
source "$(dirname "$0")/lib/lossy.sh"
nd_lossy_reexec "$0" "$@"
source "$(dirname "$0")/lib/common.sh"
command -v ffmpeg >/dev/null || skip "ffmpeg is not installed"
nd_setup
nd_lossy_rig 1

port=9400
nd_lossy_drop r1 10 udp      # the stream, on its way to ffmpeg (r1 has no other UDP)
nd_lossy_drop sender 10 "$port"  # ffmpeg's ACKs and NAKs, on their way back
nd_start proxy "$ND/ndproxy" --listen-addr 127.0.0.1:0 \
  --downstream-addr "srt://$ND_LOSSY_SENDER:$port?mode=listener&latency=500"
udp=$(nd_listen_addr proxy udp)
wait_log proxy "listening on srt $ND_LOSSY_SENDER:$port" || fail "the proxy's srt:// listener did not start"
# The reader's probe is bounded: by default ffmpeg looks at 5 s of stream
# (or 5 MB) before it writes anything, more than this whole 3 s stream, so
# the recording stayed empty until the end and the wait below failed (its
# "Input/output error" is only the end of the stream, when the proxy stops).
nd_start reader ip netns exec r1 ffmpeg -nostdin -hide_banner -loglevel warning \
  -probesize 100000 -analyzeduration 1000000 \
  -i "srt://$ND_LOSSY_SENDER:$port?mode=caller" -c copy -f mpegts -y "$WORK/got.ts"
wait_log proxy "srt caller [^ ]+ connected" 15 || fail "ffmpeg did not connect: $(cat "$WORK/reader.err")"

# 3 s of 25 fps video and a tone, at its own pace, 7 TS packets per datagram.
# At a constant 4 Mbit/s (minrate = maxrate) that is about 1240 datagrams,
# so the 1 % rule drops none of them with a chance of 0.99^1240, 4e-6. With
# only -b:v 2M, testsrc compressed to 265 datagrams, 0.85 Mbit/s, and none
# dropped had a chance of 7 %: it happened, failing the check at the end.
ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi -i testsrc=size=320x240:rate=25 \
  -f lavfi -i sine=frequency=440 -t 3 -c:v mpeg2video -b:v 4M -minrate 4M -maxrate 4M -bufsize 2M -c:a mp2 \
  -f mpegts "udp://$udp?pkt_size=1316" 2>"$WORK/source.err" || fail "ffmpeg source: $(cat "$WORK/source.err")"
# The last packets are repaired within the latency (500 ms: at 200 ms a
# repair came too late on a busy CI host and ffmpeg dropped a packet); once
# the recording has not grown for 1 s (ffmpeg writes every ~32 KiB, 0.13 s
# of this stream) all was delivered: the proxy stops and ffmpeg sees the end.
wait_until 10 eval '(($(nd_size "$WORK/got.ts") > 100000))' || fail "ffmpeg recorded only $(nd_size "$WORK/got.ts") bytes"
last_size=0 last_change=0
settled() {
  local size now
  size=$(nd_size "$WORK/got.ts") now=$(date +%s%3N)
  if ((size != last_size)); then
    last_size=$size last_change=$now
    return 1
  fi
  ((now - last_change >= 1000))
}
wait_until 10 settled || fail "the recording still grew after 10 s: $(nd_size "$WORK/got.ts") bytes"
nd_stop_ok proxy
nd_wait reader 10 || true
cat "$WORK/reader.err" >&2

ffmpeg -nostdin -hide_banner -loglevel warning -i "$WORK/got.ts" -f null - 2>"$WORK/decode.err" || true
# The reader's own log ends with an I/O error when the stream ends; only a
# damaged stream's messages count there.
problems=$( (grep -Ei 'continuity|corrupt|error|invalid' "$WORK/decode.err" || true
  grep -Ei 'continuity|corrupt|invalid|PES packet' "$WORK/reader.err" || true) | awk 'NR <= 3')
[[ -z $problems ]] || fail "the recording does not decode cleanly: $problems"
frames=$(ffprobe -v error -select_streams v:0 -count_packets -show_entries stream=nb_read_packets -of default=nw=1:nk=1 "$WORK/got.ts" | awk 'NR == 1')
((frames >= 70)) || fail "only $frames of 75 video frames recorded"
dropped=$(nd_lossy_dropped r1)
((dropped > 0)) || fail "the 1 % loss rule dropped nothing: the test did not test repair"
echo "ffmpeg recorded $frames video frames through 1 % loss ($dropped packets dropped, $(nd_lossy_dropped sender) reports)"
