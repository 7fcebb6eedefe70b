#!/usr/bin/env bash
# Checks the Debian package without installing it (docs/operations.md describes what it installs):
#
#   tests/package/check_package.sh build/feedrouter_VERSION_amd64.deb
#
# - control fields, the declared dependencies against what the binary links (readelf/ldd -> dpkg -S), conffiles;
# - contents and permissions, as dpkg-deb lists them; the maintainer scripts;
# - the binary and `check-config` run from the extracted tree, with the shipped configuration file;
# - the configuration file documents every FEEDROUTER_* variable the binary reads;
# - `systemd-analyze verify --root=` on the extracted unit, failing on any warning, and its security exposure;
# - Type=notify against a fake $NOTIFY_SOCKET (notify_check.py).
#
# Only with CI set and as root (CI runs so), it also installs the package for real with apt-get, runs feedrouter from
# /usr/bin as the feedrouter user, and purges it: the configuration and the user go, the store and its key stay.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
deb=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "check_package: FAIL: $*" >&2
  exit 1
}

ok() {
  echo "check_package: ok: $*"
}

field() {
  dpkg-deb -f "$deb" "$1"
}

# -- control -------------------------------------------------------------------------

name=$(basename "$deb")
version=$(field Version)
[ "$(field Package)" = feedrouter ] || fail "Package is '$(field Package)'"
[ "$(field Architecture)" = amd64 ] || fail "Architecture is '$(field Architecture)'"
[ "$name" = "feedrouter_${version}_amd64.deb" ] || fail "file name $name does not match version $version"
depends=$(field Depends)
ok "feedrouter $version, $(stat -c %s "$deb") bytes, Depends: $depends"

# -- dependencies: exactly the packages of the libraries the binary links, plus adduser -------------------------

