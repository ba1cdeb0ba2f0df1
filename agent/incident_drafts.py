"""The daemon's draft incident reports: one signed draft each time a critical violation opens.

With ``incident_reports: true`` in agent.yaml the officer finds the draft of the incident report
(agent/incident.py) in ``<state>/incidents/`` as soon as a critical violation is journaled, and
``bmnn status`` names it. Writing one reads and verifies the whole journal, so it never runs on
the main loop: one worker thread writes the drafts in order; while it is busy, further critical
violations wait (at most ``MAX_WAITING``; older ones are dropped and counted, since the latest
draft's window covers them too). A draft that cannot be written is journaled as a ``state``
record by the caller's ``on_error`` and the violation stays journaled: the report is a help
for people, never part of the evidence chain.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import deque
from typing import Any, Callable, Optional

MAX_WAITING = 4


class IncidentDrafts:
    """``opened(seq)`` from the main loop; ``status()`` from any thread."""

    def __init__(self, write: Callable[[int, dt.datetime], str], *, on_error: Callable[[int, str], None],
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)):
        self._write, self._on_error, self._clock = write, on_error, clock
        self._lock = threading.Lock()
        self._waiting: deque[int] = deque()
        self._thread: Optional[threading.Thread] = None
        self._last: Optional[dict[str, Any]] = None
        self._dropped = 0
        self._failed = 0

    def opened(self, seq: int) -> None:
        """A critical violation was journaled as ``seq``: draft its report off the loop."""
        with self._lock:
            if len(self._waiting) >= MAX_WAITING:
                self._waiting.popleft()
                self._dropped += 1
            self._waiting.append(seq)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="bmnn-incident", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._waiting:
                    self._thread = None
                    return
                seq = self._waiting.popleft()
            now = self._clock()
            try:
                path = self._write(seq, now)
            except Exception as exc:  # AgentError or a bug: journaled by the caller, never fatal
                with self._lock:
                    self._failed += 1
                self._on_error(seq, str(exc) or type(exc).__name__)
                continue
            with self._lock:
                self._last = {"seq": seq, "path": path, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def wait_idle(self, timeout: float) -> bool:
        """Tests and shutdown: True once nothing is waiting or being written."""
        t = self._thread
        if t is not None:
            t.join(timeout)
        with self._lock:
            return self._thread is None and not self._waiting

    def status(self) -> Optional[dict[str, Any]]:
        """The latest draft written (seq of its violation, path, time), and what was not drafted."""
        with self._lock:
            if self._last is None and not self._failed and not self._dropped:
                return None
            return {**(self._last or {}), "failed": self._failed, "dropped": self._dropped,
                    "pending": len(self._waiting) + (1 if self._thread is not None else 0)}
