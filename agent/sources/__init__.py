"""Event sources of the daemon: triggers, never facts.

Each source watches one kernel interface in its own thread and calls ``emit(Trigger)``. A trigger
only says *which domain changed*; the daemon then re-reads that domain with the same collectors
as ``bmnn scan``. A source that loses events (netlink ENOBUFS, inotify queue overflow, a dead
thread) emits a ``gap`` trigger so that the daemon journals the gap and re-reads everything.
"""

from .base import Source, Trigger

__all__ = ["Source", "Trigger"]
