"""Who was logged in: login sessions from /var/log/wtmp and /run/utmp, the way ``last`` pairs them.

Both files are arrays of glibc's ``struct utmp`` (384 bytes on Linux, little-endian, 32-bit
times): type, pid, line, id, user, host, exit status, session, time (seconds, microseconds),
IPv6 address. A session opens with a USER_PROCESS record on a line (tty/pts) and ends with the
next DEAD_PROCESS or USER_PROCESS on the same line, at a reboot (BOOT_TIME: the session "crashed")
or at a shutdown (RUN_LVL "shutdown"); what /run/utmp still lists is logged in now.

The files are written by login programs any local user can drive (the host and user fields of a
remote login are what the client sent), so they are parsed as hostile input: opened without
following links and without blocking (``safeio``), only the last ``MAX_BYTES`` read, a trailing
partial record ignored and said so, unknown record types skipped, text fields cut at their first
NUL and decoded with replacement characters, impossible times dropped. Nothing here judges.
"""

from __future__ import annotations

import datetime as dt
import os
import struct
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .safeio import NotRegular, open_regular

WTMP = "/var/log/wtmp"
UTMP = "/run/utmp"
RECORD = struct.Struct("<hhi32s4s32s256shhiii4i20s")
SIZE = RECORD.size  # 384
MAX_BYTES = 64 * 1024 * 1024
"""At most this much of the end of a file is read (~170,000 records)."""
RUN_LVL, BOOT_TIME, USER_PROCESS, DEAD_PROCESS = 1, 2, 7, 8
TYPES = range(0, 10)
_MAX_TIME = 2 ** 32  # struct utmp's seconds are 32 bits wide


@dataclass(frozen=True)
class Entry:
    """One record of a utmp-format file (only the fields a session needs)."""

    type: int
    pid: int
    line: str
    user: str
    host: str
    time: dt.datetime


@dataclass(frozen=True)
class Session:
    """One login, from login to logout (or to what ended it)."""

    user: str
    line: str
    host: str
    login: dt.datetime
    logout: Optional[dt.datetime]
    """None while logged in, or when the file ends before a logout."""
    end: str
    """logout, replaced (another login on the same line), crash (reboot without logout), down
    (shutdown), logged_in (listed in utmp now), unknown (the file ends first)."""
    pid: int = 0

    def overlaps(self, start: Optional[dt.datetime], stop: Optional[dt.datetime]) -> bool:
        """True when the session was open at some time in [start, stop] (None: unbounded)."""
        if stop is not None and self.login > stop:
            return False
        if start is not None and self.logout is not None and self.logout < start:
            return False
        return True

    def at(self, t: dt.datetime) -> bool:
        """Logged in at ``t``."""
        return self.login <= t and (self.logout is None or self.logout >= t)


@dataclass(frozen=True)
class Reading:
    """What was read from one file."""

    path: str
    present: bool
    entries: tuple[Entry, ...] = ()
    notes: tuple[str, ...] = ()
    """What was odd (partial record, records skipped, file cut), in English."""
    error: Optional[str] = None
    """Why the file could not be read (None when it was, or is absent)."""


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


def parse(data: bytes) -> tuple[list[Entry], list[str]]:
    """Entries of a utmp-format byte string, and notes about what was skipped."""
    notes: list[str] = []
    whole = len(data) - len(data) % SIZE
    if whole != len(data):
        notes.append(f"{len(data) - whole} trailing bytes are not a whole record: ignored")
    out: list[Entry] = []
    bad = 0
    for off in range(0, whole, SIZE):
        (typ, _pad, pid, line, _id, user, host, _term, _exit, _session, sec, usec, *_rest) = RECORD.unpack_from(data, off)
        if typ not in TYPES or not 0 <= sec < _MAX_TIME or not 0 <= usec < 1_000_000:
            bad += 1
            continue
        if typ not in (RUN_LVL, BOOT_TIME, USER_PROCESS, DEAD_PROCESS):
            continue
        t = dt.datetime.fromtimestamp(sec, dt.timezone.utc).replace(microsecond=usec)
        out.append(Entry(typ, pid, _text(line), _text(user), _text(host), t))
    if bad:
        notes.append(f"{bad} records with an unknown type or an impossible time: skipped")
    return out, notes


