#!/usr/bin/env bash
# The bad input table: every row is a command line that must end with its exact
# exit code (2 usage error, 1 runtime failure, 0 fine) and, for errors, exactly
# one line on stderr naming the problem; never a crash (exit >= 128), an abort,
# a sanitizer report or a hang. All rows run; the failures are listed at the end.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

failures=()
rows=0
big=$(head -c 100000 /dev/zero | tr '\0' a)    # a 100 KB argument
bigdigits=$(head -c 100000 /dev/zero | tr '\0' 1)
bad_utf8=$'\xff\xfe\xc3\x28'                  # not UTF-8

# run_row CMD...: runs CMD (stdin /dev/null, 10 s at most); sets rc.
run_row() {
  rc=0
  timeout 10 "$@" </dev/null >"$WORK/row.stdout" 2>"$WORK/row.stderr" || rc=$?
  rows=$((rows + 1))
}

# show_cmd CMD...: sets cmdline, CMD with $ND/ left out and long arguments cut.
show_cmd() {
  local arg
  cmdline=
  for arg in "$@"; do
    arg=${arg#"$ND/"}
    ((${#arg} <= 40)) || arg="${arg:0:16}...(${#arg} bytes)"
    cmdline+="${cmdline:+ }$arg"
  done
}

# row_failed WHAT: records a failure with the command and its stderr.
row_failed() {
  failures+=("$cmdline: $1 [stderr: $(head -c 200 "$WORK/row.stderr" | tr '\n' '|')]")
}

# check_common: what no row may ever do.
check_common() {
  if ((rc == 124)); then row_failed "still running after 10 s"; return 1; fi
  if ((rc >= 128)); then row_failed "crashed with exit $rc (signal $((rc - 128)))"; return 1; fi
  if grep -Eq 'AddressSanitizer|runtime error:|terminate called|Aborted|core dumped' "$WORK/row.stderr"; then
    row_failed "sanitizer report or abort"
    return 1
  fi
}

# row CODE PHRASE CMD...: CMD exits CODE with one stderr line matching PHRASE
# (an extended regex, case-insensitive) and nothing on stdout. CODE is one exit
# code, or alternatives like 1|2 where two answers are both right.
row() {
  local code=$1 phrase=$2
  shift 2
  show_cmd "$@"
  run_row "$@"
  check_common || return 0
  [[ $rc =~ ^($code)$ ]] || row_failed "exit $rc, expected $code"
  local lines
  lines=$(wc -l <"$WORK/row.stderr")
  [[ $lines -eq 1 ]] || row_failed "$lines lines on stderr, expected one"
  grep -Eiq -- "$phrase" "$WORK/row.stderr" || row_failed "stderr does not mention /$phrase/"
  [[ ! -s "$WORK/row.stdout" ]] || row_failed "wrote to stdout"
}

# row_ok CMD...: CMD is fine and exits 0 (the rows around the bad ones).
row_ok() {
  show_cmd "$@"
  run_row "$@"
  check_common || return 0
  [[ $rc == 0 ]] || row_failed "exit $rc, expected 0"
}

C=("$ND/ndclient" --path /dev/null)
S=("$ND/ndserver" --path "$WORK/s.log")

# ---- malformed addresses (client destination and server listen) ----
row 2 "missing port" "${C[@]}" --server_addr 127.0.0.1
row 2 "missing port" "${C[@]}" --server_addr host:
row 2 "empty host" "${C[@]}" --server_addr :9000
row 2 "without '\]'" "${C[@]}" --server_addr '[::1'
row 2 "without '\['" "${C[@]}" --server_addr '::1]:90'
row 2 "missing port" "${C[@]}" --server_addr '[::1]9000'
row 2 "missing port" "${C[@]}" --server_addr '[::1]:'
row 2 "brackets" "${C[@]}" --server_addr '::1:9000'
row 2 "not an IPv6 address" "${C[@]}" --server_addr '[1.2.3.4]:90'
row 2 "interface 'nosuchif'" "${C[@]}" --server_addr '[fe80::1%nosuchif]:90'
row 2 "empty" "${C[@]}" --server_addr ''
row 2 "missing port" "${S[@]}" --listen_addr 127.0.0.1
row 2 "brackets" "${S[@]}" --listen_addr '::1:9000'
row 2 "without '\]'" "${S[@]}" --listen_addr '[::1'
# ---- ports ----
row 2 "port 0" "${C[@]}" --server_addr 127.0.0.1:0
row 2 "65536" "${C[@]}" --server_addr 127.0.0.1:65536
row 2 "'-1'" "${C[@]}" --server_addr 127.0.0.1:-1
row 2 "'abc'" "${C[@]}" --server_addr 127.0.0.1:abc
row 2 "65536" "${S[@]}" --listen_addr 127.0.0.1:65536
row 2 "port 0" "$ND/ndproxy" --listen_addr 127.0.0.1:0 --downstream_addr '[::1]:0'
# ---- names that do not resolve: a runtime failure, not a usage error ----
row 1 "resolve.*no-such-host.invalid" "${C[@]}" --server_addr no-such-host.invalid:9
row 1 "resolve.*no-such-host.invalid" "${S[@]}" --listen_addr no-such-host.invalid:9
# ---- sizes and numbers ----
row 2 "datagram-size" "${C[@]}" --server_addr 127.0.0.1:9 --datagram-size 0
row 2 "datagram-size.*limit" "${C[@]}" --server_addr 127.0.0.1:9 --datagram-size 70000
row 2 "abc" "${C[@]}" --server_addr 127.0.0.1:9 --datagram-size abc
row 2 "rate" "${C[@]}" --server_addr 127.0.0.1:9 --rate 0
row 2 "rate" "${C[@]}" --server_addr 127.0.0.1:9 --rate fast
row 2 "allow" "${S[@]}" --listen_addr 127.0.0.1:0 --allow 300.1.1.1/8
row 2 "allow" "${S[@]}" --listen_addr 127.0.0.1:0 --allow 10.0.0.0/33
row 2 "multicast-ttl" "${C[@]}" --server_addr 127.0.0.1:9 --multicast-ttl 300
row 2 "multicast-loop" "${C[@]}" --server_addr 127.0.0.1:9 --multicast-loop maybe
# ---- required, unknown, foreign and extra arguments ----
row 2 "--path.*required" "$ND/ndclient" --server_addr 127.0.0.1:9
row 2 "server.addr.*required" "$ND/ndclient" --path /dev/null
row 2 "--path.*required" "$ND/ndserver" --listen_addr 127.0.0.1:0
row 2 "listen.addr.*required" "$ND/ndserver" --path "$WORK/s.log"
row 2 "downstream.addr.*required" "$ND/ndproxy" --listen_addr 127.0.0.1:0
row 2 "multicast.addr.*required" "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0
row 2 "bogus" "${C[@]}" --server_addr 127.0.0.1:9 --bogus
row 2 "downstream_addr" "${C[@]}" --server_addr 127.0.0.1:9 --downstream_addr x
row 2 "server_addr" "${S[@]}" --listen_addr 127.0.0.1:0 --server_addr 127.0.0.1:9
row 2 "extra" "${C[@]}" --server_addr 127.0.0.1:9 extra
row 2 "path" "$ND/ndclient" --path
row 2 "not a multicast" "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --multicast_addr 127.0.0.1:9
row 2 "not a multicast" "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --multicast_addr '[::1]:9'
# ---- options a mode lists and uses, nothing else: the rest are unknown ----
row 2 "unknown option --gso" "${S[@]}" --listen_addr 127.0.0.1:0 --gso maybe
row 2 "unknown option --sndbuf" "${S[@]}" --listen_addr 127.0.0.1:0 --sndbuf 1M
row 2 "unknown option --multicast-ttl" "${S[@]}" --listen_addr 127.0.0.1:0 --multicast-ttl 2
row 2 "unknown option --multicast-loop" "${S[@]}" --listen_addr 127.0.0.1:0 --multicast-loop on
row 2 "unknown option --rcvbuf" "${C[@]}" --server_addr 127.0.0.1:9 --rcvbuf 1M
row 2 "unknown option --allow" "${C[@]}" --server_addr 127.0.0.1:9 --allow 127.0.0.1
row 2 "unknown option --gro" "${C[@]}" --server_addr 127.0.0.1:9 --gro on
row 2 "drain-timeout -1.*0 to 3600" "${S[@]}" --listen_addr 127.0.0.1:0 --drain-timeout -1
row 2 "drain-timeout abc" "${S[@]}" --listen_addr 127.0.0.1:0 --drain-timeout abc
row 2 "unknown option --drain-timeout" "${C[@]}" --server_addr 127.0.0.1:9 --drain-timeout 1
# ---- monitoring: --stats-interval, --stats-format, --metrics-addr ----
row 2 "stats-interval 0.*0.001 to 86400" "${S[@]}" --listen_addr 127.0.0.1:0 --stats-interval 0
row 2 "stats-interval soon" "${C[@]}" --server_addr 127.0.0.1:9 --stats-interval soon
row 2 "stats-format xml: expected text or json" "${S[@]}" --listen_addr 127.0.0.1:0 --stats-format xml
row 2 "metrics-addr 127.0.0.1: .*port" "${S[@]}" --listen_addr 127.0.0.1:0 --metrics-addr 127.0.0.1
row 2 "metrics-addr unix:///x" "${S[@]}" --listen_addr 127.0.0.1:0 --metrics-addr unix:///x
row 2 "metrics-addr 239.1.1.1:9100: expected a local IP" "${S[@]}" --listen_addr 127.0.0.1:0 --metrics-addr 239.1.1.1:9100
row 2 "did you mean --metrics-addr" "${S[@]}" --listen_addr 127.0.0.1:0 --metric-addr 127.0.0.1:0
# ---- a proxy that would forward to itself; --linger ----
row 2 "downstream-addr 127.0.0.1:9 is also a --listen-addr" "$ND/ndproxy" --listen_addr 127.0.0.1:9 --downstream_addr 127.0.0.1:9
row 2 "downstream-addr \[::1\]:9 is also a --listen-addr" "$ND/ndproxy" --listen_addr '[::1]:9' --downstream_addr '[::1]:9'
row 2 "downstream-addr 127.0.0.1:9 is also a --listen-addr" "$ND/ndproxy" --listen_addr 127.0.0.1:0 --listen_addr 127.0.0.1:9 --downstream_addr '[::1]:9' --downstream_addr 127.0.0.1:9
row 2 "linger -1" "${C[@]}" --server_addr 127.0.0.1:9 --linger -1
row 2 "linger abc" "${C[@]}" --server_addr 127.0.0.1:9 --linger abc
row 2 "linger 60001" "${C[@]}" --server_addr 127.0.0.1:9 --linger 60001
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --linger 0 --ignore-send-errors
row 2 "--tee with --path -" "$ND/ndserver" --path - --tee --listen_addr 127.0.0.1:0
row 2 "exit-on-write-error is for log files" "$ND/ndserver" --path - --exit-on-write-error --listen_addr 127.0.0.1:0
# ---- endpoints: schemes, query parameters, unix paths ----
row 2 "unknown scheme 'http://' \\(known: udp, tcp, unix, unixgram, srt, norm, nats\\)" "${C[@]}" --server_addr http://127.0.0.1:9
row 2 "empty scheme" "${C[@]}" --server_addr ://127.0.0.1:9
row 2 "tcp:// is point to point" "${C[@]}" --server_addr tcp://239.1.2.3:9
row 2 "tcp:// is point to point" "${C[@]}" --server_addr tcp://255.255.255.255:9
row 2 "tcp:// is point to point" "${S[@]}" --listen_addr tcp://239.1.2.3:9
row 2 "unix:// takes no host" "${S[@]}" --listen_addr unix://host/x.sock
row 2 "unix:// takes no host" "${C[@]}" --server_addr unix://x.sock
row 2 "unknown parameter 'foo' for udp:// destination" "${C[@]}" --server_addr 'udp://127.0.0.1:9?foo=1'
row 2 "unknown parameter 'source' for udp:// destination" "${C[@]}" --server_addr 'udp://239.1.2.3:9?source=10.0.0.1'
row 2 "unknown parameter 'bind' for udp:// listen" "${S[@]}" --listen_addr 'udp://127.0.0.1:0?bind=127.0.0.1'
row 2 "source= is for multicast groups" "${S[@]}" --listen_addr 'udp://127.0.0.1:0?source=10.0.0.1'
row 2 "source=10.0.0.1:5 takes no port" "${S[@]}" --listen_addr 'udp://239.1.2.3:0?source=10.0.0.1:5'
row 2 "source is IPv6, the group IPv4" "${S[@]}" --listen_addr 'udp://239.1.2.3:0?source=::1'
row 2 "'bind' has no value" "${C[@]}" --server_addr 'udp://127.0.0.1:9?bind'
row 2 "bind=9: .*a number alone" "${C[@]}" --server_addr 'udp://127.0.0.1:9?bind=9'
row 1 "resolve '300.1.1.1'" "${C[@]}" --server_addr 'udp://127.0.0.1:9?bind=300.1.1.1'
row 2 "bind= is given more than once" "${C[@]}" --server_addr 'udp://127.0.0.1:9?bind=127.0.0.1&bind=127.0.0.2'
row 2 "unknown parameter 'bind' for tcp://" "${C[@]}" --server_addr 'tcp://127.0.0.1:9?bind=127.0.0.1'
row 1 "connect unix:///nonexistent/x.sock: No such file" "${C[@]}" --server_addr unix:///nonexistent/x.sock --reconnect off
row 1 "bind unix /nonexistent-dir/x.sock: No such file" "${S[@]}" --listen_addr unix:///nonexistent-dir/x.sock
# ---- srt:// (the module checks the values) ----
row 2 "mode=sideways: not caller, listener or rendezvous" "${C[@]}" --server_addr 'srt://127.0.0.1:9?mode=sideways'
row 2 "transtype=bulk: not live or file" "${S[@]}" --listen_addr 'srt://127.0.0.1:0?transtype=bulk'
row 2 "latency=abc: not a number of milliseconds" "${C[@]}" --server_addr 'srt://127.0.0.1:9?latency=abc'
row 2 "passphrase=...: must be 10 to 79 characters" "${C[@]}" --server_addr 'srt://127.0.0.1:9?passphrase=short'
row 2 "pbkeylen=20: not 16, 24 or 32" "${C[@]}" --server_addr 'srt://127.0.0.1:9?passphrase=0123456789&pbkeylen=20'
row 2 "pbkeylen= needs a passphrase" "${C[@]}" --server_addr 'srt://127.0.0.1:9?pbkeylen=16'
row 2 "payloadsize=2000: not a number of bytes from 188 to 1456" "${C[@]}" --server_addr 'srt://127.0.0.1:9?payloadsize=2000'
row 2 "srt:// is point to point" "${S[@]}" --listen_addr 'srt://239.1.2.3:9000'
row 2 "a caller or rendezvous address needs a port" "${S[@]}" --listen_addr 'srt://127.0.0.1:0?mode=caller'
row 2 "unknown parameter 'foo' for srt:// destination" "${C[@]}" --server_addr 'srt://127.0.0.1:9?foo=1'
row 1 "connect srt://127.0.0.1:9: .*(timed out|rejected)" "${C[@]}" --server_addr 'srt://127.0.0.1:9'
row 2 "reconnect maybe: expected on or off" "${C[@]}" --server_addr tcp://127.0.0.1:9 --reconnect maybe
row 2 "unknown option --stream-buffer" "${C[@]}" --server_addr tcp://127.0.0.1:9 --stream-buffer 1M
row 2 "stream-buffer 1k" "$ND/ndproxy" --listen_addr 127.0.0.1:0 --downstream_addr tcp://127.0.0.1:9 --stream-buffer 1k
row_ok "${C[@]}" --server_addr 'udp://127.0.0.1:9?bind=127.0.0.1:0'
row_ok "${C[@]}" --server_addr 'udp://[::1]:9?bind=::1'
# ---- norm:// (the module checks the values) ----
row 2 "rate=fast: expected bits per second" "${C[@]}" --server_addr 'norm://127.0.0.1:9?rate=fast'
row 2 "cc=maybe: expected on or off" "${C[@]}" --server_addr 'norm://127.0.0.1:9?cc=maybe'
row 2 "block=200 with parity=100: a block and its parity are at most 255 segments" "${C[@]}" --server_addr 'norm://127.0.0.1:9?block=200&parity=100'
row 2 "autoparity=20 is more than parity=16" "${C[@]}" --server_addr 'norm://127.0.0.1:9?parity=16&autoparity=20'
row 2 "segment=10: expected a whole number from 64 to 8952" "${C[@]}" --server_addr 'norm://127.0.0.1:9?segment=10'
row 2 "grtt_max=0: expected seconds from 0.001 to 60" "${C[@]}" --server_addr 'norm://127.0.0.1:9?grtt_max=0'
row 2 "id=0: expected a whole number from 1 to 4294967294" "${S[@]}" --listen_addr 'norm://239.1.2.3:9000?id=0'
row 2 "a NORM session needs a port" "${S[@]}" --listen_addr 'norm://239.1.2.3:0'
row 2 "unknown parameter 'rate' for norm:// listen" "${S[@]}" --listen_addr 'norm://239.1.2.3:9000?rate=1M'
row 2 "--expect counts NORM receivers: udp://127.0.0.1:9 is not a norm:// destination" "${C[@]}" --server_addr 127.0.0.1:9 --expect 2
row 2 "--expect-timeout is for --expect" "${C[@]}" --server_addr 'norm://127.0.0.1:9' --expect-timeout 5
# ---- nats:// JetStream parameters (the module checks them before connecting) ----
row 2 "durable= needs stream=NAME" "${S[@]}" --listen_addr 'nats://127.0.0.1:9/s?durable=d'
row 2 "replicas= applies to a stream made with create=1" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?stream=S&replicas=3'
row 2 "replicas=9: expected 1 to 5" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?stream=S&create=1&replicas=9'
row 2 "stream=a.b: a stream name is one word" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?stream=a.b'
row 2 "ack_wait= applies to a durable consumer made with create=1" "${S[@]}" --listen_addr 'nats://127.0.0.1:9/s?stream=S&ack_wait=5'
row 2 "unknown parameter 'durable' for nats:// destination" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?stream=S&durable=d'
row 2 "retry_for=-1: expected seconds from 0 to 3600" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?stream=S&retry_for=-1'
row 2 "retry_for= needs stream=NAME" "${C[@]}" --server_addr 'nats://127.0.0.1:9/s?retry_for=5'
row 2 "unknown parameter 'retry_for' for nats:// listen" "${S[@]}" --listen_addr 'nats://127.0.0.1:9/s?stream=S&retry_for=5'
# ---- messages: plain quotes, dashes, a suggestion where one is close ----
row 2 "^ndserver: unknown option --bogus \\(see --help\\)$" "${S[@]}" --listen_addr 127.0.0.1:0 --bogus
row 2 "unknown option --listen-adr; did you mean --listen-addr\\?" "${S[@]}" --listen-adr 127.0.0.1:0
row 2 "unknown option --server_adr; did you mean --server-addr\\?" "${C[@]}" --server_adr 127.0.0.1:9
row 2 "unknown option -x " "${C[@]}" --server_addr 127.0.0.1:9 -x
row 2 "^ndclient: --path needs a value" "$ND/ndclient" --server_addr 127.0.0.1:9 --path
row 2 "port ' 9992' is not a number from 0 to 65535" "${S[@]}" --listen_addr '127.0.0.1: 9992'
row 2 "port ' 9992' is not a number from 1 to 65535" "${C[@]}" --server_addr '127.0.0.1: 9992'
row 2 "destination needs a host" "${C[@]}" --server_addr 9992
row 2 "-v and -q" "${S[@]}" --listen_addr 127.0.0.1:0 -v -q
# ---- units: sizes in bytes with k/M/G (1024) or kB/MB/GB (1000); rates in bits per second ----
row 2 "rcvbuf 1.5x.*whole number of bytes" "${S[@]}" --listen_addr 127.0.0.1:0 --rcvbuf 1.5x
row 2 "rcvbuf 0.5.*whole number of bytes" "${S[@]}" --listen_addr 127.0.0.1:0 --rcvbuf 0.5
row 2 "rcvbuf 2G.*1024 to" "${S[@]}" --listen_addr 127.0.0.1:0 --rcvbuf 2G
row 2 "client-buffer 1k.*65536 to" "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --multicast_addr 239.1.2.3:9 --client-buffer 1k
row 2 "'m' would mean milli" "${C[@]}" --server_addr 127.0.0.1:9 --rate 800m
row 2 "bits per second" "${C[@]}" --server_addr 127.0.0.1:9 --rate 100MB
row 2 "rate 8Mbytes" "${C[@]}" --server_addr 127.0.0.1:9 --rate 8Mbytes
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --rate 800Mbit --sndbuf 4M
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --rate 1.5G --sndbuf 4MiB
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --rate 100k --sndbuf 64k
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --rate 2Mbit/s --sndbuf 1MB
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --rate 300Kbps
row_ok "$ND/netdisp" help server
row_ok "$ND/netdisp" help reverse-proxy
# ---- files ----
row 1 "/nonexistent.*No such file" "$ND/ndclient" --path "$WORK/nonexistent" --server_addr 127.0.0.1:9
row 1 "Is a directory" "$ND/ndclient" --path "$WORK" --server_addr 127.0.0.1:9
row 1 "no-such-dir.*No such file" "$ND/ndserver" --path "$WORK/no-such-dir/s.log" --listen_addr 127.0.0.1:0
row 1 "Is a directory" "$ND/ndserver" --path "$WORK" --listen_addr 127.0.0.1:0
head -c 10 /dev/urandom >"$WORK/secret"
chmod 000 "$WORK/secret"
mkdir "$WORK/ro"
chmod 555 "$WORK/ro"
if nd_is_root; then
  echo "note: root reads a chmod 000 file anyway: the unreadable --path row is skipped" >&2
  # Root ignores permissions but not a read-only mount: use one in a private
  # mount namespace when that can be made.
  if unshare -m -- sh -c 'mount -o bind,ro "$1" "$1"' _ "$WORK/ro" 2>/dev/null; then
    row 1 "ro/s.log.*Read-only file system" unshare -m -- sh -c 'mount -o bind,ro "$1" "$1" && exec "$2" --path "$1/s.log" --listen_addr 127.0.0.1:0' _ "$WORK/ro" "$ND/ndserver"
  else
    echo "note: no private mount namespace here: the read-only log directory row is skipped" >&2
  fi
else
  row 1 "secret.*Permission denied" "$ND/ndclient" --path "$WORK/secret" --server_addr 127.0.0.1:9
  row 1 "ro/s.log.*Permission denied" "$ND/ndserver" --path "$WORK/ro/s.log" --listen_addr 127.0.0.1:0
fi
chmod 755 "$WORK/ro"

# ---- sockets: a port in use, the same address twice, an address not ours ----
nd_start holder "$ND/ndserver" --path "$WORK/holder.log" --listen_addr 127.0.0.1:0
held=$(nd_listen_addr holder udp)
row 1 "bind.*$held.*Address already in use" "${S[@]}" --listen_addr "$held"
row 1 "bind.*Address already in use" "$ND/ndproxy" --listen_addr "$held" --downstream_addr 127.0.0.1:9
row 2 "twice" "${S[@]}" --listen_addr "$held" --listen_addr "$held"
row 1 "bind.*192.0.2.1.*Cannot assign" "${S[@]}" --listen_addr 192.0.2.1:9
nd_stop holder || fail "holder server exited $? on SIGTERM"

# ---- the multi-call binary ----
# row_unknown_mode SHOWN ARG: netdisp ARG exits 2 naming the mode, then lists the modes.
row_unknown_mode() {
  cmdline="netdisp $1"
  run_row "$ND/netdisp" "${@:2}"
  check_common || return 0
  [[ $rc == 2 ]] || row_failed "exit $rc, expected 2"
  head -n 1 "$WORK/row.stderr" | grep -q "unknown mode" || row_failed "first line does not say unknown mode"
  local mode
  for mode in client proxy reverse-proxy server; do
    grep -q "^ *$mode " "$WORK/row.stderr" || row_failed "mode list lacks $mode"
  done
  [[ ! -s "$WORK/row.stdout" ]] || row_failed "wrote to stdout"
}
row_unknown_mode no-such-mode no-such-mode
row_unknown_mode "<100 KB mode name>" "$big"
row_unknown_mode "<non-UTF-8 mode name>" "$bad_utf8"
for args in "" --help -h; do
  # shellcheck disable=SC2086 # "" means no argument at all
  run_row "$ND/netdisp" $args
  show_cmd netdisp $args
  check_common || continue
  [[ $rc == 0 ]] || row_failed "exit $rc, expected 0"
  for mode in client proxy reverse-proxy server; do
    grep -q "^ *$mode " "$WORK/row.stdout" || row_failed "stdout does not list mode $mode"
  done
done
run_row "$ND/netdisp" --version
cmdline="netdisp --version"
if check_common; then
  [[ $rc == 0 ]] || row_failed "exit $rc, expected 0"
  grep -Eq '[0-9]+\.[0-9]+' "$WORK/row.stdout" || row_failed "no version number on stdout"
fi
row_ok "$ND/netdisp" client --help
row_ok "$ND/ndserver" --help
# netdisp help MODE: the mode's own help, not the mode list.
run_row "$ND/netdisp" help client
cmdline="netdisp help client"
if check_common; then
  [[ $rc == 0 ]] || row_failed "exit $rc, expected 0"
  grep -q -- "--server-addr" "$WORK/row.stdout" || row_failed "stdout is not the client's help"
fi
row_unknown_mode "help no-such-mode" help no-such-mode

# ---- '--' ends the options ----
row_ok "${C[@]}" --server_addr 127.0.0.1:9 --
row 2 "unexpected argument '--path'" "$ND/ndclient" -- --path /dev/null --server_addr 127.0.0.1:9
row 2 "extra" "${C[@]}" --server_addr 127.0.0.1:9 -- extra
row_unknown_mode "-- client" --

# ---- huge and non-UTF-8 arguments: a clear error, never a crash ----
# A 100 KB argument may be refused for its length alone (usage error) or get
# the error its content deserves; either way one line that names the problem.
long="long|limit"
row "1|2" "resolve|$long" "${C[@]}" --server_addr "$big:9"
row 2 "port|$long" "${C[@]}" --server_addr "127.0.0.1:$big"
row 2 "address|$long" "${C[@]}" --server_addr "[$big]:9"
row "1|2" "File name too long|$long" "$ND/ndclient" --path "$big" --server_addr 127.0.0.1:9
row 2 "does not exist|unknown|option|$long" "${C[@]}" --server_addr 127.0.0.1:9 "--$big"
row 2 "syntax|unknown|option|argument|$long" "${C[@]}" --server_addr 127.0.0.1:9 "-$big"
row 2 "datagram-size|parse|$long" "${C[@]}" --server_addr 127.0.0.1:9 --datagram-size "$bigdigits"
row 2 "path|does not exist|syntax|$long" "$ND/ndclient" "--path=/dev/null$big" --server_addr 127.0.0.1:9
row 2 "allow|$long" "${S[@]}" --listen_addr 127.0.0.1:0 --allow "$big"
row 2 "unexpected argument|$long" "${C[@]}" --server_addr 127.0.0.1:9 "$big"
# Just under a 4 KiB limit is still an ordinary argument.
row 1 "resolve" "${C[@]}" --server_addr "${big:0:4000}:9"
row 2 "does not exist|unknown|option" "${C[@]}" --server_addr 127.0.0.1:9 "--${big:0:4000}"
row 2 "datagram-size|parse" "${C[@]}" --server_addr 127.0.0.1:9 --datagram-size "${bigdigits:0:4000}"
row 1 "resolve" "${C[@]}" --server_addr "$bad_utf8:9"
row 1 "No such file" "$ND/ndclient" --path "$WORK/$bad_utf8" --server_addr 127.0.0.1:9
row 2 "syntax|does not exist|option" "${C[@]}" --server_addr 127.0.0.1:9 "--$bad_utf8"
row 2 "port" "${C[@]}" --server_addr "127.0.0.1:$bad_utf8"

echo "bad_input: $rows rows, ${#failures[@]} failed" >&2
if ((${#failures[@]} > 0)); then
  printf '  %s\n' "${failures[@]}" >&2
  fail "${#failures[@]} of $rows bad-input rows misbehaved"
fi
