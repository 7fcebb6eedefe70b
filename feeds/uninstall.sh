#!/usr/bin/env bash
# Removes what feeds/install.sh created: the actions alarm, interval, once, webhook, poll, changes, kafka, kafkaFeed,
# messageHubFeed, github, mqtt, redisStream and their package.
# Anything already gone counts as removed. Delete the triggers that use these feeds first (wsk trigger delete runs the
# feed action's DELETE, which stops the provider's registration); see docs/feed-actions.md.
set -euo pipefail

PROG="uninstall.sh"
KINDS=(alarm interval once webhook poll changes kafka kafkaFeed messageHubFeed github mqtt redisStream)

usage() {
  cat <<EOF
Usage: feeds/$PROG --apihost HOST --auth UUID:KEY [options]

Deletes the actions ${KINDS[*]} of the feedrouter package and then the package.

Required:
  --apihost HOST        OpenWhisk API host, passed to wsk --apihost
  --auth UUID:KEY       authKey of the namespace that owns the package, passed to wsk --auth

Options:
  --package NAME        package name (default: feedrouter)
  --wsk PATH            wsk CLI to run (default: wsk)
  -i, --insecure        passed to wsk: skip TLS certificate verification of the API host
  -h, --help            show this help
EOF
}

die() {
  echo "$PROG: $*" >&2
  echo "Run 'feeds/$PROG --help' for usage." >&2
  exit 2
}

APIHOST="" AUTH="" PACKAGE="feedrouter" WSK="wsk"
INSECURE=()

value() {
  if [[ $# -lt 2 || -z "$2" || "$2" == --* ]]; then die "option $1 needs a value"; fi
  printf '%s' "$2"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --apihost)      APIHOST="$(value "$@")"; shift 2 ;;
    --apihost=*)    APIHOST="${1#*=}"; shift ;;
    --auth)         AUTH="$(value "$@")"; shift 2 ;;
    --auth=*)       AUTH="${1#*=}"; shift ;;
    --package)      PACKAGE="$(value "$@")"; shift 2 ;;
    --package=*)    PACKAGE="${1#*=}"; shift ;;
    --wsk)          WSK="$(value "$@")"; shift 2 ;;
    --wsk=*)        WSK="${1#*=}"; shift ;;
    -i|--insecure)  INSECURE=(--insecure); shift ;;
    -h|--help)      usage; exit 0 ;;
    *)              die "unknown argument: $1" ;;
  esac
done

[[ -n "$APIHOST" ]] || die "missing --apihost HOST"
[[ -n "$AUTH" ]] || die "missing --auth UUID:KEY"
[[ "$AUTH" == *:* ]] || die "--auth must be UUID:KEY (the namespace's authKey)"
[[ "$PACKAGE" =~ ^[A-Za-z0-9_][A-Za-z0-9_@.-]*$ ]] || die "--package: invalid package name: $PACKAGE"
command -v "$WSK" >/dev/null 2>&1 || die "wsk CLI not found: $WSK (install it or pass --wsk PATH)"

failures=0

# remove WHAT NAME: runs wsk WHAT delete NAME; an entity that does not exist counts as removed.
remove() {
  local out
  if out="$("$WSK" --apihost "$APIHOST" --auth "$AUTH" ${INSECURE[@]+"${INSECURE[@]}"} "$1" delete "$2" 2>&1)"; then
    [[ -n "$out" ]] && echo "$out"
    return 0
  fi
  if grep -qiE 'does not exist|not found' <<<"$out"; then
    echo "$PROG: $1 $2 is already gone"
    return 0
  fi
  echo "$out" >&2
  echo "$PROG: wsk $1 delete $2 failed" >&2
  failures=$((failures + 1))
}

echo "$PROG: removing package $PACKAGE and its feed actions at $APIHOST"
for kind in "${KINDS[@]}"; do
  remove action "$PACKAGE/$kind"
done
remove package "$PACKAGE"

if [[ $failures -gt 0 ]]; then
  echo "$PROG: $failures deletion(s) failed" >&2
  exit 1
fi
echo "$PROG: done."
