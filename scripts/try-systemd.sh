#!/usr/bin/env bash
# Boots a real systemd (Debian 12, systemd 252) as PID 1 of a systemd-nspawn container,
# installs the built .deb in it as a technician would and checks what only a running
# systemd does with the unit: `systemctl enable --now loa` reaches active (Type=notify, so
# only after READY), the watchdog is armed, the sandbox is on the process (NoNewPrivs,
# seccomp, no capabilities; `systemd-analyze security` live figure), /healthz, /metrics and
# the panel answer, an upload and a broadcast work inside the sandbox, warnings reach the
# journal at warning priority with no colour codes, SIGKILL and a stopped (SIGSTOP)
# daemon are restarted (the latter by the watchdog), an upgrade restarts it, it comes back
# by itself after the container is powered off and booted again, `loa check` as the loa
# user, and `systemctl stop loa` is clean. Prints each check; exits non-zero on the first
# that fails. Stops the container and removes its tree on exit.
#
# Needs root with full capabilities and Debian's mirror (it installs systemd-container and
# debootstrap on the host if missing, debootstraps a base tree once into $LOA_TRIAL_BASE
# and copies it per run). Works where PID 1 is not systemd (a container with cgroup v1
# mounted, as here). The watchdog check uses a drop-in WatchdogSec=10 (the shipped 180 s
# is checked as configured, then shortened so the trial does not wait 3 minutes).
# Usage: scripts/try-systemd.sh [PATH.deb]   (default: the newest target/debian/*.deb)
# LOA_BINARY=target/debug/loa puts that binary over the packaged /usr/bin/loa (to try a
# change without building a release package; printed when used).
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "try-systemd: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
ok() { echo "   ok: $*"; }
[ "$(id -u)" -eq 0 ] || fail "run as root (it boots a container)"
deb=${1:-$(ls -t target/debian/loa_*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || fail "no .deb: run scripts/build-deb.sh first"
deb=$(realpath "$deb")
binary=${LOA_BINARY:+$(realpath "$LOA_BINARY")}
base=${LOA_TRIAL_BASE:-/var/tmp/loa-systemd-base}
root=/var/tmp/loa-systemd-run
machine=loa-trial
port=18573
url=http://127.0.0.1:$port
token=trial-token-0123456789abcdef
export DEBIAN_FRONTEND=noninteractive

exec 9>/var/tmp/loa-systemd.lock
flock -n 9 || fail "another try-systemd run holds /var/tmp/loa-systemd.lock"
if command -v ss >/dev/null && ss -ltn | awk '{print $4}' | grep -q ":$port\$"; then
  fail "port $port is in use (the container shares the host's network)"
fi

nspawn=""
stop_container() {
  if [ -n "$nspawn" ] && kill -0 "$nspawn" 2>/dev/null; then
    kill -TERM "$nspawn"  # nspawn asks the container's systemd to power off
    for _ in $(seq 1 60); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$nspawn" 2>/dev/null && kill -KILL "$nspawn"
    wait "$nspawn" 2>/dev/null || true
  fi
  nspawn=""
}
cleanup() {
  stop_container
  findmnt -rn -o TARGET | grep "^$root" | sort -r | xargs -r -n 1 umount -l || true
  rm -rf "$root" "$root.log"
}
trap cleanup EXIT

step "host tools and the base tree ($base)"
if ! command -v systemd-nspawn >/dev/null || ! command -v debootstrap >/dev/null; then
  apt-get install -y -qq systemd-container debootstrap >/dev/null
fi
if [ ! -e "$base/.loa-trial-base" ]; then
  rm -rf "$base"
  debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,libasound2,curl,ca-certificates \
    bookworm "$base" http://deb.debian.org/debian >/dev/null || fail "debootstrap"
  touch "$base/.loa-trial-base"
fi
rm -rf "$root"
cp -a "$base" "$root"
echo "$machine" >"$root/etc/hostname"
cp "$deb" "$root/root/loa.deb"
[ -z "$binary" ] || cp "$binary" "$root/root/loa.override"

init=""
boot() {
  setsid systemd-nspawn -b -D "$root" -M "$machine" --register=no --keep-unit \
    --console=passive >"$root.log" 2>&1 &
  nspawn=$!
  for _ in $(seq 1 100); do
    init=$(pgrep -P "$nspawn" -x systemd || true)
    [ -n "$init" ] && break
    kill -0 "$nspawn" 2>/dev/null || { cat "$root.log" >&2; fail "systemd-nspawn exited"; }
    sleep 0.2
  done
  [ -n "$init" ] || fail "no systemd in the container after 20 s: $(cat "$root.log")"
  state=$(inside timeout 60 systemctl is-system-running --wait || true)
  case "$state" in running | degraded) ;; *) fail "container system state: $state" ;; esac
  [ "$(inside cat /proc/1/comm)" = systemd ] || fail "PID 1 inside the container is not systemd"
}
inside() { nsenter -t "$init" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
# From here a failure also shows loa's last journal lines from inside the container.
fail() {
  echo "try-systemd: FAIL: $*" >&2
  echo "   last lines of journalctl -u loa:" >&2
  inside journalctl -u loa -n 30 -o cat --no-pager 2>&1 | sed 's/^/   | /' >&2 || true
  exit 1
}
prop() { inside systemctl show loa -p "$1" --value; }
main_pid() { prop MainPID; }
wait_active() {  # waits for active/running with a main pid other than $1
  for _ in $(seq 1 ${2:-60}); do
    [ "$(prop ActiveState)/$(prop SubState)" = active/running ] && [ "$(main_pid)" != "$1" ] && [ "$(main_pid)" != 0 ] && return 0
    sleep 1
  done
  inside systemctl status loa --no-pager >&2 || true
  fail "loa did not become active/running (after pid $1)"
}
healthz_code() { inside curl -s -o /dev/null -w '%{http_code}' "$url/healthz" || true; }
override_binary() {
  if [ -n "$binary" ]; then
    echo "   note: LOA_BINARY: $binary over /usr/bin/loa"
    inside install -m 0755 /root/loa.override /usr/bin/loa
  fi
}

step "boot systemd as PID 1 of an nspawn container"
boot
ok "$(inside systemctl --version | head -n 1), system $(inside systemctl is-system-running)"

step "apt-get install ./loa.deb"
inside apt-get install -y -qq /root/loa.deb >/dev/null || fail "apt-get install"
override_binary
inside id loa
inside sed -i "s/^listen = .*/listen = \"127.0.0.1:$port\"/" /etc/loa/loa.toml

step "systemctl enable --now loa (shipped config: output auto, no sound card here)"
inside systemctl enable --now loa 2>&1
wait_active 0
[ "$(prop Type)" = notify ] || fail "Type=$(prop Type)"
ok "active/running, Type=notify: systemd saw READY=1"
[ "$(prop WatchdogUSec)" = 3min ] || fail "WatchdogUSec=$(prop WatchdogUSec)"
ok "$(inside systemctl show loa -p WatchdogUSec,NRestarts,ActiveState,SubState | tr '\n' ' ')"

step "the sandbox on the running process"
pid=$(main_pid)
status=$(inside cat "/proc/$pid/status")
echo "$status" | grep -E '^(Uid|NoNewPrivs|Seccomp|CapEff|CapBnd):' | sed 's/^/   /'
echo "$status" | grep -qE '^NoNewPrivs:\s+1$' || fail "NoNewPrivs is not 1"
echo "$status" | grep -qE '^Seccomp:\s+2$' || fail "no seccomp filter"
echo "$status" | grep -qE '^CapEff:\s+0+$' || fail "effective capabilities"
echo "$status" | grep -qE "^Uid:\s+$(inside id -u loa)\s" || fail "not running as loa"
exposure=$(inside systemd-analyze security loa --no-pager | sed -n 's/.*Overall exposure level for loa.service: \([0-9.]*\).*/\1/p')
awk -v e="$exposure" 'BEGIN { exit !(e != "" && e <= 2.0) }' || fail "live exposure ${exposure:-?} (want <= 2.0)"
ok "systemd-analyze security loa (live): $exposure"

step "journal: one line per event, priorities, no colour codes"
lines=$(inside journalctl -u loa -o cat --no-pager "_PID=$pid")
echo "$lines" | sed 's/^/   /'
! echo "$lines" | grep -q $'\e' || fail "colour codes in the journal"
warnings=$(inside journalctl -u loa -p warning -o cat --no-pager "_PID=$pid")
echo "$warnings" | grep -q 'falling back to null' || fail "journalctl -p warning does not list the fallback warning"
! inside journalctl -u loa -p warning -o cat --no-pager "_PID=$pid" | grep -q 'loa is running' || fail "info lines filed as warnings"
ok "journalctl -u loa -p warning lists the warning and not the info lines"

step "/healthz, /metrics and the panel"
code=$(healthz_code)
case "$code" in 200 | 503) ;; *) fail "/healthz: $code" ;; esac
inside curl -s "$url/healthz" | grep -q '"checks"' || fail "/healthz has no checks"
inside curl -s "$url/metrics" | grep -q '^loa_' || fail "/metrics has no loa_ series"
panel=$(inside curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url/")
case "$panel" in "303 $url/setup" | "303 $url/login") ;; *) fail "panel /: $panel" ;; esac
ok "/healthz $code (503: this container's clock is not NTP-synchronised), /metrics, panel / -> $panel"

