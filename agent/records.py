"""The journal read for people: who acted on a file, which file records touch which paths, which
violations are open. Shared by the hand-over record and the incident report; read-only.

Who acted: a file record names the file's owner at the time of the event (``owner``). When the
daemon records the acting process (fanotify: ``actor: {pid, uid, user, exe}`` in the record's
evidence), that is what did it, and it is shown; until then the owner is shown and the record says
"acting process not recorded" — the owner of a file is not necessarily who wrote or copied it.
Every value read here comes from evidence the daemon built from a hostile file system, so it is
bounded and typed before anyone prints it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

TEXT_MAX = 4096
"""Longest text value taken from evidence (a path is at most PATH_MAX)."""
ACTOR_FIELDS = ("pid", "uid", "user", "exe", "comm", "ppid", "login_user", "loginuid")


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value[:TEXT_MAX]
    return None


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) < 12:
        return int(value)
    return None


def actor_of(evidence: Any) -> Optional[dict[str, Any]]:
    """The acting process a record names (``actor`` in its evidence), as plain typed data, or None."""
    if not isinstance(evidence, Mapping):
        return None
    a = evidence.get("actor")
    if not isinstance(a, Mapping):
        return None
    out: dict[str, Any] = {}
    for k in ACTOR_FIELDS:
        v = _int(a.get(k)) if k in ("pid", "uid", "ppid", "loginuid") else _text(a.get(k))
        if v is not None:
            out[k] = v
    return out or None


def who(evidence: Any, owner: Optional[str] = None) -> dict[str, Any]:
    """``{"actor": {...} | None, "owner": name, "actor_recorded": bool}`` for one file, and for a
    copy (``copy_actor`` in the record) ``copied_by``: the process that read the source."""
    actor = actor_of(evidence)
    if owner is None and isinstance(evidence, Mapping):
        owner = _text(evidence.get("owner"))
    out = {"actor": actor, "owner": owner, "actor_recorded": actor is not None}
    ca = evidence.get("copy_actor") if isinstance(evidence, Mapping) else None
    reader = actor_of({"actor": ca.get("read_by")}) if isinstance(ca, Mapping) else None
    if reader is not None:
        out["copied_by"] = reader
    return out


def acted_by(evidence: Any, user: str, uid: Optional[int]) -> bool:
    """True when the record's acting process ran as ``user`` (by name or uid)."""
    a = actor_of(evidence)
    if a is None:
        return False
    return a.get("user") == user or (uid is not None and a.get("uid") == uid)


def under(path: str, roots: Iterable[str]) -> bool:
    """``path`` is one of ``roots`` or inside one."""
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots if r)


@dataclass(frozen=True)
class FileEvent:
    """The last file record seen for one path."""

    seq: int
    time: str
    event: Optional[str]
    path: str
    sha256: Optional[str]
    size: Optional[int]
    owner: Optional[str]
    actor: Optional[dict[str, Any]]
    people: tuple[str, ...] = ()
    """Every user the path's records named as owner or acting user, in order (``file_index``)."""
    uids: tuple[int, ...] = ()
    """Every acting uid the path's records named."""

    def by(self, user: str, uid: Optional[int]) -> bool:
        """True when ``user`` owned or wrote the file in any of its records."""
        return user in self.people or (uid is not None and uid in self.uids)


def file_event(rec) -> Optional[FileEvent]:
    """A file record's path-level facts (the destination of a move), or None for a directory or a
    record without a usable path."""
    ev = rec.evidence if isinstance(rec.evidence, Mapping) else {}
    if ev.get("is_directory"):
        return None
    path = _text(ev.get("dest")) or _text(ev.get("path"))
    if not path:
        return None
    sha = ev.get("sha256")
    size = _int(ev.get("size"))
    return FileEvent(rec.seq, rec.time, _text(ev.get("event")), path,
                     sha if isinstance(sha, str) and len(sha) == 64 else None, size, _text(ev.get("owner")),
                     actor_of(ev))


