"""Who a process is, read from /proc/PID when we ask: bounded reads, links read and never followed.

Everything under /proc/PID belongs to a process that may be hostile and may be gone by the time
we look. ``status`` is read once with a bound (the fields we need are in its first few hundred
bytes); ``exe`` is read with ``readlink`` and never opened; ``comm`` is whatever the process chose
to call itself (``prctl(PR_SET_NAME)``), so it is a hint next to ``exe``, never a substitute.

``loginuid`` and ``sessionid`` are the audit login identity: set by pam_loginuid at login and kept
across ``sudo``, ``su`` and setuid programs, so they name the person behind a root shell. They read
"unset" (4294967295) for processes not started from a login (daemons, cron without PAM).

``exe`` of another user's process needs ptrace read access (``CAP_SYS_PTRACE`` for a root daemon
whose uid differs); without it the field is None and ``note`` says why.
"""

from __future__ import annotations

import errno
import os
import pwd
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


def _ids(v: Optional[bytes]) -> tuple[Optional[int], Optional[int]]:
    try:
        f = (v or b"").split()
        return int(f[0]), int(f[1])
    except (ValueError, IndexError):
        return None, None


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
    uid, euid = _ids(st.get("Uid"))
    try:
        ppid: Optional[int] = int(st.get("PPid", b""))
    except ValueError:
        ppid = None
    state = st.get("State", b"")
    exited = state[:1] in (b"Z", b"X")
    notes = []
    exe = None
    try:
        exe = os.readlink(f"{base}/exe")
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            notes.append("executable unreadable: not permitted (needs CAP_SYS_PTRACE)")
        elif exc.errno == errno.ENOENT and not exited and ppid in (0, 2):
            notes.append("no executable: a kernel thread")
        elif exited or exc.errno in (errno.ENOENT, errno.ESRCH):
            exited = True
            notes.append("process exited before its executable could be read")
        else:
            notes.append(f"executable unreadable: {exc.strerror}")
    loginuid = _audit_id(f"{base}/loginuid")
    name = st.get("Name")
    return Process(pid, "exited" if exited else "running", uid=uid, euid=euid, user=users.name(uid), exe=exe,
                   comm=None if name is None else name.decode("utf-8", "surrogateescape"), ppid=ppid,
                   loginuid=loginuid, login_user=users.name(loginuid), sessionid=_audit_id(f"{base}/sessionid"),
                   note="; ".join(notes) or None)


_USERS = UserNames()
