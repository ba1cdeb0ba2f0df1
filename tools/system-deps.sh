#!/bin/sh
# Install the Debian packages a target needs, when we are root and apt-get exists.
# Never fails the build by itself: a test that lacks a package skips with a reason,
# and in CI (BMNN_NO_SKIP=1) that skip becomes a failure that names the package.
set -u
what="${1:-test}"
here="$(dirname "$0")"
list="$here/packages-$what.txt"
[ -f "$list" ] || exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: not root or no apt-get; tests needing system packages will skip" >&2
  exit 0
fi
missing=""
for pkg in $(grep -v '^#' "$list"); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
[ -n "$missing" ] || exit 0
echo "system-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || \
  echo "system-deps: could not install some of:$missing" >&2
exit 0
