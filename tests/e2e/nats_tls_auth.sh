#!/usr/bin/env bash
# Behaviour: nats:// with TLS and credentials, against nats-server.
#   - TLS: a CA made here with openssl signs the server's certificate (for
#     127.0.0.1) and a client certificate; nats-server requires TLS and
#     verifies clients. client -> server through it with ?ca=&cert=&key=
#     delivers the file whole (sha256). Refused in one line, exit 1: no
#     tls= (the library follows the server into TLS, and trusts no CA of
#     ours), tls=1 without our CA (the server's certificate is not trusted),
#     the CA without a client certificate (the server verifies clients).
#   - a token (nats://TOKEN@host and ?token=): the right one delivers, a wrong
#     one is one line and exit 1; no secret of this test is in any output.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/nats.sh"
nd_setup
nd_nats_need
[[ -e "$ND/netdisp-nats.so" ]] || skip "this build has no nats:// (libnats-dev, -Dnats=enabled)"
command -v openssl >/dev/null || skip "no openssl to make the test's CA"

# ---- a CA, the server's certificate (127.0.0.1), a client's ----
pki=$WORK/pki
mkdir -p "$pki"
ossl() { openssl "$@" >>"$pki/openssl.log" 2>&1 || fail "openssl $1: $(tail -n 3 "$pki/openssl.log")"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=netdisp test CA" \
  -keyout "$pki/ca.key" -out "$pki/ca.pem"
sign() { # NAME EXTENSIONS
  ossl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$pki/$1.key" -out "$pki/$1.csr"
  printf '%s\n' "$2" >"$pki/$1.ext"
  ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
    -extfile "$pki/$1.ext" -out "$pki/$1.pem"
}
sign server "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth"
sign client "extendedKeyUsage=clientAuth"

# row CODE REGEX CMD...: CMD exits CODE within 10 s, its output one line
# matching REGEX (besides JSON stats), and no secret of this test in it.
row() {
  local code=$1 regex=$2 status=0
  shift 2
  timeout 10 "$@" >"$WORK/row.out" 2>"$WORK/row.err" </dev/null || status=$?
  [[ $status -eq $code ]] || fail "exit $status, expected $code: $* -> $(cat "$WORK/row.err")"
  grep -Eq -- "$regex" "$WORK/row.err" || fail "no /$regex/ in the output of $*: $(cat "$WORK/row.err")"
  (($(wc -l <"$WORK/row.err") == 1)) || fail "more than one line from $*: $(cat "$WORK/row.err")"
  ! grep -q 'S3cretT0ken' "$WORK/row.err" "$WORK/row.out" || fail "the token is shown: $(cat "$WORK/row.err")"
}

# deliver NAME SERVER_ENDPOINT CLIENT_ENDPOINT: a file client -> NATS -> server, equal sha256.
deliver() {
  local name=$1
  nd_start "$name" "$ND/ndserver" --path "$WORK/$name.bin" --listen-addr "$2"
  wait_log "$name" "listening on nats" || fail "$name did not subscribe: $(cat "$WORK/$name.err")"
  "$ND/ndclient" --path "$WORK/in.bin" --server-addr "$3" 2>"$WORK/$name.client.err" ||
    fail "$name: ndclient failed: $(tail -n 3 "$WORK/$name.client.err")"
  wait_file_size "$WORK/$name.bin" "$(stat -c %s "$WORK/in.bin")" 10 || fail "$name: the file did not arrive"
  nd_stop_ok "$name"
  assert_same_sha "$WORK/in.bin" "$WORK/$name.bin"
  ! grep -q 'S3cretT0ken' "$WORK/$name.err" "$WORK/$name.client.err" || fail "$name: the token is in a log"
}
nd_random_file "$WORK/in.bin" $((1 << 20))

# ---- TLS, clients verified ----
nd_nats_start tls --tls --tlscert "$pki/server.pem" --tlskey "$pki/server.key" \
  --tlsverify --tlscacert "$pki/ca.pem"
tls=$(nd_nats_url tls)
tls=${tls#nats://}
mine="ca=$pki/ca.pem&cert=$pki/client.pem&key=$pki/client.key"
deliver tls_ok "nats://$tls/nd.tls?$mine" "nats://$tls/nd.tls?tls=1&$mine"
# Without tls= the library follows the server into TLS, and trusts no CA of ours.
row 1 "nats://$tls/x: cannot connect to $tls: .*(SSL|TLS|[Ss]ecure|certificate)" "$ND/ndclient" --path /dev/null \
  --server-addr "nats://$tls/x"
row 1 "nats://$tls/x: cannot connect to $tls: .*(SSL|TLS|certificate|verif)" "$ND/ndclient" \
  --path /dev/null --server-addr "nats://$tls/x?tls=1"
row 1 "cannot connect to $tls" "$ND/ndserver" --path "$WORK/never.log" \
  --listen-addr "nats://$tls/x?ca=$pki/ca.pem"
nd_nats_stop tls

# ---- a token ----
nd_nats_start tok --auth S3cretT0ken
tok=$(nd_nats_url tok)
tok=${tok#nats://}
deliver tok_ok "nats://S3cretT0ken@$tok/nd.tok" "nats://$tok/nd.tok?token=S3cretT0ken"
row 1 "nats://$tok/x: cannot connect to $tok: .*[Aa]uthorization" "$ND/ndclient" --path /dev/null \
  --server-addr "nats://wrongT0ken@$tok/x"
row 1 "cannot connect to $tok: .*[Aa]uthorization" "$ND/ndserver" --path "$WORK/never.log" \
  --listen-addr "nats://$tok/x"
echo "ok: TLS with a verified client certificate and a token deliver; wrong or missing ones are one line, exit 1"
