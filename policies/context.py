"""What local tailoring and the approved-device registry contribute to a rule.

Conditions read these through ``{context: NAME}`` operands. Built by a pure function so that
the daemon and the scan give the same answer for the same tailoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


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
    crypto_packages: tuple[str, ...] = ()
    """Packages of approved cryptographic (cơ yếu) products."""
    probes_configured: bool = False
    """At least one agency-owned probe host is configured."""
    folders_declared: bool = False
    """At least one marked folder is declared."""


def build_context(tailoring, approved: Iterable[tuple[str, str, str]] = ()) -> EvalContext:
    """Context from merged tailoring and (vendor_id, product_id, serial) registry entries."""
    approved = list(approved)
    lan = tailoring.independent_lan
    return EvalContext(
        approved_devices=tuple(f"{v}:{p}:{s}" for v, p, s in approved),
        approved_serials=tuple(s for _, _, s in approved if s),
        lan_declared=lan is not None,
        lan_interfaces=tuple(lan.interfaces) if lan else (),
        lan_subnets=tuple(lan.subnets) if lan else (),
        crypto_packages=tuple(p for c in tailoring.crypto_products for p in c.packages),
        probes_configured=bool(tailoring.probe_hosts),
        folders_declared=bool(tailoring.marked_folders),
    )
