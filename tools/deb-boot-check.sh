#!/bin/sh
# Runs inside the booted rootfs of tools/deb-boot-test.sh (as bmnn-deb-check.service): install,
# upgrade, remove, purge of /debs/old.deb and /debs/new.deb, each followed by the checks of what
# it must leave. Writes /results/report.txt ("CHECK name ok|FAILED" lines), then powers off.
set -u
exec > /results/report.txt 2>&1
export DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
. /debs/versions

check() {  # check NAME COMMAND...: one line per check, never stops the run
  name=$1; shift
  if "$@" >/results/last.out 2>&1; then echo "CHECK $name ok"; else echo "CHECK $name FAILED"; sed 's/^/    /' /results/last.out | tail -20; fi
}
purged_state() { s=$(dpkg-query -W -f='${db:Status-Abbrev}' bmnn-guard 2>/dev/null | tr -d ' '); [ -z "$s" ] || [ "$s" = un ] || [ "$s" = pn ]; }
status_is() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' bmnn-guard 2>/dev/null | tr -d ' ')" = "$1" ]; }
active() { [ "$(systemctl is-active bmnn-agent)" = active ]; }
wait_active() { i=0; while [ $i -lt 30 ]; do active && return 0; sleep 1; i=$((i + 1)); done; return 1; }
version_is() { bmnn --version | grep -qxE "bmnn, (version|phiên bản) $1"; }  # click's text, from the catalog
etc_state() {  # every file's hash, and owner and mode of everything, under /etc/bmnn
  (cd /etc/bmnn && find . -type f -exec sha256sum {} + | sort -k2 && find . -exec stat -c '%a %U %G %n' {} + | sort -k4)
}
same_etc() { etc_state | cmp -s - /results/etc.before; }
journal_prefix() {  # the first N records, as the journal prints them
  bmnn events --lang en --json 2>/dev/null | head -n "$1"
}
scan_ok() {  # exit 0 compliant, 2 non-compliant, 3 incomplete: each is a finished checklist
  bmnn scan --lang en --no-input --format json -o /results/scan.json; rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 2 ] || [ $rc -eq 3 ] || return 1
  python3 -c 'import json,sys; d=json.load(open("/results/scan.json")); sys.exit(0 if d else 1)'
}
as_user() { u=$1; shift; setpriv --reuid="$u" --regid="$u" --init-groups "$@"; }
agt_by() {  # agt_by HOW FILE: BMNN-AGT-001 in scan FILE passes, known by HOW (socket|systemd), the unit active
  python3 - "$1" "$2" <<'EOP'
import json, sys
how, path = sys.argv[1], sys.argv[2]
(r,) = [r for r in json.load(open(path))["results"] if r["check_id"] == "BMNN-AGT-001"]
(ev,) = r["evidence"]
print("AGT-001:", r["status"], ev)
ok = (r["status"] == "pass" and ev["running_how"] == how and ev["installed"] is True and ev["unit_state"] == "active"
      and ev["journal_check"] == "chain+mac")
sys.exit(0 if ok else 1)
EOP
}
agent_facts_by() {  # agent_facts_by USER HOW: `bmnn facts` as USER says the daemon runs, known by HOW
  as_user "$1" bmnn facts --json > "/results/facts-$1.json" 2>/dev/null
  python3 -c 'import json,sys; a=json.load(open(sys.argv[1]))["agent"]; print("agent facts:", a); sys.exit(0 if a["running"] is True and a["running_how"] == sys.argv[2] else 1)' "/results/facts-$1.json" "$2"
}
install_timed() {  # install_timed LABEL DEB: apt-get install, timed
  t0=$(date +%s.%N)
  apt-get install -y --no-install-recommends "$2" > "/results/apt-$1.log" 2>&1; rc=$?
  t1=$(date +%s.%N)
  echo "TIME $1: $(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }") s (apt-get install $2, exit $rc)" >> /results/times
  [ $rc -eq 0 ] || tail -5 "/results/apt-$1.log"
  return $rc
}
apt_logged() {  # apt_logged LABEL ARGS...: apt-get ARGS, output in /results/apt-LABEL.log
  label=$1; shift
  apt-get "$@" > "/results/apt-$label.log" 2>&1; rc=$?
  [ $rc -eq 0 ] || tail -5 "/results/apt-$label.log"
  return $rc
}

echo "== apt-get update"
apt-get update -qq >/results/apt-update.log 2>&1 || { echo "CHECK apt-update FAILED"; tail /results/apt-update.log; }

