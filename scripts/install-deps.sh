#!/usr/bin/env bash
# Installs the Debian packages loa needs to build, test and run. Idempotent.
#   build:  build-essential (the bundled SQLite is C), pkg-config, libasound2-dev (ALSA)
#   tests:  alsa-utils (aplay, for diagnosing the ALSA file-plugin test), systemd
#           (systemd-analyze rates the unit's hardening), dpkg-dev (the .deb check),
#           curl (try-install asks the installed daemon), sqlite3 (the journey browser
#           tests seed past broadcast-log rows into a station's database)
#   media:  ffmpeg, sox, espeak-ng (regenerating demo media and fixtures; benchmarks)
#   panel:  chromium, chromium-driver (headless browser for the end-to-end tests),
#           nodejs, npm (the test runner and playwright-core that drives chromium)
set -euo pipefail
packages=(build-essential pkg-config libasound2-dev alsa-utils systemd dpkg-dev curl sqlite3 ffmpeg sox espeak-ng ca-certificates
  chromium chromium-driver)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (e.g. a newer packaged build that bundles npm): only the
# commands matter, and Debian's npm must not replace a node that brought its own.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "all Debian packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
