"""What local tailoring and the approved-device registry contribute to a rule.

Conditions read these through ``{context: NAME}`` operands. Built by a pure function so that
the daemon and the scan give the same answer for the same tailoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

DECLARATION_KINDS = ("crypto",)
"""Kinds of declaration a check's ``exceptions`` part can name."""


@dataclass(frozen=True)
class Declaration:
    """One item of local tailoring that claims a lawful exception, as shown in the record."""

    kind: str
    """One of DECLARATION_KINDS (crypto: a link protected by a cơ yếu product)."""
    key: str
    """What it covers on this machine (an interface name)."""
    name: str
    """The product or arrangement declared."""
    reference: str
    """The document behind the declaration (biên bản bàn giao, quyết định)."""
    supplied_by: Optional[str] = None
    """Who supplied it (Ban Cơ yếu Chính phủ)."""


@dataclass(frozen=True)
class EvalContext:
    """Values from local tailoring and the device registry that conditions may compare against."""

    approved_devices: tuple[str, ...] = ()
    """Identities (vendor:product:serial) of removable devices in the approved-device registry."""
    approved_serials: tuple[str, ...] = ()
    """Serials of approved devices (for media that expose no USB ids, such as SD cards)."""
    lan_declared: bool = False
    """An independent LAN (mạng LAN độc lập) is declared in local tailoring."""
    lan_interfaces: tuple[str, ...] = ()
    """Interfaces of the declared independent LAN."""
    lan_subnets: tuple[str, ...] = ()
    """Subnets of the declared independent LAN."""
    lan_remote_admin_allowed: bool = False
    """A declared independent LAN on which the agency allows remote administration (an SSH server);
    False when no LAN is declared or the agency forbids it."""
    crypto_packages: tuple[str, ...] = ()
    """Packages of declared cryptographic (cơ yếu) products."""
    crypto_interfaces: tuple[str, ...] = ()
    """Interfaces declared as protected by a cơ yếu product (the cryptography exception)."""
    room_declared: bool = False
    """The meeting room this computer serves is declared, with its level."""
    room_level: str = ""
    """Highest level of the meetings held in the declared room (mat, toi_mat, tuyet_mat); "" when undeclared."""
    probes_configured: bool = False
    """At least one agency-owned probe host is configured."""
    folders_declared: bool = False
    """At least one marked folder is declared."""
    declarations: tuple[Declaration, ...] = ()
    """Declarations that claim lawful exceptions, for the record of the checks that honour them."""


def build_context(tailoring, approved: Iterable[tuple[str, str, str]] = ()) -> EvalContext:
    """Context from merged tailoring and (vendor_id, product_id, serial) registry entries."""
    approved = list(approved)
    lan = tailoring.independent_lan
    room = tailoring.meeting_room
    crypto = [Declaration("crypto", iface, c.name, c.reference, c.supplied_by)
              for c in tailoring.crypto_products for iface in c.interfaces]
    return EvalContext(
        approved_devices=tuple(f"{v}:{p}:{s}" for v, p, s in approved),
        approved_serials=tuple(s for _, _, s in approved if s),
        lan_declared=lan is not None,
        lan_interfaces=tuple(lan.interfaces) if lan else (),
        lan_subnets=tuple(lan.subnets) if lan else (),
        lan_remote_admin_allowed=lan is not None and lan.remote_admin == "allowed",
        crypto_packages=tuple(p for c in tailoring.crypto_products for p in c.packages),
        crypto_interfaces=tuple(dict.fromkeys(d.key for d in crypto)),
        room_declared=room is not None,
        room_level=room.level if room else "",
        probes_configured=bool(tailoring.probe_hosts),
        folders_declared=bool(tailoring.marked_folders),
        declarations=tuple(crypto),
    )