echo "== install $OLD (Depends only, no recommends)"
check install install_timed install /debs/old.deb
tail -1 /results/times
grep -E '^(The following NEW|  )' /results/apt-install.log | head -8
grep -E 'fingerprint|usermod' /results/apt-install.log
check installed status_is ii
check version-old version_is "$OLD"
check daemon-active wait_active
pid=$(systemctl show -p MainPID --value bmnn-agent)
check daemon-hardened grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
check status-root bmnn status --lang en
getent group bmnn >/dev/null && useradd -m -G bmnn officer && useradd -m stranger
check status-group-member as_user officer bmnn status --lang en
check status-stranger-refused sh -c '! setpriv --reuid=stranger --regid=stranger --init-groups bmnn status --lang en'
check scan scan_ok
check scan-agent-by-socket agt_by socket /results/scan.json
check facts-agent-member agent_facts_by officer socket
check facts-agent-stranger-by-systemd agent_facts_by stranger systemd
if [ -f /debs/bao-cao.pdf ]; then
  check pdf-stamp-found sh -c 'bmnn content --lang en /debs/bao-cao.pdf; [ $? -eq 2 ]'
fi
check host-key test "$(stat -c %a /etc/bmnn/host-key.pem)" = 400
check local.d test -d /etc/bmnn/local.d
check state-dir-0700 test "$(stat -c %a /var/lib/bmnn)" = 700
check conffile sh -c "dpkg-query -W -f='\${Conffiles}' bmnn-guard | grep -q ' /etc/bmnn/agent.yaml '"
check bytecompiled sh -c 'test "$(find /usr/lib/bmnn-guard -name "*.pyc" | wc -l)" -gt 100'
check enabled systemctl is-enabled bmnn-agent
echo "installed size: $(du -sk /usr/lib/bmnn-guard | cut -f1) KiB in /usr/lib/bmnn-guard (with byte code)"

echo "== the administrator's changes: local.d, agent.yaml"
printf 'marked_folders: [{path: /srv/mat}]\n' > /etc/bmnn/local.d/10-site.yaml
mkdir -p /srv/mat
sed -i 's/^#heartbeat_seconds: 60 /heartbeat_seconds: 30 /' /etc/bmnn/agent.yaml
check reload bmnn reload --lang en
check journal-verifies bmnn events verify --lang en
etc_state > /results/etc.before
n=$(bmnn events --lang en --json | wc -l)
journal_prefix "$n" > /results/journal.before
fp_before=$(sha256sum /etc/bmnn/host-key.pub | cut -c1-64)

echo "== upgrade to $NEW"
check upgrade install_timed upgrade /debs/new.deb
tail -1 /results/times
check version-new version_is "$NEW"
check daemon-restarted sh -c "wait_pid=\$(systemctl show -p MainPID --value bmnn-agent); [ \"\$wait_pid\" != $pid ] && [ \"\$(systemctl is-active bmnn-agent)\" = active ]"
check upgrade-kept-etc same_etc
check upgrade-kept-journal sh -c "bmnn events --lang en --json | head -n $n | cmp -s - /results/journal.before"
check journal-verifies-after-upgrade bmnn events verify --lang en
check no-conffile-prompt sh -c '! grep -q "Configuration file" /results/apt-upgrade.log'
check status-after-upgrade bmnn status --lang en

echo "== remove"
check remove apt_logged remove remove -y bmnn-guard
check removed-config-files status_is rc
check program-gone sh -c '[ ! -e /usr/lib/bmnn-guard ] && [ ! -e /usr/bin/bmnn ] && [ ! -e /lib/systemd/system/bmnn-agent.service ]'
check daemon-stopped sh -c '! systemctl is-active --quiet bmnn-agent'
check remove-kept-etc same_etc
check remove-kept-journal test -s /var/lib/bmnn/journal.db

echo "== purge"
check purge apt_logged purge purge -y bmnn-guard
grep '^bmnn-guard:' /results/apt-purge.log
check purged purged_state
check purge-removed-etc test ! -e /etc/bmnn
check purge-kept-journal test -s /var/lib/bmnn/journal.db
check purge-said-where grep -q 'kept /var/lib/bmnn' /results/apt-purge.log
check purge-unit-links-gone test ! -e /etc/systemd/system/multi-user.target.wants/bmnn-agent.service

echo "== install again: a new host key, the kept journal goes on"
check reinstall install_timed reinstall /debs/new.deb
tail -1 /results/times
check reinstall-daemon-active wait_active
check reinstall-new-host-key test "$(sha256sum /etc/bmnn/host-key.pub | cut -c1-64)" != "$fp_before"
check reinstall-journal-kept sh -c "bmnn events --lang en --json | head -n $n | cmp -s - /results/journal.before"
check reinstall-journal-verifies bmnn events verify --lang en

echo "== purge with BMNN_PURGE_JOURNAL=yes"
check purge-journal sh -c 'BMNN_PURGE_JOURNAL=yes apt-get purge -y bmnn-guard > /results/apt-purge2.log 2>&1'
grep '^bmnn-guard:' /results/apt-purge2.log
check purge-journal-asked sh -c '[ ! -e /var/lib/bmnn ] && [ ! -e /var/log/bmnn ] && [ ! -e /etc/bmnn ]'
check group-kept getent group bmnn

echo "ALL STEPS RUN"
sync
systemctl poweroff
