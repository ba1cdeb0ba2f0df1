"""Disk encryption facts: is the root filesystem on dm-crypt, and which dm-crypt devices exist.

The root filesystem's device is found from /proc/self/mountinfo (major:minor, or the source
node for btrfs and other filesystems that report an anonymous device), then followed down the
device-mapper stack (LVM on LUKS, RAID on LUKS) through /sys/dev/block/M:m/slaves until a
``dm/uuid`` starting with ``CRYPT-`` is found or the stack ends.
"""

from __future__ import annotations

import os
from typing import Optional

from bmnn_guard.policies.facts import StorageFacts

from ._common import Errors, parse_mountinfo, read_attr, read_text


def _root_entry(proc_root: str, target: str, errors: Errors) -> Optional[dict]:
    path = os.path.join(proc_root, "self", "mountinfo")
    try:
        entries = parse_mountinfo(read_text(path))
    except OSError as exc:
        errors.oserror(path, exc, "storage.root_encrypted")
        return None
    found = [e for e in entries if e["mountpoint"] == target]
    if not found:
        errors.add(path, f"no filesystem mounted at {target}", "storage.root_encrypted")
        return None
    return found[-1]  # the last one mounted over the target is the one seen


def _block_dir(sys_root: str, entry: dict) -> Optional[str]:
    major, minor = entry["dev"]
    if major == 0 and entry["source"].startswith("/dev/"):
        try:
            st = os.stat(entry["source"])
            major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
        except OSError:
            return None
    if major == 0:
        return None
    d = os.path.join(sys_root, "dev", "block", f"{major}:{minor}")
    return os.path.realpath(d) if os.path.exists(d) else None


def _encrypted_stack(block_dir: str, depth: int = 0) -> bool:
    """True when this device or any device below it is a dm-crypt mapping."""
    uuid = read_attr(os.path.join(block_dir, "dm", "uuid"))
    if uuid and uuid.startswith("CRYPT-"):
        return True
    if depth > 8:
        return False
    slaves = os.path.join(block_dir, "slaves")
    try:
        below = os.listdir(slaves)
    except OSError:
        below = []
    return any(_encrypted_stack(os.path.realpath(os.path.join(slaves, s)), depth + 1) for s in below)


def encrypted_devices(sys_root: str, errors: Errors) -> list[str]:
    """Names of dm-crypt mappings (dm/name of every dm-* whose dm/uuid starts with CRYPT-)."""
    base = os.path.join(sys_root, "block")
    try:
        names = sorted(os.listdir(base))
    except OSError as exc:
        errors.oserror(base, exc, "storage.encrypted_devices")
        return []
    out = []
    for n in names:
        if not n.startswith("dm-"):
            continue
        uuid = read_attr(os.path.join(base, n, "dm", "uuid"))
        if uuid is None:
            errors.add(os.path.join(base, n, "dm", "uuid"), "unreadable", "storage.encrypted_devices")
        elif uuid.startswith("CRYPT-"):
            out.append(read_attr(os.path.join(base, n, "dm", "name")) or n)
    return out


def collect_storage(*, sys_root: str = "/sys", proc_root: str = "/proc", target: str = "/") -> StorageFacts:
    """Encryption of the filesystem mounted at ``target`` (the root) and the dm-crypt devices."""
    errors = Errors()
    root_encrypted: Optional[bool] = None
    entry = _root_entry(proc_root, target, errors)
    if entry is not None:
        block = _block_dir(sys_root, entry)
        if block is None:
            errors.add("/proc/self/mountinfo",
                       f"{target} is {entry['fstype']} from {entry['source'] or '?'}, not a block device "
                       "(container or overlay): its disk cannot be seen from here", "storage.root_encrypted")
        else:
            root_encrypted = _encrypted_stack(block)
    return StorageFacts(root_encrypted=root_encrypted, encrypted_devices=tuple(encrypted_devices(sys_root, errors)),
                        errors=errors.tuple())
