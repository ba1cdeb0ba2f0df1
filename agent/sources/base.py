"""The contract between event sources and the daemon: one ``Source`` protocol, one ``Trigger``.

Every source the daemon runs — a kernel reader (rtnetlink, udev, mounts, inotify), the file-event
describer, the resynchronisation of the marked folders, the periodic reconcile, the content watch
— is a ``Source``: started after READY with the function it reports triggers to, stopped before
``agent_stop``, asked ``alive()`` on every tick (a dead one is journaled once as a gap)."""

from __future__ import annotations

import os
import select
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Protocol


@dataclass(frozen=True)
class Trigger:
    """Something changed (or was lost) in one fact domain."""

    source: str
    """netlink, udev or folders."""
    domain: str
    """Fact domain to re-read: network, devices or folders."""
    kind: str
    """change, file or gap."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Event metadata (message type, udev action and subsystem, file path and event); never content."""
    received: float = field(default_factory=time.monotonic)
    """time.monotonic() when the kernel event was read, for latency figures."""


Emit = Callable[[Trigger], None]


class Source(Protocol):
    """What the daemon starts, stops and watches."""

    name: str

    def start(self, emit: Emit) -> None:
        """Start (its own thread); report what changed with ``emit(Trigger)``. Errors raise here."""

    def stop(self) -> None:
        """Stop; called once, before ``agent_stop`` is journaled."""

    def alive(self) -> bool:
        """Still working (False after a crash: the daemon journals a gap)."""


class KernelSource:
    """A ``Source`` that is a thread reading one kernel interface; ``stop()`` wakes it through a pipe."""

    name = "source"

    def __init__(self) -> None:
        self._thread: Optional[threading.Thread] = None
        self._wake_r, self._wake_w = os.pipe()
        self._stopping = False
        self.error: Optional[str] = None
        self.events = 0
        self.gaps = 0

    def start(self, emit: Emit) -> None:
        """Open the interface (errors surface here, in the caller) and start the reader thread."""
        self._open()
        self._thread = threading.Thread(target=self._guarded, args=(emit,), name=f"bmnn-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to end and wait for it."""
        self._stopping = True
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass
        if self._thread is not None:
            self._thread.join(timeout)
        self._close()

    def alive(self) -> bool:
        """True while the reader thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _guarded(self, emit: Emit) -> None:
        try:
            self._run(emit)
        except Exception as exc:  # a dead source must be visible, never silent
            self.error = f"{type(exc).__name__}: {exc}"
            if not self._stopping:
                self.gaps += 1
                emit(Trigger(self.name, self.domains[0], "gap", {"reason": f"source thread died: {self.error}"}))

    def _wait(self, fd: int, timeout: Optional[float] = None) -> bool:
        """Block until ``fd`` is readable (True) or stop() was called (False)."""
        r, _, _ = select.select([fd, self._wake_r], [], [], timeout)
        return not self._stopping and fd in r

    # to implement
    domains: tuple[str, ...] = ()

    def _open(self) -> None:
        raise NotImplementedError

    def _run(self, emit: Emit) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        pass