step "an upload and a broadcast inside the sandbox (output wav: in the state directory)"
inside sed -i "s|^output = .*|output = \"wav:/var/lib/loa/trial-out.wav\"|" /etc/loa/loa.toml
printf '\n[[tokens]]\nname = "trial"\ntoken = "%s"\n' "$token" | inside tee -a /etc/loa/loa.toml >/dev/null
inside systemctl restart loa
wait_active "$pid"
cp media/demo/tong-dai-111.mp3 "$root/root/"
auth="Authorization: Bearer $token"
inside curl -sf -H "$auth" -F "title=Tổng đài 111" -F file=@/root/tong-dai-111.mp3 "$url/api/clips" | grep -q '"duration_ms"' || fail "upload"
inside curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"name":"Thử","items":[1]}' "$url/api/playlists" >/dev/null || fail "playlist"
# An emergency: the station's hours (05:00-21:30 in the shipped config) would skip a
# normal play-now when the trial runs in the evening; an emergency airs at any hour.
inside curl -sf -H "$auth" -H 'Content-Type: application/json' -d '{"playlist":1,"priority":"emergency"}' "$url/api/broadcasts" | grep -q '"accepted":true' || fail "broadcast"
for _ in $(seq 1 60); do
  inside journalctl -u loa -o cat --no-pager | grep -q 'outcome="played"' && break
  sleep 1
