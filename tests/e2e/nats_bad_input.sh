#!/usr/bin/env bash
# Behaviour: nats:// input that cannot work is one error line and an exit
# code, never a hang or a credential in the output: a malformed endpoint
# (no subject, a bad subject, wildcards on a destination, a bad port,
# queue= on a destination) exits 2; no NATS server at the address exits 1
# after a bounded connect, naming the server; wrong credentials (user and
# password, a token) exit 1 and the secret appears in no message.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need
[[ -e "$ND/netdisp-nats.so" ]] || skip "this build has no nats:// (libnats-dev, -Dnats=enabled)"

# row CODE REGEX CMD...: CMD exits CODE within 10 s with one line matching REGEX
# (and no secret of this test in its output).
row() {
  local code=$1 regex=$2 status=0
  shift 2
  timeout 10 "$@" >"$WORK/row.out" 2>"$WORK/row.err" </dev/null || status=$?
  [[ $status -eq $code ]] || fail "exit $status, expected $code: $* -> $(cat "$WORK/row.err")"
  grep -Eq -- "$regex" "$WORK/row.err" || fail "no /$regex/ in the output of $*: $(cat "$WORK/row.err")"
  ! grep -Eq 'hunter2|t0ken42' "$WORK/row.err" "$WORK/row.out" || fail "a secret is shown: $(cat "$WORK/row.err")"
}
S=("$ND/ndserver" --path "$WORK/never.log" --listen-addr)
C=("$ND/ndclient" --path /dev/null --server-addr)

# ---- malformed endpoints (exit 2) ----
row 2 "nats://127.0.0.1:4222: no subject" "${S[@]}" nats://127.0.0.1:4222
row 2 "nats://127.0.0.1:4222/a\.\.b: 'a\.\.b' is not a NATS subject" "${S[@]}" nats://127.0.0.1:4222/a..b
row 2 "'a\.>\.b' is not a NATS subject" "${S[@]}" "nats://127.0.0.1:4222/a.>.b"
row 2 "'logs\.\*' is not a NATS subject .*takes no wildcards" "${C[@]}" "nats://127.0.0.1:4222/logs.*"
row 2 "'127\.0\.0\.1:99999' is not a server address" "${S[@]}" nats://127.0.0.1:99999/x
row 2 "an empty server in the list" "${S[@]}" "nats://127.0.0.1:4222,/x"
row 2 "unknown parameter 'queue' for nats:// destination" "${C[@]}" "nats://127.0.0.1:4222/x?queue=q"
row 2 "queue=a\.b: a queue group name is one token" "${S[@]}" "nats://127.0.0.1:4222/x?queue=a.b"
row 2 "unknown parameter 'bogus'" "${S[@]}" "nats://me:hunter2@127.0.0.1:4222/x?bogus=1&token=t0ken42"
row 2 "password= without a user" "${S[@]}" "nats://127.0.0.1:4222/x?password=hunter2"
row 2 "cannot read /nonexistent/ca.pem" "${S[@]}" "nats://127.0.0.1:4222/x?ca=/nonexistent/ca.pem"

# ---- no server there (exit 1, bounded, naming it) ----
while true; do
  dead=$((20000 + RANDOM % 40000))
  ss -Hlnt "sport = :$dead" | grep -q . || break
done
row 1 "nats://127.0.0.1:$dead/x: cannot connect to 127\.0\.0\.1:$dead" "${S[@]}" "nats://me:hunter2@127.0.0.1:$dead/x"
row 1 "cannot connect to 127\.0\.0\.1:$dead" "${C[@]}" "nats://127.0.0.1:$dead/x"
row 1 "cannot connect to 127\.0\.0\.1:$dead" "$ND/ndreverse-proxy" --tcp_listen_addr 127.0.0.1:0 --tee \
  --channel "nats://127.0.0.1:$dead/x"

# ---- wrong credentials (exit 1) ----
nd_nats_start locked --user me --pass hunter2
locked=$(nd_nats_url locked)
locked=${locked#nats://}
row 1 "nats://$locked/x: cannot connect to $locked: .*[Aa]uthorization" "${S[@]}" "nats://me:wrong@$locked/x"
row 1 "[Aa]uthorization" "${C[@]}" "nats://$locked/x?token=t0ken42"
row 1 "[Aa]uthorization" "${S[@]}" "nats://$locked/x?user=me&password=hunter3"
# The right ones work: the server subscribes (and the log shows no password).
nd_start ok "${S[@]}" "nats://me:hunter2@$locked/x"
wait_log ok "listening on nats://$locked/x" || fail "the server with the right password: $(cat "$WORK/ok.err")"
nd_stop_ok ok
! grep -q hunter2 "$WORK/ok.err" || fail "the password is in the log: $(cat "$WORK/ok.err")"
