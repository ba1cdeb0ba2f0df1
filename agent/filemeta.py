"""File events of marked folders and media: described and hashed off the main loop, never followed.

Every file event names a path a local user controls. Hashing it on the main loop by path let a
user make root hash ``/etc/shadow`` (a symlink renamed over a just-written file) or read
``/dev/zero`` forever (the loop at 100 % CPU, ``bmnn status`` unanswered, SIGTERM ignored). So:

* each path is resolved below its watched folder one component at a time, without following a
  symlink anywhere (``bmnn_guard.scanner.safeio.open_beneath``); only a regular file is opened, once, and
  hashed through that descriptor, up to ``limit`` bytes (past it: "not hashed: larger than N
  bytes"). A symlink, FIFO, socket or device is journaled as what it is (type, link target as
  text) and never opened for reading; a path through a symlinked folder is journaled as "not
  followed" with the folder that is a link;
* the content watch is told only of regular files and real directories found that way; a path
  that is anything else is forgotten there (no stale finding stays). A file of a marked folder
  of at most ``KEEP_BYTES`` is read whole in one ``pread`` to hash it, and if it is plain text
  with no line that could be a mark it is handed over as clean, so the content watch does not
  open, read and test it a second time;
* all of it runs in one thread of its own, in event order; journaling goes back to the main loop
  in chunks of what is waiting (at most ``CHUNK`` events or ``CHUNK_S`` of describing: a burst
  shares one fsync among many events, a lone event goes at once), one chunk in flight at a time
  while the next is described,
  so a burst never queues more than one chunk in front of ``bmnn status``;
* at most ``MAX_PENDING`` events wait; beyond that they are counted and reported as a gap
  (``on_overflow``), which makes the watcher journal a monitoring gap and re-read in full.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import os
import pwd
import stat
import threading
import time
from collections import deque
from typing import Any, Callable, Optional

from bmnn_guard.scanner import safeio

from .content import Clean
from .event import Event

HASHED_EVENTS = ("closed", "created", "moved")
CHUNK = 1000
"""Most file events per journal transaction handed to the main loop (one fsync for all)."""
CHUNK_S = 0.25
"""Longest time spent describing one chunk before it is handed over."""
STEP = 100
"""Events taken from the queue at a time while a chunk is described."""
MAX_PENDING = 200_000
"""File events waiting to be described; more are counted as lost (a gap)."""
DEFAULT_LIMIT = 1 << 30
KEEP_BYTES = 64 * 1024
"""A changed file in a marked folder up to this size is read whole by this thread (to hash it),
and tested here for what the content scan would test first (``proven_clean_text``): plain text
with no line that could be a mark is handed to the content watch as clean, with its hash, and is
not opened again there."""


@functools.lru_cache(maxsize=512)
def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _stat_meta(st: os.stat_result) -> dict[str, Any]:
    """Size, mode and owner as people read them; inode and mtime (ns) of what was opened, so that
    the folder index rebuilt from the journal (agent/resync.py) knows a file unchanged since by
    ``stat`` alone and does not hash the whole folder again after a gap or a restart."""
    return {"size": st.st_size, "mode": oct(st.st_mode & 0o7777), "owner": _owner(st.st_uid),
            "inode": st.st_ino, "mtime_ns": st.st_mtime_ns}


def describe(rel: str, *, root_fd: int, limit: int) -> dict[str, Any]:
    """What a file event's path is, as journal evidence: type, size, mode, owner and SHA-256 for a
    regular file; type and link target for anything else. Never raises for the file's sake."""
    return describe_keeping(rel, root_fd=root_fd, limit=limit)[0]


def describe_keeping(rel: str, *, root_fd: int, limit: int, keep: int = 0) -> tuple[dict[str, Any], Optional[bytes]]:
    """``describe``, and the bytes of a regular file of at most ``keep`` bytes, read whole in one
    ``pread`` through the same descriptor (None for anything else, or a file that changed size
    while read): the content watch then need not open and read it again."""
    try:
        got = safeio.open_beneath(rel, root_fd=root_fd)
    except OSError as exc:
        return {"error": exc.strerror or str(exc)}, None
    if isinstance(got, safeio.NotRegular):
        if got.component is not None:
            meta: dict[str, Any] = {"type": "not_followed", "via": got.component, "via_type": got.type}
        else:
            meta = {"type": got.type, **_stat_meta(got.stat)}
        if got.link_target is not None:
            meta["link_target"] = got.link_target
        return meta, None
    data = None
    with got:
        meta = {"type": "regular", **_stat_meta(got.stat)}
        size = got.stat.st_size
        try:
            if 0 < size <= min(keep, limit):
                data = os.pread(got.fd, size + 1, 0)  # a byte more tells "grew"
                if len(data) != size:
                    data = None
            if data is not None:
                meta["sha256"] = hashlib.sha256(data).hexdigest()
                return meta, data
            digest = safeio.hash_fd(got.fd, size, limit=limit)
        except OSError as exc:
            meta["error"] = exc.strerror or str(exc)
            return meta, None
    meta["sha256"] = digest.sha256
    if digest.note:
        meta["note"] = digest.note
    return meta, None


