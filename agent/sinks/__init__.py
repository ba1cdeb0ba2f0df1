"""Where journaled events go next: journald, an ECS ndjson file, syslog, command hooks, local alerts.

One module per sink (bandit-style), each with a ``Sink`` class whose single entry is
``emit(record)``: it raises on failure and returns when the event was handed over; optional are
``accepts(record)`` (the kinds it wants), ``flush()`` (after each batch) and ``note``.
``SinkRunner`` gives every sink a ``bmnn_guard.agent.delivery.SinkReader``: its own thread, its own
read-only journal connection and a persisted cursor, so a slow or failing sink never blocks the
journal or the other sinks, and nothing is lost when a receiver is down or the daemon restarts:
the sink catches up from its cursor (at-least-once, in order; see agent/delivery.py and the
delivery guarantee in docs/agent.md).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol

from ..delivery import CursorStore, OnEvent, RecentRecords, SinkHealth, SinkReader
from ..journal import Record

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


@dataclass(frozen=True)
class RuleInfo:
    """What a SIEM shows about the check behind an event."""

    name: str
    """Title of the check."""
    reference: Optional[str] = None
    """Legal citation(s), e.g. "Luật 117/2025/QH15, Điều 5 khoản 2"."""
    category: Optional[str] = None
    """Check category (network, usb, ...)."""


@dataclass(frozen=True)
class SinkContext:
    """What every sink may add to an event besides the record itself."""

    host_name: str = ""
    """Host name (host.name)."""
    host_id: Optional[str] = None
    """machine-id (host.id)."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Site labels from agent.yaml (agency, unit, room), copied to labels.*."""
    rules: Callable[[str], Optional[RuleInfo]] = lambda _cid: None
    """Look up a check id in the policy bundle in use."""
    policy_sha256: Optional[str] = None
    """Hash of the policy bundle in use."""
    lang: str = "vi"
    """Language of the words a person reads (agent.yaml ``lang``): messages, alerts."""


class Sink(Protocol):
    """What the runner needs from a sink module's ``Sink`` class."""

    name: str

    def emit(self, record: Record) -> None: ...

    def close(self) -> None: ...


__all__ = ["RuleInfo", "SinkContext", "Sink", "SinkHealth", "SinkRunner", "SEVERITY_RANK"]


class SinkRunner:
    """Every sink as a cursor over the journal at ``journal_path``, on its own thread. ``head``:
    where a sink without a cursor starts with ``start="head"`` (default: the head when its reader
    opens the journal)."""

    def __init__(self, sinks: list[Sink], journal_path: os.PathLike | str, cursor_dir: os.PathLike | str, *,
                 start: str = "head", lag_warning_s: float = 300.0, on_event: Optional[OnEvent] = None,
                 early_size: int = 1000, backoff: tuple[float, float] = (0.5, 30.0),
                 clock: Callable[[], float] = time.time, head: Optional[int] = None):
        store = CursorStore(cursor_dir)
        self.recent = RecentRecords()
        """What was just journaled, shared by the readers (``appended`` with the records fills it)."""
        seen: dict[str, int] = {}
        self._readers: list[SinkReader] = []
        for s in sinks:
            sid = getattr(s, "cursor_id", None) or s.name
            seen[sid] = seen.get(sid, 0) + 1
            if seen[sid] > 1:  # two hooks of the same name: each keeps its own cursor
                sid = f"{sid}#{seen[sid]}"
            self._readers.append(SinkReader(s, journal_path, store, sink_id=sid, start=start, backoff=backoff,
                                            lag_warning_s=lag_warning_s, on_event=on_event, early_size=early_size,
                                            clock=clock, head=head, recent=self.recent))
        self._started = False

    @property
    def sinks(self) -> list[Sink]:
        """The sinks, in order."""
        return [r.sink for r in self._readers]

    @property
    def readers(self) -> list[SinkReader]:
        """The readers, in order."""
        return list(self._readers)

    def start(self) -> "SinkRunner":
        """Start the reader threads."""
        if not self._started:
            for r in self._readers:
                r.start()
            self._started = True
        return self

    def appended(self, seq: int, records: Optional[list[Record]] = None) -> None:
        """The journal holds records up to ``seq`` (``records``: the ones just committed, which
        the readers then take from memory): wake every reader; never blocks."""
        if records:
            self.recent.add(records)
        for r in self._readers:
            r.appended(seq)

    def submit_unjournaled(self, record: Record) -> None:
        """A record the journal could not take yet (agent/unjournaled.py): at once to the sinks with
        ``takes_unjournaled``; its journaled form follows through the cursors."""
        for r in self._readers:
            if getattr(r.sink, "takes_unjournaled", False):
                r.submit_early(record)

    def health(self) -> list[dict[str, Any]]:
        """Health and lag of each sink."""
        return [r.snapshot() for r in self._readers]

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every sink delivered what it knows was journaled (for shutdown and tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(r.idle() for r in self._readers):
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 5.0, *, drain: bool = True) -> None:
        """Deliver what was journaled (up to ``timeout``), then stop the threads (each saves its
        cursor) and close the sinks."""
        if self._started and drain:
            self.drain(timeout)
        for r in self._readers:
            r.request_stop()
        for r in self._readers:
            r.stop(timeout)
