"""Where journaled events go next: journald, an ECS ndjson file, syslog, command hooks, local alerts.

One module per sink (bandit-style), each with a ``Sink`` class whose single entry is
``emit(record)``: it raises on failure and returns when the event was handed over. ``SinkRunner``
gives every sink its own worker thread and bounded queue, so a slow or failing sink never blocks
``Journal.append`` or the other sinks: ``submit`` only enqueues. A failed emit is retried with
exponential backoff (0.5 s doubling to 30 s) until it succeeds or the runner stops; when a
queue is full the oldest queued routine event (not a violation, clearing, enforcement, gap or
acknowledgement) of that sink is dropped and counted. The journal stays the
record of truth: a sink that dropped events can be caught up with ``bmnn events --since``.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol

from ..journal import Record, now_iso

SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
URGENT_KINDS = frozenset({"violation", "cleared", "enforced", "gap", "ack"})
"""Kept in a full sink queue while routine records (file events, heartbeats) make room."""


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


class Sink(Protocol):
    """What the runner needs from a sink module's ``Sink`` class."""

    name: str

    def emit(self, record: Record) -> None: ...

    def close(self) -> None: ...


@dataclass
class SinkHealth:
    """Health of one sink as ``bmnn status`` shows it."""

    name: str
    """Sink name (journald, ecs, syslog, hook:NAME, alert)."""
    delivered: int = 0
    """Events handed over."""
    failures: int = 0
    """Failed attempts (each retry counts)."""
    dropped: int = 0
    """Events dropped because the queue was full."""
    queued: int = 0
    """Events waiting now."""
    last_ok: Optional[str] = None
    """Time of the last successful emit."""
    last_error: Optional[str] = None
    """Last error message."""
    last_error_time: Optional[str] = None
    """When it happened."""
    failing: bool = False
    """The event at the head of the queue is being retried."""
    note: Optional[str] = None
    """A sink's own remark (e.g. "notify-send not installed: wall only")."""

    def to_dict(self) -> dict[str, Any]:
        """Plain form."""
        return dict(self.__dict__)


class _Worker:
    def __init__(self, sink: Sink, maxsize: int, backoff: tuple[float, float]):
        self.sink = sink
        self.q: queue.Queue[Optional[Record]] = queue.Queue(maxsize=maxsize)
        self.health = SinkHealth(sink.name)
        self.backoff = backoff
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name=f"sink-{sink.name}", daemon=True)

    def put(self, record: Optional[Record]) -> None:
        with self.lock:
            while True:
                try:
                    self.q.put_nowait(record)
                    break
                except queue.Full:
                    if self._drop_routine():
                        continue
                    try:
                        self.q.get_nowait()
                        self.q.task_done()
                        self.health.dropped += 1
                    except queue.Empty:
                        pass
            self.health.queued = self.q.qsize()

    def _drop_routine(self) -> bool:
        """Make room by dropping the oldest queued record that is not urgent (a file event, a
        heartbeat), so that a flood (a spool written back after a full disk) never pushes a
        violation out of the queue; False when every queued record is urgent."""
        with self.q.mutex:
            for i, r in enumerate(self.q.queue):
                if r is not None and r.kind not in URGENT_KINDS:
                    del self.q.queue[i]
                    self.q.unfinished_tasks -= 1
                    self.health.dropped += 1
                    return True
        return False

    def idle(self) -> bool:
        """Nothing queued and nothing in emit()."""
        return self.q.unfinished_tasks == 0

    def _run(self) -> None:
        first, cap = self.backoff
        while not self.stop.is_set():
            rec = self.q.get()  # blocks without polling: an idle sink costs no wakeups
            if rec is None:  # the stop sentinel
                self.q.task_done()
                break
            delay = first
            try:
                while not self.stop.is_set():
                    try:
                        self.sink.emit(rec)
                    except Exception as exc:  # a sink's failure is data for `bmnn status`, never a crash
                        self.health.failures += 1
                        self.health.failing = True
                        self.health.last_error = f"{type(exc).__name__}: {exc}"[:500]
                        self.health.last_error_time = now_iso()
                        self.stop.wait(delay)
                        delay = min(delay * 2, cap)
                        continue
                    self.health.delivered += 1
                    self.health.failing = False
                    self.health.last_ok = now_iso()
                    break
            finally:
                self.q.task_done()
                self.health.queued = self.q.qsize()


class SinkRunner:
    """Fan journaled records out to sinks, each on its own thread with a bounded queue."""

    def __init__(self, sinks: list[Sink], *, queue_size: int = 1000, backoff: tuple[float, float] = (0.5, 30.0)):
        self._workers = [_Worker(s, queue_size, backoff) for s in sinks]
        self._started = False

    @property
    def sinks(self) -> list[Sink]:
        """The sinks, in order."""
        return [w.sink for w in self._workers]

    def start(self) -> "SinkRunner":
        """Start the worker threads."""
        if not self._started:
            for w in self._workers:
                w.thread.start()
            self._started = True
        return self

    def submit(self, record: Record) -> None:
        """Queue ``record`` for every sink that wants it (``accepts``); never blocks. A record not
        journaled yet (agent/unjournaled.py) goes only to sinks with ``takes_unjournaled``."""
        early = record.seq == 0 and not record.hash
        for w in self._workers:
            if early and not getattr(w.sink, "takes_unjournaled", False):
                continue
            accepts = getattr(w.sink, "accepts", None)
            if accepts is None or accepts(record):
                w.put(record)

    def health(self) -> list[dict[str, Any]]:
        """Health of each sink."""
        out = []
        for w in self._workers:
            w.health.queued = w.q.qsize()
            note = getattr(w.sink, "note", None)
            if note:
                w.health.note = note
            out.append(w.health.to_dict())
        return out

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every queue is empty and no emit is failing (for shutdown and tests)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(w.idle() for w in self._workers):
                return True
            time.sleep(0.02)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Try to deliver what is queued, then stop the threads and close the sinks."""
        if self._started:
            self.drain(timeout)
        for w in self._workers:
            w.stop.set()
            w.put(None)  # wake the worker (drops the oldest queued event if the queue is full)
        for w in self._workers:
            if w.thread.is_alive():
                w.thread.join(timeout)
            try:
                w.sink.close()
            except Exception:
                pass
