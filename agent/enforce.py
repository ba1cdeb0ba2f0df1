"""Opt-in enforcement (`actions: [{check: ..., action: block}]` in local tailoring).

* USB: deauthorise the *interfaces* of an unapproved device that carry storage (08), still
  images/MTP (06) or network classes, by writing 0 to their sysfs ``authorized`` file. The HID
  interfaces of a composite device keep working, so a keyboard with a hidden stick still types
  (USBGuard can only block the whole device).
* Network: bring an offending interface down through rtnetlink (RTM_NEWLINK clearing IFF_UP),
  with the stdlib socket module.

Every action is journaled by the caller, success or failure; nothing here raises for a device
that vanished meanwhile: the result says so.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from dataclasses import dataclass
from typing import Iterable, Optional

BLOCK_CLASSES = ("08", "06", "02", "0a", "e0")


@dataclass(frozen=True)
class Action:
    """What enforcement did (or failed to do) to one target."""

    target: str
    """sysfs path of the interface, or interface name."""
    action: str
    """usb_interface_deauthorized or link_down."""
    ok: bool
    """It worked."""
    detail: Optional[str] = None
    """Error text when it did not."""


def usb_interfaces(device_sys_path: str) -> list[tuple[str, str]]:
    """(interface sysfs path, bInterfaceClass) of a USB device."""
    out = []
    base = os.path.basename(device_sys_path.rstrip("/"))
    try:
        names = sorted(os.listdir(device_sys_path))
    except OSError:
        return out
    for name in names:
        if not name.startswith(base + ":"):
            continue
        path = os.path.join(device_sys_path, name)
        try:
            with open(os.path.join(path, "bInterfaceClass")) as fh:
                out.append((path, fh.read().strip().lower()))
        except OSError:
            continue
    return out


def deauthorize_usb(device_sys_path: str, classes: Iterable[str] = BLOCK_CLASSES) -> list[Action]:
    """Write 0 to ``authorized`` of every interface of the device whose class is in ``classes``."""
    wanted = {c.lower() for c in classes}
    actions = []
    for path, cls in usb_interfaces(device_sys_path):
        if cls not in wanted:
            continue
        try:
            with open(os.path.join(path, "authorized"), "w") as fh:
                fh.write("0")
            actions.append(Action(path, "usb_interface_deauthorized", True, f"class {cls}"))
        except OSError as exc:
            actions.append(Action(path, "usb_interface_deauthorized", False, f"class {cls}: {exc.strerror}"))
    if not actions:
        actions.append(Action(device_sys_path, "usb_interface_deauthorized", False, "no storage or network interface found"))
    return actions


RTM_NEWLINK = 16
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
IFF_UP = 0x1


def link_down(ifname: str) -> Action:
    """Clear IFF_UP on ``ifname`` with one RTM_NEWLINK request, and read the kernel's ACK."""
    try:
        index = socket.if_nametoindex(ifname)
    except OSError:
        return Action(ifname, "link_down", False, "no such interface")
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, 0, IFF_UP)
    header = struct.pack("=IHHII", 16 + len(body), RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0)
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0) as sock:
            sock.settimeout(2)
            sock.bind((0, 0))
            sock.send(header + body)
            reply = sock.recv(65536)
    except OSError as exc:
        return Action(ifname, "link_down", False, exc.strerror or str(exc))
    _len, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", reply)
    if mtype == NLMSG_ERROR:
        (code,) = struct.unpack_from("=i", reply, 16)
        if code != 0:
            return Action(ifname, "link_down", False, os.strerror(-code))
    return Action(ifname, "link_down", True)
