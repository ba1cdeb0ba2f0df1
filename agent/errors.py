"""The one exception type of the agent layer.

Like pip-audit: one exception per layer, turned into a one-line message and an exit code at the
CLI. ``kind`` lets callers react without parsing the text (the main loop spools an event on
``disk_full`` and retries; the CLI maps ``not_running`` to a plain "the daemon is not running").
"""

from __future__ import annotations

KINDS = ("disk_full", "io", "integrity", "config", "not_running", "forbidden", "ipc", "usage", "internal")


class AgentError(Exception):
    """The agent cannot do what was asked; ``str(exc)`` is one line meant for a person."""

    def __init__(self, message: str, *, kind: str = "internal"):
        super().__init__(message)
        self.kind = kind
        """One of KINDS."""
