"""Who did it: the process behind each write and read in marked folders and on removable media.

inotify (the folder watch) says *what* changed, never *who*. This source asks fanotify: one
group, a filesystem mark on each filesystem holding a marked folder or a medium, and for every
event inside those roots the acting process read from /proc at once (agent/procinfo.py). Events
elsewhere on the same filesystem are dropped after one ``readlink``. Each kept event becomes a
frozen ``FileAccess``, goes into a bounded history that the watcher asks "who last wrote (or read)
this file?" when it journals an inotify event, and is passed to the callback.

Design (docs/agent.md, "Who did it"):

* events: ``FAN_MODIFY | FAN_CLOSE_WRITE`` for writes, ``FAN_CLOSE_NOWRITE`` for reads, and
  ``FAN_OPEN`` because it is the earliest sign of an access: a short-lived ``cp`` is often gone by
  its close, and what was read at its open is remembered for its later events. ``FAN_ACCESS``
  (one event per read(2), none for mmap) and ``FAN_OPEN_EXEC`` are not asked for.
* the acting process: with ``FAN_REPORT_PIDFD`` the kernel pins the process; /proc/PID is read and
  then the pidfd is checked to be still alive, so the answer cannot come from a later process that
  was given the same pid. A process already reaped when its event is read is reported "exited",
  with what an earlier event of that pid showed (at most ``remember_seconds`` before) or the pid alone.
* the daemon's own reads (hashing, content workers) are dropped: our pid at once, our children
  and grandchildren by their parent pid.
* a queue overflow (``FAN_Q_OVERFLOW``) or an event whose file the kernel could not open is a
  gap (coalesced: at most one ``AccessGap`` every ``gap_interval`` seconds, with the count); the
  inotify watch still has the file events, only the acting process of some of them is unknown.
* where fanotify cannot be used (no CAP_SYS_ADMIN, no kernel support, a filesystem refusing the
  mark) the source still starts, ``available``/``reason`` say why, and ``attribution()`` returns
  "acting process unknown: ... ; owner shown" for the record.
"""

from __future__ import annotations

import errno
import os
import pwd
import select
import signal
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from .. import fanotify as fa
from ..procinfo import Process, UserNames, read_ppid, read_process

WRITE, READ, OPEN = "write", "read", "open"
KINDS = (WRITE, READ, OPEN)
DEFAULT_MASK = fa.FAN_MODIFY | fa.FAN_CLOSE_WRITE | fa.FAN_CLOSE_NOWRITE | fa.FAN_OPEN
READ_SIZE = 4096
"""Bytes per read(): at most 128 events, i.e. 256 descriptors (event fd + pidfd) open at once."""
FD_HEADROOM = 4096
"""The soft RLIMIT_NOFILE we make sure of (the kernel silently drops an event it cannot open an fd
for, before Linux 6.13)."""

MARKED, MEDIA = "marked", "media"

# Sentences a person reads (vi, en); the journal keeps the code and the English text.
_T: dict[str, tuple[str, str]] = {
    "fanotify_unavailable": ("không rõ tiến trình thực hiện: không dùng được fanotify ({reason}); ghi chủ sở hữu tệp",
                             "acting process unknown: fanotify unavailable ({reason}); owner shown"),
    "not_marked": ("không rõ tiến trình thực hiện: không theo dõi được hệ thống tệp này ({reason}); ghi chủ sở hữu tệp",
                   "acting process unknown: this filesystem cannot be watched ({reason}); owner shown"),
    "overflow": ("không rõ tiến trình thực hiện: hàng đợi fanotify bị tràn, mất sự kiện; ghi chủ sở hữu tệp",
                 "acting process unknown: the fanotify queue overflowed and events were lost; owner shown"),
    "not_seen": ("không rõ tiến trình thực hiện: không có sự kiện fanotify cho tệp này trong {within:g} giây; ghi chủ sở hữu tệp",
                 "acting process unknown: no fanotify event for this file within {within:g} s; owner shown"),
    "not_started": ("không rõ tiến trình thực hiện: bộ theo dõi fanotify chưa chạy; ghi chủ sở hữu tệp",
                    "acting process unknown: the fanotify watch is not running; owner shown"),
}


