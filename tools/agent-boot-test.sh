#!/bin/sh
# Boot systemd/bmnn-agent.service for real: a Debian rootfs (mmdebstrap) under systemd-nspawn,
# the unit as shipped plus a drop-in with WatchdogSec=3s, and a oneshot that checks READY, the
# status over the socket, the capabilities/NoNewPrivs/seccomp of the process, then hangs the main
# loop with SIGSTOP and checks that the watchdog killed and restarted it, and that the journal
# verifies. Last, the "who did it" source (agent/sources/access.py) runs under the unit's own
# hardening (a copy of the unit with another ExecStart) and must name a user who writes in the
# marked folder: fanotify through the capability set, the system-call filter and PrivateMounts. Needs root, mmdebstrap and systemd-container (apt), network to the Debian mirror.
# Not part of `make test` (about a minute, downloads ~100 MB); run by hand:  sh tools/agent-boot-test.sh
set -eu
here="$(cd "$(dirname "$0")/.." && pwd)"
work="${BMNN_BOOT_DIR:-/var/tmp/bmnn-boot-test}"
py="$here/.venv/lib/python3.11/site-packages"
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 2; }
command -v mmdebstrap >/dev/null && command -v systemd-nspawn >/dev/null || {
  echo "install: apt-get install mmdebstrap systemd-container" >&2; exit 2; }
