#!/usr/bin/env bash
# Installs the feedrouter feed actions into OpenWhisk with the wsk CLI:
#   package  feedrouter            (-p providerUrl URL)
#   actions  feedrouter/alarm, interval, once, webhook, github, poll, changes, kafka (also as kafkaFeed and
#            messageHubFeed, OpenWhisk's names), mqtt, redisStream   (-a feed true)
# Each action is deployed as one self-contained file: the shared module lib/feed_action.js inlined in front of the
# per-kind file (alarm.js, ...). Safe to run again: it updates what is there. See docs/feed-actions.md.
set -euo pipefail

PROG="install.sh"
FEEDS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KINDS=(alarm interval once webhook poll changes kafka kafkaFeed messageHubFeed github mqtt redisStream)

usage() {
  cat <<EOF
Usage: feeds/$PROG --apihost HOST --auth UUID:KEY --provider-url URL [options]

Creates (or updates) the OpenWhisk package of the feedrouter feed actions and its actions
${KINDS[*]}, so that users can run: wsk trigger create T --feed PACKAGE/alarm -p cron "*/5 * * * *"

Required:
  --apihost HOST        OpenWhisk API host, passed to wsk --apihost
  --auth UUID:KEY       authKey of the namespace that owns the package, passed to wsk --auth
  --provider-url URL    URL of the feedrouter provider as the actions reach it (http:// or https://);
                        bound to the package as parameter providerUrl

Options:
  --package NAME        package name (default: feedrouter)
  --shared              share the package so that other namespaces can use its feeds (wsk --shared yes)
  --runtime KIND        action runtime (default: nodejs:20)
  --wsk PATH            wsk CLI to run (default: wsk)
  -i, --insecure        passed to wsk: skip TLS certificate verification of the API host
  --build-dir DIR       write the built single-file actions to DIR and keep them (default: a temporary directory)
  -h, --help            show this help
EOF
}

die() {
  echo "$PROG: $*" >&2
  echo "Run 'feeds/$PROG --help' for usage." >&2
  exit 2
}

APIHOST="" AUTH="" PROVIDER_URL="" PACKAGE="feedrouter" SHARED="" RUNTIME="nodejs:20" WSK="wsk" BUILD_DIR=""
INSECURE=()

# value OPTION "$@": prints the value of OPTION (the next argument), failing clearly when it is missing.
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
    --provider-url) PROVIDER_URL="$(value "$@")"; shift 2 ;;
    --provider-url=*) PROVIDER_URL="${1#*=}"; shift ;;
    --package)      PACKAGE="$(value "$@")"; shift 2 ;;
    --package=*)    PACKAGE="${1#*=}"; shift ;;
    --runtime)      RUNTIME="$(value "$@")"; shift 2 ;;
    --runtime=*)    RUNTIME="${1#*=}"; shift ;;
    --wsk)          WSK="$(value "$@")"; shift 2 ;;
    --wsk=*)        WSK="${1#*=}"; shift ;;
    --build-dir)    BUILD_DIR="$(value "$@")"; shift 2 ;;
    --build-dir=*)  BUILD_DIR="${1#*=}"; shift ;;
    --shared)       SHARED="yes"; shift ;;
    -i|--insecure)  INSECURE=(--insecure); shift ;;
    -h|--help)      usage; exit 0 ;;
    *)              die "unknown argument: $1" ;;
  esac
done

[[ -n "$APIHOST" ]] || die "missing --apihost HOST"
[[ -n "$AUTH" ]] || die "missing --auth UUID:KEY"
[[ "$AUTH" == *:* ]] || die "--auth must be UUID:KEY (the namespace's authKey)"
[[ -n "$PROVIDER_URL" ]] || die "missing --provider-url URL"
[[ "$PROVIDER_URL" =~ ^https?://[^/]+ ]] || die "--provider-url must be an http:// or https:// URL, got: $PROVIDER_URL"
[[ "$PACKAGE" =~ ^[A-Za-z0-9_][A-Za-z0-9_@.-]*$ ]] || die "--package: invalid package name: $PACKAGE"
command -v "$WSK" >/dev/null 2>&1 || die "wsk CLI not found: $WSK (install it or pass --wsk PATH)"

wsk_run() {
  "$WSK" --apihost "$APIHOST" --auth "$AUTH" ${INSECURE[@]+"${INSECURE[@]}"} "$@"
}

if [[ -n "$BUILD_DIR" ]]; then
  mkdir -p "$BUILD_DIR"
else
  BUILD_DIR="$(mktemp -d "${TMPDIR:-/tmp}/feedrouter-feeds.XXXXXX")"
  trap 'rm -rf "$BUILD_DIR"' EXIT
fi

# build KIND OUT: writes the self-contained action of KIND to OUT. The shared module becomes a function-scoped
# CommonJS module whose exports replace the per-kind file's require('./lib/feed_action.js').
build() {
  local kind="$1" out="$2" lib="$FEEDS_DIR/lib/feed_action.js" src="$FEEDS_DIR/$1.js"
  [[ -f "$lib" && -f "$src" ]] || { echo "$PROG: missing $lib or $src" >&2; exit 1; }
  {
    echo "'use strict';"
    echo "// feedrouter feed action '$kind', built by feeds/$PROG from feeds/lib/feed_action.js and feeds/$kind.js."
    echo "const __feedrouterFeedAction = (function () {"
    echo "  const module = { exports: {} };"
    echo "  const exports = module.exports;"
    sed -e "1{/^'use strict';\$/d;}" "$lib"
    echo "  return module.exports;"
    echo "})();"
    echo
    sed -e "1{/^'use strict';\$/d;}" -e "s#require('./lib/feed_action.js')#__feedrouterFeedAction#" "$src"
  } > "$out"
  if grep -q "require('\./" "$out"; then
    echo "$PROG: $src requires a local module other than ./lib/feed_action.js, which cannot be inlined" >&2
    exit 1
  fi
}

echo "$PROG: installing package $PACKAGE (providerUrl $PROVIDER_URL) at $APIHOST"

package_args=(package update "$PACKAGE" -p providerUrl "$PROVIDER_URL"
  -a description "feedrouter feeds: alarm, interval, once, webhook, poll, changes, kafka, github, mqtt,\
 redis-stream (provider $PROVIDER_URL)")
[[ -n "$SHARED" ]] && package_args+=(--shared yes)
wsk_run "${package_args[@]}" || { echo "$PROG: wsk package update $PACKAGE failed" >&2; exit 1; }

for kind in "${KINDS[@]}"; do
  file="$BUILD_DIR/$kind.js"
  build "$kind" "$file"
  wsk_run action update --kind "$RUNTIME" "$PACKAGE/$kind" "$file" -a feed true \
      -a description "feedrouter $kind feed (lifecycle events forwarded to the provider)" \
    || { echo "$PROG: wsk action update $PACKAGE/$kind failed" >&2; exit 1; }
done

echo "$PROG: done. Try: wsk trigger create T --feed $PACKAGE/alarm -p cron \"*/5 * * * *\""
