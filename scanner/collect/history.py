"""Traces of past network connections: saved profiles, wireless networks and DHCP leases.

Only metadata is recorded (file, profile name or SSID, kind, modification time); keys and
passwords in these files are never read into the facts. A trace found by listing a directory
counts even when the file itself is root-only: the file's existence is the fact. A directory that
cannot be listed is a collection error for ``network.history``.
"""

from __future__ import annotations

import configparser
import glob
import os
import re
from typing import Optional

from bmnn_guard.policies.facts import CollectionError, ConnectionTrace

from ._common import Errors, mtime_iso, read_text

NM_TYPES = {"802-11-wireless": "wifi", "wifi": "wifi", "802-3-ethernet": "ethernet", "ethernet": "ethernet",
            "gsm": "gsm", "cdma": "gsm", "vpn": "vpn", "wireguard": "vpn", "bluetooth": "bluetooth",
            "pppoe": "ethernet", "bond": "ethernet", "bridge": "ethernet", "vlan": "ethernet"}


def _listing(path: str, errors: Errors) -> list[str]:
    """Entries of a directory; [] when it does not exist; an error when it cannot be listed."""
    try:
        return sorted(os.listdir(path))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        errors.oserror(path, exc, "network.history")
        return []


def _stat(path: str) -> Optional[os.stat_result]:
    try:
        return os.stat(path)
    except OSError:
        return None


def _trace(source: str, path: str, name: Optional[str], kind: Optional[str]) -> Optional[ConnectionTrace]:
    st = _stat(path)
    if st is None:
        return None
    return ConnectionTrace(source=source, path=path, name=name, kind=kind, modified=mtime_iso(st))


def _networkmanager(root: str, errors: Errors) -> list[ConnectionTrace]:
    out = []
    for sub in ("etc/NetworkManager/system-connections", "run/NetworkManager/system-connections"):
        d = os.path.join(root, sub)
        for entry in _listing(d, errors):
            path = os.path.join(d, entry)
            if not os.path.isfile(path) or entry.startswith("."):
                continue
            name, kind = os.path.splitext(entry)[0], None
            try:
                cp = configparser.ConfigParser(interpolation=None, strict=False)
                cp.read_string(read_text(path))
                name = cp.get("connection", "id", fallback=name)
                kind = NM_TYPES.get(cp.get("connection", "type", fallback=""), cp.get("connection", "type", fallback=None))
                if kind == "wifi":
                    name = cp.get("wifi", "ssid", fallback=None) or cp.get("802-11-wireless", "ssid", fallback=name)
            except (OSError, configparser.Error):
                pass  # root-only profile: it exists, which is the trace; name from the file name
            t = _trace("networkmanager", path, name, kind)
            if t:
                out.append(t)
    d = os.path.join(root, "var/lib/NetworkManager")
    for entry in _listing(d, errors):
        if entry.endswith((".lease", ".leases")) or entry == "seen-bssids":
            path = os.path.join(d, entry)
            st = _stat(path)
            if st is None or st.st_size == 0:
                continue
            t = _trace("networkmanager", path, None, "wifi" if entry == "seen-bssids" else "lease")
            if t:
                out.append(t)
    return out


_WPA_NET = re.compile(r"^\s*network\s*=\s*\{(.*?)^\s*\}", re.M | re.S)
_WPA_SSID = re.compile(r'^\s*ssid\s*=\s*(?:"([^"\n]*)"|([0-9A-Fa-f]+))\s*$', re.M)


def _wpa_supplicant(root: str, errors: Errors) -> list[ConnectionTrace]:
    out = []
    paths = []
    d = os.path.join(root, "etc/wpa_supplicant")
    paths += [os.path.join(d, e) for e in _listing(d, errors) if e.endswith(".conf")]
    if os.path.isfile(os.path.join(root, "etc/wpa_supplicant.conf")):
        paths.append(os.path.join(root, "etc/wpa_supplicant.conf"))
    for path in paths:
        try:
            text = read_text(path)
        except OSError as exc:
            # a root-only config may or may not hold networks: we cannot tell
            errors.oserror(path, exc, "network.history")
            continue
        for block in _WPA_NET.findall(text):
            m = _WPA_SSID.search(block)
            ssid = None
            if m:
                ssid = m.group(1) if m.group(1) is not None else bytes.fromhex(m.group(2)).decode("utf-8", "replace")
            t = _trace("wpa_supplicant", path, ssid, "wifi")
            if t:
                out.append(t)
    return out


