"""Network facts: interfaces, addresses, routes, radio kill switches, connection traces, probes.

Sources: rtnetlink (links and routes of *this* network namespace, all tables but ``local``),
psutil (addresses), /sys/class/net (DEVTYPE wlan/wwan, phy80211, driver, bus), /sys/class/rfkill,
and the history files read by :mod:`bmnn_guard.scanner.collect.history`. The interface ``kind`` is a
description of what the kernel says the link is, not a judgement: rules decide what it means.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Iterable, Optional

import psutil

from bmnn_guard.policies.facts import NetInterface, NetworkFacts, RfkillSwitch, Route

from . import _netlink, cellular
from ._common import Errors, link_name, read_attr

IFF_UP = 0x1
IFF_LOOPBACK = 0x8
IFF_LOWER_UP = 0x10000
IF_OPER_UP = 6

ARPHRD_ETHER = 1
ARPHRD_RAWIP = 519
ARPHRD_PPP = 512
ARPHRD_LOOPBACK = 772
ARPHRD_IEEE80211 = (801, 802, 803)
ARPHRD_TUNNELS = {768: "ipip", 769: "ip6tnl", 776: "sit", 778: "gre", 823: "ip6gre", 512: "ppp"}
ARPHRD_NONE = 65534

# rtnl link kinds that carry traffic somewhere else
TUNNEL_KINDS = {"tun", "wireguard", "ppp", "gre", "gretap", "ip6gre", "ip6gretap", "ipip", "ip6tnl", "sit",
                "vti", "vti6", "vxlan", "geneve", "l2tp", "ovpn", "erspan", "ip6erspan", "bareudp", "amt", "gtp"}
WWAN_DRIVERS = {"qmi_wwan", "cdc_mbim", "huawei_cdc_ncm", "sierra_net", "mhi_net", "ipheth", "rmnet"}


def _prefix(family: int, netmask: Optional[str]) -> int:
    full = 32 if family == socket.AF_INET else 128
    if not netmask:
        return full
    try:
        if family == socket.AF_INET:
            return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
        return bin(int(ipaddress.IPv6Address(netmask))).count("1")
    except ValueError:
        return full


def _addresses(errors: Errors) -> dict[str, tuple[str, ...]]:
    try:
        raw = psutil.net_if_addrs()
    except Exception as exc:  # psutil raises OSError subclasses and RuntimeError
        errors.oserror("psutil.net_if_addrs", exc, "network.interfaces.addresses")
        return {}
    out = {}
    for name, addrs in raw.items():
        cidrs = []
        for a in addrs:
            if a.family not in (socket.AF_INET, socket.AF_INET6):
                continue
            addr = a.address.split("%", 1)[0]
            cidrs.append(f"{addr}/{_prefix(a.family, a.netmask)}")
        out[name] = tuple(cidrs)
    return out


def _usb_cellular(interface_dir: str, errors: Optional[Errors]) -> Optional[cellular.Cellular]:
    """The cellular judgement of the USB device a network interface belongs to, read from sysfs."""
    try:
        table = cellular.load_table()
    except cellular.TableError as exc:
        table = None
        if errors is not None:
            errors.add("cellular id table", f"{exc}: a USB modem known only by its id may show as ethernet",
                       "network.interfaces.kind")
    dev, macs, cdrom = cellular.usb_device_from_sysfs(os.path.dirname(interface_dir))
    return cellular.judge(dev, table=table, macs=macs, cdrom=cdrom)


def _sysfs_info(sys_root: str, name: str, index: Optional[int], errors: Optional[Errors] = None) -> Optional[dict]:
    """What /sys/class/net says of ``name``; None when sysfs shows another namespace's device."""
    base = os.path.join(sys_root, "class", "net", name)
    if not os.path.isdir(base):
        return None
    ifindex = read_attr(os.path.join(base, "ifindex"))
    if index is not None and ifindex is not None and ifindex != str(index):
        return None
    uevent = {}
    text = read_attr(os.path.join(base, "uevent")) or ""
    for line in text.splitlines():
        k, _, v = line.partition("=")
        uevent[k] = v
    # the parent device is the directory above .../net/<name>; /devices/virtual means no hardware
    real = os.path.realpath(base)
    dev = os.path.dirname(os.path.dirname(real))
    has_dev = "/devices/virtual/" not in real + "/" and os.path.isdir(dev) and not real.startswith(
        os.path.join(sys_root, "class"))
    bus = driver = None
    if has_dev:
        bus = link_name(os.path.join(dev, "subsystem"))
        if bus is None and os.path.exists(os.path.join(dev, "bInterfaceClass")):
            bus = "usb"
        driver = link_name(os.path.join(dev, "driver"))
        if driver is None:
            for line in (read_attr(os.path.join(dev, "uevent")) or "").splitlines():
                if line.startswith("DRIVER="):
                    driver = line[7:] or None
    else:
        bus = "virtual"
    usb_cellular = _usb_cellular(dev, errors) if bus == "usb" and has_dev else None
    return {
        "devtype": uevent.get("DEVTYPE"),
        "wireless": os.path.exists(os.path.join(base, "phy80211")) or os.path.exists(os.path.join(base, "wireless")),
        "driver": driver,
        "bus": bus,
        "has_device": has_dev,
        "tun_flags": read_attr(os.path.join(base, "tun_flags")),
        "type": read_attr(os.path.join(base, "type")),
        "flags": read_attr(os.path.join(base, "flags")),
        "carrier": read_attr(os.path.join(base, "carrier")),
        "operstate": read_attr(os.path.join(base, "operstate")),
        "address": read_attr(os.path.join(base, "address")),
        "cellular": usb_cellular,
    }


