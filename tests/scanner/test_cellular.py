"""The cellular judgement as a pure function of a device's properties, with the checked-in table,
and the table itself: generated from the Debian packages, reproducible, with its provenance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from bmnn_guard.policies.facts import DeviceFacts, UsbDevice, UsbInterface, from_dict
from bmnn_guard.scanner.collect import cellular
from bmnn_guard.scanner.collect.cellular import TableError, judge, load_table, name_kind, other_device, parse_table

from .support import REPO, umockdev_prefix

TABLE = load_table()


def usb(vid, pid, *ifaces, **kw) -> UsbDevice:
    return UsbDevice(sys_path="/sys/devices/x/1-1", vendor_id=vid, product_id=pid,
                     interfaces=tuple(UsbInterface(number=f"{n:02d}", cls=c, subclass=s, protocol=p, driver=d)
                                      for n, (c, s, p, d) in enumerate(ifaces)), **kw)


ECM = ("02", "06", "00", "cdc_ether")
DATA = ("0a", "00", "00", "cdc_ether")
STORAGE = ("08", "06", "50", "usb-storage")
RNDIS = ("e0", "01", "03", "rndis_host")
VENDOR_NIC = ("ff", "ff", "00", "r8152")


def code_set(verdict):
    return {e.split(" ", 1)[0] for e in verdict.evidence}


@pytest.mark.parametrize("name,kind", [
    ("E3372 LTE/UMTS/GSM HiLink Modem/Networkcard", "cellular"),
    ("K3770 3G Modem (Mass Storage Mode)", "cellular"),
    ("R205 Mobile WiFi (CD-ROM mode)", "cellular"),
    ("BG96 CAT-M1/NB-IoT modem", "cellular"),
    ("Nexus/Pixel Device (tether)", "tethering"),
    ("9500 GSM Communicator (RNDIS)", "tethering"),
    ("Desire HD (modem mode)", "tethering"),
    ("Gobi 9x15 Multimode 3G/4G LTE Modem (IP passthrough mode)", "cellular"),
    ("iPhone 3G", None), ("6288 GSM Smartphone", None), ("Nokia 8110 4G", None),
    ("RTL8188FTV 802.11b/g/n 1T1R 2.4G WLAN Adapter", None), ("Wireless Mouse 2.4G", None),
    ("Motorola 802.11n 5G USB Wireless Adapter", None), ("AU5 ADSL Modem", None),
    ("Supra Express 56K modem", None), ("UM-3G", None), ("Super GSM Reader", None),
    ("RTL8153 Gigabit Ethernet Adapter", None), ("Modem/Networkcard", None), ("", None), (None, None),
])
def test_name_rules(name, kind):
    assert name_kind(name) == kind


def test_other_device_words():
    assert other_device("D-Link DWA-171 Wifi Dongle") == "Wifi"
    assert other_device("UE300 10/100/1000 LAN (ethernet mode) [Realtek RTL8153]") == "10/100/1000"
    assert other_device("Huawei E353 (3.se) and others") is None
    assert other_device("R205 Mobile WiFi") is None  # a pocket router with a SIM is cellular


def test_hilink_by_id_mac_and_virtual_cdrom():
    v = judge(usb("12d1", "14dc", ECM, DATA, STORAGE), table=TABLE, macs=[("eth1", "00:1E:10:1F:00:00")], cdrom=True)
    assert v.mode == "hilink"
    assert {"modeswitch-target", "usb-ids-name", "mac-oui", "net+storage"} <= code_set(v)


def test_hilink_of_an_unknown_id_still_caught_by_mac_and_cdrom():
    """A rebranded stick with an id no package knows: the Huawei MAC and the CD-ROM beside the
    network function still say what it is."""
    v = judge(usb("abcd", "0001", ECM, DATA, STORAGE), table=TABLE, macs=[("usb0", "00:e0:fc:12:34:56")], cdrom=None)
    assert v.mode == "hilink" and code_set(v) == {"mac-oui", "net+storage"}
    assert any(e.endswith("cdrom=unknown") for e in v.evidence)


def test_cdrom_mode_by_source_id_and_vendor_rule():
    v = judge(usb("12d1", "1f01", STORAGE), table=TABLE, manufacturer="HUAWEI_MOBILE")
    assert v.mode == "storage"
    assert {"modeswitch-source", "modeswitch-rule", "usb-ids-name"} <= code_set(v)
    # the vendor rule alone, for a Huawei id no list names yet
    v = judge(usb("12d1", "ffee", STORAGE), table=TABLE, manufacturer="HUAWEI_MOBILE")
    assert v.mode == "storage" and code_set(v) == {"modeswitch-rule"}
    # ... but not for an Android phone, which the rule excludes
    assert judge(usb("12d1", "ffee", STORAGE), table=TABLE, manufacturer="Android") is None


def test_modem_mode():
    v = judge(usb("12d1", "1506", ("ff", "02", "12", "option"), ("ff", "02", "16", "huawei_cdc_ncm"),
                  ("ff", "02", "13", "option")), table=TABLE)
    assert v.mode == "modem"
    assert "driver option if=00,02" in v.evidence and "driver huawei_cdc_ncm if=01" in v.evidence


def test_mbim_by_class_without_table():
    v = judge(usb("1234", "5678", ("02", "0e", "00", None), ("0a", "00", "02", None)), table=None)
    assert v.mode == "modem" and code_set(v) == {"mbim-class"}


def test_tethering_phones():
    v = judge(usb("2717", "ff88", RNDIS, ("0a", "00", "00", "rndis_host"), ("ff", "42", "01", None)), table=TABLE)
    assert v.mode == "tethering" and code_set(v) == {"tethering"}
    v = judge(usb("05ac", "12a8", ("06", "01", "01", None), ("ff", "fd", "01", "ipheth")), table=TABLE)
    assert v.mode == "tethering"
    # NCM tethering with ADB enabled: the phone function beside the network one
    v = judge(usb("18d1", "4eef", ("02", "0d", "00", "cdc_ncm"), ("0a", "00", "01", "cdc_ncm"),
                  ("ff", "42", "01", None)), table=TABLE)
    assert v.mode == "tethering"
    # a tethering id from usb.ids
    v = judge(usb("18d1", "4ee3", ("ef", "04", "01", "rndis_host"), ("0a", "00", "00", "rndis_host")), table=TABLE)
    assert v.mode == "tethering" and "usb-ids-name" in code_set(v)


def test_a_4g_stick_over_rndis_is_a_stick_not_a_phone():
    """Many ZTE and Alcatel HiLink sticks present RNDIS in the class phones use for tethering
    (e0/01/03). The class alone says "a phone"; what the stick says of itself wins: a
    usb-modeswitch id, a CD-ROM beside the network function, a cellular model name."""
    sharing = ("0a", "00", "00", "rndis_host")
    v = judge(usb("1bbb", "0195", RNDIS, sharing, STORAGE), table=TABLE)  # Alcatel IK41: modeswitch target
    assert v.mode == "hilink" and {"modeswitch-target", "net+storage", "tethering"} <= code_set(v)
    v = judge(usb("aaaa", "0001", RNDIS, sharing, product="ZTE Mobile Broadband"), table=TABLE)
    assert v.mode == "hilink" and "product-name" in code_set(v)
    v = judge(usb("aaaa", "0002", RNDIS, sharing, STORAGE), table=TABLE, cdrom=True)
    assert v.mode == "hilink"
    # the class alone, or a phone's own name beside it: a phone sharing its connection
    assert judge(usb("aaaa", "0003", RNDIS, sharing), table=TABLE).mode == "tethering"
    assert judge(usb("aaaa", "0004", RNDIS, sharing, product="Galaxy A52 (tethering)"), table=TABLE).mode == "tethering"


@pytest.mark.parametrize("device,macs", [
    (usb("0bda", "8153", VENDOR_NIC), [("enx00e04c680001", "00:e0:4c:68:00:01")]),
    (usb("0b95", "1790", ("ff", "ff", "00", "ax88179_178a")), [("enx000ec6a1b2c3", "00:0e:c6:a1:b2:c3")]),
    (usb("0bda", "8153", ECM, DATA), [("enx00e04c680002", "00:e0:4c:68:00:02")]),
    # a Huawei-registered MAC on a vendor-chip NIC is no modem's network function
    (usb("0bda", "8153", VENDOR_NIC), [("eth1", "00:1e:10:00:00:01")]),
    # a single-board computer's gadget: RNDIS (not the internet-sharing class) beside a disk, no CD-ROM
    (usb("1d6b", "0104", ("ef", "04", "01", "rndis_host"), ("0a", "00", "00", "rndis_host"), STORAGE), []),
    # an RNDIS Wi-Fi adapter shares the phone's class triple
    (usb("0411", "00bc", ("e0", "01", "03", "rndis_wlan"), ("0a", "00", "00", "rndis_wlan")), []),
    # a phone in file-transfer mode, its usb.ids name notwithstanding ("Mi4 LTE")
    (usb("2717", "0368", ("06", "01", "01", None), mtp=True), []),
    (usb("0781", "5567", STORAGE), []),
])
def test_not_cellular(device, macs):
    cdrom = False if device.vendor_id == "1d6b" else None
    assert judge(device, table=TABLE, macs=macs, cdrom=cdrom) is None


def test_names_from_the_machine_hwdb_and_descriptor():
    v = judge(usb("9999", "0001", ECM, DATA), table=TABLE, hwdb_name="XYZ 4G LTE USB Modem")
    assert v.mode == "hilink" and code_set(v) == {"hwdb-name"}
    v = judge(usb("9999", "0002", ("ff", "ff", "ff", None), product="LTE Module"), table=TABLE)
    assert v.mode == "other" and code_set(v) == {"product-name"}


def test_pure_and_deterministic():
    dev = usb("12d1", "14dc", ECM, DATA, STORAGE)
    a = judge(dev, table=TABLE, macs=[("e", "00:1e:10:1f:00:00")], cdrom=True)
    b = judge(dev, table=TABLE, macs=[("e", "00:1e:10:1f:00:00")], cdrom=True)
    assert a == b and len(set(a.evidence)) == len(a.evidence)


def test_table_provenance():
    assert {s["package"] for s in TABLE.sources} >= {"usb-modeswitch-data", "ieee-data"}
    assert any(s["package"] in ("usb.ids", "hwdata") for s in TABLE.sources)
    assert all(s["version"] and len(s["sha256"]) == 64 for s in TABLE.sources)
    raw = json.loads((REPO / "scanner" / "data" / "cellular-ids.json").read_text(encoding="utf-8"))
    assert raw["generator"] == "tools/gen-modem-ids.py"
    # the Wi-Fi dongles, printers and Ethernet adapters of the database are left out, with a reason
    assert "0bda:1a2b" in raw["not_cellular"] and "2357:0600" in raw["not_cellular"]
    assert "0bda:1a2b" not in TABLE.ids and "2357:0601" not in TABLE.ids
    assert TABLE.ouis["001e10"].upper().startswith("HUAWEI")


def test_bad_tables_are_named(tmp_path):
    for text in ("", "[]", '{"ids": {}}', '{"ids": {"12d1:14dc": {"kind": "x"}}, "vendor_rules": [], "ouis": {}, "sources": []}'):
        p = tmp_path / "t.json"
        p.write_text(text, encoding="utf-8")
        load_table.cache_clear()
        with pytest.raises(TableError, match="t.json"):
            load_table(str(p))
    link = tmp_path / "link.json"
    link.symlink_to(REPO / "scanner" / "data" / "cellular-ids.json")
    with pytest.raises(TableError, match="link.json"):
        load_table(str(link))
    load_table.cache_clear()
    with pytest.raises(TableError):
        parse_table({"ids": {"not an id": {"kind": "cellular"}}, "vendor_rules": [], "ouis": {}, "sources": []})


def _copy_packages(dest):
    """A copy of the packages under the namespace (dest/bmnn_guard/...), found first from dest."""
    for pkg in ("policies", "scanner"):
        shutil.copytree(REPO / pkg, dest / "bmnn_guard" / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    return dest / "bmnn_guard" / "scanner" / "data" / "cellular-ids.json"


def test_table_others_can_write_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root: only root refuses a table others can write")
    table = _copy_packages(tmp_path)
    os.chmod(table, 0o666)
    load_table.cache_clear()
    with pytest.raises(TableError, match="writable by group or others"):
        load_table(str(table))
    os.chmod(table, 0o644)
    os.chmod(table.parent, 0o777)
    with pytest.raises(TableError, match="refusing the cellular id table"):
        load_table(str(table))
    os.chmod(table.parent, 0o755)
    assert load_table(str(table)).ids == TABLE.ids
    load_table.cache_clear()


def test_collector_without_table_says_so(tmp_path):
    """A broken install without the table: the drivers still speak, and the fact path is marked
    incomplete (the code runs from a copy of the packages that lacks the data file)."""
    _copy_packages(tmp_path).unlink()
    code = ("import json, bmnn_guard.scanner.collect.cellular as c\n"
            "assert c.TABLE_PATH.startswith(%r), c.TABLE_PATH\n"
            "from bmnn_guard.scanner.collect import collect_devices\n"
            "from bmnn_guard.policies.facts import to_dict\n"
            "print(json.dumps(to_dict(collect_devices())))\n") % str(tmp_path)
    p = subprocess.run([*umockdev_prefix("huawei-e3372-modem"), sys.executable, "-c", code], cwd=tmp_path,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr[-2000:]
    facts = from_dict(DeviceFacts, json.loads(p.stdout.splitlines()[-1]))
    assert [e.affects for e in facts.errors] == ["devices.usb.cellular_evidence"]
    assert "cellular-ids.json" in facts.errors[0].message
    assert facts.usb[0].cellular == "modem"  # its drivers say so without any table


def test_generated_table_is_reproducible(tmp_path):
    """Regenerated from the installed packages: identical bytes when their versions are those
    recorded; otherwise (a Debian point release moved) the generator must still run and keep the
    ids the issue names, and the difference is for a maintainer to regenerate and review."""
    if shutil.which("dpkg-query") is None:
        pytest.skip("dpkg-query missing: not a Debian system")
    inputs = ("/usr/share/usb_modeswitch/configPack.tar.gz", "/usr/share/ieee-data/oui.csv")
    if not all(os.path.exists(p) for p in inputs):
        pytest.skip(f"needs usb-modeswitch-data, usb.ids and ieee-data ({', '.join(inputs)}; tools/packages-test.txt)")
    out = tmp_path / "t.json"
    p = subprocess.run([sys.executable, str(REPO / "tools" / "gen-modem-ids.py"), "-o", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    fresh = json.loads(out.read_text(encoding="utf-8"))
    shipped = json.loads((REPO / "scanner" / "data" / "cellular-ids.json").read_text(encoding="utf-8"))
    if [(s["package"], s["version"]) for s in fresh["sources"]] == [(s["package"], s["version"]) for s in shipped["sources"]]:
        assert out.read_bytes() == (REPO / "scanner" / "data" / "cellular-ids.json").read_bytes()
    for key in ("12d1:14dc", "12d1:1f01", "12d1:1506"):
        assert fresh["ids"][key]["kind"] == "cellular"
