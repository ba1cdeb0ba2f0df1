"""Who a process is, read from /proc/PID when we ask: bounded reads, links read and never followed.

Everything under /proc/PID belongs to a process that may be hostile and may be gone by the time
we look. ``status`` is read once with a bound (the fields we need are in its first few hundred
bytes); ``exe`` is read with ``readlink`` and never opened; ``comm`` is whatever the process chose
to call itself (``prctl(PR_SET_NAME)``), so it is a hint next to ``exe``, never a substitute.

``loginuid`` and ``sessionid`` are the audit login identity: set by pam_loginuid at login and kept
across ``sudo``, ``su`` and setuid programs, so they name the person behind a root shell. They read
"unset" (4294967295) for processes not started from a login (daemons, cron without PAM).

``exe`` of another user's process needs ptrace read access, which the kernel grants a caller
whose *filesystem* uid and gid equal the target's uids and gids, or one with ``CAP_SYS_PTRACE``.
The unit does not give the daemon CAP_SYS_PTRACE (with it, /proc/PID/mem of every process would be
writable to a compromised daemon), so for an ordinary process (one uid, one gid, dumpable) the
reading thread takes that process's fsuid/fsgid for the one ``readlink`` and returns to 0 at once
(``setfsuid`` is per thread; CAP_SETUID/CAP_SETGID allow it). A root process holds capabilities the
daemon lacks, so its ``exe`` stays None with a ``note``, unless the unit is given CAP_SYS_PTRACE;
its ``loginuid`` still names the person.
"""

from __future__ import annotations

import ctypes
import errno
import os
import pwd
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

UNSET_ID = 4294967295
"""(uid_t)-1: loginuid/sessionid of a process that never logged in."""
STATUS_BOUND = 1024
"""Bytes of /proc/PID/status read; Name, State, PPid, Uid and Gid come first."""


@dataclass(frozen=True, slots=True)
class Process:
    """One process as /proc showed it."""

    pid: int
    """Process (thread group) id."""
    state: str
    """"running"; "exited" (a zombie, or gone: only ``pid`` is then certain); "unknown" (unreadable)."""
    uid: Optional[int] = None
    """Real user id (who started it)."""
    euid: Optional[int] = None
    """Effective user id (differs from ``uid`` in a setuid program)."""
    user: Optional[str] = None
    """Name of ``uid`` (None when no account has it)."""
    exe: Optional[str] = None
    """The executable's path from the ``exe`` link ("... (deleted)" when it was removed)."""
    comm: Optional[str] = None
    """The process's own name for itself (``comm``, kernel-escaped): a hint, not proof."""
    ppid: Optional[int] = None
    """Parent process id."""
    loginuid: Optional[int] = None
    """Audit login uid (None when unset): the person behind sudo/su."""
    login_user: Optional[str] = None
    """Name of ``loginuid``."""
    sessionid: Optional[int] = None
    """Audit session id (None when unset)."""
    note: Optional[str] = None
    """What could not be read, and why."""


class UserNames:
    """uid -> account name through NSS, cached (a lookup may reach LDAP), misses retried soon."""

    def __init__(self, ttl: float = 300.0, miss_ttl: float = 5.0, limit: int = 4096,
                 clock: Callable[[], float] = time.monotonic):
        self.ttl, self.miss_ttl, self.limit, self.clock = ttl, miss_ttl, limit, clock
        self._cache: dict[int, tuple[Optional[str], float]] = {}

    def name(self, uid: Optional[int]) -> Optional[str]:
        if uid is None:
            return None
        now = self.clock()
        hit = self._cache.get(uid)
        if hit is not None and now < hit[1]:
            return hit[0]
        try:
            name: Optional[str] = pwd.getpwuid(uid).pw_name
        except (KeyError, OverflowError):
            name = None
        if len(self._cache) >= self.limit:
            self._cache.clear()
        self._cache[uid] = (name, now + (self.ttl if name is not None else self.miss_ttl))
        return name