def read(path: str, max_bytes: int = MAX_BYTES) -> Reading:
    """The entries of the utmp-format file at ``path`` (the last ``max_bytes`` of it)."""
    try:
        opened = open_regular(path)
    except FileNotFoundError:
        return Reading(path, False)
    except OSError as exc:
        return Reading(path, True, error=exc.strerror or str(exc))
    if isinstance(opened, NotRegular):
        return Reading(path, True, error=f"not a regular file ({opened.type}): not read")
    with opened:
        size = opened.stat.st_size
        start = 0
        notes = []
        if size > max_bytes:
            start = size - (max_bytes - max_bytes % SIZE)
            start -= start % SIZE
            notes.append(f"only the last {size - start} of {size} bytes read")
        chunks, off = [], start
        while off < size:
            data = os.pread(opened.fd, min(1 << 20, size - off), off)
            if not data:
                break
            chunks.append(data)
            off += len(data)
    entries, more = parse(b"".join(chunks))
    return Reading(path, True, tuple(entries), tuple(notes + more))


def sessions(wtmp: Iterable[Entry], utmp: Iterable[Entry] = ()) -> list[Session]:
    """Sessions in login order, paired the way ``last`` pairs them; ``utmp`` marks who is on now
    (and adds current sessions a missing or rotated wtmp does not show)."""
    now_on = {(e.line, e.user, e.pid): e for e in utmp if e.type == USER_PROCESS and e.user}
    out: list[Session] = []
    open_: dict[str, Entry] = {}

    def close(line: str, t: Optional[dt.datetime], end: str) -> None:
        e = open_.pop(line)
        out.append(Session(e.user, e.line, e.host, e.time, t, end, e.pid))

    for e in sorted(wtmp, key=lambda x: x.time):
        if e.type == USER_PROCESS and e.user and e.line:
            if e.line in open_:
                close(e.line, e.time, "replaced")
            open_[e.line] = e
        elif e.type == DEAD_PROCESS and e.line in open_:
            close(e.line, e.time, "logout")
        elif e.type == BOOT_TIME or (e.type == RUN_LVL and e.user == "shutdown"):
            for line in list(open_):
                close(line, e.time, "crash" if e.type == BOOT_TIME else "down")
    for line, e in list(open_.items()):
        on = (e.line, e.user, e.pid) in now_on
        out.append(Session(e.user, e.line, e.host, e.time, None, "logged_in" if on else "unknown", e.pid))
        now_on.pop((e.line, e.user, e.pid), None)
    for e in now_on.values():  # on now, but not in wtmp (rotated, or not kept on this machine)
        out.append(Session(e.user, e.line, e.host, e.time, None, "logged_in", e.pid))
    return sorted(out, key=lambda s: (s.login, s.line))


@dataclass(frozen=True)
class Logins:
    """The sessions of a machine and where they came from."""

    sessions: tuple[Session, ...]
    sources: tuple[Reading, ...] = field(default=())


def read_logins(wtmp_path: str = WTMP, utmp_path: str = UTMP) -> Logins:
    """Sessions from the machine's wtmp and utmp (either may be missing)."""
    w, u = read(wtmp_path), read(utmp_path)
    return Logins(tuple(sessions(w.entries, u.entries)), (w, u))


def to_dict(s: Session) -> dict:
    """A session as JSON-ready data (times in UTC ISO 8601)."""
    return {"user": s.user, "line": s.line, "host": s.host or None, "pid": s.pid,
            "login": s.login.isoformat(timespec="seconds"),
            "logout": s.logout.isoformat(timespec="seconds") if s.logout else None, "end": s.end}