def wwan_evidence(arphrd: Optional[int], sysfs: Optional[dict]) -> tuple[str, ...]:
    """The telltales that make a link a cellular one (empty: it is not)."""
    info = sysfs or {}
    ev = []
    if info.get("devtype") == "wwan":
        ev.append("devtype wwan")
    if arphrd == ARPHRD_RAWIP:
        ev.append("arphrd rawip")
    if info.get("driver") in WWAN_DRIVERS:
        ev.append(f"driver {info['driver']}")
    verdict = info.get("cellular")
    if verdict is not None:
        ev.append(f"usb-device {verdict.mode}")
        ev.extend(e for e in verdict.evidence if e not in ev)
    return tuple(ev)


def classify(*, arphrd: Optional[int], flags: int, link_kind: Optional[str], tun_type: Optional[int],
             sysfs: Optional[dict]) -> tuple[str, Optional[str]]:
    """(kind, tunnel_type) from what the kernel reports about a link (a description, not a verdict)."""
    devtype = (sysfs or {}).get("devtype")
    if flags & IFF_LOOPBACK or arphrd == ARPHRD_LOOPBACK:
        return "loopback", None
    if devtype == "wlan" or (sysfs or {}).get("wireless") or arphrd in ARPHRD_IEEE80211:
        return "wifi", None
    if wwan_evidence(arphrd, sysfs):
        return "wwan", None
    if devtype == "bluetooth" or link_kind == "bnep":
        return "bluetooth", None
    tun_flags = (sysfs or {}).get("tun_flags")
    if link_kind == "tun" or tun_flags:
        if tun_type is None and tun_flags:
            try:
                tun_type = int(tun_flags, 16) & 0x3
            except ValueError:
                tun_type = None
        return "tunnel", {1: "tun", 2: "tap"}.get(tun_type or 0, "tun")
    if devtype == "wireguard" or link_kind in TUNNEL_KINDS:
        return "tunnel", devtype if devtype == "wireguard" else link_kind
    if arphrd in ARPHRD_TUNNELS:
        return "tunnel", ARPHRD_TUNNELS[arphrd]
    if arphrd == ARPHRD_NONE:
        return "tunnel", link_kind
    if arphrd == ARPHRD_ETHER:
        if link_kind is None and sysfs is not None and sysfs.get("has_device") and sysfs.get("bus") != "virtual":
            return "ethernet", None
        if link_kind is None and sysfs is None:
            return "other", None
        return "virtual", None
    return "other", None


