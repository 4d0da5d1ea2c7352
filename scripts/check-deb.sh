#!/usr/bin/env bash
# Builds the .deb (or takes one as $1) and checks what it installs: the binary, the unit,
# the config as a conffile with its permissions, the shipped media, the maintainer
# scripts. Exits non-zero naming the first thing wrong. Run by .ci/run after the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=${1:-$(scripts/build-deb.sh)}
echo "checking $deb"
fail() { echo "check-deb: $*" >&2; exit 1; }
listing=$(dpkg-deb --contents "$deb")
echo "$listing"
# path, mode, in the package listing (`-rwxr-xr-x root/root size date time ./path`).
expect() {
  local path=$1 mode=$2
  echo "$listing" | awk -v p="./$path" -v m="$mode" '$6 == p && $1 == m && $2 == "0/0" {found=1} END {exit !found}' \
    || fail "$path: expected $mode root:root"
}
expect usr/bin/loa -rwxr-xr-x
expect usr/lib/systemd/system/loa.service -rw-r--r--
expect etc/loa/loa.toml -rw-r-----
expect usr/share/loa/media/chime.wav -rw-r--r--
expect usr/share/loa/media/chime-end.wav -rw-r--r--
expect usr/share/loa/media/demo/tong-dai-111.mp3 -rw-r--r--
expect usr/share/doc/loa/README.md -rw-r--r--
expect usr/share/doc/loa/loa.example.toml -rw-r--r--
if echo "$listing" | awk '{print $1}' | grep -q '^.\{8\}w'; then
  fail "a world-writable file is in the package"
fi
ctrl=$(mktemp -d)
trap 'rm -rf "$ctrl"' EXIT
dpkg-deb --control "$deb" "$ctrl"
grep -qx /etc/loa/loa.toml "$ctrl/conffiles" || fail "/etc/loa/loa.toml is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$ctrl/$s" ] || fail "$s missing or not executable"
  sh -n "$ctrl/$s" || fail "$s is not valid sh"
  ! grep -q '#DEBHELPER#' "$ctrl/$s" || fail "$s: #DEBHELPER# was not replaced"
done
grep -q 'useradd --system' "$ctrl/postinst" || fail "postinst does not create the loa user"
grep -q 'deb-systemd-helper' "$ctrl/postinst" || fail "postinst lacks the systemd snippets"
grep -q '^Depends:.*libasound2' "$ctrl/control" || fail "control: no libasound2 dependency"
# The packaged config is the example config, and it parses.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./etc/loa/loa.toml | cmp - config/loa.example.toml \
  || fail "etc/loa/loa.toml differs from config/loa.example.toml"
# The packaged unit is the repository's.
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/loa.service | cmp - systemd/loa.service \
  || fail "the packaged unit differs from systemd/loa.service"
arch=$(dpkg-deb --field "$deb" Architecture)
if [ "$arch" = "$(dpkg --print-architecture)" ]; then
  dir=$(mktemp -d)
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ./usr/bin/loa
  "$dir/usr/bin/loa" --version || fail "the packaged binary does not run"
  rm -rf "$dir"
fi
echo "check-deb: ok ($arch)"
