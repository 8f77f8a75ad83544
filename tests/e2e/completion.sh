#!/usr/bin/env bash
# Bash completion (data/completion/netdisp.bash), driven as readline drives
# it: COMP_LINE, COMP_POINT, COMP_WORDS (split at blanks and at the ':' and
# '=' of COMP_WORDBREAKS) and COMP_CWORD set, the function called, COMPREPLY
# checked. Modes after netdisp, options per mode (from the mode's --help),
# underscored spellings, on|off and text|json values, files for --path,
# schemes for endpoints, and nothing where a number is expected. Then a few of
# them for real: Tab pressed in an interactive bash in a tmux pane.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
nd_setup

# The nd* names of the build under test come first on PATH.
export PATH="$ND:$PATH"
source "$(dirname "$0")/../../data/completion/netdisp.bash"
[[ $(complete -p ndreverse-proxy) == *"-F _netdisp"* ]] || fail "ndreverse-proxy has no completion"
[[ $(complete -p netdisp) == *"-F _netdisp"* ]] || fail "netdisp has no completion"

# completions LINE: sets $got to the sorted replies, space-separated, for the
# cursor at the end of LINE. (Not in a subshell: the completion's cache of
# each mode's --help lives on from one call to the next, as in a shell.)
completions() {
  COMP_LINE=$1
  COMP_POINT=${#1}
  COMP_WORDS=()
  local word
  read -ra blanks <<<"$1"
  for word in "${blanks[@]}"; do
    # readline's split: runs of ':' or '=' are words of their own.
    while [[ $word =~ ^([^:=]*)([:=]+)(.*)$ ]]; do
      [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
      COMP_WORDS+=("${BASH_REMATCH[2]}")
      word=${BASH_REMATCH[3]}
    done
    [[ -n $word ]] && COMP_WORDS+=("$word")
  done
  [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _netdisp "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
  got=
  ((${#COMPREPLY[@]} == 0)) || got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | paste -sd' ')
}

# expect LINE REPLIES: the replies must be exactly these (sorted, space-separated).
expect() {
  completions "$1"
  assert_eq "$2" "$got" "completing '$1'"
}

# Modes, and what netdisp itself takes.
expect "netdisp " "--help --version client help proxy reverse-proxy server"
expect "netdisp re" "reverse-proxy"
expect "netdisp help s" "server"
# Options of the mode named by the program, or by netdisp's first argument.
completions "ndserver --li"
[[ " $got " == *" --listen-addr "* ]] || fail "ndserver --li does not offer --listen-addr: $got"
expect "ndserver --listen" "--listen-addr"
expect "ndserver --listen_" "--listen_addr"
expect "netdisp server --exit" "--exit-on-write-error"
expect "netdisp client --datag" "--datagram-size"
expect "ndclient --ser" "--server-addr"
# Each mode only its own: the server sends nothing (no --gso); the proxy does.
expect "ndserver --gs" ""
expect "ndproxy --gs" "--gso"
# Values from the help's placeholders.
expect "ndserver --gro " "off on"
expect "ndproxy --multicast-loop o" "off on"
expect "ndclient --reconnect_timeout " ""
expect "ndreverse-proxy --gso=o" "off on"
expect "ndserver --stats-format " "json text"
expect "ndserver --prefix " "peer time time,peer"
expect "ndclient --rate " ""
# Files for --path.
mkdir "$WORK/dir"
: >"$WORK/dir/in.bin"
: >"$WORK/dir/input.log"
expect "ndclient --path $WORK/dir/in" "$WORK/dir/in.bin $WORK/dir/input.log"
# Schemes for endpoints, whole or after readline's ':' break.
expect "ndclient --server-addr " "nats:// norm:// srt:// tcp:// udp:// unix:// unixgram://"
expect "ndserver --listen-addr nats://h:1/s?qu" "1/s?queue="
expect "ndclient --server-addr nats://h:1/s?ret" "1/s?retry_for="
expect "ndreverse-proxy --multicast-addr n" "nats:// norm://"
expect "ndclient --server-addr srt://h:1?pa" "1?passphrase= 1?payloadsize="
expect "ndproxy --downstream-addr u" "udp:// unix:// unixgram://"
expect "ndserver --listen-addr unix:" "//"
expect "ndserver --listen-addr unixgram" "unixgram://"
# A unix:// path is a file.
expect "ndserver --listen-addr unix://$WORK/dir/inp" "//$WORK/dir/input.log"

# The same through real readline: a bash in a tmux pane, Tab pressed. This is
# where COMP_WORDBREAKS cuts "unix:" apart, and `complete` must be in place.
if ! nd_have_pty; then
  echo "no pseudo-terminals here (is /dev/pts mounted?): Tab under tmux not tried" >&2
  exit 0
fi
sock="nd-completion-$$"
tmux_() { tmux -L "$sock" "$@"; }
nd_on_exit 'tmux -L "$sock" kill-server 2>/dev/null'
printf 'set -g status off\n' >"$WORK/tmux.conf"
cat >"$WORK/bashrc" <<RC
PS1='$ '
source "$(cd "$(dirname "$0")/../.." && pwd)/data/completion/netdisp.bash"
RC
tmux_ -f "$WORK/tmux.conf" new-session -d -x 120 -y 20 \
  "env -i HOME=$WORK TERM=screen PATH=$PATH bash --noprofile --rcfile $WORK/bashrc -i"
# typed TEXT EXPECTED: type TEXT and Tab; the prompt line must become EXPECTED
# (tmux shows no trailing blank: "--listen-addr" means "--listen-addr "). Then it is cleared.
prompt_line() { tmux_ capture-pane -p | grep '^\$' | tail -n 1; }
typed() {
  # shellcheck disable=SC2034 # read by the eval'ed condition
  want="\$ $2"
  tmux_ send-keys -l "$1"
  tmux_ send-keys Tab
  wait_until 10 eval '[[ "$(prompt_line)" == "$want" ]]' || fail "typing '$1' then Tab gave: $(prompt_line)"
  tmux_ send-keys C-u
}
# The prompt first: keys typed before readline runs are not completed.
wait_until 10 eval '[[ "$(prompt_line)" == "\$" ]]' || fail "no prompt in the tmux pane: $(tmux_ capture-pane -p)"
typed "ndserver --listen" "ndserver --listen-addr"
typed "ndproxy --gso o" "ndproxy --gso o"  # on and off: nothing to insert yet
typed "ndproxy --gso of" "ndproxy --gso off"
typed "netdisp reverse-p" "netdisp reverse-proxy"
typed "ndclient --server-addr unixg" "ndclient --server-addr unixgram://"
typed "ndserver --listen-addr unix:" "ndserver --listen-addr unix://"
typed "ndserver --gro=of" "ndserver --gro=off"
typed "ndclient --path $WORK/dir/inp" "ndclient --path $WORK/dir/input.log"