def _interfaces(sys_root: str, errors: Errors) -> tuple[list[NetInterface], dict[int, str]]:
    addrs = _addresses(errors)
    out: list[NetInterface] = []
    names: dict[int, str] = {}
    try:
        links = _netlink.links()
    except OSError:
        # rtnetlink refused (seccomp, address-family filter): psutil and sysfs say nearly as much
        return _interfaces_fallback(sys_root, addrs, errors), names
    for ln in links:
        names[ln.index] = ln.name
        sysfs = _sysfs_info(sys_root, ln.name, ln.index, errors)
        kind, tunnel_type = classify(arphrd=ln.arphrd, flags=ln.flags, link_kind=ln.kind, tun_type=ln.tun_type,
                                     sysfs=sysfs)
        up = bool(ln.flags & IFF_UP)
        carrier = bool(ln.flags & IFF_LOWER_UP) if up else ln.carrier
        assoc = None
        if kind == "wifi":
            assoc = bool(ln.operstate == IF_OPER_UP and ln.flags & IFF_LOWER_UP) if ln.operstate is not None else None
        if tunnel_type is None and kind == "tunnel" and ln.kind:
            tunnel_type = ln.kind
        out.append(NetInterface(
            name=ln.name, kind=kind, up=up, carrier=carrier, addresses=addrs.get(ln.name, ()),
            mac=ln.mac, driver=(sysfs or {}).get("driver"),
            bus=(sysfs or {}).get("bus") if sysfs else ("virtual" if ln.kind else None),
            wireless_associated=assoc, tunnel_type=tunnel_type,
            wwan_evidence=wwan_evidence(ln.arphrd, sysfs) if kind == "wwan" else ()))
    return out, names


def _interfaces_fallback(sys_root: str, addrs: dict, errors: Errors) -> list[NetInterface]:
    """Links from psutil and sysfs when rtnetlink is not allowed (seccomp, address-family filters)."""
    try:
        stats = psutil.net_if_stats()
    except Exception as exc:
        errors.oserror("psutil.net_if_stats", exc, "network.interfaces")
        return []
    out = []
    for name, st in stats.items():
        sysfs = _sysfs_info(sys_root, name, None, errors)
        try:
            arphrd = int(sysfs["type"]) if sysfs and sysfs["type"] else None
        except ValueError:
            arphrd = None
        flags = (IFF_UP if st.isup else 0) | (IFF_LOOPBACK if "loopback" in (st.flags or "") else 0)
        kind, tunnel_type = classify(arphrd=arphrd, flags=flags, link_kind=None, tun_type=None, sysfs=sysfs)
        carrier = None
        if sysfs and sysfs["carrier"] in ("0", "1"):
            carrier = sysfs["carrier"] == "1"
        assoc = None
        if kind == "wifi" and sysfs and sysfs["operstate"]:
            assoc = sysfs["operstate"] == "up" and bool(carrier)
        out.append(NetInterface(name=name, kind=kind, up=st.isup, carrier=carrier, addresses=addrs.get(name, ()),
                                mac=(sysfs or {}).get("address"), driver=(sysfs or {}).get("driver"),
                                bus=(sysfs or {}).get("bus"), wireless_associated=assoc, tunnel_type=tunnel_type,
                                wwan_evidence=wwan_evidence(arphrd, sysfs) if kind == "wwan" else ()))
    return out


def _routes(names: dict[int, str], proc_root: str, errors: Errors) -> list[Route]:
    try:
        raw = _netlink.routes()
    except OSError as exc:
        return _routes_proc(proc_root, errors, f"rtnetlink RTM_GETROUTE: {exc}")
    out = []
    for r in raw:
        fam = "ipv4" if r.family == socket.AF_INET else "ipv6"
        out.append(Route(destination=f"{r.dst}/{r.dst_len}", interface=names.get(r.oif) if r.oif else None,
                         gateway=r.gateway, family=fam))
    return out


