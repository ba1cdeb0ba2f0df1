"""Plug and unplug a umockdev device while `bmnn agent run` watches; print what the journal saw.

Run with Debian's python3 (it needs PyGObject and gir1.2-umockdev-1.0, which a venv does not
have) under the umockdev preload, as root, in a private network namespace:

    unshare -n umockdev-wrapper /usr/bin/python3 tools/umockdev-hotplug.py \
        --python .venv/bin/python --base /tmp/x --fixture tests/scanner/fixtures/umockdev/usb-storage-stick.umockdev

The daemon (the project's own interpreter) inherits the preload and the testbed, so libudev, /sys
and the udev netlink socket it sees are umockdev's; rtnetlink is the namespace's real one. A bare
pyudev monitor in another process receives the same uevents: its receive time is the floor no
daemon can beat, measured in the same run. Prints one JSON object; exits 1 on a setup error.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time

import gi

gi.require_version("UMockdev", "1.0")
from gi.repository import UMockdev  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tests.agent.probe import JournalProbe  # noqa: E402  (stdlib only)

LISTENER = r"""
import pyudev, sys, time
ctx = pyudev.Context(); mon = pyudev.Monitor.from_netlink(ctx); mon.start()
print("ready", flush=True)
while True:
    d = mon.poll(60)
    if d is None:
        break
    print(f"{time.monotonic()} {d.action} {d.sys_path}", flush=True)
