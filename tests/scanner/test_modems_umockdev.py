"""Cellular modems in every mode, through the real ``bmnn scan --format json`` under ``umockdev-run``.

Each fixture is one device as udev and sysfs show it (tests/scanner/fixtures/umockdev/README.md).
A umockdev network device exists only in the testbed's /sys, never in rtnetlink; as root the scan
runs in a private network namespace holding a veth link of the same name and index, so the
network collector meets the interface through netlink the way it meets a real one, and reads its
sysfs side (driver, bus, the USB device behind it) from the testbed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .support import FIXTURES, IS_ROOT, REPO, need_tool, run_python, umockdev_prefix

# fixture -> (netdev name, ifindex, MAC) of its network interface, if it has one
NETDEV = {
    "huawei-e3372-hilink": ("enx001e101f0000", 21, "00:1e:10:1f:00:00"),
    "huawei-e3372-modem": ("wwan0", 22, "0c:5b:8f:27:9a:64"),
    "phone-rndis-tethering": ("enp0s20f0u13", 23, "5e:2b:8a:11:22:33"),
    "usb-ethernet-r8152": ("enx00e04c680001", 24, "00:e0:4c:68:00:01"),
    "usb-ethernet-ax88179": ("enx000ec6a1b2c3", 25, "00:0e:c6:a1:b2:c3"),
    "usb-ethernet-cdc-ecm": ("enx00e04c680002", 26, "00:e0:4c:68:00:02"),
}

# fixture -> (cellular mode, telltale codes that must be in the evidence, USB-001 status today)
EXPECT = {
    "huawei-e3372-hilink": ("hilink", {"modeswitch-target", "usb-ids-name", "mac-oui", "net+storage"}, "fail"),
    "huawei-e3372-cdrom": ("storage", {"modeswitch-source", "modeswitch-rule", "usb-ids-name"}, "fail"),
    "huawei-e3372-modem": ("modem", {"driver", "modeswitch-target"}, "pass"),
    "phone-rndis-tethering": ("tethering", {"tethering"}, "pass"),
    "usb-ethernet-r8152": (None, set(), "pass"),
    "usb-ethernet-ax88179": (None, set(), "pass"),
    "usb-ethernet-cdc-ecm": (None, set(), "pass"),
}


def scan(fixture: str, tmp) -> dict:
    need_tool("umockdev-run")
    env = dict(os.environ, BMNN_CONFIG_DIR=str(tmp), BMNN_STATE_DIR=str(tmp / "state"),
               BMNN_RUNTIME_DIR=str(tmp / "run"), PYTHONPATH=str(REPO))
    cmd = [sys.executable, str(REPO / "cli.py"), "scan", "--no-content", "--format", "json", "--no-input"]
    prefix = ["umockdev-run", "-d", str(FIXTURES / f"{fixture}.umockdev"), "--"]
    if IS_ROOT:
        need_tool("unshare", "ip")
        setup = "ip link set lo up"
        if fixture in NETDEV:
            name, index, mac = NETDEV[fixture]
            setup += (f" && ip link add {name} index {index} address {mac} type veth peer name peer{index}"
                      f" && ip link set {name} up")
        cmd = ["unshare", "-n", "--", "sh", "-c", f'{setup} && exec "$@"', "sh", *cmd]
    p = subprocess.run(prefix + cmd, capture_output=True, text=True, env=env, timeout=180, cwd=REPO)
    assert p.returncode in (0, 2, 3) and p.stdout, p.stderr[-3000:]
    return json.loads(p.stdout)


def result(doc: dict, check_id: str) -> dict:
    return next(r for r in doc["results"] if r["check_id"] == check_id)


def codes(evidence) -> set[str]:
    return {e.split(" ", 1)[0] for e in evidence}


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    return {name: scan(name, tmp_path_factory.mktemp(name)) for name in EXPECT}


@pytest.mark.parametrize("fixture", sorted(EXPECT))
def test_usb_side(docs, fixture):
    mode, telltales, usb001 = EXPECT[fixture]
    doc = docs[fixture]
    (dev,) = doc["facts"]["devices"]["usb"]
    assert dev["cellular"] == mode, dev
    assert telltales <= codes(dev["cellular_evidence"]), dev["cellular_evidence"]
    if mode is None:
        assert dev["cellular_evidence"] == []
    net004 = result(doc, "BMNN-NET-004")
    assert net004["status"] == ("fail" if mode else "pass"), net004["reason"]["en"]
    if mode:
        rows = [r for r in net004["evidence"] if r["fact"] == "devices.usb"]
        assert rows and rows[0]["cellular"] == mode and rows[0]["cellular_evidence"] == dev["cellular_evidence"]
    # as storage, whatever the USB rules say: the HiLink's and the CD-ROM stick's virtual drive count
    assert result(doc, "BMNN-USB-001")["status"] == usb001


@pytest.mark.parametrize("fixture", sorted(NETDEV))
def test_network_side(docs, fixture):
    if not IS_ROOT:
        pytest.skip("needs root (a private network namespace with a veth standing for the USB netdev)")
    name = NETDEV[fixture][0]
    mode = EXPECT[fixture][0]
    doc = docs[fixture]
    (nic,) = [i for i in doc["facts"]["network"]["interfaces"] if i["name"] == name]
    assert nic["bus"] == "usb"
    if mode is None:
        # netlink calls the stand-in a veth ("virtual"); test_sysfs_kind shows the sysfs side says ethernet
        assert nic["kind"] != "wwan" and nic["wwan_evidence"] == [], nic
        return
    assert nic["kind"] == "wwan", nic
    assert f"usb-device {mode}" in nic["wwan_evidence"]
    net004 = result(doc, "BMNN-NET-004")
    rows = [r for r in net004["evidence"] if r["fact"] == "network.interfaces"]
    assert [r["name"] for r in rows] == [name] and rows[0]["wwan_evidence"] == nic["wwan_evidence"]
    assert any(e.startswith("usb-device") for e in rows[0]["wwan_evidence"])


def test_hilink_evidence_names_each_telltale(docs):
    (dev,) = docs["huawei-e3372-hilink"]["facts"]["devices"]["usb"]
    ev = dev["cellular_evidence"]
    assert any(e.startswith("modeswitch-target 12d1:14dc") and "12d1:1f01" in e for e in ev), ev
    assert 'usb-ids-name 12d1:14dc "E3372 LTE/UMTS/GSM HiLink Modem/Networkcard"' in ev
    assert "mac-oui 00:1e:10 (HUAWEI TECHNOLOGIES CO.,LTD) enx001e101f0000" in ev
    assert "net+storage CDC-Ethernet if=00 + mass-storage if=02 cdrom=yes" in ev


def test_tethering_phone_is_named_a_phone(docs):
    (dev,) = docs["phone-rndis-tethering"]["facts"]["devices"]["usb"]
    assert dev["cellular_evidence"] == ["tethering rndis-internet-sharing e0/01/03 if=00",
                                        "tethering phone-function ADB if=02 + RNDIS if=00"]


def test_sysfs_kind():
    """What classify() makes of each netdev from the testbed's sysfs alone, as a real USB link."""
    code = """
from bmnn_guard.policies.facts import NetInterface
from bmnn_guard.scanner.collect.network import _sysfs_info, classify, wwan_evidence
out = []
for name in NAMES:
    info = _sysfs_info('/sys', name, None)
    kind, _ = classify(arphrd=1, flags=0, link_kind=None, tun_type=None, sysfs=info)
    out.append(NetInterface(name=name, kind=kind, driver=info['driver'], bus=info['bus'],
                            wwan_evidence=wwan_evidence(1, info)))
result = tuple(out)
""".replace("NAMES", repr([n for n, _, _ in NETDEV.values()]))
    data = run_python(code, prefix=umockdev_prefix(*NETDEV))
    got = {d["name"]: (d["kind"], d["driver"], d["bus"]) for d in data}
    assert got == {
        "enx001e101f0000": ("wwan", "cdc_ether", "usb"), "wwan0": ("wwan", "huawei_cdc_ncm", "usb"),
        "enp0s20f0u13": ("wwan", "rndis_host", "usb"), "enx00e04c680001": ("ethernet", "r8152", "usb"),
        "enx000ec6a1b2c3": ("ethernet", "ax88179_178a", "usb"), "enx00e04c680002": ("ethernet", "cdc_ether", "usb")}
    ev = {d["name"]: d["wwan_evidence"] for d in data}
    assert "usb-device hilink" in ev["enx001e101f0000"] and "usb-device tethering" in ev["enp0s20f0u13"]
    assert {"devtype wwan", "driver huawei_cdc_ncm", "usb-device modem"} <= set(ev["wwan0"])