def real_directory(rel: str, *, root_fd: int) -> bool:
    """True when ``rel`` below ``root_fd`` is a directory reached through real directories only."""
    fd = root_fd
    try:
        for part in rel.split("/"):
            if part in ("", ".", ".."):
                return False
            nfd = safeio.open_directory(part, dir_fd=fd)
            if fd != root_fd:
                os.close(fd)
            fd = nfd
        return True
    except OSError:
        return False
    finally:
        if fd != root_fd:
            os.close(fd)


def _relative(path: Optional[str], root: str) -> Optional[str]:
    if not path or not root:
        return None
    top = root.rstrip("/")
    if not path.startswith(top + "/"):
        return None
    return path[len(top) + 1:]


class FileEvents:
    """One thread that describes file events in order and hands them to the journal in chunks.

    ``journal(events)`` runs on the main loop (it returns a future, e.g. ``daemon.call_soon``);
    ``journal_now(events)`` is used instead while stopping, when the main loop no longer runs.
    ``content()`` gives the current ContentWatch or None."""

    def __init__(self, journal: Callable[[list[dict[str, Any]]], concurrent.futures.Future], *,
                 journal_now: Callable[[list[dict[str, Any]]], Any], content: Callable[[], Any] = lambda: None,
                 on_overflow: Callable[[int], None] = lambda n: None,
                 limit: "int | Callable[[], int]" = DEFAULT_LIMIT, actors: Callable[[], Any] = lambda: None):
        self.journal, self.journal_now = journal, journal_now
        self.content = content
        self.actors = actors
        """The agent.actors.Actors that names who wrote a file, or None (no ``actor`` key then)."""
        self.on_overflow = on_overflow
        self._limit = limit if callable(limit) else (lambda: limit)
        self._batch_limit = DEFAULT_LIMIT
        self._seen: dict[tuple[str, str], tuple[dict[str, Any], Optional[Clean]]] = {}
        self._q: deque[dict[str, Any]] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self.lost = 0
        """Events dropped because MAX_PENDING were waiting (each reported through on_overflow)."""
        self.described = 0
        """Events described so far."""
        self._thread = threading.Thread(target=self._run, name="bmnn-files", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ any thread

    def submit(self, details: list[dict[str, Any]]) -> None:
        """Queue file events (trigger details with ``root``, ``event``, ``path``, ``dest``...)."""
        lost = 0
        with self._cond:
            room = MAX_PENDING - len(self._q)
            if room < len(details):
                lost = len(details) - max(room, 0)
                details = details[:max(room, 0)]
                self.lost += lost
            self._q.extend(details)
            self._cond.notify()
        if lost:
            self.on_overflow(lost)

    def idle(self) -> bool:
        """Nothing queued or being described (tests, status)."""
        with self._cond:
            return not self._q and not self._busy

    def pending(self) -> int:
        with self._cond:
            return len(self._q)

    @property
    def limit(self) -> int:
        """Largest file hashed, in bytes (agent.yaml ``hash_max_bytes``, as in force now)."""
        return int(self._limit())

    # the daemon's Source protocol: stopped with the other sources, before agent_stop
    name = "files"

    def start(self, emit=None) -> None:
        """Nothing to open: the thread runs from construction (events queued early wait for it)."""

    def alive(self) -> bool:
        return self._thread.is_alive()

    def details(self) -> dict[str, Any]:
        """For ``bmnn status``: the backlog of a burst (events waiting, one chunk in hand), so an
        officer sees the daemon is catching up rather than missing files, and a script can wait
        until it has (``waiting == 0 and not busy``)."""
        with self._cond:
            return {"waiting": len(self._q), "busy": self._busy, "described": self.described, "lost": self.lost}

    def stop(self, timeout: float = 5.0) -> None:
        """Describe and journal what is queued (directly: the main loop has stopped), then end."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        pending = None  # (future, events): handed to the main loop, not confirmed yet
        while True:
            with self._cond:
                while not self._q and not self._stopping and pending is None:
                    self._cond.wait()
                if not self._q and pending is None:
                    return  # stopping, and everything is journaled
                self._busy = True
            # described while the previous chunk is being journaled: up to CHUNK events, for at
            # most CHUNK_S, so that records keep appearing at a steady pace during a burst
            events: list[Event] = []
            started = time.monotonic()
            while len(events) < CHUNK and time.monotonic() - started < CHUNK_S:
                with self._cond:
                    batch = [self._q.popleft() for _ in range(min(STEP, CHUNK - len(events), len(self._q)))]
                if not batch:
                    break
                events += self._events(batch)
            if pending is not None:
                self._confirm(*pending)
                pending = None
            if events:
                pending = self._send(events)
            with self._cond:
                self._busy = pending is not None

    def _events(self, batch: list[dict[str, Any]]) -> list[Event]:
        if not batch:
            return []
        try:
            return [Event.of("file", evidence=e["evidence"], message=e["message"]) for e in self._describe(batch)]
        except Exception:  # a bug here must not end the thread: the events go in without metadata
            return [Event.of("file", evidence=e["evidence"], message=e["message"]) for e in map(self._plain, batch)]

    def _send(self, events: list[Event]):
        """Hand ``events`` to the main loop; journal them here when it no longer runs."""
        if self._stopping:
            self.journal_now(events)
            return None
        return self.journal(events), events

    def _confirm(self, fut: concurrent.futures.Future, events: list[Event]) -> None:
        """Wait until the main loop journaled ``events`` (or journal them here while stopping)."""
        while True:
            try:
                fut.result(timeout=0.5)
                return
            except concurrent.futures.TimeoutError:
                if self._stopping and not fut.running() and fut.cancel():
                    self.journal_now(events)  # the loop will not run it
                    return
            except Exception:
                return  # the journal's own error handling (spool) has the events

    @staticmethod
    def _plain(d: dict[str, Any]) -> dict[str, Any]:
        ev = {k: v for k, v in d.items() if k != "root"}
        return {"kind": "file", "evidence": ev, "message": f"{ev.get('event')} {ev.get('path')}"}

    def _describe(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        roots: dict[str, Optional[int]] = {}
        content = self.content()
        actors = self.actors()
        if actors is not None:
            actors.prepare()  # fanotify's reader has read the accesses up to now
        self._batch_limit = self.limit  # read once per batch (a reload may change it)
        # Every event of the batch happened before any of it is described, so a file's created
        # and closed events (and any other of the batch naming it) would read the same state:
        # it is opened and hashed once per batch, not once per event.
        self._seen = {}
        out = []
        try:
            for d in batch:
                root = d.get("root") or ""
                if root not in roots:
                    try:
                        roots[root] = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC) if root else None
                    except OSError:
                        roots[root] = None
                out.append(self._one(d, root, roots[root], content, actors))
                self.described += 1
        finally:
            for fd in roots.values():
                if fd is not None:
                    os.close(fd)
        return out

    def _one(self, d: dict[str, Any], root: str, root_fd: Optional[int], content, actors=None) -> dict[str, Any]:
        rec = self._plain(d)
        ev = rec["evidence"]
        event, path, dest = ev.get("event"), ev.get("path"), ev.get("dest")
        target = dest or path
        is_dir = bool(ev.get("is_directory"))
        if content is not None and event in ("deleted", "moved") and path:
            content.removed(path)
        if event not in HASHED_EVENTS or not target:
            return rec
        rel = _relative(target, root)
        if root_fd is None or rel is None:
            ev["error"] = "not below a watched folder"
            return rec
        if is_dir:
            if content is not None and event == "moved":
                if real_directory(rel, root_fd=root_fd):
                    content.rescan([target])
                else:
                    content.removed(target)
            return rec
        seen = self._seen.get((root, rel))
        if seen is None:
            keep = KEEP_BYTES if content is not None and content.in_marked(target) else 0
            meta, data = describe_keeping(rel, root_fd=root_fd, limit=self._batch_limit, keep=keep)
            clean = None
            if data is not None:
                from bmnn_guard.scanner.content.scan import proven_clean_text
                if proven_clean_text(data, os.path.basename(target)):
                    clean = Clean(meta["sha256"], len(data))
            seen = self._seen[(root, rel)] = (meta, clean)
        meta, clean = seen
        ev.update(meta)
        if actors is not None and meta.get("type") == "regular":
            ev.update(actors.attribution(target, meta.get("sha256"), int(meta.get("size") or 0)))  # who wrote it; else actor None, owner shown
        if content is not None:
            if meta.get("type") == "regular":
                content.changed(target, clean)
            else:
                content.removed(target)  # a link or device took the place of a file: nothing stale stays
        return rec
