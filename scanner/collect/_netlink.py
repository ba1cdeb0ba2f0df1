"""A tiny rtnetlink dump client (stdlib only): links and routes of the current network namespace.

Netlink answers for the namespace the process lives in, unlike /sys/class/net, which shows the
namespace that mounted sysfs. pyroute2 would do the same at ~300 ms of import; this is ~150 lines.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from typing import Optional

NETLINK_ROUTE = 0
RTM_NEWLINK, RTM_GETLINK = 16, 18
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLA_TYPE_MASK = 0x3FFF

IFLA_ADDRESS, IFLA_IFNAME, IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_CARRIER = 1, 3, 16, 18, 33
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
IFLA_TUN_TYPE = 3
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_MULTIPATH, RTA_TABLE, RTA_VIA = 1, 4, 5, 9, 15, 18
RT_TABLE_LOCAL = 255
RTN_UNICAST = 1
RTM_F_CLONED = 0x200

_HDR = struct.Struct("=IHHII")


@dataclass(frozen=True)
class Link:
    """One link as RTM_NEWLINK describes it."""

    index: int
    name: str
    arphrd: int
    flags: int
    operstate: Optional[int]
    carrier: Optional[bool]
    mac: Optional[str]
    kind: Optional[str]
    tun_type: Optional[int]


@dataclass(frozen=True)
class RawRoute:
    """One route as RTM_NEWROUTE describes it (one per next hop)."""

    family: int
    dst: str
    dst_len: int
    table: int
    oif: Optional[int]
    gateway: Optional[str]


def _attrs(data: bytes, offset: int = 0) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    while offset + 4 <= len(data):
        length, typ = struct.unpack_from("=HH", data, offset)
        if length < 4:
            break
        out.setdefault(typ & NLA_TYPE_MASK, data[offset + 4:offset + length])
        offset += (length + 3) & ~3
    return out


def _dump(msg_type: int, payload: bytes, timeout: float = 2.0) -> list[tuple[int, bytes]]:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, NETLINK_ROUTE)
    try:
        sock.settimeout(timeout)
        sock.bind((0, 0))
        seq = 1
        sock.sendall(_HDR.pack(_HDR.size + len(payload), msg_type, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + payload)
        out: list[tuple[int, bytes]] = []
        while True:
            data = sock.recv(1 << 17)
            if not data:
                raise OSError("netlink socket closed during a dump")
            off = 0
            while off + _HDR.size <= len(data):
                length, typ, _flags, rseq, _pid = _HDR.unpack_from(data, off)
                if length < _HDR.size:
                    raise OSError("malformed netlink message")
                body = data[off + _HDR.size:off + length]
                off += (length + 3) & ~3
                if rseq != seq:
                    continue
                if typ == NLMSG_DONE:
                    return out
                if typ == NLMSG_ERROR:
                    err = struct.unpack_from("=i", body)[0]
                    if err:
                        raise OSError(-err, os.strerror(-err))
                    continue
                out.append((typ, body))
    finally:
        sock.close()


def links() -> list[Link]:
    """Every link of this network namespace."""
    out = []
    for typ, body in _dump(RTM_GETLINK, struct.pack("=BxHiII", socket.AF_UNSPEC, 0, 0, 0, 0)):
        if typ != RTM_NEWLINK or len(body) < 16:
            continue
        _fam, arphrd, index, flags, _change = struct.unpack_from("=BxHiII", body)
        a = _attrs(body, 16)
        name = a.get(IFLA_IFNAME, b"").split(b"\0", 1)[0].decode("utf-8", "replace")
        mac = a.get(IFLA_ADDRESS)
        kind = tun_type = None
        if IFLA_LINKINFO in a:
            info = _attrs(a[IFLA_LINKINFO])
            if IFLA_INFO_KIND in info:
                kind = info[IFLA_INFO_KIND].split(b"\0", 1)[0].decode("ascii", "replace")
            if kind == "tun" and IFLA_INFO_DATA in info:
                tdata = _attrs(info[IFLA_INFO_DATA])
                if IFLA_TUN_TYPE in tdata:
                    tun_type = tdata[IFLA_TUN_TYPE][0]
        out.append(Link(
            index=index, name=name, arphrd=arphrd, flags=flags,
            operstate=a[IFLA_OPERSTATE][0] if IFLA_OPERSTATE in a else None,
            carrier=bool(a[IFLA_CARRIER][0]) if IFLA_CARRIER in a else None,
            mac=":".join(f"{b:02x}" for b in mac) if mac else None,
            kind=kind, tun_type=tun_type,
        ))
    return out


def _addr(family: int, raw: bytes) -> str:
    return socket.inet_ntop(family, raw)


def routes() -> list[RawRoute]:
    """Unicast routes of every table except ``local``, IPv4 and IPv6, one entry per next hop."""
    out = []
    payload = struct.pack("=BBBBBBBBI", socket.AF_UNSPEC, 0, 0, 0, 0, 0, 0, 0, 0)
    for typ, body in _dump(RTM_GETROUTE, payload):
        if typ != RTM_NEWROUTE or len(body) < 12:
            continue
        family, dst_len, _src_len, _tos, table, _proto, _scope, rtype, rflags = struct.unpack_from("=BBBBBBBBI", body)
        if family not in (socket.AF_INET, socket.AF_INET6) or rtype != RTN_UNICAST or rflags & RTM_F_CLONED:
            continue
        a = _attrs(body, 12)
        if RTA_TABLE in a:
            table = struct.unpack("=I", a[RTA_TABLE][:4])[0]
        if table == RT_TABLE_LOCAL:
            continue
        zero = "0.0.0.0" if family == socket.AF_INET else "::"
        dst = _addr(family, a[RTA_DST]) if RTA_DST in a else zero
        hops: list[tuple[Optional[int], Optional[str]]] = []
        if RTA_MULTIPATH in a:
            mp, off = a[RTA_MULTIPATH], 0
            while off + 8 <= len(mp):
                length, _fl, _hops, ifindex = struct.unpack_from("=HBBi", mp, off)
                if length < 8:
                    break
                na = _attrs(mp[off + 8:off + length])
                hops.append((ifindex, _gateway(family, na)))
                off += (length + 3) & ~3
        else:
            oif = struct.unpack("=i", a[RTA_OIF][:4])[0] if RTA_OIF in a else None
            hops.append((oif, _gateway(family, a)))
        for oif, gw in hops:
            out.append(RawRoute(family=family, dst=dst, dst_len=dst_len, table=table, oif=oif, gateway=gw))
    return out


def _gateway(family: int, a: dict[int, bytes]) -> Optional[str]:
    if RTA_GATEWAY in a:
        return _addr(family, a[RTA_GATEWAY])
    if RTA_VIA in a and len(a[RTA_VIA]) >= 2:
        vfam = struct.unpack_from("=H", a[RTA_VIA])[0]
        if vfam in (socket.AF_INET, socket.AF_INET6):
            return _addr(vfam, a[RTA_VIA][2:])
    return None