root="$work/root"
dpkg-deb -x "$deb" "$root"
binary="$root/usr/bin/feedrouter"
declared=$(echo "$depends" | tr ',' '\n' | sed -E 's/\(.*\)//; s/^ +| +$//g' | sort -u)
# The package that ships `path`, looked up as ldd names it and, on a merged /usr, as the path it resolves to.
owner_of() {
  local found
  found=$(dpkg -S "$1" 2>/dev/null) || found=$(dpkg -S "$(realpath "$1")" 2>/dev/null) || return 1
  found=${found%%$'\n'*}
  echo "${found%%:*}"
}
needed_packages=$(
  for lib in $(readelf -d "$binary" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
    path=$(ldd "$binary" | awk -v lib="$lib" '$1 == lib { print $3 }')
    [ -n "$path" ] || fail "ldd does not resolve $lib"
    owner_of "$path" || fail "no package ships $path"
  done | sort -u
)
expected=$(printf '%s\nadduser\n' "$needed_packages" | sort -u)
if [ "$declared" != "$expected" ]; then
  diff <(echo "$declared") <(echo "$expected") >&2 || true
  fail "Depends (left) differs from the packages of the libraries the binary links, plus adduser (right)"
fi
ok "Depends: exactly the packages of the $(echo "$needed_packages" | wc -l) libraries the binary links, and adduser"

# -- contents and permissions -------------------------------------------------------------

listing=$(dpkg-deb -c "$deb")
expect_entry() { # MODE PATH
  echo "$listing" | awk -v mode="$1" -v path="./$2" '$1 == mode && $2 == "root/root" && $NF == path { found = 1 }
    END { exit !found }' || fail "no $2 with mode $1 owned by root/root"
}
expect_entry -rwxr-xr-x usr/bin/feedrouter
expect_entry -rw-r--r-- usr/lib/systemd/system/feedrouter.service
expect_entry -rw-r--r-- etc/feedrouter/feedrouter.conf
expect_entry -rwxr-xr-x usr/share/feedrouter/feeds/install.sh
expect_entry -rwxr-xr-x usr/share/feedrouter/feeds/uninstall.sh
for feed in alarm interval once webhook poll changes github kafka kafkaFeed messageHubFeed mqtt redisStream \
  lib/feed_action; do
  expect_entry -rw-r--r-- "usr/share/feedrouter/feeds/$feed.js"
done
expect_entry -rw-r--r-- usr/share/doc/feedrouter/copyright
expect_entry -rw-r--r-- usr/share/doc/feedrouter/README.md
expect_entry -rw-r--r-- usr/share/doc/feedrouter/docs/operations.md
own_dirs='^\./(usr/(bin|lib/systemd|share/(doc/)?feedrouter)|etc/feedrouter)(/|$)'
parents='^\./(usr/?|usr/lib/?|usr/share/?|usr/share/doc/?|etc/?)$'
outside=$(echo "$listing" | awk '{ print $NF }' | grep -vE "$own_dirs" | grep -vE "$parents" || true)
[ -z "$outside" ] || fail "files outside the package's own directories: $outside"
others=$(echo "$listing" | awk '$2 != "root/root"' || true)
[ -z "$others" ] || fail "entries not owned by root: $others"
writable=$(echo "$listing" | awk 'substr($1, 9, 1) == "w"' || true)
[ -z "$writable" ] || fail "entries writable by others: $writable"
copyright="$root/usr/share/doc/feedrouter/copyright"
if ! grep -q "^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" "$copyright" ||
  ! grep -q "^Files: \*" "$copyright"; then
  fail "copyright is not in Debian's machine-readable format"
fi
ok "contents: binary, unit, configuration, feed actions, docs and copyright, root-owned, none writable by others"

# -- maintainer scripts -----------------------------------------------------------------

control="$work/control"
dpkg-deb -e "$deb" "$control"
[ "$(cat "$control/conffiles")" = /etc/feedrouter/feedrouter.conf ] || fail "conffiles: $(cat "$control/conffiles")"
for script in postinst prerm postrm; do
  [ "$(stat -c %a "$control/$script")" = 755 ] || fail "$script is not 0755"
  sh -n "$control/$script" || fail "$script is not valid sh"
done
grep -q 'adduser --system' "$control/postinst" || fail "postinst does not create the system user"
# shellcheck disable=SC2016 # the script's own text, variable and all
grep -q 'install -d -o feedrouter -g feedrouter -m 0700 "$state_dir"' "$control/postinst" ||
  fail "postinst does not create the state directory 0700"
grep -q 'deluser --system' "$control/postrm" || fail "postrm purge does not remove the user"
if grep -nE '\brm\b.*(state_dir|/var/lib)' "$control/postrm" "$control/prerm"; then
  fail "a maintainer script removes files of the state directory"
fi
ok "maintainer scripts: conffiles, 0755, valid sh, user and state directory made, purge keeps the store"

# -- the binary and check-config from the extracted tree ---------------------------------------

[ "$("$binary" --version)" = "feedrouter $version" ] || fail "--version says '$("$binary" --version)'"
conf="$root/etc/feedrouter/feedrouter.conf"
documented=$(sed -nE 's/^#(FEEDROUTER_[A-Z_]+)=.*/\1/p' "$conf" | sort)
read_by_binary=$("$binary" --help | grep -oE 'Env:FEEDROUTER_[A-Z_]+' | cut -d: -f2 | sort)
if [ "$documented" != "$read_by_binary" ]; then
  diff <(echo "$documented") <(echo "$read_by_binary") >&2 || true
  fail "feedrouter.conf (left) does not document exactly the variables the binary reads (right)"
fi
# Every setting at its documented default, the store moved into the test's directory: check-config must find it sound.
defaults="$work/defaults.conf"
sed -E 's/^#(FEEDROUTER_[A-Z_]+=)/\1/; s|^FEEDROUTER_STORE=.*|FEEDROUTER_STORE=sqlite:'"$work"'/store.db|' "$conf" \
  > "$defaults"
clean_env=(env)
for variable in $(env | grep -oE '^FEEDROUTER_[A-Z_]+' || true); do
  clean_env+=(-u "$variable")
done
"${clean_env[@]}" "$binary" check-config --config "$defaults" > "$work/check.out" 2> "$work/check.err" ||
  fail "check-config refuses the shipped defaults: $(cat "$work/check.err")"
grep -q "does not exist yet" "$work/check.out" || fail "check-config said: $(cat "$work/check.out")"
ok "--version; check-config accepts every documented setting at its default ($(echo "$documented" | wc -l) variables)"

# -- the unit --------------------------------------------------------------------------------

unit="$root/usr/lib/systemd/system/feedrouter.service"
for directive in Type=notify WatchdogSec= NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/feedrouter \
  PrivateTmp=yes 'CapabilityBoundingSet=$' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
  SystemCallFilter=@system-service LimitNOFILE= Restart=on-failure EnvironmentFile=/etc/feedrouter/feedrouter.conf \
  'ExecStartPre=/usr/bin/feedrouter check-config$' 'ExecStart=/usr/bin/feedrouter$' User=feedrouter; do
  grep -qE "^$directive" "$unit" || fail "the unit has no $directive"
done
! grep -q '^ExecReload' "$unit" || fail "the unit has an ExecReload"
stop_s=$(sed -nE 's/^TimeoutStopSec=([0-9]+)s$/\1/p' "$unit")
grace_s=$(sed -nE 's/^#FEEDROUTER_SHUTDOWN_GRACE=([0-9]+)$/\1/p' "$conf")
if [ -z "$stop_s" ] || [ -z "$grace_s" ] || [ "$stop_s" -le $((2 * grace_s)) ]; then
  fail "TimeoutStopSec (${stop_s:-?} s) is not above twice the shutdown grace (${grace_s:-?} s)"
fi
# verify resolves the unit's dependencies (sysinit.target, network-online.target) in the root: the host's system units
# go under the extracted tree, with the package's own files on top.
analyze_root="$work/analyze"
mkdir -p "$analyze_root/usr/lib/systemd/system"
cp -a /usr/lib/systemd/system/. "$analyze_root/usr/lib/systemd/system/"
cp -a "$root/." "$analyze_root/"
verify_output=$(systemd-analyze verify --root="$analyze_root" feedrouter.service 2>&1) ||
  fail "systemd-analyze verify: $verify_output"
[ -z "$verify_output" ] || fail "systemd-analyze verify warns: $verify_output"
security=$(systemd-analyze security --offline=true --root="$analyze_root" --threshold=20 --no-pager \
  feedrouter.service 2>&1) || fail "systemd-analyze security: exposure above 2.0: $(echo "$security" | tail -1)"
ok "unit: systemd-analyze verify clean; security: $(echo "$security" | grep -o 'Overall exposure level.*')"

# -- Type=notify ------------------------------------------------------------------------------

/usr/bin/python3 "$here/notify_check.py" "$binary" "$work"

# -- a real installation (CI, as root, only) ---------------------------------------------------------

if [ -z "${CI:-}" ] || [ "$(id -u)" -ne 0 ]; then
  ok "install and purge skipped: they run only with CI set and as root"
  exit 0
fi
state=/var/lib/feedrouter
if dpkg-query -W feedrouter >/dev/null 2>&1 || [ -e "$state" ] || getent passwd feedrouter >/dev/null; then
  fail "this machine has a feedrouter installation or its state already; the test will not touch it"
fi
service_pid=
cleanup_install() {
  if [ -n "$service_pid" ]; then
    kill -TERM "$service_pid" 2>/dev/null || true
    wait "$service_pid" 2>/dev/null || true
  fi
  apt-get purge -y -qq feedrouter >/dev/null 2>&1 || true
  rm -rf "$state" "$work"
}
trap cleanup_install EXIT
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
[ "$(/usr/bin/feedrouter --version)" = "feedrouter $version" ] || fail "/usr/bin/feedrouter --version"
getent passwd feedrouter >/dev/null || fail "no feedrouter user after the installation"
[ "$(stat -c '%a %U' "$state")" = "700 feedrouter" ] || fail "$state is $(stat -c '%a %U' "$state")"
# A store and its key, made by the service itself as the feedrouter user (as the unit would run it).
store_spec="sqlite:$state/feedrouter.db"
as_feedrouter=(setpriv --reuid=feedrouter --regid=feedrouter --init-groups)
# exec all the way down, so that $! is the service itself and the SIGTERM below reaches it; its first line on stdout
# says it listens, which it does once the store and the key are made.
exec {service_out}< <(cd "$state" && exec "${as_feedrouter[@]}" /usr/bin/feedrouter --listen 127.0.0.1:0 \
  --store "$store_spec" 2> "$work/service.err")
service_pid=$!
read -r -t 10 listening <&"$service_out" || fail "the service did not start: $(cat "$work/service.err")"
[[ "$listening" == "feedrouter listening on "* ]] || fail "the service said '$listening'"
kill -TERM "$service_pid" 2>/dev/null || true
status=0
wait "$service_pid" || status=$?
service_pid=
[ "$status" -eq 0 ] || fail "the service exited $status: $(cat "$work/service.err")"
[ -f "$state/feedrouter.db" ] || fail "no store in $state"
[ -f "$state/feedrouter.db.key" ] || fail "no secrets key in $state"
(cd "$state" && "${as_feedrouter[@]}" /usr/bin/feedrouter check-config --store "$store_spec" >/dev/null) ||
  fail "check-config as the feedrouter user"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq feedrouter >/dev/null
[ ! -e /etc/feedrouter/feedrouter.conf ] || fail "the purge left /etc/feedrouter/feedrouter.conf"
! getent passwd feedrouter >/dev/null || fail "the purge left the feedrouter user"
[ -f "$state/feedrouter.db" ] || fail "the purge removed the store"
[ -f "$state/feedrouter.db.key" ] || fail "the purge removed the secrets key"
[ "$(stat -c '%a %U' "$state")" = "700 root" ] || fail "after the purge $state is $(stat -c '%a %U' "$state")"
ok "apt-get install, feedrouter from /usr/bin as its user, apt-get purge: configuration and user gone, store and key" \
  "kept"
