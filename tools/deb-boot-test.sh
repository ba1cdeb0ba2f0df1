#!/bin/sh
# The .deb for real: a fresh Debian 12 rootfs (mmdebstrap), booted under systemd-nspawn, where
# tools/deb-boot-check.sh installs the package with apt-get (its Depends only, no recommends),
# checks the running daemon, `bmnn scan`, `bmnn status` (root, a member of group bmnn, and a
# stranger who must be refused), then upgrades to a package rebuilt with a higher version,
# removes, purges, reinstalls and purges with BMNN_PURGE_JOURNAL=yes, checking after each step
# what must be left (docs/packaging.md).
#
#   sh tools/deb-boot-test.sh                  build both packages from this checkout, then test
#   sh tools/deb-boot-test.sh OLD.deb          this package, and one rebuilt from this checkout with
#                                              ".post1" added to pyproject's version
#   sh tools/deb-boot-test.sh OLD.deb NEW.deb  these two (NEW must have the higher version)
#
# Needs root, mmdebstrap, systemd-container and the Debian mirror (apt installs the Depends in
# the rootfs). The minimal rootfs is cached in $BMNN_DEB_TEST_CACHE (default
# /var/cache/bmnn-guard-test) and made again when older than a week; downloaded .debs are kept
# there too. Without a cache it takes a few minutes more, and works the same.
# BMNN_DEB_TEST_KEEP=1 keeps the work directory (logs, rootfs) for a look afterwards.
# Exit 0: every check passed; 1: a check failed; 2: something needed is missing.
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${BMNN_DEB_TEST_CACHE:-/var/cache/bmnn-guard-test}"
suite=bookworm
include=systemd,systemd-sysv,dbus
[ "$(id -u)" = 0 ] || { echo "deb-boot-test: needs root" >&2; exit 2; }
for t in mmdebstrap systemd-nspawn dpkg-deb flock; do
  command -v "$t" >/dev/null || { echo "deb-boot-test: $t missing: apt-get install mmdebstrap systemd-container" >&2; exit 2; }
done

work="$(mktemp -d /var/tmp/bmnn-deb-test.XXXXXX)"
cleanup() { if [ -n "${BMNN_DEB_TEST_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT INT TERM
mkdir -p "$work/debs" "$work/results" "$cache/apt-archives"

# 1. the two packages: this checkout, and a copy of it with a higher version in pyproject.toml
build() {  # build OUT [SRC]
  /usr/bin/python3 "$here/packaging/deb/build.py" --pip "$here/.venv/bin/pip" --out "$work/$1" ${2:+--src "$2"} \
    >"$work/build-$1.log" 2>&1 || { cat "$work/build-$1.log" >&2; exit 1; }
  tail -1 "$work/build-$1.log"
}
if [ $# -ge 1 ]; then cp "$1" "$work/debs/old.deb"; fi
if [ $# -ge 2 ]; then cp "$2" "$work/debs/new.deb"; fi
[ $# -ge 2 ] || [ -x "$here/.venv/bin/pip" ] || { echo "deb-boot-test: run 'make setup' first" >&2; exit 2; }
if [ $# -lt 1 ]; then
  build old && cp "$work"/old/*.deb "$work/debs/old.deb"
fi
if [ $# -lt 2 ]; then
  mkdir "$work/src"
  (cd "$here" && tar --exclude=./.venv --exclude=./.git --exclude=./dist --exclude=./build -cf - .) | tar -C "$work/src" -xf -
  sed -i -E 's/^(version = ")([^"]+)(")/\1\2.post1\3/' "$work/src/pyproject.toml"
  build new "$work/src" && cp "$work"/new/*.deb "$work/debs/new.deb"
fi
old_v=$(dpkg-deb -f "$work/debs/old.deb" Version); new_v=$(dpkg-deb -f "$work/debs/new.deb" Version)
dpkg --compare-versions "$new_v" gt "$old_v" || { echo "deb-boot-test: $new_v is not above $old_v" >&2; exit 2; }
printf 'OLD=%s\nNEW=%s\n' "$old_v" "$new_v" > "$work/debs/versions"
echo "packages: $old_v ($(du -k "$work/debs/old.deb" | cut -f1) KiB), $new_v"

# a stamped PDF, so that PDFium (stripped in the package) really reads a document
if command -v soffice >/dev/null; then
  printf 'BỘ X\nSố: 12/BC\nTUYỆT MẬT\nBáo cáo tình hình\n' > "$work/bao-cao.txt"
  HOME="$work" soffice --headless --norestore --convert-to pdf --outdir "$work/debs" "$work/bao-cao.txt" >/dev/null 2>&1 || true
fi

# 2. the rootfs: cached, rebuilt when older than 7 days or made with another include list
key=$(printf '%s %s' "$suite" "$include" | sha256sum | cut -c1-12)
tarball="$cache/rootfs-$suite-$key.tar"
(
  flock 9
  if [ ! -s "$tarball" ] || [ -n "$(find "$tarball" -mtime +7)" ]; then
    echo "rootfs: mmdebstrap $suite ($include)"
    tmp_tar="${tarball%.tar}.tmp$$.tar"  # mmdebstrap picks the format by the name's extension
    mmdebstrap --quiet --variant=minbase --include="$include" "$suite" "$tmp_tar" || { rm -rf "$tmp_tar"; exit 1; }
    mv "$tmp_tar" "$tarball"
  else
    echo "rootfs: cached $tarball"
  fi
) 9>"$cache/lock"
R="$work/root"
mkdir "$R" && tar -C "$R" -xf "$tarball"

# 3. the check runs inside the booted system, then powers it off
install -m 0755 "$here/tools/deb-boot-check.sh" "$R/usr/local/sbin/bmnn-deb-check"
printf '[Unit]\nAfter=multi-user.target\n[Service]\nType=oneshot\nExecStart=/usr/local/sbin/bmnn-deb-check\nStandardOutput=journal+console\n' \
  > "$R/etc/systemd/system/bmnn-deb-check.service"
mkdir -p "$R/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/bmnn-deb-check.service "$R/etc/systemd/system/multi-user.target.wants/"
start=$(date +%s)
# the .debs apt fetched last time: copied in and back (a shared bind mount would let two runs of
# this test fight over apt's lock in the archive directory)
find "$cache/apt-archives" -maxdepth 1 -name '*.deb' -exec cp {} "$R/var/cache/apt/archives/" \;
timeout 1200 systemd-nspawn --quiet --register=no --keep-unit -b -D "$R" \
  --bind="$work/results:/results" --bind-ro="$work/debs:/debs" \
  > "$work/boot.log" 2>&1 || true
(flock 9; find "$R/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n {} "$cache/apt-archives/" \;) 9>"$cache/lock"
echo "booted and checked in $(( $(date +%s) - start )) s"
if [ ! -s "$work/results/report.txt" ]; then
  echo "deb-boot-test: the check did not run; the boot log:" >&2
  tail -50 "$work/boot.log" >&2
  exit 1
fi
cat "$work/results/report.txt"
passed=$(grep -c '^CHECK .* ok$' "$work/results/report.txt" || true)
failed=$(grep -c '^CHECK .* FAILED' "$work/results/report.txt" || true)
if ! grep -q '^ALL STEPS RUN$' "$work/results/report.txt"; then
  echo "deb-boot-test: the check stopped early"; failed=$((failed + 1))
fi
echo "deb-boot-test: $passed checks passed, $failed failed"
[ "$failed" = 0 ]