[ -d "$py" ] || { echo "run 'make setup' first ($py missing)" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work/results"
R="$work/root"
mmdebstrap --quiet --variant=minbase --include=systemd,systemd-sysv,dbus,python3,procps,tesseract-ocr-vie bookworm "$work/rootfs.tar"
mkdir "$R" && tar -C "$R" -xf "$work/rootfs.tar"
# the project and its dependencies (same CPython minor version as Debian's python3)
mkdir -p "$R/opt/bmnn/src" "$R/etc/bmnn" "$R/etc/systemd/system/bmnn-agent.service.d" \
         "$R/etc/systemd/system/multi-user.target.wants"
cp -a "$py" "$R/opt/bmnn/site-packages"
(cd "$here" && git archive HEAD agent policies scanner cli.py) | tar -C "$R/opt/bmnn/src" -x
ln -sfn . "$R/opt/bmnn/src/bmnn_guard"  # the namespace: bmnn_guard.agent is src/agent
chmod -R go-w "$R/opt/bmnn"
cat > "$R/usr/local/bin/bmnn-agent" <<'EOS'
#!/bin/sh
export PYTHONPATH=/opt/bmnn/src:/opt/bmnn/site-packages
exec /usr/bin/python3 -m bmnn_guard.agent "$@"
EOS
chmod 755 "$R/usr/local/bin/bmnn-agent"
cp "$here/systemd/bmnn-agent.service" "$R/etc/systemd/system/"
printf '[Service]\nWatchdogSec=3s\nTimeoutStopSec=5s\n' > "$R/etc/systemd/system/bmnn-agent.service.d/test.conf"
printf 'heartbeat_seconds: 1\n' > "$R/etc/bmnn/agent.yaml"
# a marked folder with a stamped note: the content workers must run under the unit's seccomp filter
# (they call setrlimit); the container shares the host's network, so BMNN-DOC-001 must fail on it
mkdir -p "$R/etc/bmnn/local.d" "$R/srv/mat"
printf 'marked_folders: [{path: /srv/mat}]\n' > "$R/etc/bmnn/local.d/10-boot-test.yaml"
printf 'BỘ X\nSố: 12/BC\nTUYỆT MẬT\nBáo cáo tình hình\n' > "$R/srv/mat/bao-cao.txt"
# and a scanned page with a red TỐI MẬT stamp: OCR (tesserocr, Debian's vie model) under the same unit
(cd "$here" && .venv/bin/python -c "from tests.scanner.content import stamps as S; import sys
sys.stdout.buffer.write(S.encode(S.page('TỐI MẬT'), 'JPEG'))") > "$R/srv/mat/ban-chup.jpg"
ln -s /etc/systemd/system/bmnn-agent.service "$R/etc/systemd/system/multi-user.target.wants/"
# who did it, under the shipped unit's hardening: same settings, another program, no directories of its own
sed -e 's|^ExecStart=.*|ExecStart=/usr/local/bin/bmnn-access-check|' -e '/^WatchdogSec=/d' -e '/^Restart/d' \
    -e '/^ExecReload=/d' -e '/Directory=/d' -e '/DirectoryMode=/d' -e '/^\[Install\]/,$d' \
    "$here/systemd/bmnn-agent.service" > "$R/etc/systemd/system/bmnn-access-check.service"
cat > "$R/usr/local/bin/bmnn-access-check" <<'EOS'
#!/usr/bin/python3
import json, os, sys
sys.path[:0] = ["/opt/bmnn/src", "/opt/bmnn/site-packages"]
os.environ["PYTHONPATH"] = "/opt/bmnn/src:/opt/bmnn/site-packages"  # the reader process (a child) too
import threading
from bmnn_guard.agent.sdnotify import notify
from bmnn_guard.agent.sources.access import FileAccess
from bmnn_guard.agent.sources.access_process import AccessProcess
seen = threading.Event()
def emit(ev):
    if isinstance(ev, FileAccess) and ev.path == "/srv/mat/who.txt" and ev.kind == "write":
        print("ACCESS " + json.dumps(ev.actor()), flush=True)
        seen.set()
src = AccessProcess(["/srv/mat"])  # as the daemon runs it: the reader in a process of its own
src.start(emit)
print("STATUS " + json.dumps(src.status()), flush=True)
notify("READY=1")
seen.wait(30)
src.stop()
EOS
chmod 755 "$R/usr/local/bin/bmnn-access-check"
cat > "$R/usr/local/bin/bmnn-check" <<'EOS'
#!/bin/sh
exec > /results/report.txt 2>&1
export PYTHONPATH=/opt/bmnn/src:/opt/bmnn/site-packages
bmnn() { python3 -c "import sys, bmnn_guard.cli as cli
from bmnn_guard.agent.commands import events_group, status_command
cli.cli.add_command(events_group); cli.cli.add_command(status_command)
sys.exit(cli.main(sys.argv[1:]))" "$@"; }
sleep 4
echo "== before"
systemctl show bmnn-agent -p ActiveState -p NRestarts -p StatusText
pid=$(systemctl show -p MainPID --value bmnn-agent)
grep -E "CapBnd|NoNewPrivs|Seccomp:" /proc/$pid/status
bmnn status --lang en && echo "CHECK status ok"
echo "== hanging the main loop: SIGSTOP $pid"
kill -STOP "$pid"
sleep 14
echo "== after"
systemctl show bmnn-agent -p ActiveState -p NRestarts -p Result
[ "$(systemctl show -p NRestarts --value bmnn-agent)" -ge 1 ] && echo "CHECK watchdog restart ok"
journalctl -u bmnn-agent --no-pager -o cat | grep -i watchdog
bmnn events verify --lang en && echo "CHECK verify ok"
bmnn events --lang en --json --kind violation | grep BMNN-DOC-001 | grep -q bao-cao.txt && echo "CHECK content scan under seccomp ok"
bmnn events --lang en --json --kind violation | grep BMNN-DOC-001 | grep -q ban-chup.jpg && echo "CHECK OCR under the unit ok"
bmnn events --lang en --kind agent_start --kind gap
echo "== who did it under the unit's hardening"
useradd -M -N -u 4242 bmnnwho
chmod 1777 /srv/mat
systemctl start bmnn-access-check
# the writer stays a moment after closing the file, so that its identity is read from the live process
setpriv --reuid=4242 --regid=100 --clear-groups -- sh -c 'exec 3>/srv/mat/who.txt; echo x >&3; exec 3>&-; sleep 3'
for i in $(seq 30); do systemctl is-active -q bmnn-access-check || break; sleep 1; done
journalctl -u bmnn-access-check --no-pager -o cat | grep -E "^(STATUS|ACCESS)"
journalctl -u bmnn-access-check --no-pager -o cat | grep '^ACCESS' | grep '"user": "bmnnwho"' | grep -q '"exe": "/usr/bin/dash"' \
  && echo "CHECK who did it ok"
systemctl poweroff
EOS
chmod 755 "$R/usr/local/bin/bmnn-check"
printf '[Unit]\nAfter=bmnn-agent.service\n[Service]\nType=oneshot\nExecStart=/usr/local/bin/bmnn-check\n' \
  > "$R/etc/systemd/system/bmnn-check.service"
ln -s /etc/systemd/system/bmnn-check.service "$R/etc/systemd/system/multi-user.target.wants/"
# nspawn's own seccomp allow-list leaves fanotify out (fanotify_init fails EPERM inside the container
# even with CAP_SYS_ADMIN): add it, as a host without nspawn would have it
timeout 180 systemd-nspawn --quiet --register=no --keep-unit -b -D "$R" --bind="$work/results:/results" \
  --system-call-filter='fanotify_init fanotify_mark' \
  > "$work/boot.log" 2>&1 || true
cat "$work/results/report.txt"
n=$(grep -c '^CHECK .* ok$' "$work/results/report.txt" || true)
echo "agent-boot-test: $n of 6 checks passed"
[ "$n" = 6 ]
