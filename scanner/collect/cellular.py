"""Cellular modems in every mode: is this USB device one, and which telltale says so?

A 4G stick shows itself in one of several modes, and only one of them looks like a modem:

- ``storage``: just plugged in, a virtual CD-ROM holding the Windows installer (a usb-modeswitch
  *source* id such as Huawei ``12d1:1f01``), until something switches it;
- ``hilink``: a router in a stick (Huawei E3372 ``12d1:14dc``) bound to ``cdc_ether``,
  ``rndis_host`` or ``cdc_ncm``: to Linux an Ethernet card with a web page behind it, no
  ``DEVTYPE=wwan``, no AT/QMI/MBIM port, invisible to ModemManager;
- ``modem``: AT ports (``option``), QMI/MBIM control (``qmi_wwan``, ``cdc_mbim``, ``cdc_wdm``),
  ``huawei_cdc_ncm``, a ``wwan0``;
- ``tethering``: a phone sharing its mobile connection over RNDIS, NCM or ``ipheth``. Under
  Law 117/2025 Art. 5 cl. 2 that is the same thing as a dongle: the computer reaches a telecom
  network through it, so it is judged as one (its evidence says it is a phone).

``judge`` is a pure function of what the device says about itself (ids, strings, interfaces, the
MAC addresses of its network functions, whether a CD-ROM unit was seen), so the collectors and,
straight from a uevent, the daemon reach the same answer. Its knowledge of ids and MAC prefixes is
a table generated from Debian packages by ``tools/gen-modem-ids.py`` and checked in
(``scanner/data/cellular-ids.json``, with the package versions): the inspected machine needs none
of those packages. The name rules below are shared with that generator, so a model name from the
machine's own hwdb is read exactly as the usb.ids names in the table were.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional, Sequence

from bmnn_guard.policies.facts import UsbDevice, UsbInterface
from bmnn_guard.policies import trusted
from bmnn_guard.policies.errors import PolicyError

TABLE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "cellular-ids.json")
TABLE_MAX_BYTES = 4 << 20
"""The shipped table is ~100 KB; anything far larger is not ours."""

MODES = ("storage", "hilink", "modem", "tethering", "other")

MODEM_DRIVERS = frozenset({"option", "qcserial", "sierra", "qmi_wwan", "cdc_mbim", "huawei_cdc_ncm", "cdc_wdm",
                           "sierra_net", "usb_wwan", "mhi_net", "mhi_wwan_ctrl"})
"""Drivers that bind only to cellular modems (serial AT/diagnostic ports, QMI, MBIM, their net devices)."""
NET_DRIVERS = frozenset({"cdc_ether", "rndis_host", "cdc_ncm", "cdc_eem", "cdc_subset"})
"""Class drivers of USB network functions: what a HiLink stick or a tethering phone binds to,
and also many ordinary USB-C Ethernet adapters, hence never a telltale by themselves."""
NOT_CELLULAR_DRIVERS = frozenset({"rndis_wlan"})
"""RNDIS Wi-Fi adapters (Broadcom 4320) present the same class triple as a tethering phone."""

# (class, subclass, protocol) of network functions; None matches any protocol
_NET_FUNCTIONS = {("02", "06", None): "CDC-Ethernet", ("02", "0d", None): "CDC-NCM", ("02", "0c", None): "CDC-EEM",
                  ("e0", "01", "03"): "RNDIS", ("ef", "04", "01"): "RNDIS", ("02", "02", "ff"): "RNDIS"}
INTERNET_SHARING = ("e0", "01", "03")
"""RNDIS in the wireless-controller class: Microsoft's "Remote NDIS based Internet Sharing Device",
the class Android phones use for USB tethering."""
ADB = ("ff", "42", "01")
APPLE_TETHERING = ("ff", "fd", "01")


@dataclass(frozen=True)
class Cellular:
    """The judgement on one USB device."""

    mode: str
    """One of MODES."""
    evidence: tuple[str, ...]
    """Each telltale that matched, as ``code detail``: a code, then values and the names the data
    gives, no prose (codes: driver, mbim-class, modeswitch-source, modeswitch-target,
    modeswitch-rule, usb-ids-name, hwdb-name, product-name, mac-oui, net+storage, tethering)."""


class TableError(ValueError):
    """The checked-in id table is missing or does not parse."""


@dataclass(frozen=True)
class Table:
    """The generated knowledge: ids, vendor rules, MAC prefixes, and where they came from."""

    ids: Mapping[str, Mapping[str, Any]]
    """"vvvv:pppp" -> {kind, name?, usb_ids?, modeswitch?: [{role, ...}]}."""
    vendor_rules: tuple[Mapping[str, Any], ...]
    """usb-modeswitch udev rules that match a whole vendor (Huawei's mass-storage interface 0)."""
    ouis: Mapping[str, str]
    """"001e10" -> the organisation the IEEE registered it to."""
    sources: tuple[Mapping[str, Any], ...]
    """Debian package, version and file each part was generated from."""


def parse_table(data: Any, where: str = TABLE_PATH) -> Table:
    """A Table from the decoded JSON document, checked for shape (names the file on error)."""
    if not isinstance(data, dict):
        raise TableError(f"{where}: not a JSON object")
    ids, rules, ouis, sources = data.get("ids"), data.get("vendor_rules"), data.get("ouis"), data.get("sources")
    if not isinstance(ids, dict) or not isinstance(rules, list) or not isinstance(ouis, dict) \
            or not isinstance(sources, list):
        raise TableError(f"{where}: expected ids, vendor_rules, ouis and sources")
    for key, entry in ids.items():
        if not (isinstance(key, str) and _ID.match(key) and isinstance(entry, dict)
                and entry.get("kind") in ("cellular", "tethering")):
            raise TableError(f"{where}: bad entry {key!r}")
    for rule in rules:
        if not isinstance(rule, dict) or not isinstance(rule.get("vendor"), str):
            raise TableError(f"{where}: bad vendor rule {rule!r}")
    return Table(ids=ids, vendor_rules=tuple(rules), ouis={str(k).lower(): str(v) for k, v in ouis.items()},
                 sources=tuple(sources))


@lru_cache(maxsize=4)
def load_table(path: str = TABLE_PATH) -> Table:
    """The checked-in table, read once per process (bounded read, no links followed). As root it
    is trusted only as the policy files are: owned by root and writable by nobody else, nor its
    folder, since a table a user could rewrite would let that user hide a modem."""
    try:
        raw = trusted.read_file(path, max_bytes=TABLE_MAX_BYTES + 1, what=trusted.POLICY_FILE,
                                folder=trusted.POLICY_DIR).data
    except PolicyError as exc:
        raise TableError(f"refusing the cellular id table: {exc.problems[0].message}") from None
    except OSError as exc:
        raise TableError(f"{path}: {os.strerror(exc.errno) if exc.errno else exc}") from None
    if len(raw) > TABLE_MAX_BYTES:
        raise TableError(f"{path}: larger than {TABLE_MAX_BYTES} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise TableError(f"{path}: {exc}") from None
    return parse_table(data, path)


_ID = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{4}$")

# ---------------------------------------------------------------- model names

_HOTSPOT = re.compile(r"(?i)\b(?:Mobile|Pocket)\s*Wi-?Fi\b|\bMiFi\b|\bMobile\s+Hotspot\b|\bJetpack\b")
_NOT_DEVICE = re.compile(
    r"(?i)\b(?:WLAN|802\.11\w*|Wi-?Fi|WiFi|Bluetooth|Mouse|Keyboard|Presenter|Joystick|Gamepad|Wheel|Printer|"
    r"LaserJet|Label\w*|Projector|Reader|Terminal|MIDI|Webcam|Headset|Speaker|Flash\s+Drive|iPod|Atheros|"
    r"Wireless\s+(?:LAN|Adapter|Network\s+Adapter))\b")
_WIRED_MODEM = re.compile(r"(?i)\b(?:A?DSL\d*\+?|VDSL|ISDN|Cable\s+Modem|56k|V\.?9\d|Fax|dial-?up|PSTN|softmodem)\b")
_PHONE = re.compile(r"(?i)phone\b|\b(?:iPad|Tablet|Pocket\s+PC|Communicator|PDA|Android|Galaxy|Nexus|Pixel|Xperia)\b|"
                    r"\((?:MTP|PTP)\b|\b(?:MTP|PTP)\s+mode\b")
_TETHERING = re.compile(r"(?i)tether")
_MODEM_MODE = re.compile(r"(?i)\bmodem\s+mode\b|[(\[]modem[)\]]|\bIP\s+Passthrough\b")
_WIRED_NET = re.compile(r"(?i)\b(?:Ethernet|LAN|Gigabit|10/100(?:/1000)?)\b")
_RNDIS = re.compile(r"(?i)\bRNDIS\b")
_CELL = re.compile(
    r"(?i)\b(?:LTE|UMTS|GSM|E?GPRS|HSPA\+?|HSDPA|HSUPA|W-?CDMA|TD-?S?CDMA|CDMA(?:\s?2000)?|1xRTT|(?:1x)?EV-?DO|"
    r"HiLink|WWAN|Gobi|WiMAX|Wingle|NB-?IoT|Mobile\s+Broadband|Wireless\s+Broadband|"
    r"Broadband\s+(?:stick|modem|card|adapter|module)|surf-?stick|internet\s+stick)\b")
_GENERATION = re.compile(r"(?i)(?<![\w.\-])(?:[345]|3\.\d+)G\b(?!\s*Hz)")
_DEVICE_WORD = re.compile(r"(?i)\b(?:modems?|stick|dongle|card|adapter|module|router|device|datacard|USB)\b")


def name_kind(name: Optional[str]) -> Optional[str]:
    """What a model name says: "cellular" (a modem, stick, hotspot or module), "tethering" (a phone
    in its tethering or modem mode), or None (anything else, phones in other modes included).

    Words of other radios and of wired modems win over cellular words ("802.11n 5G", "ADSL Modem"),
    a phone is a modem only in its tethering/modem mode, and a bare "3G/4G/5G" counts only beside a
    device word ("Nokia 8110 4G" is a phone, "3G Modem" is not)."""
    if not name:
        return None
    if _HOTSPOT.search(name):
        return "cellular"
    if _NOT_DEVICE.search(name) or _WIRED_MODEM.search(name):
        return None
    phone = bool(_PHONE.search(name))
    cell = bool(_CELL.search(name)) or bool(_GENERATION.search(name) and _DEVICE_WORD.search(name))
    if _TETHERING.search(name) or (phone and (_MODEM_MODE.search(name) or _RNDIS.search(name))):
        return "tethering"
    if phone:
        return None
    if cell:
        return "cellular"
    return "tethering" if _MODEM_MODE.search(name) else None


def other_device(name: Optional[str]) -> Optional[str]:
    """The word by which a model name says it is some other device (a Wi-Fi adapter, a printer, a
    wired modem or NIC...), or None; the generator leaves such usb-modeswitch entries out."""
    if not name or name_kind(name):
        return None
    for rx in (_NOT_DEVICE, _WIRED_MODEM, _WIRED_NET):
        m = rx.search(name)
        if m:
            return m.group(0)
    return None


# ---------------------------------------------------------------- interfaces


def _triple(i: UsbInterface) -> tuple[str, Optional[str], Optional[str]]:
    return i.cls, i.subclass, i.protocol


def net_function(i: UsbInterface) -> Optional[str]:
    """The kind of USB network function an interface is (CDC-Ethernet, CDC-NCM, RNDIS...), or None."""
    if i.driver in NOT_CELLULAR_DRIVERS:
        return None
    cls, sub, proto = _triple(i)
    label = _NET_FUNCTIONS.get((cls, sub, proto)) or _NET_FUNCTIONS.get((cls, sub, None))
    if label:
        return label
    if i.driver in NET_DRIVERS:
        return {"rndis_host": "RNDIS", "cdc_ncm": "CDC-NCM", "cdc_eem": "CDC-EEM"}.get(i.driver, "CDC-Ethernet")
    return None


def _is_phone_function(i: UsbInterface) -> Optional[str]:
    t = _triple(i)
    if t == ADB:
        return "ADB"
    if i.cls == "06":
        return "MTP/PTP"
    return None


def _oui(mac: Optional[str]) -> Optional[str]:
    if not mac:
        return None
    hexes = re.sub(r"[^0-9a-fA-F]", "", mac).lower()
    return hexes[:6] if len(hexes) == 12 else None


def _colons(oui: str) -> str:
    return ":".join(oui[i:i + 2] for i in range(0, 6, 2))


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return '"' + (text[:limit] + "…" if len(text) > limit else text) + '"'


# ---------------------------------------------------------------- the judgement


def judge(dev: UsbDevice, *, table: Optional[Table], macs: Sequence[tuple[str, str]] = (),
          cdrom: Optional[bool] = None, hwdb_name: Optional[str] = None,
          manufacturer: Optional[str] = None) -> Optional[Cellular]:
    """Whether ``dev`` is a cellular modem (or a phone sharing its connection), in which mode, and why.

    ``macs``: (interface name, MAC) of the device's network interfaces; ``cdrom``: a CD-ROM unit was
    seen on its mass-storage interface (None: not known, e.g. straight from a uevent);
    ``hwdb_name``: the model name udev's hwdb gave (ID_MODEL_FROM_DATABASE); ``manufacturer``: the
    device's own manufacturer string, when ``dev.vendor`` holds another name. ``table`` None means the
    id table could not be read: only what the device itself shows is used.
    """
    ev: list[str] = []
    ifaces = dev.interfaces
    net = [(i, net_function(i)) for i in ifaces]
    net = [(i, label) for i, label in net if label]
    storage = [i for i in ifaces if i.cls == "08"]
    tethering = False  # something says "a phone": ipheth, a phone function, a phone's name or id
    sharing = False  # only the RNDIS "Internet Sharing" class, which 4G sticks use as well as phones

    # what the bound drivers and classes say (modem mode)
    by_driver: dict[str, list[str]] = {}
    for i in ifaces:
        if i.driver in MODEM_DRIVERS:
            by_driver.setdefault(i.driver, []).append(i.number)
        elif i.cls == "02" and i.subclass == "0e":
            by_driver.setdefault("", []).append(i.number)
    for driver, numbers in by_driver.items():
        where = "if=" + ",".join(numbers)
        ev.append(f"driver {driver} {where}" if driver else f"mbim-class 02/0e {where}")
    modem_ports = bool(by_driver)
    for i in ifaces:
        if i.driver == "ipheth" or _triple(i) == APPLE_TETHERING:
            ev.append(f"tethering ipheth if={i.number}")
            tethering = True
            break

    key = f"{dev.vendor_id}:{dev.product_id}" if dev.vendor_id and dev.product_id else None
    entry = table.ids.get(key) if table is not None and key else None
    known_names: set[str] = set()
    # a phone in file-transfer mode has a radio but is no link of this computer: names alone do not count
    file_mode_phone = (bool(dev.mtp) or any(_is_phone_function(i) for i in ifaces)) and not net and not modem_ports
    if entry is not None:
        refs = entry.get("modeswitch", ())
        sources = [r.get("name") or "usb-modeswitch entry" for r in refs if r.get("role") == "source"]
        targets = [f"{r.get('from') or '?'} {r.get('name') or ''}".strip() for r in refs if r.get("role") != "source"]
        if sources:
            ev.append(f"modeswitch-source {key} ({'; '.join(sources[:3])})")
        if targets:
            ev.append(f"modeswitch-target {key} from={'; '.join(targets[:3])}")
        if entry.get("usb_ids"):
            known_names.add(entry["usb_ids"])
            if not (file_mode_phone and not refs):
                ev.append(f"usb-ids-name {key} {_quote(entry['usb_ids'])}")
                tethering = tethering or entry.get("kind") == "tethering"

    if table is not None and dev.vendor_id:
        maker = manufacturer if manufacturer is not None else dev.vendor
        for rule in table.vendor_rules:
            if rule.get("vendor") != dev.vendor_id:
                continue
            excluded = rule.get("manufacturer_not")
            if excluded and maker and maker.strip() == excluded:
                continue
            number, cls = rule.get("interface_number"), rule.get("interface_class")
            if any((number is None or i.number == number) and (cls is None or i.cls == cls) for i in ifaces):
                ev.append(f"modeswitch-rule vendor={dev.vendor_id} class={cls} if={number} "
                          f"({rule.get('name') or 'usb-modeswitch udev rule'})")

    for code, name in (("hwdb-name", hwdb_name), ("product-name", dev.product)):
        if name and name not in known_names and not file_mode_phone:
            kind = name_kind(name)
            if kind:
                known_names.add(name)
                ev.append(f"{code} {_quote(name)}")
                tethering = tethering or kind == "tethering"

    if net and table is not None:
        for ifname, mac in macs:
            oui = _oui(mac)
            if oui and oui in table.ouis:
                ev.append(f"mac-oui {_colons(oui)} ({table.ouis[oui]}) {ifname}")

    if net and storage and cdrom is not False:
        ev.append(f"net+storage {net[0][1]} if={net[0][0].number} + mass-storage if={storage[0].number} "
                  f"cdrom={'yes' if cdrom else 'unknown'}")

    for i, label in net:
        if _triple(i) == INTERNET_SHARING:
            ev.append(f"tethering rndis-internet-sharing e0/01/03 if={i.number}")
            sharing = True
            break
    if net:
        phone = [(i, p) for i in ifaces for p in (_is_phone_function(i),) if p]
        if phone or dev.mtp:
            what = f"{phone[0][1]} if={phone[0][0].number}" if phone else "MTP/PTP device"
            ev.append(f"tethering phone-function {what} + {net[0][1]} if={net[0][0].number}")
            tethering = True

    if not ev:
        return None
    # a stick that says what it is (a usb-modeswitch id or rule, a CD-ROM beside its network
    # function, a modem maker's MAC, a cellular model name) is a stick even over RNDIS
    stick = any(e.startswith(("modeswitch-", "net+storage ", "mac-oui ")) for e in ev) or any(
        name_kind(n) == "cellular" for n in known_names)
    if tethering or (sharing and not stick):
        mode = "tethering"
    elif modem_ports:
        mode = "modem"
    elif ifaces and len(storage) == len(ifaces):
        mode = "storage"
    elif net:
        mode = "hilink"
    else:
        mode = "other"
    return Cellular(mode=mode, evidence=tuple(dict.fromkeys(ev)))


# ---------------------------------------------------------------- sysfs (for the network collector)


def _read(path: str, limit: int = 4096) -> Optional[str]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as fh:
            value = fh.read(limit).decode("utf-8", "replace").strip()
    except OSError:
        return None
    return value or None


def _hex(value: Optional[str], width: int) -> Optional[str]:
    if value is None:
        return None
    try:
        return f"{int(value, 16):0{width}x}"
    except ValueError:
        return None


def usb_device_from_sysfs(device_dir: str) -> tuple[UsbDevice, list[tuple[str, str]], Optional[bool]]:
    """A USB device read straight from its sysfs directory (no udev database): the device with its
    interfaces, the (name, MAC) of its network interfaces, and whether a CD-ROM unit hangs below it."""
    name = os.path.basename(device_dir)
    ifaces: list[UsbInterface] = []
    macs: list[tuple[str, str]] = []
    cdrom: Optional[bool] = None
    try:
        entries = sorted(os.listdir(device_dir))
    except OSError:
        entries = []
    for entry in entries:
        if not entry.startswith(name + ":"):
            continue
        idir = os.path.join(device_dir, entry)
        cls = _hex(_read(os.path.join(idir, "bInterfaceClass")), 2)
        if cls is None:
            continue
        driver = None
        try:
            driver = os.path.basename(os.readlink(os.path.join(idir, "driver")))
        except OSError:
            for line in (_read(os.path.join(idir, "uevent")) or "").splitlines():
                if line.startswith("DRIVER="):
                    driver = line[7:] or None
        ifaces.append(UsbInterface(number=_hex(_read(os.path.join(idir, "bInterfaceNumber")), 2) or entry.rsplit(".", 1)[-1],
                                   cls=cls, subclass=_hex(_read(os.path.join(idir, "bInterfaceSubClass")), 2),
                                   protocol=_hex(_read(os.path.join(idir, "bInterfaceProtocol")), 2), driver=driver))
        try:
            for netname in sorted(os.listdir(os.path.join(idir, "net"))):
                mac = _read(os.path.join(idir, "net", netname, "address"))
                if mac:
                    macs.append((netname, mac))
        except OSError:
            pass
        if cls == "08":
            found = _scsi_types(idir)
            if found:
                cdrom = bool(cdrom) or "5" in found
    dev = UsbDevice(sys_path=device_dir, vendor_id=_hex(_read(os.path.join(device_dir, "idVendor")), 4),
                    product_id=_hex(_read(os.path.join(device_dir, "idProduct")), 4),
                    vendor=_read(os.path.join(device_dir, "manufacturer")),
                    product=_read(os.path.join(device_dir, "product")), interfaces=tuple(ifaces))
    return dev, macs, cdrom


def _scsi_types(interface_dir: str) -> list[str]:
    """SCSI peripheral types (5 = CD-ROM) of the units below a mass-storage interface."""
    out = []
    for host in _listdir(interface_dir, "host"):
        hdir = os.path.join(interface_dir, host)
        for target in _listdir(hdir, "target"):
            tdir = os.path.join(hdir, target)
            for unit in _listdir(tdir, ""):
                t = _read(os.path.join(tdir, unit, "type"), 8) if ":" in unit else None
                if t is not None:
                    out.append(t)
    return out


def _listdir(path: str, prefix: str) -> Iterable[str]:
    try:
        return [e for e in sorted(os.listdir(path)) if e.startswith(prefix)]
    except OSError:
        return []
