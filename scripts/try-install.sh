#!/usr/bin/env bash
# Installs the built .deb on this machine as a technician would and checks what the
# README promises: the loa user in audio and gpio, /etc/loa/loa.toml as a conffile
# readable only by root and loa, /var/lib/loa owned by loa, `loa check` as the loa user,
# the daemon started with the unit's ExecStart as loa answering /healthz, /metrics and
# the panel, an edited config and the data kept over a reinstall, `apt remove` keeping
# config and data, `apt purge` removing the config and keeping the data. Then it purges
# and removes the user, data and group again if this run created them.
#
# Needs root and a machine where loa is not installed and /var/lib/loa does not exist (it
# refuses otherwise). Works
# without systemd as PID 1 (containers): the daemon is started by hand, not by systemctl.
# Usage: scripts/try-install.sh [PATH.deb]   (default: the newest target/debian/*.deb)
# Run by .ci/run after scripts/check-deb.sh when it runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "try-install: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it installs a package and makes a user)"
deb=${1:-$(ls -t target/debian/loa_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || fail "no .deb: run scripts/build-deb.sh first"
deb=$(realpath "$deb")
if dpkg-query -W -f='${Status}' loa 2>/dev/null | grep -q installed; then
  fail "loa is already installed here; this trial would replace it"
fi
[ ! -e /var/lib/loa ] || fail "/var/lib/loa exists (an earlier install's records); this trial would use and then delete it"
port=18080
if command -v ss >/dev/null && ss -ltn | awk '{print $4}' | grep -q ":$port\$"; then
  fail "port $port is in use"
fi
had_user=no; getent passwd loa >/dev/null && had_user=yes
had_gpio=no; getent group gpio >/dev/null && had_gpio=yes
daemon=""
cleanup() {
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then kill -TERM "$daemon"; wait "$daemon" || true; fi
  DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq loa >/dev/null 2>&1 || true
  rm -rf /var/lib/loa
  if [ "$had_user" = no ] && getent passwd loa >/dev/null; then userdel loa; fi
  if [ "$had_gpio" = no ] && getent group gpio >/dev/null; then groupdel gpio; fi
}
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive

step "apt-get install $deb"
apt-get install -y -qq "$deb" >/dev/null
id loa
id -nG loa | tr ' ' '\n' | grep -qx audio || fail "loa is not in audio"
if getent group gpio >/dev/null; then
  id -nG loa | tr ' ' '\n' | grep -qx gpio || fail "loa is not in gpio"
fi
dpkg-query -W -f='${Conffiles}\n' loa | grep -q '^ /etc/loa/loa.toml ' || fail "/etc/loa/loa.toml is not a conffile"
[ "$(stat -c '%U:%G %a' /etc/loa)" = "root:loa 750" ] || fail "/etc/loa: $(stat -c '%U:%G %a' /etc/loa)"
[ "$(stat -c '%U:%G %a' /etc/loa/loa.toml)" = "root:loa 640" ] || fail "/etc/loa/loa.toml: $(stat -c '%U:%G %a' /etc/loa/loa.toml)"
[ "$(stat -c '%U:%G %a' /var/lib/loa)" = "loa:loa 750" ] || fail "/var/lib/loa: $(stat -c '%U:%G %a' /var/lib/loa)"
ls -ld /etc/loa /etc/loa/loa.toml /var/lib/loa

if command -v systemd-analyze >/dev/null; then
  step "systemd-analyze verify loa.service"
  systemd-analyze verify /usr/lib/systemd/system/loa.service || fail "systemd-analyze verify"
  systemd-analyze security --offline=true --no-pager /usr/lib/systemd/system/loa.service | tail -n 1
fi

step "loa check as the loa user (exit 0 all ok, 1 problems; 2 would be a bad config)"
set +e
check=$(cd / && runuser -u loa -- loa check --config /etc/loa/loa.toml 2>&1)
code=$?
set -e
echo "$check"
[ "$code" -le 1 ] || fail "loa check exited $code"
echo "$check" | grep -q '^ok *config' || fail "loa check: the shipped config is not ok"
[ ! -e /var/lib/loa/loa.db ] || fail "loa check created the database"

step "a technician edits the config (listen on $port)"
sed -i "s/^listen = .*/listen = \"127.0.0.1:$port\"/" /etc/loa/loa.toml
grep -q "^listen = \"127.0.0.1:$port\"" /etc/loa/loa.toml || fail "cannot set listen in /etc/loa/loa.toml"

step "the unit's ExecStart as loa in its WorkingDirectory"
unit=/usr/lib/systemd/system/loa.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
workdir=$(sed -n 's/^WorkingDirectory=//p' "$unit")
echo "$exec_start (in $workdir)"
log=$(mktemp)
# shellcheck disable=SC2086 # ExecStart is words
(cd "$workdir" && exec setpriv --reuid=loa --regid=loa --init-groups -- $exec_start) 2>"$log" &
daemon=$!
for _ in $(seq 1 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
  kill -0 "$daemon" 2>/dev/null || { cat "$log"; fail "the daemon exited"; }
  sleep 0.2
done
health=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$port/healthz")
echo "$health" | head -c 300; echo
echo "$health" | tail -n 1 | grep -Eqx '200|503' || fail "/healthz answered $(echo "$health" | tail -n 1)"
echo "$health" | grep -q '"database":{[^}]*"level":"ok"' || fail "/healthz: database not ok"
metrics=$(curl -s "http://127.0.0.1:$port/metrics")
echo "$metrics" | grep '^loa_health_check'
echo "$metrics" | grep -q '^loa_health_check{check="clock"} [012]$' || fail "/metrics lacks the clock check"
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/")" = "303 http://127.0.0.1:$port/login" ] \
  || fail "the panel does not send a visitor to the login page"
curl -sL "http://127.0.0.1:$port/login" | grep -o '<title>[^<]*</title>' || fail "no panel page"
[ "$(stat -c '%U' /var/lib/loa/loa.db)" = loa ] || fail "the database is not owned by loa"
if grep -q $'\e\[' "$log"; then fail "colour codes in the daemon's log (they would reach the journal)"; fi

step "loa add and export as the loa user, while the service runs"
(cd / && runuser -u loa -- loa add /usr/share/loa/media/demo/tong-dai-111.mp3 --playlist "Bản tin sáng") \
  || fail "loa add"
(cd / && runuser -u loa -- loa export /var/lib/loa/export-try) || fail "loa export"
ls /var/lib/loa/export-try/station.toml /var/lib/loa/export-try/media/*.mp3

step "stop with SIGTERM"
kill -TERM "$daemon"
wait "$daemon" || fail "the daemon did not exit 0 on SIGTERM: $(tail -n 5 "$log")"
daemon=""
tail -n 3 "$log"

step "reinstall: the edited config and the data stay"
apt-get install -y -qq --reinstall "$deb" >/dev/null
grep -q "^listen = \"127.0.0.1:$port\"" /etc/loa/loa.toml || fail "the reinstall replaced the edited config"
[ "$(stat -c '%U:%G %a' /etc/loa/loa.toml)" = "root:loa 640" ] || fail "/etc/loa/loa.toml after reinstall"
[ -s /var/lib/loa/loa.db ] || fail "the reinstall lost the database"

step "apt-get remove: config and data stay"
apt-get remove -y -qq loa >/dev/null
[ ! -e /usr/bin/loa ] || fail "/usr/bin/loa left after remove"
[ -f /etc/loa/loa.toml ] || fail "remove deleted the config"
[ -s /var/lib/loa/loa.db ] || fail "remove deleted the database"
getent passwd loa >/dev/null || fail "remove deleted the loa user"

step "apt-get purge: config gone, the ward's records stay"
apt-get purge -y -qq loa >/dev/null
[ ! -e /etc/loa ] || fail "purge left /etc/loa"
[ -s /var/lib/loa/loa.db ] || fail "purge deleted the database (the ward's records)"
ls /var/lib/loa
echo "try-install: ok"
