"""Event sources against the real kernel: a private network namespace, a loop device, inotify."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from bmnn_guard.agent.sources.folders import FolderSource

ROOT = Path(__file__).resolve().parents[2]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, loop devices, sysctl)")

NETLINK_PROBE = r"""
import json, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
from bmnn_guard.agent.sources.netlink import NetlinkSource
got = []
cv = threading.Condition()
def emit(t):
    with cv:
        got.append((time.monotonic(), t)); cv.notify_all()
src = NetlinkSource(); src.start(emit)
def step(cmd, want):
    with cv:
        got.clear()
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    deadline = t0 + 2
    with cv:
        while time.monotonic() < deadline:
            types = {m["type"] for _, t in got for m in t.detail.get("messages", [])}
            if want in types:
                return (min(ts for ts, t in got if any(m["type"] == want for m in t.detail["messages"])) - t0) * 1000
            cv.wait(0.05)
    return None
out = {
  "link": step(["ip", "link", "add", "bm0", "type", "veth", "peer", "name", "bm1"], "newlink"),
  "up": step(["ip", "link", "set", "bm0", "up"], "newlink"),
  "addr": step(["ip", "addr", "add", "10.99.0.2/24", "dev", "bm0"], "newaddr"),
}
subprocess.run(["ip", "link", "set", "bm1", "up"], check=True)
out["route"] = step(["ip", "route", "add", "default", "via", "10.99.0.1", "dev", "bm0"], "newroute")
out["alive"] = src.alive(); src.stop()
print(json.dumps(out))
"""


@needs_root
@pytest.mark.skipif(shutil.which("unshare") is None or shutil.which("ip") is None, reason="needs unshare and ip (util-linux, iproute2)")
def test_netlink_sees_link_address_and_route_changes_in_a_namespace():
    p = subprocess.run(["unshare", "-n", sys.executable, "-c", NETLINK_PROBE, str(ROOT)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    for step in ("link", "up", "addr", "route"):
        assert out[step] is not None, f"no netlink message for {step}: {out}"
        assert out[step] < 1000, out
    assert out["alive"] is True


@needs_root
@pytest.mark.skipif(shutil.which("losetup") is None, reason="needs losetup (util-linux)")
def test_udev_sees_a_real_loop_device_uevent(tmp_path):
    from bmnn_guard.agent.sources.udev import UdevSource
    img = tmp_path / "disk.img"
    with open(img, "wb") as fh:
        fh.truncate(8 << 20)
    got = []
    ev = threading.Event()

    def emit(t):
        got.append(t)
        if t.detail.get("subsystem") == "block":
            ev.set()

    src = UdevSource()
    src.start(emit)
    dev = None
    try:
        p = subprocess.run(["losetup", "--find", "--show", str(img)], capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(f"losetup cannot attach here: {p.stderr.strip()}")
        dev = p.stdout.strip()
        assert ev.wait(5), f"no block uevent for {dev}: {got}"
        block = [t for t in got if t.detail.get("subsystem") == "block"]
        assert block[0].domain == "devices" and block[0].kind == "change"
        assert any(os.path.basename(dev) in t.detail["sys_path"] for t in block)
        assert src.alive()
    finally:
        if dev:
            subprocess.run(["losetup", "-d", dev])
        src.stop()


def _collect(source, timeout=5.0):
    got = []
    lock = threading.Lock()

    def emit(t):
        with lock:
            got.append(t)
    source.start(emit)
    return got


def test_folder_events_for_create_modify_move_delete(tmp_path):
    marked = tmp_path / "mat"
    marked.mkdir()
    src = FolderSource([str(marked)])
    got = _collect(src)
    try:
        f = marked / "a.docx"
        f.write_bytes(b"x")
        with open(f, "ab") as fh:
            fh.write(b"y")
        f.rename(marked / "b.docx")
        (marked / "b.docx").unlink()
        deadline = time.monotonic() + 5
        want = {"created", "modified", "moved", "deleted"}
        while time.monotonic() < deadline and not want <= {t.detail["event"] for t in got}:
            time.sleep(0.02)
        kinds = {t.detail["event"] for t in got}
        assert want <= kinds, kinds
        moved = next(t for t in got if t.detail["event"] == "moved")
        assert moved.detail["path"].endswith("a.docx") and moved.detail["dest"].endswith("b.docx")
        assert all(t.domain == "folders" and t.kind == "file" for t in got)
    finally:
        src.stop()


OVERFLOW_PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bmnn_guard.agent.sources.folders import FolderSource
got = []
src = FolderSource([sys.argv[2]])
src.start(got.append)
print("ready", flush=True)
sys.stdin.readline()          # the parent stops us with SIGSTOP, floods the folder, continues us
deadline = time.monotonic() + 5
while time.monotonic() < deadline and not any(t.kind == "gap" for t in got):
    time.sleep(0.05)
src.stop()
print(json.dumps([{"kind": t.kind, "reason": t.detail.get("reason")} for t in got if t.kind == "gap"]))
"""


@needs_root
def test_inotify_overflow_becomes_a_gap(tmp_path):
    """A watcher frozen (SIGSTOP) while 400 files appear must overflow a 16-event kernel queue."""
    import signal
    knob = Path("/proc/sys/fs/inotify/max_queued_events")
    if not knob.exists():
        pytest.skip("no inotify sysctl")
    marked = tmp_path / "mat"
    marked.mkdir()
    original = knob.read_text()
    child = subprocess.Popen([sys.executable, "-c", OVERFLOW_PROBE, str(ROOT), str(marked)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        knob.write_text("16\n")  # applies to inotify instances created from now on (the child's)
        try:
            assert child.stdout.readline().strip() == "ready"
        finally:
            knob.write_text(original)
        os.kill(child.pid, signal.SIGSTOP)
        for i in range(400):
            (marked / f"f{i}").write_bytes(b"x")
        os.kill(child.pid, signal.SIGCONT)
        out, _ = child.communicate("go\n", timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    gaps = json.loads(out.strip().splitlines()[-1])
    assert gaps, "no gap trigger after the inotify queue overflowed"
    assert "overflow" in gaps[0]["reason"].lower()
