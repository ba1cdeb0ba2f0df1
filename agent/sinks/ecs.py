"""ECS JSON-lines file for SIEM shippers (Wazuh, Filebeat, Fluent Bit, rsyslog imfile).

One flat object per line with Elastic Common Schema field names as dotted keys
(``"event.kind"``, ``"rule.id"``...); shippers that want nested objects expand them (Filebeat
``ndjson`` parser with ``expand_keys: true``; Wazuh's JSON decoder reads dotted keys as they are).
The file is opened in append mode, and before each write the sink checks that the path still
names the open file (logrotate ``create`` or ``copytruncate``, or a deleted file): if not, it
reopens, so no line goes to a rotated-away inode.

When the journal cannot be written (a full disk), violations arrive here at once as provisional
lines (``bmnn.journaled: false``, no ``event.sequence``), and again with their seq once journaled;
``bmnn.event_key`` is the same on both (agent/unjournaled.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Optional

import msgspec

from ..journal import Record
from ..unjournaled import event_key, is_provisional
from ..wording import shown_record
from . import SEVERITY_RANK, SinkContext

ECS_VERSION = "8.11.0"

_EVENT_KIND = {"violation": "alert", "enforced": "alert", "gap": "pipeline_error", "heartbeat": "state",
               "state": "state"}
_CATEGORY = {"network": "network", "usb": "host", "recording": "host", "storage": "host", "software": "package",
             "folders": "file", "documents": "file", "agent": "configuration"}
_KIND_CATEGORY = {"file": "file", "agent_start": "process", "agent_stop": "process", "heartbeat": "process",
                  "policy_loaded": "configuration", "checkpoint": "database", "gap": "process", "ack": "configuration",
                  "media": "host"}
_TYPE = {"violation": "indicator", "cleared": "end", "agent_start": "start", "agent_stop": "end",
         "policy_loaded": "change", "enforced": "denied", "file": "change", "checkpoint": "deletion",
         "media": "change"}


def to_ecs(record: Record, ctx: SinkContext) -> dict[str, Any]:
    """The ECS form of a journal record: one flat dict, JSON-ready."""
    rule = ctx.rules(record.check_id) if record.check_id else None
    category = None
    if rule is not None and rule.category:
        category = _CATEGORY.get(rule.category)
    category = category or _KIND_CATEGORY.get(record.kind, "host")
    out: dict[str, Any] = {
        "@timestamp": record.time,
        "ecs.version": ECS_VERSION,
        "message": shown_record(record, ctx.lang) or f"{record.kind} {record.check_id or ''}".strip(),
        "event.kind": _EVENT_KIND.get(record.kind, "event"),
        "event.category": [category],
        "event.type": [_TYPE.get(record.kind, "info")],
        "event.action": record.kind,
        "event.module": "bmnn",
        "event.dataset": "bmnn.journal",
        "event.provider": "bmnn-agent",
    }
    key = event_key(record)
    if is_provisional(record):  # the journal could not be written yet: delivered at once, journaled later
        out["event.id"] = f"{record.host}:pending:{key[:16]}"
        out["bmnn.journaled"] = False
    else:
        out["event.sequence"] = record.seq
        out["event.id"] = f"{record.host}:{record.seq}:{record.hash[:16]}"
        out["event.hash"] = record.hash
        out["bmnn.journaled"] = True
    out["bmnn.event_key"] = key
    if record.severity:
        out["event.severity"] = SEVERITY_RANK.get(record.severity, 0)
        out["log.level"] = record.severity
    if record.check_id:
        out["rule.id"] = record.check_id
        out["rule.ruleset"] = "bmnn-guard"
        if rule is not None:
            out["rule.name"] = rule.name
            if rule.reference:
                out["rule.reference"] = rule.reference
            if rule.category:
                out["rule.category"] = rule.category
        if ctx.policy_sha256:
            out["rule.version"] = ctx.policy_sha256[:12]
    out["host.name"] = ctx.host_name or record.host
    out["host.hostname"] = record.host
    if ctx.host_id:
        out["host.id"] = ctx.host_id
    for k, v in sorted(ctx.labels.items()):
        out[f"labels.{k}"] = str(v)
    if record.message and out["message"] != record.message:
        out["bmnn.message"] = record.message  # the signed text (``message`` is in the language of agent.yaml)
    if record.evidence is not None:
        out["bmnn.evidence"] = record.evidence
    if record.prev_hash:
        out["bmnn.prev_hash"] = record.prev_hash
    return out


_ENCODER = msgspec.json.Encoder(enc_hook=str)


def to_bytes(record: Record, ctx: SinkContext) -> bytes:
    """One ndjson line as UTF-8, without the newline: the same JSON as ``to_line`` (compact, keys
    in order, non-ASCII as is), by msgspec's encoder, ~3x faster than json.dumps: a sink catching
    up after an outage spends most of its time here."""
    return _ENCODER.encode(to_ecs(record, ctx))


def to_line(record: Record, ctx: SinkContext) -> str:
    """One ndjson line (no trailing newline)."""
    return to_bytes(record, ctx).decode("utf-8")


class Sink:
    """Append ECS lines to a file, reopening it when it was rotated or removed."""

    name = "ecs"
    takes_unjournaled = True

    def __init__(self, path: os.PathLike | str, ctx: SinkContext, *, fsync: bool = False, mode: int = 0o640):
        self.path = Path(path)
        self.ctx = ctx
        self.fsync = fsync
        self.mode = mode
        self._fd: Optional[int] = None
        self._torn = False
        self._ino: Optional[tuple[int, int]] = None

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, self.mode)
        st = os.fstat(fd)
        self._close_fd()
        self._fd, self._ino = fd, (st.st_dev, st.st_ino)
        self._torn = False  # a torn line stays in the old file

    def _close_fd(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
        self._fd = None

    def _current(self) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == self._ino

    def emit(self, record: Record) -> None:
        """Write one line (reopening first when the file was rotated)."""
        self._write(to_bytes(record, self.ctx) + b"\n")

    def emit_many(self, records: list[Record]) -> None:
        """Write the lines of a batch in one write (a sink catching up after an outage)."""
        self._write(b"".join([to_bytes(r, self.ctx) + b"\n" for r in records]))

    def _write(self, data: bytes) -> None:
        if self._fd is None or not self._current():
            self._open()
        if self._torn:  # the last attempt stopped inside a line (disk full): end it, never glue two
            data = b"\n" + data
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError:
            self._torn = self._torn if done == 0 else True
            raise
        self._torn = False
        if self.fsync:
            os.fsync(self._fd)

    def sync(self) -> None:
        """fsync the file: called before the cursor is saved, so a power cut cannot lose lines the
        cursor says were delivered (one fsync per batch, not per line, unless ``fsync``)."""
        if self._fd is not None and not self.fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file."""
        self._close_fd()


def report(record: Record, ctx: SinkContext, path: os.PathLike | str) -> None:
    """One-shot form (bandit-style entry): append ``record`` to ``path``."""
    s = Sink(path, ctx)
    try:
        s.emit(record)
    finally:
        s.close()
