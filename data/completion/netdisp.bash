# bash completion for netdisp and its mode names: ndclient, ndproxy,
# ndreverse-proxy, ndserver (installed as links to this file).
#
# The modes and each mode's options come from the program itself (netdisp
# --help, MODE --help), read once per shell, so they never go out of date.
# An option's value comes from its placeholder in that help: a|b lists the
# choices (--gro on|off, --stats-format text|json), PATH and FILE are files,
# ENDPOINT starts with a scheme (udp:// tcp:// unix:// unixgram:// srt:// norm:// nats://), so does the
# reverse-proxy's CHANNEL, IFACE is a
# network interface. Options are offered with dashes, or with underscores once
# the word typed has one (--listen_<TAB>: --listen_addr).
# Needs nothing from the bash-completion package.

declare -gA _netdisp_help_cache=()

# Sets _netdisp_options to the options of one mode, one "name placeholder"
# line each ("--gro on|off", "--tee -"; "-" when it takes no value, "=" when
# the value is optional). Runs the mode's --help once per shell.
_netdisp_options() {
  local program=$1 mode=$2 key="$1 $2" line re
  if [[ -z ${_netdisp_help_cache[$key]+set} ]]; then
    local -a cmd=("$program")
    [[ ${program##*/} == netdisp ]] && cmd+=("$mode")
    local options=
    # cxxopts' option lines: "  -t, --tee   text" or "      --gro on|off   text".
    re='^ {2,}(-[A-Za-z], )?(--[A-Za-z0-9-]+)( [^ ]+)?( {2,}|$)'
    while IFS= read -r line; do
      [[ $line =~ $re ]] || continue
      local value=${BASH_REMATCH[3]# }
      [[ -z $value ]] && value=-
      [[ $value == '['* ]] && value='='
      options+="${BASH_REMATCH[2]} $value"$'\n'
    done < <("${cmd[@]}" --help 2>/dev/null | sed -n '/^Usage:/,$p')
    _netdisp_help_cache[$key]=$options
  fi
  _netdisp_options=${_netdisp_help_cache[$key]}
}

# The modes netdisp lists ("  client   stream a file ...").
_netdisp_modes() {
  "$1" --help 2>/dev/null | sed -n '/^modes:/,/^$/s/^  \([a-z-]*\) .*/\1/p'
}

# Sets COMPREPLY to the words of $2 that start with $1.
_netdisp_reply() {
  local IFS=$'\n'
  mapfile -t COMPREPLY < <(compgen -W "$2" -- "$1")
}

# Values for an option whose help placeholder is $1, for the word $2.
_netdisp_values() {
  local placeholder=$1 cur=$2
  case $placeholder in
    *'|'*) _netdisp_reply "$cur" "${placeholder//|/$'\n'}" ;;
    PATH | FILE)
      compopt -o filenames 2>/dev/null || true
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      ;;
    ENDPOINT | CHANNEL)
      compopt -o nospace 2>/dev/null || true
      case $cur in
        unix://* | unixgram://*)
          # The rest is a socket's path.
          local scheme=${cur%%://*}://
          mapfile -t COMPREPLY < <(compgen -f -- "${cur#*://}")
          COMPREPLY=("${COMPREPLY[@]/#/$scheme}")
          ;;
        srt://*\?* | srt://*\&*)
          # After the address: the parameters of srt:// (stage/schemes.cpp).
          local head=${cur%[?&]*} sep names="" name
          sep=${cur:${#head}:1}
          for name in mode= transtype= latency= passphrase= pbkeylen= streamid= maxbw= rcvbuf= payloadsize=; do
            names+="$head$sep$name"$'\n'
          done
          _netdisp_reply "$cur" "$names"
          ;;
        norm://*\?* | norm://*\&*)
          # After the address: the parameters of norm:// (stage/schemes.cpp).
          local head=${cur%[?&]*} sep names="" name
          sep=${cur:${#head}:1}
          for name in rate= cc= buffer= segment= block= parity= autoparity= id=; do
            names+="$head$sep$name"$'\n'
          done
          _netdisp_reply "$cur" "$names"
          ;;
        nats://*\?* | nats://*\&*)
          # After the subject: the parameters of nats:// (stage/schemes.cpp).
          local head=${cur%[?&]*} sep names="" name
          sep=${cur:${#head}:1}
          for name in queue= token= user= password= creds= tls= ca= cert= key= name= stream= durable= create= \
            replicas= ack_wait= retry_for=; do
            names+="$head$sep$name"$'\n'
          done
          _netdisp_reply "$cur" "$names"
          ;;
        *) _netdisp_reply "$cur" $'udp://\ntcp://\nunix://\nunixgram://\nsrt://\nnorm://\nnats://' ;;
      esac
      ;;
    IFACE) _netdisp_reply "$cur" "$(ls /sys/class/net 2>/dev/null)" ;;
    WHAT) _netdisp_reply "$cur" $'time\npeer\ntime,peer' ;;
    *) COMPREPLY=() ;;  # a number, a size, an address: nothing to offer
  esac
}

_netdisp() {
  COMPREPLY=()
  # Words from the line itself, split at blanks only: readline also splits at
  # ':' and '=' (COMP_WORDBREAKS), which would cut udp://host:port apart.
  local line=${COMP_LINE:0:COMP_POINT}
  local -a words
  read -ra words <<<"$line"
  [[ $line == *[[:blank:]] || ${#words[@]} -eq 0 ]] && words+=("")
  local cword=$((${#words[@]} - 1))
  local cur=${words[cword]} program=${words[0]}
  local prev=
  ((cword > 0)) && prev=${words[cword - 1]}

  # The mode: from the name called (ndserver), else netdisp's first argument.
  local mode='' name=${program##*/}
  if [[ $name == nd* && $name != netdisp ]]; then
    mode=${name#nd}
  else
    if ((cword == 1)); then
      _netdisp_reply "$cur" "$(_netdisp_modes "$program")"$'\nhelp\n--help\n--version'
      return 0
    fi
    mode=${words[1]}
    if [[ $mode == help ]]; then
      ((cword == 2)) && _netdisp_reply "$cur" "$(_netdisp_modes "$program")"
      return 0
    fi
  fi

  local _netdisp_options
  _netdisp_options "$program" "$mode"
  local options=$_netdisp_options
  local -A takes=()
  local option value
  while read -r option value; do
    [[ -n $option ]] && takes[$option]=$value
  done <<<"$options"

  # --option=value in one word.
  if [[ $cur == --*=* ]]; then
    option=${cur%%=*}
    value=${takes[${option//_/-}]-}
    if [[ -n $value && $value != - && $value != = ]]; then
      _netdisp_values "$value" "${cur#*=}"
      COMPREPLY=("${COMPREPLY[@]/#/$option=}")
    fi
  # The value of the option before.
  elif [[ $prev == --* && ${takes[${prev//_/-}]:--} != [-=] ]]; then
    _netdisp_values "${takes[${prev//_/-}]}" "$cur"
  elif [[ $cur == -* ]]; then
    local list=
    while read -r option value; do
      [[ -z $option ]] && continue
      # Underscored spellings once the word has an underscore.
      if [[ $cur == *_* ]]; then
        value=${option#--}
        option=--${value//-/_}
      fi
      list+=$option$'\n'
    done <<<"$options"
    _netdisp_reply "$cur" "$list"
  fi

  # readline replaces only what follows the word's last COMP_WORDBREAKS
  # character (':' and '=' by default): drop what comes before it.
  if ((${#COMPREPLY[@]})) && [[ -n ${COMP_WORDBREAKS-} ]]; then
    local i before=
    for ((i = ${#cur} - 1; i >= 0; i--)); do
      if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
        before=${cur:0:i+1}
        break
      fi
    done
    [[ -z $before ]] || COMPREPLY=("${COMPREPLY[@]#"$before"}")
  fi
  return 0
}

complete -F _netdisp netdisp ndclient ndproxy ndreverse-proxy ndserver
