#!/usr/bin/env bash
# ndserver --path d1/x.log; rm -rf d1; SIGHUP: the reopen fails, the server
# keeps writing to the deleted file, warns that it does, and retries the
# reopen on every batch and every second. After mkdir d1 the data that follows
# lands in the new d1/x.log, and the summary counts the bytes that went to the
# deleted file in between. Twice: once reopened by the next batch, once by
# the idle tick with no traffic at all.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

mkdir "$WORK/d1"
log="$WORK/d1/x.log"
nd_start srv "$ND/ndserver" --path "$log" --listen_addr 127.0.0.1:0
addr=$(nd_listen_addr srv udp)
pid=$(nd_pid srv)

send() { # NAME BYTES: sends BYTES random bytes; the client must exit 0
  nd_random_file "$WORK/$1.bin" "$2"
  nd_start "$1" "$ND/ndclient" --path "$WORK/$1.bin" --server_addr "$addr" --rate 100M
  nd_expect_exit "$1" 0
}

# deleted_size: the size of the server's open file that was $log (deleted).
deleted_size() {
  local fd
  for fd in /proc/"$pid"/fd/*; do
    [[ "$(readlink "$fd" 2>/dev/null)" == "$log (deleted)" ]] || continue
    stat -L -c %s "$fd"
    return 0
  done
  echo 0
}

deleted_size_is() { # BYTES
  (($(deleted_size) == $1))
}

logged_at_least() { # N TEXT: the server logged TEXT on at least N lines
  (($(grep -cF -- "$2" "$WORK/srv.err") >= $1))
}

# remove_and_hup N: rm -rf d1, SIGHUP, and wait for the Nth failed reopen.
remove_and_hup() {
  rm -rf "$WORK/d1"
  kill -HUP "$pid"
  wait_until 5 logged_at_least "$1" "open log file $log: No such file or directory (SIGHUP)" ||
    fail "no failed reopen #$1 logged after SIGHUP with the directory gone"
}

# 1. The log as usual.
send a 300001
wait_file_size "$log" 300001 || fail "the server did not log part a"
assert_same_sha "$WORK/a.bin" "$log"

# 2. The directory goes, SIGHUP: the reopen fails; part b goes to the deleted file.
remove_and_hup 1
send b 200003
wait_until 10 deleted_size_is $((300001 + 200003)) ||
  fail "the deleted file holds $(deleted_size) bytes, expected $((300001 + 200003))"
wait_log srv "writing to a file that is no longer at $log" ||
  fail "no warning that the server writes to a file no longer at its path"

# 3. The directory comes back: the next batch reopens it; part c lands there.
mkdir "$WORK/d1"
send c 100005
wait_file_size "$log" 100005 || fail "no new $log after mkdir (the reopen was not retried)"
assert_same_sha "$WORK/c.bin" "$log"
wait_log srv "file $log: writing to $log again" || fail "no line saying the server writes to $log again"

# 4. Again, but reopened by the idle tick: nothing is sent until it is.
remove_and_hup 2
mkdir "$WORK/d1"
wait_until 5 logged_at_least 2 "file $log: writing to $log again" ||
  fail "the reopen was not retried within 5 s while no data came"
[[ -f "$log" ]] || fail "the idle retry logged success but $log does not exist"
send d 50007
wait_file_size "$log" 50007 || fail "part d did not reach $log"
assert_same_sha "$WORK/d.bin" "$log"

# 5. The summary counts exactly part b as written to a file no longer at the path.
nd_stop_ok srv
sed -n '/summary:/,$p' "$WORK/srv.err" |
  grep -qF -- "-> file $log: wrote $((300001 + 200003 + 100005 + 50007)) bytes" ||
  fail "summary lacks the bytes written: $(grep -F -- "-> file" "$WORK/srv.err" | tail -n 1)"
sed -n '/summary:/,$p' "$WORK/srv.err" |
  grep -qF -- "; 200003 bytes written to a file no longer at $log (reopen failed)" ||
  fail "summary does not count the 200003 bytes written to the deleted file: $(grep -F -- "-> file" "$WORK/srv.err" | tail -n 1)"
