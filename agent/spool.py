"""Journal writes that survive a full or failing disk.

``JournalWriter.write`` appends at once when it can. When the journal cannot be written
(``AgentError`` disk_full or io), the event waits in a bounded in-memory spool, in order, with the
time it was observed; every later write and every ``flush`` (the main loop calls it on each tick)
retries the spool. Nothing is dropped silently: heartbeats that pile up are merged into one, and
if the spool overflows the newest events are counted, and the first successful flush writes the
spooled events and then a ``gap`` record that says how many were lost and when.

While the journal is failing (``failing``) the spool is written back in transactions of
``RECOVERY_CHUNK`` events, each followed by a truncation of SQLite's write-ahead log: a little
freed space is enough to make progress (one transaction for 12,000 spooled events needed ~20 MB
free, its WAL refilled the disk and it never got through). What was written stays written; the
rest waits for the next try. The daemon, meanwhile, delivers urgent events to the sinks before
they are journaled (agent/unjournaled.py).

The limit: the spool lives in memory, so events spooled while the disk is full are lost if the
process is killed before space returns (the gap is then visible as missing heartbeats).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Iterable, Optional

from .errors import AgentError
from .event import Event
from .wording import said
from .journal import Journal, Record


BURST_CHUNK = 1000
"""Events per transaction in ``write_many``: the fsync cost is shared, the spool never overflows."""
RECOVERY_CHUNK = 50
"""Events per transaction while the journal is failing: small enough to fit in a little free space."""


class JournalWriter:
    """The daemon's only path into the journal: append, or spool and retry."""

    def __init__(self, journal: Journal, *, max_spool: int = 10000):
        self.journal = journal
        """The journal written to."""
        self.max_spool = max_spool
        """Events kept while the journal cannot be written."""
        self._spool: deque[Event] = deque()
        self._lock = threading.Lock()
        self.dropped = 0
        """Events lost to spool overflow and not yet reported by a gap record."""
        self._dropped_first: Optional[str] = None
        self._dropped_last: Optional[str] = None
        self.last_error: Optional[str] = None
        """Why the last write failed (cleared when a write succeeds)."""
        self.written = 0
        """Records written through this writer."""

    @property
    def pending(self) -> int:
        """Events waiting in the spool."""
        return len(self._spool)

    @property
    def failing(self) -> bool:
        """The last write did not reach the journal."""
        return self.last_error is not None

    def write(self, events: Iterable[Event]) -> list[Record]:
        """Journal events (and anything spooled before them), in order; one transaction and one
        fsync per ``BURST_CHUNK`` events. Returns the records written; an empty list means they
        were spooled (see ``last_error``). The spool limit only bounds what waits while the
        journal cannot be written: a burst larger than the spool is never a reason to drop events."""
        events = list(events)
        written: list[Record] = []
        step = max(1, min(BURST_CHUNK, self.max_spool))
        with self._lock:
            if not events:
                return self._flush_locked()
            for i in range(0, len(events), step):
                for event in events[i:i + step]:
                    self._enqueue(event)
                written += self._flush_locked()
            return written

    def flush(self) -> list[Record]:
        """Retry the spool; returns what was written."""
        with self._lock:
            return self._flush_locked()

    def status(self) -> dict[str, Any]:
        """Health for ``bmnn status``."""
        return {"pending": self.pending, "dropped": self.dropped, "last_error": self.last_error,
                "written": self.written}

    def _enqueue(self, event: Event) -> None:
        if event.kind == "heartbeat" and self._spool and self._spool[-1].kind == "heartbeat":
            last = self._spool[-1]
            self._spool[-1] = last.with_evidence(merged=int((last.evidence or {}).get("merged", 1)) + 1,
                                                 last_time=event.time)
            return
        if len(self._spool) >= self.max_spool:
            self.dropped += 1
            self._dropped_first = self._dropped_first or event.time
            self._dropped_last = event.time
            return
        self._spool.append(event)

    def _flush_locked(self) -> list[Record]:
        if not self._spool and not self.dropped:
            return []
        recovering = self.failing
        step = RECOVERY_CHUNK if recovering else max(len(self._spool), 1)
        written: list[Record] = []
        while self._spool:
            batch = [self._spool[i] for i in range(min(step, len(self._spool)))]
            records = self._append(batch)
            if records is None:
                return written
            for _ in batch:
                self._spool.popleft()
            written += records
            if recovering:
                self.journal.trim_wal()
        if self.dropped:  # dropped events are newer than every spooled one
            gap = Event.of("gap", severity="high",
                           evidence={"lost_events": self.dropped, "first": self._dropped_first,
                                     "last": self._dropped_last, "cause": self.last_error},
                           **said("record.msg.events_lost", count=self.dropped, limit=self.max_spool))
            records = self._append([gap])
            if records is None:
                return written
            written += records
            self.dropped = 0
            self._dropped_first = self._dropped_last = None
        self.last_error = None
        return written

    def _append(self, batch: list[Event]) -> Optional[list[Record]]:
        """One transaction; None (and ``last_error``) when the journal cannot be written."""
        try:
            records = self.journal.write(batch)
        except AgentError as exc:
            if exc.kind == "usage":  # a programming error, not a storage problem
                raise
            self.last_error = str(exc)  # disk full, I/O error, damaged file: keep the events, retry later
            return None
        self.written += len(records)
        return records
