"""Device sets under umockdev: each must produce exactly the findings it stands for.

The collector runs in a child process under ``umockdev-run`` (libudev and /sys redirected to the
testbed) and, as root, in a private network namespace so the host's own interfaces stay out.
"""

import json

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext

from .support import REPO, facts_of, judge, run_python, umockdev_prefix

DEVICE_CHECKS = ("BMNN-USB-001", "BMNN-USB-002", "BMNN-REC-001", "BMNN-REC-002",
                 "BMNN-NET-002", "BMNN-NET-003", "BMNN-NET-004")

COLLECT = """
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_devices, collect_network
result = Facts(devices=collect_devices(), network=collect_network(history=False), collected=('devices', 'network'))
"""

# fixture -> checks that must fail; every other device check must pass
EXPECT = {
    "usb-storage-stick": {"BMNN-USB-001"},
    "keyboard": set(),
    "security-key": set(),
    "webcam-microphone": {"BMNN-REC-001", "BMNN-REC-002"},
    "bluetooth-adapter": {"BMNN-NET-003"},
    "wifi-dongle": {"BMNN-NET-002"},
    "lte-modem": {"BMNN-NET-004"},
    "phone-mtp": {"BMNN-USB-001"},
    "storage-keyboard-composite": {"BMNN-USB-001", "BMNN-USB-002"},
    "sd-card-reader": {"BMNN-USB-001"},
    "emmc-soldered": set(),
    "huawei-e3372-hilink": {"BMNN-USB-001", "BMNN-NET-004"},
    "huawei-e3372-cdrom": {"BMNN-USB-001", "BMNN-NET-004"},
    "huawei-e3372-modem": {"BMNN-NET-004"},
    "phone-rndis-tethering": {"BMNN-NET-004"},
    "usb-ethernet-r8152": set(),
    "usb-ethernet-ax88179": set(),
    "usb-ethernet-cdc-ecm": set(),
}


def collect(*fixtures: str) -> F.Facts:
    return facts_of(run_python(COLLECT, prefix=umockdev_prefix(*fixtures)))


@pytest.fixture(scope="module")
def all_sets():
    return {name: collect(name) for name in EXPECT}


@pytest.mark.parametrize("fixture", sorted(EXPECT))
def test_findings_of_each_device(all_sets, fixture):
    results, _ = judge(all_sets[fixture])
    got = {cid for cid in DEVICE_CHECKS if results[cid].status == "fail"}
    assert got == EXPECT[fixture], {cid: (results[cid].status, results[cid].reason.en) for cid in DEVICE_CHECKS}
    for cid in DEVICE_CHECKS:
        if cid not in EXPECT[fixture]:
            assert results[cid].status == "pass", f"{cid}: {results[cid].status}: {results[cid].reason.en}"


def test_storage_stick_evidence_then_approval(all_sets):
    facts = all_sets["usb-storage-stick"]
    results, ev = judge(facts)
    usb1 = results["BMNN-USB-001"]
    assert usb1.status == "fail"
    assert any(row.get("vendor_id") == "0781" and row.get("product_id") == "5567"
               and row.get("serial") == "4C530001230405117153" for row in usb1.evidence), usb1.evidence
    stick = next(d for d in facts.devices.usb if d.vendor_id == "0781")
    assert stick.identity == "0781:5567:4C530001230405117153"
    approved = EvalContext(approved_devices=(stick.identity,), approved_serials=(stick.serial,))
    results, _ = judge(facts, context=approved)
    assert results["BMNN-USB-001"].status == "pass", results["BMNN-USB-001"].reason.en


def test_keyboard_alone_produces_no_usb_finding(all_sets):
    results, _ = judge(all_sets["keyboard"])
    assert results["BMNN-USB-001"].status == "pass"
    assert results["BMNN-USB-002"].status == "pass"
    kb = all_sets["keyboard"].devices.usb[0]
    assert [i.cls for i in kb.interfaces] == ["03", "03"] and kb.interfaces[0].driver == "usbhid"


def test_sd_card_approved_by_serial(all_sets):
    facts = all_sets["sd-card-reader"]
    disk = next(b for b in facts.devices.block if b.devtype == "disk")
    assert (disk.bus, disk.mmc_type, disk.serial, disk.removable) == ("mmc", "SD", "0x1a2b3c4d", True)
    results, _ = judge(facts, context=EvalContext(approved_serials=("0x1a2b3c4d",)))
    assert results["BMNN-USB-001"].status == "pass"