def file_index(records: Iterable, roots: Sequence[str]) -> dict[str, FileEvent]:
    """path -> its last file record, for paths under ``roots``, with every owner and acting user
    its records named (a deletion names nobody, but the file was still written by someone). A move
    also ends the life of its source path (recorded as the event ``moved_away``)."""
    out: dict[str, FileEvent] = {}

    def put(path: str, fe: FileEvent) -> None:
        old = out.get(path)
        people = list(old.people) if old else []
        uids = list(old.uids) if old else []
        for name in (fe.owner, (fe.actor or {}).get("user")):
            if name and name not in people:
                people.append(name)
        uid = (fe.actor or {}).get("uid")
        if isinstance(uid, int) and uid not in uids:
            uids.append(uid)
        if old is not None and fe.event in ("deleted", "moved_away"):
            # the file's last known content and writer outlive it; the event says it is gone
            fe = replace(fe, sha256=fe.sha256 or old.sha256, size=fe.size if fe.size is not None else old.size,
                         owner=fe.owner or old.owner, actor=fe.actor or old.actor)
        out[path] = replace(fe, path=path, people=tuple(people[:32]), uids=tuple(uids[:32]))

    for rec in records:
        fe = file_event(rec)
        if fe is None:
            continue
        ev = rec.evidence if isinstance(rec.evidence, Mapping) else {}
        src = _text(ev.get("path"))
        if fe.event == "moved" and src and src != fe.path and under(src, roots):
            put(src, replace(fe, event="moved_away"))
        if under(fe.path, roots):
            put(fe.path, fe)
    return out


@dataclass(frozen=True)
class OpenViolation:
    """A violation journaled and not cleared since."""

    seq: int
    time: str
    check_id: str
    severity: Optional[str]
    message: Optional[str]
    evidence: Any
    acknowledged: bool = False


def open_violations(records: Iterable) -> list[OpenViolation]:
    """Violations still open after ``records`` (violation, cleared and ack records in order), the
    same way the daemon rebuilds its state at start-up."""
    state: dict[str, OpenViolation] = {}
    for r in records:
        if not r.check_id:
            continue
        if r.kind == "violation":
            state[r.check_id] = OpenViolation(r.seq, r.time, r.check_id, r.severity, r.message, r.evidence)
        elif r.kind == "cleared":
            state.pop(r.check_id, None)
        elif r.kind == "ack" and r.check_id in state:
            v = state[r.check_id]
            vseq = r.evidence.get("violation_seq") if isinstance(r.evidence, Mapping) else None
            if vseq is None or vseq == v.seq:  # an ack of an earlier violation of the check, since cleared, is not this one's
                state[r.check_id] = OpenViolation(v.seq, v.time, v.check_id, v.severity, v.message, v.evidence, True)
    return sorted(state.values(), key=lambda v: v.seq)


def items_of(evidence: Any, limit: int = 1000) -> Iterator[Mapping[str, Any]]:
    """The evidence items of a violation (``items`` list of objects), bounded."""
    if not isinstance(evidence, Mapping):
        return
    items = evidence.get("items")
    if not isinstance(items, list):
        return
    for item in items[:limit]:
        if isinstance(item, Mapping):
            yield item


def plain_item(item: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The named fields of an evidence item, typed for output (text, numbers, booleans)."""
    out: dict[str, Any] = {}
    for k in keys:
        v = item.get(k)
        if isinstance(v, bool) or (isinstance(v, int) and not isinstance(v, bool)):
            out[k] = v
        elif isinstance(v, str):
            out[k] = v[:TEXT_MAX]
        elif isinstance(v, list):
            out[k] = [x[:TEXT_MAX] if isinstance(x, str) else x for x in v[:50] if isinstance(x, (str, int))]
    actor = actor_of(item)
    if actor is not None:
        out["actor"] = actor
    return out


def journal_state(journal_path: str) -> dict[str, Any]:
    """Whether the journal at ``journal_path`` exists and verifies (plain chain and, when the
    initial key is there, MACs): what a record built from it can claim."""
    from .errors import AgentError
    from .journal import Journal
    if not os.path.exists(journal_path):
        return {"present": False, "verified": None, "reason": "no journal on this machine"}
    try:
        j = Journal.open(journal_path, readonly=True)
    except AgentError as exc:
        return {"present": True, "verified": None, "reason": str(exc)}
    try:
        res = j.verify()
    finally:
        j.close()
    return {"present": True, "verified": res.ok, "reason": res.reason, "first_bad_seq": res.first_bad_seq,
            "mac_checked": res.mac_checked, "head_seq": res.head_seq, "head_hash": res.head_hash, "count": res.count}