def _read(path: str, bound: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    try:
        return os.read(fd, bound)
    finally:
        os.close(fd)


def _audit_id(path: str) -> Optional[int]:
    try:
        v = int(_read(path, 32).strip() or b"-1")
    except (OSError, ValueError):
        return None
    return None if v < 0 or v == UNSET_ID else v


def parse_status(data: bytes) -> dict[str, bytes]:
    """The complete ``Key:\\tvalue`` lines of a (possibly truncated) status read."""
    out: dict[str, bytes] = {}
    lines = data.split(b"\n")
    if not data.endswith(b"\n"):
        lines = lines[:-1]  # the bound cut the last line
    for line in lines:
        k, sep, v = line.partition(b":")
        if sep:
            out[k.decode("ascii", "replace")] = v.strip()
    return out


def _ids(v: Optional[bytes]) -> tuple[int, ...]:
    """real, effective, saved, filesystem ids of a Uid:/Gid: line (empty when unreadable)."""
    try:
        f = tuple(int(x) for x in (v or b"").split())
    except ValueError:
        return ()
    return f if len(f) == 4 else ()


class _FsIds:
    """setfsuid/setfsgid of the calling thread (glibc does not broadcast them to other threads)."""

    _lock = threading.Lock()
    _libc = None

    @classmethod
    def lib(cls):
        if cls._libc is None:
            lib = ctypes.CDLL(None, use_errno=True)
            for name in ("setfsuid", "setfsgid"):
                getattr(lib, name).argtypes = [ctypes.c_uint]
                getattr(lib, name).restype = ctypes.c_int
            cls._libc = lib
        return cls._libc

    @classmethod
    def readlink_as(cls, path: str, uid: int, gid: int) -> str:
        """readlink with this thread's fsuid/fsgid set to uid/gid, then back to what they were."""
        lib = cls.lib()
        old_gid = lib.setfsgid(gid)
        old_uid = lib.setfsuid(uid)
        try:
            return os.readlink(path)
        finally:
            lib.setfsuid(old_uid)
            lib.setfsgid(old_gid)
            # setfsuid(-1) fails and returns the current value: check that we are back
            if lib.setfsuid(0xFFFFFFFF) != old_uid or lib.setfsgid(0xFFFFFFFF) != old_gid:
                raise RuntimeError("could not restore this thread's filesystem uid/gid")


_can_switch: Optional[bool] = None


def can_switch_fsids() -> bool:
    """Root (euid 0) holding CAP_SETUID and CAP_SETGID: allowed to take another fsuid for a moment."""
    global _can_switch
    if _can_switch is None:
        from .fanotify import has_capability
        _can_switch = os.geteuid() == 0 and bool(has_capability(7)) and bool(has_capability(6))
    return _can_switch


def read_exe(pid: int, uids: tuple[int, ...], gids: tuple[int, ...],
             proc: str = "/proc") -> tuple[Optional[str], Optional[str], bool]:
    """(exe path, note, gone): the ``exe`` link, read as the process's own fsuid/fsgid when ours is
    refused; ``gone`` when the link does not exist (the process exited, or is a kernel thread)."""
    path = f"{proc}/{pid}/exe"
    try:
        return os.readlink(path), None, False
    except OSError as exc:
        err = exc
    plain = bool(uids) and bool(gids) and len(set(uids)) == 1 and len(set(gids)) == 1 and uids[0] != 0
    if err.errno in (errno.EACCES, errno.EPERM) and plain and can_switch_fsids():
        try:
            return _FsIds.readlink_as(path, uids[0], gids[0]), None, False
        except OSError as exc:
            err = exc
    if err.errno in (errno.ENOENT, errno.ESRCH):
        return None, None, True
    if err.errno in (errno.EACCES, errno.EPERM):
        why = "not dumpable or refused" if plain else "a root or setuid process"
        return None, f"executable unreadable: not permitted ({why}; needs CAP_SYS_PTRACE)", False
    return None, f"executable unreadable: {err.strerror}", False


def read_ppid(pid: int, proc: str = "/proc") -> Optional[int]:
    """The parent pid alone (None when the process is gone or unreadable)."""
    try:
        return int(parse_status(_read(f"{proc}/{pid}/status", STATUS_BOUND)).get("PPid", b""))
    except (OSError, ValueError):
        return None


def read_process(pid: int, users: Optional[UserNames] = None, proc: str = "/proc") -> Process:
    """What /proc/PID says now. Never raises for a process that is gone or unreadable: the
    answer is then ``state="exited"`` (or fields left None) with ``note`` saying why."""
    users = users or _USERS
    base = f"{proc}/{pid}"
    try:
        st = parse_status(_read(f"{base}/status", STATUS_BOUND))
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ESRCH):
            return Process(pid, "exited", note="process exited before it could be read")
        return Process(pid, "unknown", note=f"status unreadable: {exc.strerror}")
    uids, gids = _ids(st.get("Uid")), _ids(st.get("Gid"))
    uid, euid = (uids[0], uids[1]) if uids else (None, None)
    try:
        ppid: Optional[int] = int(st.get("PPid", b""))
    except ValueError:
        ppid = None
    exited = st.get("State", b"")[:1] in (b"Z", b"X")
    exe, note, gone = read_exe(pid, uids, gids, proc)
    if gone:  # no mm any more, or never had one
        if not exited and ppid in (0, 2):
            note = "no executable: a kernel thread"
        else:
            exited = True
            note = "process exited before its executable could be read"
    loginuid = _audit_id(f"{base}/loginuid")
    name = st.get("Name")
    return Process(pid, "exited" if exited else "running", uid=uid, euid=euid, user=users.name(uid), exe=exe,
                   comm=None if name is None else name.decode("utf-8", "surrogateescape"), ppid=ppid,
                   loginuid=loginuid, login_user=users.name(loginuid), sessionid=_audit_id(f"{base}/sessionid"),
                   note=note)


_USERS = UserNames()