def test_device_details(all_sets):
    cam = all_sets["webcam-microphone"].devices.capture
    assert {(c.kind, c.name, c.bus, c.vendor_id) for c in cam} == {
        ("camera", "HD Pro Webcam C920", "usb", "046d"), ("microphone", "hw:CARD=C920,DEV=0", "usb", "046d")}
    bt = all_sets["bluetooth-adapter"]
    assert [(b.name, b.bus) for b in bt.devices.bluetooth] == [("hci0", "usb")]
    assert [(r.type, r.hard_blocked) for r in bt.network.rfkill] == [("bluetooth", False)]
    phone = all_sets["phone-mtp"].devices.usb[0]
    assert phone.mtp is True and phone.serial == "28031FDH2000PR"
    stick = all_sets["usb-storage-stick"]
    part = next(b for b in stick.devices.block if b.name == "sdb1")
    assert (part.bus, part.fs_type, part.serial, part.vendor_id, part.removable) == (
        "usb", "vfat", "4C530001230405117153", "0781", True)
    lte = all_sets["lte-modem"].devices.usb[0]
    assert [i.driver for i in lte.interfaces] == ["option"] * 4 + ["qmi_wwan"]


def test_combined_sets_add_up():
    facts = collect("keyboard", "usb-storage-stick", "webcam-microphone")
    assert len(facts.devices.usb) == 3
    results, _ = judge(facts)
    assert {c for c in DEVICE_CHECKS if results[c].status == "fail"} == {"BMNN-USB-001", "BMNN-REC-001", "BMNN-REC-002"}


def test_sysfs_net_description_of_usb_radios():
    code = """
from bmnn_guard.policies.facts import NetInterface
from bmnn_guard.scanner.collect.network import _sysfs_info, classify
out = []
for name in ('wlx00c0ca123456', 'wwan0'):
    info = _sysfs_info('/sys', name, None)
    kind, _ = classify(arphrd=1, flags=0, link_kind=None, tun_type=None, sysfs=info)
    out.append(NetInterface(name=name, kind=kind, driver=info['driver'], bus=info['bus']))
result = tuple(out)
"""
    data = run_python(code, prefix=umockdev_prefix("wifi-dongle", "lte-modem"))
    assert [(d["name"], d["kind"], d["driver"], d["bus"]) for d in data] == [
        ("wlx00c0ca123456", "wifi", "ath9k_htc", "usb"), ("wwan0", "wwan", "qmi_wwan", "usb")]


ONE_BY_ONE = """
import json, os
from bmnn_guard.policies.facts import to_dict
from bmnn_guard.scanner.collect import collect_devices
from bmnn_guard.scanner.collect.devices import collect_usb_device
full = collect_devices().usb
seen = []
for root, dirs, files in os.walk('/sys/devices'):
    if 'uevent' in files and ('idVendor' in files or 'bInterfaceClass' in files):
        one = collect_usb_device(root)
        if one is not None:
            seen.append(one)
print('@@USB@@' + json.dumps([to_dict(list(full)), to_dict(seen)]))
"""


@pytest.mark.parametrize("fixture", sorted(EXPECT))
def test_one_device_read_from_its_uevent_path_is_the_full_reads_device(fixture):
    """The daemon judges a plug-in from the device its uevent names (agent/watch.py): read from the
    device's path or any of its interfaces', it must be exactly the device the full read finds,
    or the full re-read that follows would journal the violation a second time."""
    import subprocess
    import sys
    res = subprocess.run([*umockdev_prefix(fixture), sys.executable, "-c", ONE_BY_ONE], capture_output=True,
                         text=True, timeout=60, cwd=str(REPO))
    assert res.returncode == 0, res.stderr[-3000:]
    full, seen = json.loads(next(x for x in res.stdout.splitlines() if x.startswith("@@USB@@"))[7:])
    by_path = {d["sys_path"]: d for d in full}
    for one in seen:
        assert one == by_path.get(one["sys_path"]), (fixture, one["sys_path"])
    assert {d["sys_path"] for d in seen} == set(by_path), fixture  # every device reached from its paths
