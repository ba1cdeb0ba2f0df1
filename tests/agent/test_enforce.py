"""Enforcement against real kernel interfaces: a veth in a private namespace, sysfs under umockdev."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "agent" / "fixtures"

LINK_PROBE = r"""
import json, subprocess, sys
sys.path.insert(0, sys.argv[1])
from bmnn_guard.agent.enforce import link_down
def up():
    # /sys shows the namespace that mounted it, not ours: ask the kernel through ip(8)
    out = subprocess.run(["ip", "-o", "link", "show", "bm0"], capture_output=True, text=True, check=True).stdout
    return "UP" in out.split("<", 1)[1].split(">", 1)[0].split(",")
subprocess.run(["ip", "link", "add", "bm0", "type", "veth", "peer", "name", "bm1"], check=True)
subprocess.run(["ip", "link", "set", "bm0", "up"], check=True)
before = up()
act = link_down("bm0")
after = up()
missing = link_down("nope0")
print(json.dumps({"before": before, "after": after, "ok": act.ok, "missing_ok": missing.ok, "missing": missing.detail}))
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare for a private network namespace")
def test_link_down_through_rtnetlink():
    p = subprocess.run(["unshare", "-n", sys.executable, "-c", LINK_PROBE, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out == {"before": True, "after": False, "ok": True, "missing_ok": False, "missing": "no such interface"}


USB_PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from bmnn_guard.agent.enforce import deauthorize_usb
dev = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-4"
acts = deauthorize_usb(dev)
state = {}
for intf in ("1-4:1.0", "1-4:1.1"):
    with open(f"{dev}/{intf}/authorized") as fh:
        state[intf] = fh.read().strip()
print(json.dumps({"acts": [[a.target.rsplit("/", 1)[1], a.ok] for a in acts], "state": state}))
"""


@pytest.mark.skipif(shutil.which("umockdev-run") is None, reason="umockdev not installed (apt-get install umockdev)")
def test_composite_device_keeps_its_keyboard():
    """Only the storage interface of a storage+keyboard composite is deauthorised."""
    p = subprocess.run(["umockdev-run", "-d", str(FIXTURES / "composite-storage-keyboard.umockdev"), "--",
                        sys.executable, "-c", USB_PROBE, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["acts"] == [["1-4:1.0", True]]
    assert out["state"] == {"1-4:1.0": "0", "1-4:1.1": "1"}
