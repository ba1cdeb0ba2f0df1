"""Mounts: the kernel flags /proc/self/mountinfo with POLLPRI whenever the mount table changes.

udev tells us a block device appeared, but not when (or where) it is mounted, and a USB stick is
only a risk to documents once it is mounted. This source re-reads the mount table on every change
and triggers the devices domain with the mounts that came and went; the watcher then starts or
stops watching media and scans new ones. No polling: the thread sleeps in poll() between changes.
"""

from __future__ import annotations

import os
import select

from .base import Emit, KernelSource, Trigger

MOUNTINFO = "/proc/self/mountinfo"


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040 ...)."""
    if "\\" not in field:
        return field
    raw = field.encode("utf-8", "surrogateescape")
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i] == 0x5C and i + 4 <= len(raw) and raw[i + 1:i + 4].isdigit():
            out.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            out.append(raw[i])
            i += 1
    return out.decode("utf-8", "surrogateescape")


def read_mounts(text: str) -> dict[str, tuple[str, str]]:
    """mount point -> (source device, filesystem type) from mountinfo text."""
    out: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a, b = left.split(), right.split()
        if len(a) < 5 or len(b) < 2:
            continue
        out[_unescape(a[4])] = (_unescape(b[1]), b[0])
    return out


class MountSource(KernelSource):
    """Triggers ``devices`` with ``{"added": [...], "removed": [...]}`` on every mount table change."""

    name = "mounts"
    domains = ("devices",)

    def __init__(self, path: str = MOUNTINFO):
        super().__init__()
        self.path = path
        self._fd = -1
        self.mounts: dict[str, tuple[str, str]] = {}

    def _read(self) -> dict[str, tuple[str, str]]:
        os.lseek(self._fd, 0, os.SEEK_SET)
        chunks = []
        while True:
            b = os.read(self._fd, 1 << 16)
            if not b:
                break
            chunks.append(b)
        return read_mounts(b"".join(chunks).decode("utf-8", "surrogateescape"))

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        self.mounts = self._read()

    def _run(self, emit: Emit) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLPRI | select.POLLERR)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            ready = poller.poll()
            if self._stopping or any(fd == self._wake_r for fd, _ in ready):
                return
            new = self._read()
            added = [{"mountpoint": mp, "device": dev, "fs_type": fs} for mp, (dev, fs) in new.items()
                     if self.mounts.get(mp) != (dev, fs)]
            removed = [mp for mp in self.mounts if mp not in new]
            self.mounts = new
            if added or removed:
                self.events += 1
                emit(Trigger(self.name, "devices", "mount", {"added": added, "removed": removed}))

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
