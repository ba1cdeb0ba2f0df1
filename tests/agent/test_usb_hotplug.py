"""`bmnn agent run` under umockdev in a private network namespace: a storage stick plugged in is a
BMNN-USB-001 violation with vendor, product and serial; unplugging clears it; a keyboard plugged
in is no finding at all; a default route is
a BMNN-NET-001 violation; all of them reach the ECS file. The testbed is driven from Debian's
python3 (PyGObject) by tools/umockdev-hotplug.py; the daemon is the real one, reading udev's
netlink socket through the umockdev preload."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STICK = ROOT / "tests/scanner/fixtures/umockdev/usb-storage-stick.umockdev"
KEYBOARD = ROOT / "tests/scanner/fixtures/umockdev/keyboard.umockdev"
SYSTEM_PYTHON = "/usr/bin/python3"


def _missing():
    if os.geteuid() != 0:
        return "needs root for a private network namespace"
    for tool in ("unshare", "ip", "umockdev-wrapper"):
        if shutil.which(tool) is None:
            return f"needs {tool} (apt: util-linux, iproute2, umockdev)"
    probe = "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"
    if not os.path.exists(SYSTEM_PYTHON) or subprocess.run([SYSTEM_PYTHON, "-c", probe], capture_output=True).returncode:
        return "needs Debian's python3 with PyGObject and the UMockdev typelib (apt: python3-gi gir1.2-umockdev-1.0)"
    return None


@pytest.mark.skipif(_missing() is not None, reason=_missing() or "")
def test_stick_plug_unplug_and_default_route_are_journaled_and_shipped(tmp_path):
    p = subprocess.run(["unshare", "-n", "umockdev-wrapper", SYSTEM_PYTHON, str(ROOT / "tools/umockdev-hotplug.py"),
                        "--python", sys.executable, "--base", str(tmp_path), "--fixture", str(STICK),
                        "--cycles", "2", "--route", "--benign", str(KEYBOARD)], capture_output=True, text=True, timeout=180)
    err = (tmp_path / "daemon.err").read_text() if (tmp_path / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr[-3000:] + err
    out = json.loads(p.stdout.strip().splitlines()[-1])
    assert out["started"] and not out["usb_violation_at_start"], (out, err)
    assert None not in out["plug_ms"] and len(out["plug_ms"]) == 2, (out, err)
    assert None not in out["unplug_ms"], (out, err)
    item = [i for i in out["evidence"]["items"] if i.get("fact") == "devices.usb"][0]
    assert (item["vendor_id"], item["product_id"], item["serial"]) == ("0781", "5567", "4C530001230405117153"), item
    assert out["benign_usb_records"] == [], out["benign_seen"]  # a keyboard is no finding
    assert out.get("route_ms") is not None, (out, err)
    alerts = [(e["rule.id"], e["event.action"]) for e in out["ecs"] if e["event.kind"] == "alert"]
    assert ("BMNN-USB-001", "violation") in alerts and ("BMNN-NET-001", "violation") in alerts, out["ecs"]
    assert ("BMNN-USB-001", "cleared") in [(e["rule.id"], e["event.action"]) for e in out["ecs"]]
    # judged from the uevent, then re-read: one violation and one clearing a cycle, never two
    actions = [e["event.action"] for e in out["ecs"] if e.get("rule.id") == "BMNN-USB-001"]
    assert actions == ["violation", "cleared"] * 2, actions
    assert out["exit"] == 0, err
    print(f"plug -> USB-001 journaled ms: {out['plug_ms']} (uevent floor {out['floor_ms']}); "
          f"unplug -> cleared ms: {out['unplug_ms']}; route -> NET-001 ms: {out['route_ms']}")