def _routes_proc(proc_root: str, errors: Errors, why: str) -> list[Route]:
    """Main-table routes from /proc/net/route and /proc/net/ipv6_route (netlink fallback)."""
    out = []
    path = os.path.join(proc_root, "net", "route")
    try:
        with open(path) as fh:
            next(fh, None)
            for line in fh:
                f = line.split()
                if len(f) < 8 or int(f[3], 16) & 0x0200:  # RTF_REJECT
                    continue
                dst = socket.inet_ntop(socket.AF_INET, int(f[1], 16).to_bytes(4, "little"))
                gw = socket.inet_ntop(socket.AF_INET, int(f[2], 16).to_bytes(4, "little"))
                plen = bin(int(f[7], 16)).count("1")
                out.append(Route(destination=f"{dst}/{plen}", interface=f[0],
                                 gateway=None if gw == "0.0.0.0" else gw, family="ipv4"))
    except (OSError, ValueError) as exc:
        errors.add(path, f"{exc} (after {why})", "network.routes")
    path6 = os.path.join(proc_root, "net", "ipv6_route")
    try:
        with open(path6) as fh:
            for line in fh:
                f = line.split()
                if len(f) < 10:
                    continue
                flags = int(f[8], 16)
                if flags & 0x0200 or f[9] == "lo" or flags & 0x80000000:  # reject, local, RTF_LOCAL
                    continue
                dst = str(ipaddress.IPv6Address(bytes.fromhex(f[0])))
                gw = str(ipaddress.IPv6Address(bytes.fromhex(f[4])))
                out.append(Route(destination=f"{dst}/{int(f[1], 16)}", interface=f[9],
                                 gateway=None if gw == "::" else gw, family="ipv6"))
    except FileNotFoundError:
        pass  # IPv6 disabled in this kernel: no IPv6 routes exist
    except (OSError, ValueError) as exc:
        errors.add(path6, f"{exc} (after {why})", "network.routes")
    return out


def collect_rfkill(sys_root: str, errors: Errors) -> list[RfkillSwitch]:
    """Radio kill switches from /sys/class/rfkill (absent directory: the kernel has no rfkill)."""
    base = os.path.join(sys_root, "class", "rfkill")
    try:
        entries = sorted(os.listdir(base))
    except FileNotFoundError:
        return []
    except OSError as exc:
        errors.oserror(base, exc, "network.rfkill")
        return []
    out = []
    for name in entries:
        if not name.startswith("rfkill"):
            continue
        d = os.path.join(base, name)
        typ = read_attr(os.path.join(d, "type"))
        if typ is None:
            errors.add(d, "type attribute unreadable", "network.rfkill")
            continue
        soft, hard = read_attr(os.path.join(d, "soft")), read_attr(os.path.join(d, "hard"))
        try:
            index = int(read_attr(os.path.join(d, "index")) or name[6:])
        except ValueError:
            index = -1
        out.append(RfkillSwitch(index=index, type=typ, name=read_attr(os.path.join(d, "name")),
                                soft_blocked=None if soft is None else soft == "1",
                                hard_blocked=None if hard is None else hard == "1"))
    return out


def collect_network(*, probe_hosts: Iterable = (), history: bool = True, sys_root: str = "/sys",
                    proc_root: str = "/proc", root: str = "/") -> NetworkFacts:
    """Interfaces, routes, rfkill, connection history and probes of the current network namespace."""
    from .history import collect_history
    from .probe import probe

    errors = Errors()
    interfaces, names = _interfaces(sys_root, errors)
    routes = _routes(names, proc_root, errors)
    rfkill = collect_rfkill(sys_root, errors)
    traces: tuple = ()
    if history:
        traces, herrs = collect_history(root=root)
        for e in herrs:
            errors.add(e.source, e.message, e.affects)
    probes = probe(probe_hosts) if probe_hosts else ()
    return NetworkFacts(interfaces=tuple(interfaces), routes=tuple(routes), rfkill=tuple(rfkill),
                        probes=tuple(probes), history=tuple(traces), errors=errors.tuple())
