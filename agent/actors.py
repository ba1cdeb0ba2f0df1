"""Who did it, in the daemon: the access source (agent/sources/access.py) wired to the file events.

inotify says what changed in a marked folder or on a medium; fanotify says which process did
it. This source keeps the access source's marks on the marked folders and the mounted media,
answers the file-event thread (agent/filemeta.py) with the acting process of each write, and
journals each read of a stamped document (one record per process and file a minute: a viewer
that re-reads a file does not flood the journal). Where fanotify is unavailable the source still
runs, and every file record says ``actor: null`` with why ("owner shown").

Lost fanotify events are a ``gap`` record of their own (no full re-read: the file events
themselves were not lost, only who made some of them).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from .event import Event
from .wording import said

READ_RECORD_EVERY_S = 60.0
"""A read of the same stamped file by the same process is journaled at most once a minute."""
DRAIN_TIMEOUT_S = 0.2
"""How long the file-event thread waits for fanotify to catch up before it asks who wrote."""
WRITE_WINDOW_S = 5.0


class Actors:
    """A Source (``start(emit)``, ``stop()``, ``alive()``) for the daemon; ``attribution(path)``
    for the file-event thread."""

    name = "access"

    def __init__(self, *, marked: Callable[[], list[str]], stamped: Callable[[str], Optional[Any]],
                 record: Callable[[Event], Any], copy_of: Callable[[str, int], Optional[str]] = lambda sha256, size: None):
        self._marked, self._stamped, self._record, self._copy_of = marked, stamped, record, copy_of
        self.source = None  # agent.sources.access.AccessSource once started
        self._last_read: dict[tuple[int, str], float] = {}

    # ------------------------------------------------------------ Source

    def start(self, emit) -> None:
        from .sources.access import READ
        from .sources.access_process import AccessProcess
        # the reader runs in a process of its own: the journal's files, opened for it by the kernel
        # and closed again, are its descriptors, and SQLite's locks in this process stay whole
        self.source = AccessProcess(self._marked(), (), emit_kinds=(READ,))
        self.source.start(self._on_access)

    def stop(self) -> None:
        if self.source is not None:
            self.source.stop()

    def alive(self) -> bool:
        """Unavailable fanotify is a known, recorded state, not a dead source."""
        s = self.source
        return s is None or not s.available or s.alive()

    def status(self) -> dict[str, Any]:
        return self.source.status() if self.source is not None else {"available": False, "reason": "not started"}

    # ------------------------------------------------------------ the watch

    def set_marked(self, paths: list[str]) -> None:
        if self.source is not None:
            self.source.set_marked(paths)

    def set_media(self, paths: list[str]) -> None:
        if self.source is not None:
            self.source.set_media(paths)

    def prepare(self) -> None:
        """File-event thread, once a batch: let the reader catch up with the accesses so far."""
        s = self.source
        if s is not None and s.available:
            s.wait_drained(time.monotonic(), timeout=DRAIN_TIMEOUT_S)

    def attribution(self, path: str, sha256: Optional[str] = None, size: int = 0) -> dict[str, Any]:
        """Evidence for a file record: ``actor`` (pid, uid, user, exe, ...) of the last write of
        ``path``, or ``actor: None`` with ``actor_unknown``/``actor_note`` (the owner is shown).
        When its content is that of a marked-folder file (the content watch's copy index), it is
        a copy: ``copy_of`` and ``copy_actor`` name the source and who read it (the same process
        as the writer for ``cp``, ``dd``, ``cat SRC > DST``; else the nearest reader)."""
        from .sources.access import WRITE
        s = self.source
        if s is None:
            return {"actor": None, "actor_unknown": "not_started",
                    "actor_note": "acting process unknown: the access source is not running; owner shown"}
        src = self._copy_of(sha256, size) if sha256 else None
        if src and src != path:
            return {"copy_of": src, **s.copy_attribution(path, None, None, src, within=WRITE_WINDOW_S)}
        return s.attribution(path, kinds=(WRITE,), within=WRITE_WINDOW_S)

    # ------------------------------------------------------------ reader thread

    def _on_access(self, item: Any) -> None:
        from .sources.access import AccessGap, FileAccess
        if isinstance(item, AccessGap):
            self._record(Event.of("gap", severity="medium",
                                  evidence={"source": "access", "reason": item.reason, "lost": item.lost},
                                  **said("record.msg.actors_lost", reason=item.reason, count=item.lost)))
            return
        if not isinstance(item, FileAccess):
            return
        finding = self._stamped(item.path)
        if finding is None:
            return
        now = time.monotonic()
        key = (item.pid, item.path)
        if now - self._last_read.get(key, float("-inf")) < READ_RECORD_EVERY_S:
            return
        if len(self._last_read) > 4096:
            self._last_read = {k: t for k, t in self._last_read.items() if now - t < READ_RECORD_EVERY_S}
        self._last_read[key] = now
        actor = item.actor()
        who = actor.get("login_user") or actor.get("user") or actor.get("uid")
        self._record(Event.of("file", evidence={"event": "read", "path": item.path, "area": item.area,
                                                "level": getattr(finding, "level", None), "actor": actor},
                              **said("record.msg.stamped_read", path=item.path, user=who)))