done
inside journalctl -u loa -o cat --no-pager | grep -q 'outcome="played"' || fail "the broadcast did not end played"
[ "$(inside stat -c %s /var/lib/loa/trial-out.wav)" -gt 100000 ] || fail "nothing written to the wav output"
ok "clip uploaded (analysis worker under the seccomp filter), broadcast played, $(inside stat -c %s /var/lib/loa/trial-out.wav) bytes of audio"

step "kill -9 of the main process: systemd restarts it"
pid=$(main_pid); before=$(prop NRestarts)
inside sh -c "kill -9 $pid"
wait_active "$pid" 30
[ "$(prop NRestarts)" -eq $((before + 1)) ] || fail "NRestarts $before -> $(prop NRestarts)"
ok "pid $pid -> $(main_pid), NRestarts $before -> $(prop NRestarts)"

step "watchdog: a stopped (SIGSTOP) daemon is killed and restarted (drop-in WatchdogSec=10)"
inside mkdir -p /etc/systemd/system/loa.service.d
printf '[Service]\nWatchdogSec=10\n' | inside tee /etc/systemd/system/loa.service.d/trial-watchdog.conf >/dev/null
inside systemctl daemon-reload
pid=$(main_pid)
inside systemctl restart loa
wait_active "$pid" 30
pid=$(main_pid); before=$(prop NRestarts)
sleep 2
inside sh -c "kill -STOP $pid"
wait_active "$pid" 60
[ "$(prop NRestarts)" -eq $((before + 1)) ] || fail "NRestarts $before -> $(prop NRestarts)"
inside journalctl -u loa -o cat --no-pager | grep -q 'Watchdog timeout (limit 10s)' || fail "no watchdog timeout inside the journal"
inside journalctl -u loa -o cat --no-pager | grep -E 'Watchdog timeout|Failed with result' | tail -n 2 | sed 's/^/   /'
ok "pid $pid -> $(main_pid), NRestarts $before -> $(prop NRestarts)"
inside rm -r /etc/systemd/system/loa.service.d
inside systemctl daemon-reload

step "upgrade: reinstalling the package restarts the running service"
pid=$(main_pid)
inside apt-get install -y -qq --reinstall /root/loa.deb >/dev/null || fail "reinstall"
if [ -n "$binary" ]; then override_binary; inside systemctl restart loa; fi
wait_active "$pid" 30
ok "pid $pid -> $(main_pid), config kept: $(inside grep -c "$token" /etc/loa/loa.toml) token line"

step "power off and boot again: loa starts by itself, data kept"
inside systemctl poweroff
for _ in $(seq 1 60); do kill -0 "$nspawn" 2>/dev/null || break; sleep 0.5; done
stop_container
boot
wait_active 0 60
inside curl -sf -H "$auth" "$url/api/clips" | grep -q 'Tổng đài 111' || fail "the clip is gone after the reboot"
ok "active after boot ($(inside systemctl is-enabled loa)), clip still listed"

step "loa check as the loa user"
set +e
check=$(inside runuser -u loa -- sh -c 'cd / && loa check --config /etc/loa/loa.toml' 2>&1)
code=$?
set -e
echo "$check" | sed 's/^/   /'
[ "$code" -le 1 ] || fail "loa check exited $code"
echo "$check" | grep -q '^ok *config' || fail "config not ok"
echo "$check" | grep -q '^ok *database' || fail "database not ok"

step "systemctl stop loa"
pid=$(main_pid)
inside systemctl stop loa
[ "$(prop ActiveState)/$(prop Result)/$(prop ExecMainStatus)" = inactive/success/0 ] \
  || fail "after stop: $(inside systemctl show loa -p ActiveState,Result,ExecMainStatus | tr '\n' ' ')"
! inside sh -c "kill -0 $pid" 2>/dev/null || fail "pid $pid still runs"
inside journalctl -u loa -o cat --no-pager "_PID=$pid" | tail -n 1 | sed 's/^/   /'
ok "inactive, Result=success, exit status 0"

echo "try-systemd: all checks passed"
