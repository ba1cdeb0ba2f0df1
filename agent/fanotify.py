"""fanotify(7) through ctypes: one notification group, filesystem marks, events parsed with bounds.

Why ctypes and not a binding: libc has carried ``fanotify_init``/``fanotify_mark`` since glibc
2.13, the interface is two calls and one fixed-size record, and the bindings on PyPI are thin or
unsuited to a root daemon (pyfanotify 0.3.0 always asks for an unlimited queue, runs its reader as
a ``multiprocessing`` child and passes every event's open file to its clients over a socket;
butter 0.13.1 was last released in 2021). Measured figures are in docs/performance.md (``python -m bench access``).

Decisions (docs/agent.md, "Who did it", says why at length):

* fd-based events (``FAN_CLASS_NOTIF``), not ``FAN_REPORT_FID``: FID mode needs the filesystem
  to encode file handles, which exFAT (most USB sticks over 32 GB) cannot before Linux 6.5, and
  turning a handle back into a path costs an ``open_by_handle_at`` per event. An event's fd is an
  open file of a hostile user's choosing: it is never read, only ``fstat``-ed and resolved with
  ``readlink`` on ``/proc/self/fd``, and closed at once.
* ``FAN_MARK_FILESYSTEM``, not ``FAN_MARK_MOUNT``: the unit runs with ``PrivateMounts=yes``, so the
  daemon's mounts are copies; a mount mark on a copy sees only the daemon's own accesses (tried:
  zero events from the host's namespace). A filesystem mark sees every mount of the filesystem.
* ``FAN_REPORT_PIDFD`` (Linux 5.15) when the kernel has it: the pidfd pins the acting process, so
  what ``/proc/PID`` says can be checked to belong to it and not to a later process given the same
  pid; ``FAN_REPORT_FD_ERROR`` (6.13) so that an fd the kernel could not open is reported, not
  silently dropped. Both are asked for and given up when the kernel refuses them (EINVAL).
* A bounded queue (the kernel's ``max_queued_events``), never ``FAN_UNLIMITED_QUEUE``: every queued
  event pins kernel memory, and a user must not be able to grow it without bound by opening files
  faster than we read; an overflow is reported (``FAN_Q_OVERFLOW``) and becomes a gap.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct
from typing import NamedTuple, Optional

# events (linux/fanotify.h)
FAN_ACCESS = 0x01
FAN_MODIFY = 0x02
FAN_CLOSE_WRITE = 0x08
FAN_CLOSE_NOWRITE = 0x10
FAN_OPEN = 0x20
FAN_OPEN_EXEC = 0x1000
FAN_Q_OVERFLOW = 0x4000
FAN_ONDIR = 0x40000000

# fanotify_init flags
FAN_CLOEXEC = 0x01
FAN_NONBLOCK = 0x02
FAN_CLASS_NOTIF = 0x00
FAN_UNLIMITED_QUEUE = 0x10
FAN_REPORT_PIDFD = 0x80
FAN_REPORT_FD_ERROR = 0x2000

# fanotify_mark flags
FAN_MARK_ADD = 0x01
FAN_MARK_REMOVE = 0x02
FAN_MARK_DONT_FOLLOW = 0x04
FAN_MARK_MOUNT = 0x10
FAN_MARK_FILESYSTEM = 0x100

FANOTIFY_METADATA_VERSION = 3
FAN_NOFD = -1
FAN_NOPIDFD = -1
FAN_EPIDFD = -2
FAN_EVENT_INFO_TYPE_PIDFD = 4
AT_FDCWD = -100

METADATA = struct.Struct("=IBBHQii")
"""struct fanotify_event_metadata: event_len, vers, reserved, metadata_len, mask, fd, pid."""
INFO_HEADER = struct.Struct("=BBH")
"""struct fanotify_event_info_header: info_type, pad, len."""
PIDFD_INFO = struct.Struct("=i")

EVENT_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_LARGEFILE | os.O_NONBLOCK
"""How the kernel opens each event's file for us. O_NONBLOCK: a FIFO opened for an event must never
block the kernel's open on a missing writer."""