"""


class Watch(threading.Thread):
    """Watches the journal while the testbed is still adding the device: ``add_from_file`` returns
    only after every device of the fixture (a USB device, its interface, a disk, a partition:
    12-16 ms here), so a probe that starts after it cannot see a record journaled sooner. One
    read-only connection, a query every 0.3 ms (~30 us each: little CPU taken from the daemon)."""

    def __init__(self, db: str, sql: str, *args, timeout: float = 10.0):
        super().__init__(daemon=True)
        self.db, self.sql, self.args = db, sql, args
        self.deadline = time.monotonic() + timeout
        self.seen = None

    def run(self) -> None:
        import sqlite3
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, check_same_thread=False)
        try:
            while time.monotonic() < self.deadline:
                try:
                    if conn.execute(self.sql, self.args).fetchall():
                        self.seen = time.monotonic()
                        return
                except sqlite3.Error:
                    pass
                time.sleep(0.0003)
        finally:
            conn.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", required=True, help="interpreter with the project installed")
    ap.add_argument("--base", required=True, help="empty directory for etc, state, run, log")
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--cycles", type=int, default=1)
    ap.add_argument("--route", action="store_true", help="also add a default route (needs ip)")
    ap.add_argument("--benign", help="a device that must produce no USB finding, plugged in after the cycles")
    args = ap.parse_args()

    tb = UMockdev.Testbed.new()
    base = args.base
    for d in ("etc", "state", "run", "log"):
        os.makedirs(f"{base}/{d}", exist_ok=True)
    env = dict(os.environ, UMOCKDEV_DIR=tb.get_root_dir(), PYTHONPATH=ROOT, BMNN_STATE_DIR=f"{base}/state",
               BMNN_RUNTIME_DIR=f"{base}/run", BMNN_LOG_DIR=f"{base}/log", BMNN_LANG="en")
    listener = subprocess.Popen([args.python, "-c", LISTENER], env=env, stdout=subprocess.PIPE, text=True)
    assert listener.stdout.readline().strip() == "ready"
    daemon = subprocess.Popen([args.python, f"{ROOT}/cli.py", "--config-dir", f"{base}/etc", "agent", "run"],
                              env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon.err", "w"))
    probe = JournalProbe(f"{base}/state/journal.db")
    rows, last_seq = probe.rows, probe.last_seq

    def wait_for(sql, *a, timeout=10.0):
        return probe.wait_for(sql, *a, timeout=timeout, step=0.0005)

    out = {"started": bool(wait_for("SELECT seq FROM records WHERE kind='agent_start'", timeout=20))}
    time.sleep(1.5)  # the initial full read
    out["usb_violation_at_start"] = bool(rows("SELECT seq FROM records WHERE kind='violation' AND check_id='BMNN-USB-001'"))
    paths = ["/sys" + line[3:].strip() for line in open(args.fixture, encoding="utf-8") if line.startswith("P: ")]
    out.update(plug_ms=[], plug_watched_ms=[], floor_ms=[], in_daemon_ms=[], uevent_to_journal_ms=[], unplug_ms=[],
               evidence=None)
    violation = "SELECT evidence FROM records WHERE seq > ? AND kind='violation' AND check_id='BMNN-USB-001'"
    for _ in range(args.cycles):
        mark = last_seq()
        watch = Watch(f"{base}/state/journal.db", violation, mark)
        watch.start()
        t0 = time.monotonic()
        tb.add_from_file(args.fixture)
        first = float(listener.stdout.readline().split()[0])
        r = wait_for(violation, mark)
        seen = time.monotonic()
        out["plug_ms"].append(round((seen - t0) * 1000, 2) if r else None)
        watch.join(10)
        out["plug_watched_ms"].append(round((watch.seen - t0) * 1000, 2) if watch.seen else None)
        out["floor_ms"].append(round((first - t0) * 1000, 2))
        # what the daemon may claim at most: from the first uevent to when the probe saw the record
        out["uevent_to_journal_ms"].append(round((seen - first) * 1000, 2) if r else None)
        for _ in paths[1:]:
            listener.stdout.readline()
        if r:
            ev = json.loads(r[0][0])
            out["evidence"] = ev
            out["in_daemon_ms"].append(ev.get("latency_ms"))
        else:
            out["in_daemon_ms"].append(None)
        mark = last_seq()
        t0 = time.monotonic()
        for p in reversed(paths):
            tb.uevent(p, "remove")
        for p in reversed(paths):
            tb.remove_device(p)
        for dp, dns, fns in os.walk(tb.get_root_dir() + "/sys"):  # umockdev leaves class/bus links behind
            for n in dns + fns:
                q = os.path.join(dp, n)
                if os.path.islink(q) and not os.path.exists(q):
                    os.unlink(q)
        for _ in paths:
            listener.stdout.readline()
        r = wait_for("SELECT seq FROM records WHERE seq > ? AND kind='cleared' AND check_id='BMNN-USB-001'", mark)
        out["unplug_ms"].append(round((time.monotonic() - t0) * 1000, 2) if r else None)
    if args.benign:
        mark = last_seq()
        tb.add_from_file(args.benign)
        time.sleep(1.5)
        out["benign_usb_records"] = [list(r) for r in rows(
            "SELECT kind, check_id FROM records WHERE seq > ? AND check_id LIKE 'BMNN-USB-%'", mark)]
        out["benign_seen"] = [list(r) for r in rows("SELECT kind, message FROM records WHERE seq > ?", mark)]
    if args.route:
        for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "bm0", "type", "veth", "peer", "name", "bm1"],
                    ["ip", "link", "set", "bm1", "up"], ["ip", "link", "set", "bm0", "up"],
                    ["ip", "addr", "add", "10.99.0.2/24", "dev", "bm0"]):
            subprocess.run(cmd, check=True)
        mark = last_seq()
        t0 = time.monotonic()
        subprocess.run(["ip", "route", "add", "default", "via", "10.99.0.1", "dev", "bm0"], check=True)
        r = wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='violation' AND check_id='BMNN-NET-001'", mark)
        out["route_ms"] = round((time.monotonic() - t0) * 1000, 2) if r else None
    daemon.send_signal(signal.SIGTERM)
    out["exit"] = daemon.wait(timeout=20)
    listener.kill()
    out["ecs"] = []
    try:
        with open(f"{base}/log/events.ndjson", encoding="utf-8") as fh:
            out["ecs"] = [{k: e.get(k) for k in ("rule.id", "event.kind", "event.action")} for e in map(json.loads, fh)]
    except OSError as exc:
        out["ecs_error"] = str(exc)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