def describe(code: str, lang: str = "en", **kw: Any) -> str:
    """One sentence for a person, in Vietnamese (default elsewhere) or English."""
    vi, en = _T[code]
    return (en if lang == "en" else vi).format(**kw)


def _empty_pipe(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except OSError:  # EAGAIN: empty
        pass


def kind_of(mask: int) -> str:
    """write (modified or closed after writing), read (closed after reading only), or open."""
    if mask & (fa.FAN_MODIFY | fa.FAN_CLOSE_WRITE):
        return WRITE
    if mask & (fa.FAN_CLOSE_NOWRITE | fa.FAN_ACCESS):
        return READ
    return OPEN


@dataclass(frozen=True, slots=True)
class FileAccess:
    """One access to a file in a marked folder or on a medium, and the process that made it."""

    path: str
    """Path as the kernel resolved the event's file in our mount namespace, when the event was read."""
    dev: int
    """st_dev of the file."""
    inode: int
    """st_ino of the file."""
    kind: str
    """write, read or open (see ``kind_of``)."""
    mask: int
    """The FAN_* bits of the (possibly merged) event."""
    area: str
    """marked (a marked folder) or media (a removable medium)."""
    pid: int
    """Acting process id (the thread group)."""
    uid: Optional[int]
    """Its real uid (None when the process was gone before it could be read)."""
    euid: Optional[int]
    """Its effective uid."""
    user: Optional[str]
    """Account name of ``uid``."""
    exe: Optional[str]
    """Its executable (the exe link; never opened)."""
    comm: Optional[str]
    """Its self-chosen name: a hint."""
    loginuid: Optional[int]
    """Audit login uid: the person behind sudo or a root shell (None when unset)."""
    login_user: Optional[str]
    """Account name of ``loginuid``."""
    sessionid: Optional[int]
    """Audit session id."""
    process: str
    """running, exited or unknown: whether the identity was read from the live process."""
    note: Optional[str]
    """What could not be read and why."""
    owner_uid: int
    """The file's owner when the event was read."""
    time: float
    """time.monotonic() when the event was read (the clock of inotify triggers)."""

    def actor(self) -> dict[str, Any]:
        """The acting process for a journal record (fields that are unknown are left out)."""
        out = {"pid": self.pid, "uid": self.uid, "user": self.user, "exe": self.exe, "comm": self.comm,
               "loginuid": self.loginuid, "login_user": self.login_user, "sessionid": self.sessionid,
               "process": self.process, "event": self.kind, "note": self.note}
        if self.euid is not None and self.euid != self.uid:
            out["euid"] = self.euid
        return {k: v for k, v in out.items() if v is not None}


@dataclass(frozen=True, slots=True)
class AccessGap:
    """fanotify lost events: the acting process of some file events is unknown."""

    reason: str
    """Why (queue overflow, files the kernel could not open for us)."""
    lost: int
    """Kernel overflow notices and unopenable events since the previous gap."""
    time: float
    """time.monotonic() of the first loss in this gap."""


@dataclass(frozen=True)
class CopyActor:
    """Who copied a marked-folder document onto a medium: the writer of the copy and the reader of
    the source (the same process for ``cp``, ``dd``; two for ``cat SRC > DST`` is one, ``cat | tee`` two)."""

    writer: Optional[FileAccess]
    """Last write of the copy (on the medium)."""
    reader: Optional[FileAccess]
    """Read (or open) of the source nearest the write, by the writer's pid when there is one."""
    same_process: bool
    """The reader is the writer's process."""

    def evidence(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.reader is not None:
            out["read_by"] = self.reader.actor()
        if self.writer is not None:
            out["written_by"] = self.writer.actor()
        out["same_process"] = self.same_process
        return out


Emitted = Union[FileAccess, AccessGap]


class AccessHistory:
    """Recent accesses by (dev, inode), bounded in count and age; safe across threads.

    Per file it keeps the latest access of each (process, kind), at most ``per_file`` of them:
    a process that writes a file a thousand times holds one entry, and cannot push out the read
    by another process that a copy correlation needs."""

    def __init__(self, keep_seconds: float = 120.0, limit: int = 20000, per_file: int = 32,
                 clock: Callable[[], float] = time.monotonic):
        self.keep_seconds, self.limit, self.per_file, self.clock = keep_seconds, limit, per_file, clock
        self._by_inode: OrderedDict[tuple[int, int], list[FileAccess]] = OrderedDict()
        self._by_path: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()
        self.evicted = 0
        """Files forgotten because ``limit`` was reached before ``keep_seconds`` passed."""

    def __len__(self) -> int:
        return len(self._by_inode)

    def add(self, a: FileAccess) -> None:
        self.add_many((a,))

    def add_many(self, items: Iterable[FileAccess]) -> None:
        """Record a batch (one lock, one eviction pass)."""
        by_inode, by_path = self._by_inode, self._by_path
        newest = None
        with self._lock:
            for a in items:
                key = (a.dev, a.inode)
                lst = by_inode.get(key)
                if lst is None:
                    lst = by_inode[key] = []
                else:
                    by_inode.move_to_end(key)
                    for i, x in enumerate(lst):  # one entry per (process, kind): the latest
                        if x.pid == a.pid and x.kind == a.kind:
                            del lst[i]
                            break
                lst.append(a)
                if len(lst) > self.per_file:
                    del lst[0]
                by_path[a.path] = key
                newest = a.time
            if newest is None:
                return
            horizon = newest - self.keep_seconds
            while by_inode:
                old_key, old = next(iter(by_inode.items()))
                if len(by_inode) <= self.limit and old[-1].time >= horizon:
                    break
                if old[-1].time >= horizon:
                    self.evicted += 1
                del by_inode[old_key]
                for x in old:
                    if by_path.get(x.path) == old_key:
                        del by_path[x.path]

    def recent(self, path: Optional[str] = None, dev: Optional[int] = None, inode: Optional[int] = None, *,
               kinds: Optional[Sequence[str]] = None, within: Optional[float] = None,
               at: Optional[float] = None) -> list[FileAccess]:
        """Accesses to one file, oldest first: by (dev, inode) when given, else by path; with
        ``within``, only those at most that many seconds from ``at`` (default: now)."""
        with self._lock:
            key = (dev, inode) if dev is not None and inode is not None else self._by_path.get(path or "")
            found = list(self._by_inode.get(key, ())) if key is not None else []
        if kinds is not None:
            found = [a for a in found if a.kind in kinds]
        if within is not None:
            t = self.clock() if at is None else at
            found = [a for a in found if abs(a.time - t) <= within]
        return found

    def nearest(self, path: Optional[str] = None, dev: Optional[int] = None, inode: Optional[int] = None, *,
                kinds: Optional[Sequence[str]] = None, within: float = 5.0, at: Optional[float] = None,
                pid: Optional[int] = None) -> Optional[FileAccess]:
        """The access closest in time to ``at`` (the latest on a tie), optionally by one pid."""
        t = self.clock() if at is None else at
        found = [a for a in self.recent(path, dev, inode, kinds=kinds, within=within, at=t)
                 if pid is None or a.pid == pid]
        if not found:
            return None
        return min(reversed(found), key=lambda a: abs(a.time - t))


class AccessSource:
    """fanotify on the filesystems of the marked folders and media; a source like the others
    (``start(emit)``, ``stop()``, ``alive()``) that emits ``FileAccess`` and ``AccessGap``."""

    name = "access"

    def __init__(self, marked: Iterable[str] = (), media: Iterable[str] = (), *, mask: int = DEFAULT_MASK,
                 emit_kinds: Sequence[str] = KINDS, history: Optional[AccessHistory] = None,
                 read_size: int = READ_SIZE, gap_interval: float = 5.0, remember_seconds: float = 2.0,
                 pidfd: bool = True, users: Optional[UserNames] = None, proc: str = "/proc",
                 clock: Callable[[], float] = time.monotonic, avoid: Iterable[str] = (),
                 own_pid: Optional[int] = None):
        self.mask = mask
        self.emit_kinds = frozenset(emit_kinds)
        self.clock = clock
        self.history = history or AccessHistory(clock=clock)
        self.read_size = read_size
        self.gap_interval = gap_interval
        self.remember_seconds = remember_seconds
        self.users = users or UserNames()
        self.proc = proc
        self._want_pidfd = pidfd
        self._marked = tuple(_real(marked))
        self._media = tuple(_real(media))
        self._avoid = tuple(avoid)
        """Paths whose filesystems are never marked: the daemon's state directory. A filesystem mark
        makes the kernel open every accessed file for us, the journal's own files too, and closing
        such a descriptor drops the POSIX locks SQLite holds on that file in this process (its
        other connections then trample the WAL index: SIGBUS, a corrupt journal)."""
        self._group: Optional[fa.Group] = None
        self._thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._stopping = False
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._drained_at = float("-inf")
        self._marks: dict[int, str] = {}  # st_dev -> root path the mark was made through
        self._prefixes: tuple[tuple[str, str], ...] = ()  # (root + "/", area)
        self._seen: dict[int, tuple[Process, float]] = {}  # pid -> identity read at an earlier event
        self._own: dict[int, float] = {}  # pid of our child or grandchild -> when an event showed it
        self._self_pid = own_pid or os.getpid()
        """The process whose accesses are our own (and whose children are ours): the daemon, also
        when this source runs in a reader process of its own (agent/sources/access_process.py)."""
        self._lost = 0
        self._lost_first: Optional[float] = None
        self._lost_reason = ""
        self._last_gap = float("-inf")
        self.last_overflow: Optional[float] = None
        """time.monotonic() of the latest FAN_Q_OVERFLOW (lookups near it may miss)."""
        self.available = False
        """fanotify is in use."""
        self.reason: Optional[str] = "not started"
        """Why fanotify is not in use (None while it is)."""
        self.unmarked: dict[str, str] = {}
        """Roots whose filesystem refused the mark -> why."""
        self.error: Optional[str] = None
        """Why the reader thread died (None while it runs)."""
        self.counts = {"events": 0, "kept": 0, "dropped": 0, "own": 0, "exited": 0, "overflows": 0, "unopened": 0}
        """Kernel events read; kept (inside the roots); dropped (outside); the daemon's own; kept
        whose process was gone; overflow notices; events whose file the kernel could not open."""

    # ------------------------------------------------------------ lifecycle

    def start(self, emit: Callable[[Emitted], None]) -> None:
        """Open the group and mark the roots. Never raises because fanotify is unavailable:
        ``available`` and ``reason`` then say why, and lookups say so in each answer."""
        try:
            self._group = fa.Group(pidfd=self._want_pidfd)
        except fa.FanotifyUnavailable as exc:
            self.available, self.reason = False, exc.reason
            return
        _ensure_fd_headroom(FD_HEADROOM)
        self.available, self.reason = True, None
        self._remark()
        self._thread = threading.Thread(target=self._guarded, args=(emit,), name="bmnn-access", daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        """Make the reader leave poll (a full pipe means it is woken already)."""
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._group is not None and (self._thread is None or not self._thread.is_alive()):
            self._group.close()
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self._wake_r = self._wake_w = -1

    def alive(self) -> bool:
        """True while the reader runs, and when fanotify is unavailable by design (nothing to run;
        ``reason`` says why); False when the reader died (``error``)."""
        if not self.available:
            return self.error is None
        return self._thread is not None and self._thread.is_alive()

    def set_marked(self, paths: Iterable[str]) -> None:
        """The marked folders now (after a policy reload)."""
        self._marked = tuple(_real(paths))
        self._remark()

    def set_media(self, paths: Iterable[str]) -> None:
        """The mounted removable media now (mount points)."""
        self._media = tuple(_real(paths))
        self._remark()

    def status(self) -> dict[str, Any]:
        """For ``bmnn status``: in use or why not, roots not watched, counters, history size."""
        return {"available": self.available, "reason": self.reason, "alive": self.alive(), "error": self.error,
                "pidfd": bool(self._group and self._group.reports_pidfd), "unmarked": dict(self.unmarked),
                "history": len(self.history), "evicted": self.history.evicted, **self.counts}

    # ------------------------------------------------------------ lookups (any thread)

    def lookup(self, path: Optional[str] = None, dev: Optional[int] = None, inode: Optional[int] = None, *,
               kinds: Sequence[str] = (WRITE,), within: float = 5.0, at: Optional[float] = None,
               pid: Optional[int] = None) -> Optional[FileAccess]:
        """Who last wrote (or read: ``kinds``) this file, nearest to ``at`` (a time.monotonic()
        value, e.g. the inotify trigger's ``received``) within ``within`` seconds."""
        return self.history.nearest(path, dev, inode, kinds=kinds, within=within, at=at, pid=pid)

    def wait_drained(self, t: float, timeout: float) -> bool:
        """Block until every fanotify event queued before ``t`` (time.monotonic()) has been read,
        at most ``timeout`` seconds; True if so. Call once per batch of inotify events, with the
        newest trigger's ``received``, before the lookups: fanotify may be read after inotify."""
        if not self.available:
            return True
        deadline = self.clock() + timeout
        with self._drained:
            if self._drained_at < t:
                self._wake()  # an idle reader sleeps in poll: make it read (and find the queue empty)
            while self._drained_at < t:
                left = deadline - self.clock()
                if left <= 0 or not self.alive():
                    return False
                self._drained.wait(left)
            return True

    def attribution(self, path: str, dev: Optional[int] = None, inode: Optional[int] = None, *,
                    kinds: Sequence[str] = (WRITE,), within: float = 5.0,
                    at: Optional[float] = None) -> dict[str, Any]:
        """Evidence for a file record: ``{"actor": {...}}``, or ``{"actor": None, "actor_unknown":
        CODE, "actor_note": "acting process unknown: ...; owner shown"}`` (the record has the owner)."""
        found = self.lookup(path, dev, inode, kinds=kinds, within=within, at=at) if self.available else None
        if found is not None:
            return {"actor": found.actor()}
        code, kw = self._why_unknown(path, within, at)
        return {"actor": None, "actor_unknown": code, "actor_note": describe(code, "en", **kw)}

    def copy_source(self, dst: str, dst_dev: Optional[int], dst_inode: Optional[int], src: str,
                    src_dev: Optional[int], src_inode: Optional[int], *, within: float = 5.0,
                    at: Optional[float] = None) -> CopyActor:
        """Who copied ``src`` (a marked-folder file) to ``dst`` (a file on a medium): the last writer
        of ``dst`` near ``at``, and the read of ``src`` by the same pid nearest that write (else
        the nearest read of ``src`` by anyone, with ``same_process`` False)."""
        writer = self.lookup(dst, dst_dev, dst_inode, kinds=(WRITE,), within=within, at=at)
        reader = None
        if writer is not None:
            reader = self.lookup(src, src_dev, src_inode, kinds=(READ, OPEN), within=within, at=writer.time,
                                 pid=writer.pid)
            if reader is not None:
                return CopyActor(writer, reader, True)
        t = writer.time if writer is not None else at
        reader = self.lookup(src, src_dev, src_inode, kinds=(READ, OPEN), within=within, at=t)
        return CopyActor(writer, reader, False)

    def copy_attribution(self, dst: str, dst_dev: Optional[int], dst_inode: Optional[int], src: str,
                         src_dev: Optional[int] = None, src_inode: Optional[int] = None, *, within: float = 5.0,
                         at: Optional[float] = None) -> dict[str, Any]:
        """Evidence for the record of a copy (a file on a medium whose content is ``src``, a
        marked-folder file): ``{"actor": {...}, "copy_actor": {"read_by", "written_by",
        "same_process"}}``. ``actor`` is the writer of the copy, as for any file event (the reader
        of the source when no write was seen); ``copy_actor`` names the process and user that read
        the source. Nothing seen: the unknown form of ``attribution``."""
        c = self.copy_source(dst, dst_dev, dst_inode, src, src_dev, src_inode, within=within, at=at) \
            if self.available else CopyActor(None, None, False)
        first = c.writer or c.reader
        if first is None:
            return self.attribution(dst, dst_dev, dst_inode, within=within, at=at)
        return {"actor": first.actor(), "copy_actor": c.evidence()}

    def _opened(self) -> bool:
        """Whether the fanotify group was opened (here, or in the reader process)."""
        return self._group is not None

    def _why_unknown(self, path: str, within: float, at: Optional[float]) -> tuple[str, dict[str, Any]]:
        if not self._opened():
            return ("fanotify_unavailable", {"reason": self.reason}) if self.reason != "not started" else ("not_started", {})
        if not self.available or not self.alive():
            return "fanotify_unavailable", {"reason": self.reason or self.error or "the reader stopped"}
        for root, why in self.unmarked.items():
            if _under(path, root):
                return "not_marked", {"reason": why}
        t = self.clock() if at is None else at
        if self.last_overflow is not None and abs(self.last_overflow - t) <= within + self.gap_interval:
            return "overflow", {}
        return "not_seen", {"within": within}

    # ------------------------------------------------------------ marks

    def _remark(self) -> None:
        """Mark the filesystem of every root (re-adding is harmless; it also re-covers a medium
        mounted where another was), unmark filesystems no root needs any more."""
        group = self._group
        roots = [(r, MARKED) for r in self._marked] + [(r, MEDIA) for r in self._media]
        self._prefixes = tuple(sorted(((r.rstrip("/") + "/", area) for r, area in roots), key=lambda x: -len(x[0])))
        if group is None:
            return
        wanted: dict[int, str] = {}
        unmarked: dict[str, str] = {}
        avoid = set()
        for a in self._avoid:
            try:
                avoid.add(os.stat(a).st_dev)
            except OSError:
                pass
        for root, _area in roots:
            try:
                dev = os.stat(root).st_dev
            except OSError as exc:
                unmarked[root] = fa.mark_reason(exc.errno or errno.ENOENT)
                continue
            if dev in avoid:
                unmarked[root] = "on the filesystem of the daemon's journal (not marked: fanotify would drop its locks)"
                continue
            try:
                group.mark(root, self.mask)
            except OSError as exc:
                unmarked[root] = exc.strerror or str(exc)
                continue
            wanted.setdefault(dev, root)
        for dev, root in list(self._marks.items()):
            if dev in wanted:
                continue
            try:  # only through a path still on that filesystem: never unmark the one now mounted there
                if os.stat(root).st_dev == dev:
                    group.mark(root, self.mask, remove=True)
            except OSError:
                pass  # unmounted: the kernel dropped the mark with the filesystem
        self._marks, self.unmarked = wanted, unmarked

    def _area(self, path: str) -> Optional[str]:
        p = path + "/"
        for prefix, area in self._prefixes:
            if p.startswith(prefix):
                return area
        return None

    # ------------------------------------------------------------ reader thread

    def _guarded(self, emit: Callable[[Emitted], None]) -> None:
        try:
            self._run(emit)
        except Exception as exc:  # a dead reader must be visible, never silent
            self.error = f"{type(exc).__name__}: {exc}"
            if not self._stopping:
                emit(AccessGap(f"fanotify reader died: {self.error}", self._lost + 1, self.clock()))
        finally:
            with self._drained:
                self._drained.notify_all()

    def _run(self, emit: Callable[[Emitted], None]) -> None:
        group = self._group
        assert group is not None
        poller = select.poll()
        poller.register(group.fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while not self._stopping:
            t = self.clock()
            try:
                events = group.read(self.read_size)
            except BlockingIOError:
                with self._drained:
                    self._drained_at = t
                    self._drained.notify_all()
                self._flush_gap(emit)
                timeout = None if not self._lost else max(0.0, self._last_gap + self.gap_interval - self.clock())
                for fd, _ in poller.poll(None if timeout is None else int(timeout * 1000) + 1):
                    if fd == self._wake_r:
                        _empty_pipe(fd)  # before the next clock(): a wake written after this still wakes
                continue
            except fa.MalformedEvent as exc:
                fa.close_all(exc.args[1])
                raise
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                # EMFILE, ENFILE, ENOMEM...: the kernel dropped the event it could not hand us
                self._note_loss(f"fanotify read failed ({errno.errorcode.get(exc.errno, exc.errno)}): "
                                "an event was lost", t)
                self._flush_gap(emit)
                continue
            self._handle(events, t, emit)
            self._flush_gap(emit)

    def _handle(self, events: list[fa.RawEvent], t: float, emit: Callable[[Emitted], None]) -> None:
        """Resolve each event's file and close its fd at once; then identify the processes once per
        pid; then record and emit. Every descriptor is closed whatever happens."""
        kept: list[tuple[fa.RawEvent, str, os.stat_result, str]] = []
        closed = dropped = own = 0
        me = self._self_pid
        try:
            for ev in events:
                closed += 1
                fd = ev.fd
                if fd < 0:
                    if ev.mask & fa.FAN_Q_OVERFLOW:
                        self.counts["overflows"] += 1
                        self.last_overflow = t
                        self._note_loss("fanotify queue overflowed: the acting process of some file events is unknown", t)
                    elif fd != fa.FAN_NOFD and ev.pid != me:  # FAN_REPORT_FD_ERROR: -errno
                        self.counts["unopened"] += 1
                        self._note_loss(f"the kernel could not open an event's file ({errno.errorcode.get(-fd, fd)})", t)
                    continue
                try:
                    if ev.pid == me:
                        own += 1
                        continue
                    hit = self._resolve(fd)
                finally:
                    os.close(fd)
                if hit is None:
                    dropped += 1
                else:
                    kept.append((ev, *hit))
            if kept:
                own += self._record(kept, t, emit)
        finally:
            for ev in events[closed:]:
                if ev.fd >= 0:
                    os.close(ev.fd)
            for ev in events:
                if ev.pidfd is not None and ev.pidfd >= 0:
                    os.close(ev.pidfd)
            c = self.counts
            c["events"] += closed
            c["dropped"] += dropped
            c["own"] += own

    def _resolve(self, fd: int) -> Optional[tuple[str, os.stat_result, str]]:
        """(path, stat, area) of an event's file inside our roots; None outside (or unresolvable)."""
        try:
            path = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            return None
        deleted = path.endswith(" (deleted)")
        area = self._area(path[:-10] if deleted else path)
        if area is None:
            return None
        st = os.fstat(fd)
        if deleted and st.st_nlink == 0:
            path = path[:-10]
        return path, st, area

    def _record(self, kept, t: float, emit: Callable[[Emitted], None]) -> int:
        """Identify, record and emit the kept events; returns how many were the daemon's own."""
        procs: dict[tuple[int, bool], Optional[Process]] = {}
        out: list[FileAccess] = []
        own = exited = 0
        for ev, path, st, area in kept:
            key = (ev.pid, ev.pidfd is not None and ev.pidfd >= 0)
            p = procs[key] if key in procs else procs.setdefault(key, self._identify(ev, t))
            if p is None:  # ours
                own += 1
                continue
            if p.state == "exited":
                exited += 1
            out.append(FileAccess(path, st.st_dev, st.st_ino, kind_of(ev.mask), ev.mask, area, p.pid, p.uid, p.euid,
                                  p.user, p.exe, p.comm, p.loginuid, p.login_user, p.sessionid, p.state, p.note,
                                  st.st_uid, t))
        self.history.add_many(out)
        self.counts["kept"] += len(out)
        self.counts["exited"] += exited
        kinds = self.emit_kinds
        for a in out:
            if a.kind in kinds:
                emit(a)
        return own

    def _identify(self, ev: fa.RawEvent, t: float) -> Optional[Process]:
        """The acting process, or None when it is the daemon's own child or grandchild."""
        pid = ev.pid
        if pid <= 0:
            return Process(pid, "unknown", note="the kernel did not report the process")
        if ev.pidfd is not None and ev.pidfd < 0:
            why = ("process exited before its event was read" if ev.pidfd in (fa.FAN_NOPIDFD, -errno.ESRCH)
                   else "the kernel could not pin the process")
            return self._remembered(pid, why, t)
        p = read_process(pid, self.users, self.proc)
        if ev.pidfd is not None and not _pidfd_alive(ev.pidfd):
            # reaped while we read: what /proc said may already be another process's
            return self._remembered(pid, "process exited while it was being read", t)
        if p.state == "exited" and p.uid is None:
            return self._remembered(pid, p.note or "process exited before it could be read", t)
        if self._ours(p):
            if len(self._own) > 4096:
                self._own = {k: v for k, v in self._own.items() if t - v <= self.remember_seconds}
            self._own[pid] = t  # its later events may be read after it was reaped
            return None
        if p.state == "running" and p.uid is not None:
            if len(self._seen) > 4096:
                self._seen = {k: v for k, v in self._seen.items() if t - v[1] <= self.remember_seconds}
            self._seen[pid] = (p, t)
        return p

    def _remembered(self, pid: int, why: str, t: float) -> Optional[Process]:
        if t - self._own.get(pid, float("-inf")) <= self.remember_seconds:
            return None
        hit = self._seen.get(pid)
        if hit is not None and t - hit[1] <= self.remember_seconds:
            p = hit[0]
            if p.ppid == self._self_pid:
                return None
            ms = round((t - hit[1]) * 1000)
            return replace(p, state="exited", note=f"{why}; identity as read at its event {ms} ms earlier")
        return Process(pid, "exited", note=why)

    def _ours(self, p: Process) -> bool:
        """Our child (a content worker) or its child (a helper the worker runs)."""
        if p.ppid == self._self_pid:
            return True
        return p.ppid is not None and p.ppid > 1 and read_ppid(p.ppid, self.proc) == self._self_pid

    # ------------------------------------------------------------ gaps

    def _note_loss(self, reason: str, t: float) -> None:
        if not self._lost:
            self._lost_first = t
        self._lost += 1
        self._lost_reason = reason

    def _flush_gap(self, emit: Callable[[Emitted], None]) -> None:
        if not self._lost or self.clock() - self._last_gap < self.gap_interval:
            return
        gap = AccessGap(self._lost_reason, self._lost, self._lost_first or self.clock())
        self._lost, self._lost_first = 0, None
        self._last_gap = self.clock()
        emit(gap)


def _pidfd_alive(pidfd: int) -> bool:
    """The process behind ``pidfd`` has not been reaped (signal 0 only checks)."""
    try:
        signal.pidfd_send_signal(pidfd, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists; we lack CAP_KILL over another user's process
        return True
    except OSError:
        return True
    return True


def _ensure_fd_headroom(want: int) -> None:
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        target = want if hard == resource.RLIM_INFINITY else min(want, hard)
        if soft != resource.RLIM_INFINITY and soft < target:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        pass


def _real(paths: Iterable[str]) -> list[str]:
    return [os.path.realpath(p) for p in paths]


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def owner_name(uid: int) -> str:
    """The account name of a file owner, or the number."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)
