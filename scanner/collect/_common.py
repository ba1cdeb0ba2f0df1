"""Small helpers shared by the collectors: reading files without raising, recording errors.

A collector never raises for a source it cannot read: it records a ``CollectionError`` with the
fact path left incomplete (``affects``) and goes on. These helpers keep that pattern short.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
from typing import Optional

from bmnn_guard.policies.facts import CollectionError


class Errors:
    """Collects ``CollectionError`` records for one domain."""

    def __init__(self) -> None:
        self.items: list[CollectionError] = []

    def add(self, source: str, message: str, affects: Optional[str] = None) -> None:
        """Record that ``source`` could not be read."""
        err = CollectionError(source=str(source), message=message, affects=affects)
        if err not in self.items:
            self.items.append(err)

    def oserror(self, source: str, exc: BaseException, affects: Optional[str] = None) -> None:
        """Record an exception raised while reading ``source``."""
        self.add(source, describe(exc), affects)

    def tuple(self) -> tuple[CollectionError, ...]:
        """The errors as the fact model wants them."""
        return tuple(self.items)


def describe(exc: BaseException) -> str:
    """A one-line English message for an exception (no path: the source names it)."""
    if isinstance(exc, OSError) and exc.errno is not None:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno == errno.ENOENT:
            return "not found"
        return os.strerror(exc.errno).lower()
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:200]


def read_text(path: str) -> str:
    """Whole file as text (errors replaced); raises OSError."""
    with open(path, "rb") as fh:
        return fh.read().decode("utf-8", "replace")


def read_attr(path: str) -> Optional[str]:
    """A sysfs attribute, stripped; None when it does not exist or cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read().decode("utf-8", "replace").strip()
    except OSError:
        return None


def link_name(path: str) -> Optional[str]:
    """Last component of a symlink's target, None when it is not a symlink."""
    try:
        return os.path.basename(os.readlink(path))
    except OSError:
        return None


def mtime_iso(st: os.stat_result) -> str:
    """Modification time as ISO 8601 UTC."""
    return dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat(timespec="seconds")


def unescape_mount(field: str) -> str:
    """Undo the octal escapes of /proc/self/mountinfo (\\040 for a space)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 4 <= len(field) and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[dict]:
    """Entries of /proc/self/mountinfo: dev (major, minor), root, mountpoint, options, fstype, source."""
    out = []
    for line in text.splitlines():
        parts = line.split(" ")
        try:
            sep = parts.index("-", 6)
            major, minor = parts[2].split(":")
            out.append({
                "dev": (int(major), int(minor)),
                "root": unescape_mount(parts[3]),
                "mountpoint": unescape_mount(parts[4]),
                "options": tuple(parts[5].split(",")),
                "fstype": parts[sep + 1],
                "source": unescape_mount(parts[sep + 2]) if len(parts) > sep + 2 else "",
                "super_options": tuple(parts[sep + 3].split(",")) if len(parts) > sep + 3 else (),
            })
        except (ValueError, IndexError):
            continue
    return out
