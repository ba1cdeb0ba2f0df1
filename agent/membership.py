"""Which USB and block devices are attached follows the uevents; sysfs only describes them.

The kernel sends a device's ``remove`` uevent before its sysfs entries are gone, and the daemon's
udev thread may read a uevent only after the main loop has re-read sysfs. Either way a re-read
judged on its own can contradict the uevents read so far: a device reported removed is found
again (its violation never clears: the loss issue 10 names), or a device is missing before its
remove uevent was read (a ``cleared`` blamed on the plug-in's triggers, with a wrong latency).

So between full re-reads the set of devices changes only with uevents:

* a device at or below a sys path whose ``remove`` uevent was read is dropped from every re-read
  until an ``add`` uevent at, above or below that path arrives (no resurrection);
* a device known before, missing from a re-read, whose remove was not read yet, is kept with its
  last description until that uevent arrives (the change is judged in the batch of its cause).

A full re-read (start-up, reload, the periodic reconcile, any monitoring gap) trusts sysfs again,
except for devices reported removed that sysfs still lists. Block devices carry no sys path in
the facts: they are matched by kernel name (``sdb``). Only the kernel (root) sends uevents, so a
local user cannot hide or keep a device this way.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any, Mapping

from bmnn_guard.policies import facts as F

REMOVE_ACTIONS = ("remove", "unbind")
ADD_ACTIONS = ("add", "bind")
MAX_MARKS = 1024
"""Removal marks kept (each one path); the oldest go first."""


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _related(a: str, b: str) -> bool:
    return _under(a, b) or _under(b, a)


class UeventMembership:
    """Removal marks from uevents, applied to each devices re-read.

    ``note`` runs in the udev source's thread, in the order the uevents arrived; ``apply`` runs
    on the main loop. Both take the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, None] = {}  # removed sys paths, oldest first
        self._block: set[str] = set()  # removed block device names

    def note(self, detail: Mapping[str, Any]) -> None:
        """Remember a removal, or forget one when the device is added again."""
        path, action = detail.get("sys_path"), detail.get("action")
        if not isinstance(path, str) or not path:
            return
        block = detail.get("subsystem") == "block"
        with self._lock:
            if action in REMOVE_ACTIONS:
                self._paths[path] = None
                while len(self._paths) > MAX_MARKS:
                    del self._paths[next(iter(self._paths))]
                if block:
                    self._block.add(os.path.basename(path))
            elif action in ADD_ACTIONS:
                for p in [p for p in self._paths if _related(p, path)]:
                    del self._paths[p]
                if block:
                    self._block.discard(os.path.basename(path))

    def forget(self) -> None:
        """Drop every mark (after a udev gap: uevents were lost, sysfs is the only truth left)."""
        with self._lock:
            self._paths.clear()
            self._block.clear()

    def removed(self, sys_path: str) -> bool:
        """A remove uevent was read for this path or one above it, and no add since."""
        with self._lock:
            return any(_under(sys_path, p) for p in self._paths)

    def apply(self, new: F.DeviceFacts, old: F.DeviceFacts, *, full: bool) -> F.DeviceFacts:
        """``new`` (a sysfs re-read) made consistent with the uevents read so far; ``old`` is the
        previous devices facts; ``full``: a full re-read, where sysfs wins except for removals."""
        with self._lock:
            paths, block = list(self._paths), set(self._block)
        gone = lambda p: any(_under(p, m) for m in paths)  # noqa: E731
        usb = [u for u in new.usb if not gone(u.sys_path)]
        blk = [b for b in new.block if b.name not in block]
        if not full:
            seen_usb = {u.sys_path for u in new.usb}
            seen_blk = {b.name for b in new.block}
            usb += [u for u in old.usb if u.sys_path not in seen_usb and not gone(u.sys_path)]
            blk += [b for b in old.block if b.name not in seen_blk and b.name not in block]
        else:  # marks of devices sysfs no longer lists are done with
            listed = [u.sys_path for u in new.usb]
            names = {b.name for b in new.block}
            with self._lock:
                for m in [m for m in self._paths if m in paths and not any(_under(s, m) for s in listed)
                          and os.path.basename(m) not in names]:
                    del self._paths[m]
                self._block &= names | (self._block - block)
        if usb == list(new.usb) and blk == list(new.block):
            return new
        return dataclasses.replace(new, usb=tuple(sorted(usb, key=lambda u: u.sys_path)), block=tuple(blk))