CAP_SYS_ADMIN = 21


class RawEvent(NamedTuple):
    """One fanotify record as the kernel gave it. ``fd`` and ``pidfd`` are ours to close. (A named
    tuple, not a dataclass: a filesystem mark yields tens of thousands of these a second, and
    most are dropped at once.)"""

    mask: int
    """FAN_* bits (merged events carry several)."""
    fd: int
    """Open file of the event (never read it), FAN_NOFD for an overflow, or -errno with FD_ERROR."""
    pid: int
    """Thread group id of the process that caused the event (0 when the kernel withheld it)."""
    pidfd: Optional[int]
    """A pidfd of that process; None without FAN_REPORT_PIDFD; FAN_NOPIDFD (-1) when the process was
    reaped before the event was read, another negative value when the kernel could not make one."""


class FanotifyUnavailable(Exception):
    """fanotify cannot be used here; ``reason`` says why in one line (shown in the record)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_libc = None


def _lib():
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        try:
            lib.fanotify_init.argtypes = [ctypes.c_uint, ctypes.c_uint]
            lib.fanotify_init.restype = ctypes.c_int
            lib.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int, ctypes.c_char_p]
            lib.fanotify_mark.restype = ctypes.c_int
        except AttributeError:
            raise FanotifyUnavailable("the C library has no fanotify_init/fanotify_mark") from None
        _libc = lib
    return _libc


def has_capability(cap: int, status_path: str = "/proc/self/status") -> Optional[bool]:
    """Whether this process holds ``cap`` in its effective set (None when it cannot be told)."""
    try:
        with open(status_path, "rb") as fh:
            for line in fh.read(8192).splitlines():
                if line.startswith(b"CapEff:"):
                    return bool(int(line.split()[1], 16) >> cap & 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def _init_reason(err: int) -> str:
    if err == errno.EPERM:
        if has_capability(CAP_SYS_ADMIN) is False:
            return "no CAP_SYS_ADMIN"
        return "fanotify_init refused (EPERM) although CAP_SYS_ADMIN is held: a system-call filter or security module blocks it"
    if err == errno.ENOSYS:
        return "the kernel has no fanotify (CONFIG_FANOTIFY) or a system-call filter hides it"
    if err == errno.EMFILE:
        return "too many fanotify groups (fs.fanotify.max_user_groups)"
    return f"fanotify_init failed: {errno.errorcode.get(err, err)} ({os.strerror(err)})"


def mark_reason(err: int) -> str:
    """Why a filesystem refused the mark, in one line."""
    names = {errno.EXDEV: "the filesystem refuses filesystem marks on this path (EXDEV, e.g. a btrfs subvolume)",
             errno.EINVAL: "the filesystem cannot be marked (EINVAL: a kernel-internal or pseudo filesystem)",
             errno.ENODEV: "the filesystem cannot be marked (ENODEV)",
             errno.EOPNOTSUPP: "the filesystem does not support fanotify (EOPNOTSUPP)",
             errno.ENOSPC: "too many fanotify marks (fs.fanotify.max_user_marks)",
             errno.ENOENT: "the path does not exist",
             errno.ENOTDIR: "the path is not a directory"}
    return names.get(err, f"fanotify_mark failed: {errno.errorcode.get(err, err)} ({os.strerror(err)})")


class Group:
    """One fanotify group (a file descriptor), opened non-blocking with close-on-exec."""

    OPTIONAL_FLAGS = (FAN_REPORT_PIDFD | FAN_REPORT_FD_ERROR, FAN_REPORT_PIDFD, 0)

    def __init__(self, *, pidfd: bool = True, event_flags: int = EVENT_FLAGS):
        lib = _lib()
        last = 0
        for extra in self.OPTIONAL_FLAGS if pidfd else (FAN_REPORT_FD_ERROR, 0):
            fd = lib.fanotify_init(FAN_CLOEXEC | FAN_NONBLOCK | FAN_CLASS_NOTIF | extra, event_flags)
            if fd >= 0:
                self.fd = fd
                self.flags = extra
                return
            last = ctypes.get_errno()
            if last != errno.EINVAL:  # EINVAL: this kernel lacks the flag, try with fewer
                break
        raise FanotifyUnavailable(_init_reason(last))

    @property
    def reports_pidfd(self) -> bool:
        """Events carry a pidfd (Linux 5.15 and later)."""
        return bool(self.flags & FAN_REPORT_PIDFD)

    def mark(self, path: str, mask: int, *, remove: bool = False, kind: int = FAN_MARK_FILESYSTEM) -> None:
        """Add (or remove) ``mask`` on the filesystem holding ``path``; OSError with errno on refusal."""
        op = FAN_MARK_REMOVE if remove else FAN_MARK_ADD
        rc = _lib().fanotify_mark(self.fd, op | kind | FAN_MARK_DONT_FOLLOW, mask, AT_FDCWD, os.fsencode(path))
        if rc < 0:
            err = ctypes.get_errno()
            raise OSError(err, mark_reason(err), path)

    def read(self, size: int) -> list[RawEvent]:
        """The events one read() returns (BlockingIOError when there are none)."""
        return parse(os.read(self.fd, size))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class MalformedEvent(Exception):
    """The kernel's buffer did not parse (a version we do not know, lengths out of bounds)."""


