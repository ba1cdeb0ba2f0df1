"""At most one call per interval, and always one after the last poke: for work a burst asks for
again and again but that only needs to happen once the burst has been seen.

The marked folders' facts (owner, mode, file count) are re-read on the main loop by walking
each folder. Re-reading them for every batch of file events let a user who writes fast enough
keep the loop busy walking (a symlink race renames thousands of times a second); the file events
themselves are journaled and scanned without it, so that re-read runs at most once a second, in
the timer's thread, and no more than a tenth of the time when it is slow.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional


class Throttle:
    """``poke()`` from any thread; ``fn`` runs in a timer thread, at most once per ``interval``."""

    def __init__(self, fn: Callable[[], None], interval: float = 1.0):
        self.fn, self.interval = fn, interval
        self._lock = threading.Lock()
        self._timer: Optional[threading.Timer] = None
        self._last = 0.0

    def poke(self) -> None:
        with self._lock:
            if self._timer is not None:
                return
            delay = max(0.0, self._last + self.interval - time.monotonic())
            self._timer = threading.Timer(delay, self._fire)
            self._timer.daemon = True
            self._timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
        t0 = time.monotonic()
        try:
            self.fn()
        finally:
            took = time.monotonic() - t0
            with self._lock:  # a slow fn (a huge folder to walk) runs less often: at most 10 % of the time
                self._last = time.monotonic() + max(0.0, 10 * took - self.interval)

    def cancel(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
