"""Events the journal could not take yet (a full or failing disk), delivered to the sinks at once.

The journal is the record of truth and every sink normally sees a record only after it was
written there, with its sequence number and hash. But a full state directory must not delay the
alert for a critical violation until space returns (44 s in the trial of issue 10). So when an
urgent event (``URGENT``) is spooled instead of journaled, the daemon hands the sinks that take
such events (``takes_unjournaled``: the ECS file, the local alert, journald) a *provisional*
record at once: sequence 0, no hash, ``journaled`` false. When the spool is written back, the
journaled record follows as usual, with its seq.

Both carry the same ``event_key``: a digest of what the event says (time, host, kind, check,
severity, message, evidence), which the spool keeps unchanged, so a SIEM (or a sink reading the
journal with a cursor later) can pair the early delivery with its journaled record, and the
alert sink does not ring twice.
"""

from __future__ import annotations

import hashlib
import json

from .event import Event
from .journal import Record

URGENT = frozenset({"violation", "cleared", "enforced", "gap"})
"""Kinds delivered before they are journaled when the journal cannot be written."""


def provisional(event: Event, host: str) -> Record:
    """The record an event (``bmnn_guard.agent.event.Event``) will become, minus seq and hash."""
    return Record(0, event.time, host, event.kind, event.check_id, event.severity, event.evidence, event.message,
                  "", "", "")


def is_provisional(record: Record) -> bool:
    """Not journaled yet (delivered early because the journal could not be written)."""
    return record.seq == 0 and not record.hash


_KEY_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
"""json.dumps with these arguments, built once: a sink catching up computes a key per record."""


def event_key(record: Record) -> str:
    """Same for a provisional record and the journaled one it becomes."""
    body = [record.time, record.host, record.kind, record.check_id, record.severity, record.message, record.evidence]
    return hashlib.sha256(_KEY_JSON.encode(body).encode("utf-8")).hexdigest()[:32]
