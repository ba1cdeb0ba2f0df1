"""journald: one line per event on stderr with a ``<N>`` syslog priority prefix.

Under systemd (``SyslogLevelPrefix=yes``, the default) journald strips the prefix and stores the
priority, so ``journalctl -u bmnn-agent -p warning`` shows violations. When systemd-python is
installed, events go through ``systemd.journal.send`` instead, with structured fields
(``BMNN_SEQ``, ``BMNN_KIND``, ``BMNN_CHECK_ID``, ``BMNN_SEVERITY``, ``BMNN_HASH``) that
``journalctl BMNN_CHECK_ID=<check id>`` can filter on.
"""

from __future__ import annotations

import sys
from typing import IO, Any, Optional

from bmnn_guard.scanner.textsafe import visible

from ..journal import Record
from ..unjournaled import is_provisional
from ..wording import shown_record
from . import SinkContext

# syslog priorities: 2 crit, 3 err, 4 warning, 5 notice, 6 info, 7 debug
_BY_SEVERITY = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
_BY_KIND = {"gap": 3, "violation": 4, "enforced": 4, "cleared": 5, "agent_start": 5, "agent_stop": 5,
            "policy_loaded": 5, "ack": 5, "checkpoint": 6, "heartbeat": 7, "file": 6, "state": 6, "media": 5}


def priority(record: Record) -> int:
    """Syslog priority of a record: from its severity for violations, else from its kind."""
    if record.kind in ("violation", "enforced") and record.severity:
        return _BY_SEVERITY.get(record.severity, 4)
    if record.kind == "policy_loaded" and record.severity:
        return _BY_SEVERITY.get(record.severity, 5)
    return _BY_KIND.get(record.kind, 6)


def text(record: Record, lang: str = "vi") -> str:
    """The human line: "#12 violation <check id> [high] message", with controls, ESC and bidi
    overrides of the message (file names, device strings) shown escaped: one record, one line,
    and ``journalctl`` on a terminal never runs an escape sequence from the machine."""
    early = is_provisional(record)
    parts = ["#- (not yet journaled)" if early else f"#{record.seq}", visible(record.kind)]
    if record.check_id:
        parts.append(visible(record.check_id))
    if record.severity:
        parts.append(f"[{visible(record.severity)}]")
    message = shown_record(record, lang)
    if message:
        parts.append(visible(message))
    return " ".join(parts)


class Sink:
    """Write events to journald (stderr with prefixes, or systemd-python when present)."""

    name = "journald"
    takes_unjournaled = True

    def __init__(self, ctx: Optional[SinkContext] = None, *, stream: Optional[IO[str]] = None,
                 structured: Optional[bool] = None):
        self.ctx = ctx
        self._lang = ctx.lang if ctx is not None else "vi"
        self.stream = stream
        self._send: Any = None
        if structured is not False and stream is None:
            try:
                from systemd import journal as sj  # optional dependency
                self._send = sj.send
            except ImportError:
                if structured:
                    raise
        self.note = None if self._send else "stderr with <N> priority prefixes"

    def emit(self, record: Record) -> None:
        """Log one event."""
        if self._send is not None:
            fields = {"PRIORITY": str(priority(record)), "SYSLOG_IDENTIFIER": "bmnn-agent",
                      "BMNN_SEQ": str(record.seq), "BMNN_KIND": record.kind, "BMNN_HASH": record.hash,
                      "BMNN_JOURNALED": "0" if is_provisional(record) else "1"}
            if record.check_id:
                fields["BMNN_CHECK_ID"] = record.check_id
            if record.severity:
                fields["BMNN_SEVERITY"] = record.severity
            self._send(text(record, self._lang), **fields)
            return
        stream = self.stream or sys.stderr
        stream.write(f"<{priority(record)}>{text(record, self._lang)}\n")
        stream.flush()

    def close(self) -> None:
        """Nothing to close."""


def report(record: Record, stream: Optional[IO[str]] = None) -> None:
    """One-shot form (bandit-style entry)."""
    Sink(stream=stream).emit(record)
