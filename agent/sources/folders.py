"""Marked folders: file events through watchdog (inotify), with an explicit event filter.

Measured: without ``event_filter`` watchdog 7.1.0 spins at 100 % CPU and loses events on trees
over ~6,000 directories; with it 20,000 directories are watched in < 1 s at 0 % idle CPU. The
observer is watchdog's inotify one with its tree walks made unable to follow a link
(``nofollow.py``): a folder swapped for a symlink to ``/etc`` is never watched or walked.

watchdog handles an inotify queue overflow itself (it logs a warning and rebuilds its watches)
but never tells the handler that events were lost. We listen to that warning and turn it into a
gap trigger, so that the daemon journals the gap and re-reads the folders in full.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Sequence

from .base import Emit, KernelSource, Trigger

OVERFLOW_LOGGERS = ("watchdog.observers.inotify_c", "watchdog.observers.inotify", "watchdog.observers.inotify_buffer")


class _OverflowSpy(logging.Handler):
    """Turns watchdog's "queue overflowed" warning into a gap trigger."""

    def __init__(self, source: "FolderSource"):
        super().__init__(logging.WARNING)
        self.source = source

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "overflow" in msg.lower() or "unable to rebuild" in msg.lower():
            self.source._gap(f"inotify: {msg}")


class FolderSource(KernelSource):
    """Triggers the folders domain (with the file event) for changes below the marked folders.

    The watcher also runs one per mounted removable medium (``name="media"``,
    ``domain="documents"``): those file events feed the content scan, not the folder facts."""

    name = "folders"
    domains = ("folders",)

    def __init__(self, paths: Sequence[str], *, name: str = "folders", domain: str = "folders"):
        super().__init__()
        self.paths = list(paths)
        self.name = name
        self.domain = domain
        self.observer = None
        self._emit: Emit | None = None
        self._spy = _OverflowSpy(self)
        self._done = threading.Event()

    def start(self, emit: Emit) -> None:
        """Schedule every marked folder; the observer's own threads deliver events."""
        from watchdog.events import (DirCreatedEvent, DirDeletedEvent, DirMovedEvent, FileClosedEvent,
                                     FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
                                     FileSystemEventHandler)
        from .nofollow import NoFollowObserver

        self._emit = emit
        source = self

        class Handler(FileSystemEventHandler):
            def __init__(self, root: str):
                super().__init__()
                self.root = root

            def on_any_event(self, event):
                source.events += 1
                emit(Trigger(source.name, source.domain, "file", {
                    "event": event.event_type, "path": _text(event.src_path),
                    "dest": _text(getattr(event, "dest_path", "")) or None, "is_directory": event.is_directory,
                    "root": self.root}))  # paths are resolved below it, never through a link

        for name in OVERFLOW_LOGGERS:
            logging.getLogger(name).addHandler(self._spy)
        observer = NoFollowObserver()  # no walk of the tree ever follows a link (sources/nofollow.py)
        wanted = [FileCreatedEvent, FileModifiedEvent, FileClosedEvent, FileDeletedEvent, FileMovedEvent,
                  DirCreatedEvent, DirDeletedEvent, DirMovedEvent]
        for path in self.paths:
            observer.schedule(Handler(os.path.abspath(path)), path, recursive=True, event_filter=wanted,
                              follow_symlink=False)
        observer.start()
        self.observer = observer

    def _gap(self, reason: str) -> None:
        self.gaps += 1
        if self._emit is not None:
            self._emit(Trigger(self.name, self.domain, "gap", {"reason": reason}))

    def alive(self) -> bool:
        return self.observer is not None and self.observer.is_alive()

    def stop(self, timeout: float = 2.0) -> None:
        for name in OVERFLOW_LOGGERS:
            logging.getLogger(name).removeHandler(self._spy)
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout)


def _text(path) -> str:
    if isinstance(path, bytes):
        return path.decode("utf-8", "surrogateescape")
    return str(path)
