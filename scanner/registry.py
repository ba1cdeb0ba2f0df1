"""The approved-device registry: removable devices that were inspected and may be used.

Stored as YAML in the config directory (``devices.yaml``), written atomically. BMNN-USB-001
passes for attached storage whose vendor:product:serial is in it. A device without a serial
cannot be told apart from its siblings, so ``approve`` refuses it unless forced.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from typing import Optional

import msgspec
import yaml

from bmnn_guard.policies.loader import convert
from bmnn_guard.policies.yamlmarks import CONFIG_LIMITS, load_file

from .atomic import write_atomic
from .errors import ScanError

FILENAME = "devices.yaml"
REGISTRY_LIMITS = dataclasses.replace(CONFIG_LIMITS, max_bytes=2 << 20, max_nodes=40_000)
"""Room for about 2,000 approved devices (19 values each) on one machine."""


class ApprovedDevice(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """One inspected removable device."""

    vendor_id: str
    product_id: str
    serial: str
    label: str
    approved_by: str
    approved_at: str
    reference: Optional[str] = None
    kind: str = "usb"
    holder: Optional[str] = None
    """Login name of the person the device is issued to (``bmnn devices approve --holder``): their
    hand-over record lists it, and what is on it counts as theirs."""


class RegistryFile(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    devices: list[ApprovedDevice] = []


def registry_path(config_dir: str) -> str:
    """Where the registry lives."""
    return os.path.join(config_dir, FILENAME)


REGISTRY = ("device registry", "sổ đăng ký thiết bị")


def load(config_dir: str, *, enforce_permissions: Optional[bool] = None) -> list[ApprovedDevice]:
    """Registered devices; an absent file is an empty registry, a bad one a PolicyError with file:line.

    Read like all configuration (policies/trusted.py: StrictModes as root, no links, bounded;
    the YAML limits of policies/yamlmarks.py): a registry anyone could write would approve any stick.
    """
    path = registry_path(config_dir)
    try:
        doc = load_file(path, REGISTRY_LIMITS, enforce=enforce_permissions, what=REGISTRY)
    except FileNotFoundError:
        return []
    if doc.data is None:
        return []
    return list(convert(doc, RegistryFile).devices)


def identities(devices: list[ApprovedDevice]) -> list[tuple[str, str, str]]:
    """(vendor_id, product_id, serial) for the evaluator context."""
    return [(d.vendor_id.lower(), d.product_id.lower(), d.serial) for d in devices]


def save(config_dir: str, devices: list[ApprovedDevice]) -> None:
    """Write the registry atomically (root-owned, not group/other writable)."""
    body = {"devices": [msgspec.to_builtins(d) for d in devices]}
    header = "# Sổ đăng ký thiết bị lưu trữ rời đã kiểm tra (bmnn devices approve|revoke)\n"
    text = header + yaml.safe_dump(body, allow_unicode=True, sort_keys=False)
    try:
        os.makedirs(config_dir, mode=0o755, exist_ok=True)  # our own folder, unlike a user's -o target
        write_atomic(registry_path(config_dir), text.encode("utf-8"), 0o644)
    except OSError as exc:
        raise ScanError(f"cannot write {registry_path(config_dir)}: {exc.strerror}") from None


def approve(config_dir: str, *, vendor_id: str, product_id: str, serial: str, label: str, approved_by: str,
            reference: Optional[str], kind: str = "usb", holder: Optional[str] = None,
            now: Optional[dt.datetime] = None) -> ApprovedDevice:
    """Add a device (replacing an entry with the same identity); ``holder``: the login name of the
    person it is issued to."""
    if not serial:
        raise ScanError("the device reports no serial number; it cannot be told apart from others of its model")
    devices = load(config_dir)
    now = now or dt.datetime.now().astimezone()
    entry = ApprovedDevice(vendor_id=vendor_id.lower(), product_id=product_id.lower(), serial=serial, label=label,
                           approved_by=approved_by, approved_at=now.isoformat(timespec="seconds"),
                           reference=reference, kind=kind, holder=holder)
    devices = [d for d in devices if (d.vendor_id, d.product_id, d.serial) != (entry.vendor_id, entry.product_id, serial)]
    devices.append(entry)
    save(config_dir, devices)
    return entry


def revoke(config_dir: str, serial: str) -> list[ApprovedDevice]:
    """Remove every entry with this serial; returns what was removed."""
    devices = load(config_dir)
    gone = [d for d in devices if d.serial == serial]
    if not gone:
        raise ScanError(f"no approved device with serial {serial!r}")
    save(config_dir, [d for d in devices if d.serial != serial])
    return gone
