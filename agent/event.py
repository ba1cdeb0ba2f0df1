"""The one thing every source hands the journal: an ``Event``, frozen, validated and timestamped once.

A source, the engine and the daemon's own bookkeeping all build their events with ``Event.of``;
the writer spools them, the journal chains them into ``Record``s, and the provisional delivery
while the disk is full (agent/unjournaled.py) reads the same object. Nothing on the way changes
its shape or its time, and its evidence is made canonical here, once: ``evidence_json`` is the
exact text the journal stores and hashes, ``evidence`` the value a reader of the journal gets back
from it (a tuple becomes a list, a path a string). File events are built in the file-event thread,
so the canonical JSON of a burst is made off the main loop.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .errors import AgentError

KINDS = ("violation", "cleared", "file", "state", "gap", "agent_start", "agent_stop", "heartbeat",
         "policy_loaded", "enforced", "ack", "checkpoint", "media", "journal_reset")
SEVERITIES = ("critical", "high", "medium", "low", "info")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
_FIELDS = frozenset({"kind", "check_id", "severity", "evidence", "message", "time"})


def now_iso() -> str:
    """Current UTC time in the journal's format (ISO 8601, microseconds, Z)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> str:
    """The one JSON spelling used for hashing: sorted keys, no spaces, UTF-8, no NaN."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=str)
    except ValueError as exc:
        raise AgentError(f"evidence is not valid JSON: {exc}", kind="usage") from None


_PLAIN = (str, int, bool, type(None))
_NOT_PLAIN = object()


def _journal_form(v: Any, depth: int = 0) -> Any:
    """``v`` as ``json.loads(canonical_json(v))`` gives it back (keys sorted at every level), made
    by copying when ``v`` holds only dicts with string keys, lists, strings, ints, bools and None:
    ~6 µs for a file event's evidence, against ~20 µs to parse its JSON. ``_NOT_PLAIN`` for
    anything else (a float keeps its ``repr`` only through the JSON; a tuple becomes a list; a
    path a string): that is read back from the JSON."""
    t = type(v)
    if t in _PLAIN:
        return v
    if depth > 4:
        return _NOT_PLAIN
    if t is dict:
        if not all(type(k) is str for k in v):
            return _NOT_PLAIN
        out = {}
        for k in sorted(v):
            x = _journal_form(v[k], depth + 1)
            if x is _NOT_PLAIN:
                return _NOT_PLAIN
            out[k] = x
        return out
    if t is list:
        items = [_journal_form(x, depth + 1) for x in v]
        return _NOT_PLAIN if any(x is _NOT_PLAIN for x in items) else items
    return _NOT_PLAIN


@dataclass(frozen=True, slots=True)
class Event:
    """What is journaled: the record's fields before a seq and a hash are given to it."""

    kind: str
    """One of KINDS."""
    time: str
    """When it was observed (UTC, the journal's format): set once, here or by the source."""
    check_id: Optional[str] = None
    severity: Optional[str] = None
    evidence: Any = None
    """The canonical value, exactly what the journal gives back (keys sorted), metadata only: a
    sink taking a record from memory writes the line it would write from the journal."""
    message: Optional[str] = None
    evidence_json: Optional[str] = None
    """Exactly the text stored and hashed."""

    @classmethod
    def of(cls, kind: str, *, check_id: Optional[str] = None, severity: Optional[str] = None, evidence: Any = None,
           message: Optional[str] = None, time: Optional[str] = None,
           text: Optional[Mapping[str, Any]] = None) -> "Event":
        """Validate and timestamp an event (raises AgentError kind usage: a programming error).
        ``text`` (from ``agent.wording.said``, with ``message``) is the message's catalog key and
        args, kept in the evidence so a reader sees the message in their own language."""
        if kind not in KINDS:
            raise AgentError(f"unknown record kind {kind!r}; known: {', '.join(KINDS)}", kind="usage")
        if severity is not None and severity not in SEVERITIES:
            raise AgentError(f"unknown severity {severity!r}", kind="usage")
        if time is None:
            time = now_iso()
        elif type(time) is not str or not _TIME.match(time):
            raise AgentError(f"record time {time!r} is not in the journal's format (2026-11-23T10:00:00.000000Z)",
                             kind="usage")
        if text is not None:
            if evidence is not None and not isinstance(evidence, Mapping):
                raise AgentError("a record with a message key needs evidence that is a mapping", kind="usage")
            evidence = {**(evidence or {}), "text": dict(text)}
        ev_json = None
        if evidence is not None:
            ev_json = canonical_json(evidence)
            form = _journal_form(evidence)
            evidence = json.loads(ev_json) if form is _NOT_PLAIN else form
        return cls(kind, time, check_id, severity, evidence, message, ev_json)

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> "Event":
        """``Event.of(**m)``, refusing unknown fields (tools and tests that spell events as dicts)."""
        unknown = set(m) - _FIELDS
        if unknown:
            raise AgentError(f"unknown record field(s) {sorted(unknown)}", kind="usage")
        return cls.of(**m)

    def with_evidence(self, **extra: Any) -> "Event":
        """The same event (same time) with keys added to its evidence."""
        ev = dict(self.evidence or {})
        ev.update(extra)
        return Event.of(self.kind, check_id=self.check_id, severity=self.severity, evidence=ev,
                        message=self.message, time=self.time)