def _iwd(root: str, errors: Errors) -> list[ConnectionTrace]:
    d = os.path.join(root, "var/lib/iwd")
    out = []
    for entry in _listing(d, errors):
        base, ext = os.path.splitext(entry)
        if ext not in (".psk", ".open", ".8021x"):
            continue
        name = bytes.fromhex(base[1:]).decode("utf-8", "replace") if base.startswith("=") else base
        t = _trace("iwd", os.path.join(d, entry), name, "wifi")
        if t:
            out.append(t)
    return out


def _dhcp_leases(root: str, errors: Errors) -> list[ConnectionTrace]:
    out = []
    for sub, source in (("var/lib/dhcp", "dhclient"), ("var/lib/dhclient", "dhclient"),
                        ("var/lib/dhcpcd", "dhcpcd"), ("var/db/dhcpcd", "dhcpcd"),
                        ("run/systemd/netif/leases", "networkd"), ("var/lib/systemd/network", "networkd")):
        d = os.path.join(root, sub)
        for entry in _listing(d, errors):
            path = os.path.join(d, entry)
            if source == "dhclient" and not (entry.endswith((".lease", ".leases"))):
                continue
            if source == "dhcpcd" and not entry.endswith((".lease", ".lease6")):
                continue
            st = _stat(path)
            if st is None or not os.path.isfile(path) or st.st_size == 0:
                continue
            name = None
            m = re.match(r"dhclient6?[.-]?(.*?)\.leases?$", entry)
            if m and m.group(1):
                name = m.group(1)
            t = _trace(source, path, name, "lease")
            if t:
                out.append(t)
    return out


def _netplan(root: str, errors: Errors) -> list[ConnectionTrace]:
    from bmnn_guard.policies.errors import PolicyError
    from bmnn_guard.policies.trusted import read_untrusted
    from bmnn_guard.policies.yamlmarks import CONFIG_LIMITS, load_bytes

    out = []
    for sub in ("etc/netplan", "run/netplan", "lib/netplan"):
        d = os.path.join(root, sub)
        for entry in _listing(d, errors):
            if not entry.endswith(".yaml"):
                continue
            path = os.path.join(d, entry)
            try:  # the one YAML loader, with its limits: an alias bomb here must not stall a scan
                doc = load_bytes(read_untrusted(path, max_bytes=CONFIG_LIMITS.max_bytes), path).data or {}
            except FileNotFoundError as exc:
                errors.oserror(path, exc, "network.history")
                continue
            except PolicyError:
                doc = {}
            net = doc.get("network") if isinstance(doc, dict) else None
            if not isinstance(net, dict):
                continue
            for key, kind in (("ethernets", "ethernet"), ("wifis", "wifi"), ("modems", "gsm"), ("tunnels", "vpn")):
                section = net.get(key)
                if isinstance(section, dict):
                    for ifname, conf in section.items():
                        names = list((conf or {}).get("access-points", {}) or {}) if kind == "wifi" else []
                        for n in names or [ifname]:
                            t = _trace("netplan", path, str(n), kind)
                            if t:
                                out.append(t)
    return out


_IFACE = re.compile(r"^\s*iface\s+(\S+)\s+inet6?\s+(\S+)", re.M)


def _ifupdown(root: str, errors: Errors) -> list[ConnectionTrace]:
    out = []
    paths = [os.path.join(root, "etc/network/interfaces")]
    d = os.path.join(root, "etc/network/interfaces.d")
    paths += [os.path.join(d, e) for e in _listing(d, errors)]
    for path in paths:
        try:
            text = read_text(path)
        except (FileNotFoundError, IsADirectoryError):
            continue
        except OSError as exc:
            errors.oserror(path, exc, "network.history")
            continue
        for ifname, method in _IFACE.findall(text):
            if ifname == "lo" or method in ("loopback", "manual"):
                continue
            kind = "wifi" if ifname.startswith("wl") else "ethernet"
            t = _trace("ifupdown", path, ifname, kind)
            if t:
                out.append(t)
    return out


def collect_history(*, root: str = "/") -> tuple[tuple[ConnectionTrace, ...], tuple[CollectionError, ...]]:
    """Every trace of a past connection below ``root``, and the sources that could not be read."""
    errors = Errors()
    traces: list[ConnectionTrace] = []
    for reader in (_networkmanager, _wpa_supplicant, _iwd, _dhcp_leases, _netplan, _ifupdown):
        try:
            traces.extend(reader(root, errors))
        except Exception as exc:  # a parser bug must not hide the other sources
            errors.oserror(reader.__name__.lstrip("_"), exc, "network.history")
    return tuple(traces), errors.tuple()