PIDFD_RECORD = struct.Struct("=IBBHQiiBBHi")
"""The usual record with FAN_REPORT_PIDFD: metadata and one pidfd info record, 32 bytes."""


def parse(buf: bytes) -> list[RawEvent]:
    """Split a read() buffer into events. Every fd and pidfd in a well-formed record is returned even
    when a later record is malformed (then MalformedEvent carries the good ones in ``args[1]``), so
    that the caller can close them all."""
    n = len(buf)
    if n and n % PIDFD_RECORD.size == 0:  # fast path: every record is metadata + pidfd, 32 bytes
        recs = list(PIDFD_RECORD.iter_unpack(buf))
        if all(r[0] == 32 and r[1] == FANOTIFY_METADATA_VERSION and r[3] == 24 and r[7] == FAN_EVENT_INFO_TYPE_PIDFD
               and r[9] == 8 for r in recs):
            return [RawEvent(r[4], r[5], r[6], r[10]) for r in recs]
    out: list[RawEvent] = []
    off, end = 0, n
    while off + METADATA.size <= end:
        ln, vers, _, mlen, mask, fd, pid = METADATA.unpack_from(buf, off)
        if vers != FANOTIFY_METADATA_VERSION or mlen < METADATA.size or ln < mlen or off + ln > end:
            if vers == FANOTIFY_METADATA_VERSION and fd >= 0:
                out.append(RawEvent(mask, fd, pid, None))
            raise MalformedEvent(f"fanotify record at offset {off}: version {vers}, length {ln}/{mlen}", out)
        pidfd: Optional[int] = None
        info = off + mlen
        while info + INFO_HEADER.size <= off + ln:
            itype, _, ilen = INFO_HEADER.unpack_from(buf, info)
            if ilen < INFO_HEADER.size or info + ilen > off + ln:
                break
            if itype == FAN_EVENT_INFO_TYPE_PIDFD and ilen >= INFO_HEADER.size + PIDFD_INFO.size:
                pidfd = PIDFD_INFO.unpack_from(buf, info + INFO_HEADER.size)[0]
            info += ilen
        out.append(RawEvent(mask, fd, pid, pidfd))
        off += ln
    return out


def close_all(events: list[RawEvent]) -> None:
    """Close every descriptor the kernel handed us with ``events``."""
    for ev in events:
        for fd in (ev.fd, ev.pidfd):
            if fd is not None and fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
