#!/usr/bin/env bash
# Installs the Debian packages Bifrost needs, and only those that are missing.
#
#   scripts/deps.sh run    what `make run` needs (PostgreSQL)
#   scripts/deps.sh test   what `make test` needs (PostgreSQL, slapd, baresip, linphonec,
#                          ffmpeg, Chromium, SIPp, libopus)
#
# Idempotent: when everything is installed it asks dpkg once and exits, well under a
# second. Uses apt-get as root and sudo otherwise, and says what it installs and why.
# apt on some machines deletes downloaded packages between dpkg runs, so a failed
# install is retried once.
set -euo pipefail

declare -A why=(
  [postgresql]="the database (Bifrost starts a private cluster from its binaries)"
  [postgresql-contrib]="unaccent and pg_trgm for directory search"
  [slapd]="a real LDAP server for the directory sync tests"
  [ldap-utils]="ldapsearch/ldapadd for the LDAP tests"
  [baresip]="a real SIP video endpoint for the end-to-end tests"
  [baresip-core]="baresip's modules"
  [baresip-ffmpeg]="H.264 and media files for baresip"
  [linphone-cli]="linphonec, a second real SIP endpoint"
  [mediastreamer2-plugin-openh264]="H.264 for linphonec"
  [ffmpeg]="test media and codec cross-checks"
  [chromium]="a real browser for the WebRTC and admin page tests"
  [fonts-liberation]="fonts for browser screenshots"
  [sip-tester]="SIPp, a scripted SIP peer"
  [tshark]="captures the loopback to show that an SRTP leg carries no audible RTP"
  [libopus-dev]="Opus encode/decode (cgo)"
  [pkg-config]="finds libopus for cgo"
)
run_pkgs=(postgresql postgresql-contrib libopus-dev pkg-config)
test_pkgs=("${run_pkgs[@]}" slapd ldap-utils baresip baresip-core baresip-ffmpeg linphone-cli
  mediastreamer2-plugin-openh264 ffmpeg chromium fonts-liberation sip-tester tshark libopus-dev pkg-config)

case "${1:-test}" in
  run) pkgs=("${run_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null; then
  echo "deps: this is not a Debian-based system; install by hand: ${pkgs[*]}" >&2
  exit 1
fi

installed=$(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${pkgs[@]}" 2>/dev/null | awk '$1 == "ii" {print $2}' || true)
missing=()
for p in "${pkgs[@]}"; do
  grep -qx "$p" <<<"$installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing missing Debian packages:"
for p in "${missing[@]}"; do echo "  $p — ${why[$p]}"; done

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps: not root and no sudo; install them by hand" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
install() { "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }
if ! install; then
  echo "deps: apt-get install failed; retrying once"
  "${sudo[@]}" apt-get update -q || true
  install
fi
