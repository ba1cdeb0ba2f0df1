"""Order between snapshots of one host: later in time, and a journal that extends the head seen before.

A snapshot witnesses the head of the host's journal, ``(seq, hash)`` of its last record, under the
host's signature (``journal.head`` in a format-2 manifest; for format 1 the end of the excerpt).
Whatever came earlier for the same host — the snapshot named with ``--previous``, or the head that
``report fleet`` accepted at an earlier review (``heads.json`` in the inspector's directory) — the
new one must be made later and its journal must *extend* that head: its excerpt must contain the
record at the old head's sequence number with the old hash, or the record after it linking to
that hash. A lower head is a rollback, the same sequence number with another hash (or a record
linking to another hash) is a branch, and a head the excerpt does not reach back to cannot be
proven: all three are invalid, with both heads named.

A journal started anew by ``bmnn journal reset`` begins with a ``journal_reset`` record that names
the old journal's head. When the excerpt holds that record and the old head it names is not before
the head seen earlier (the same hash when it is the same sequence number), the break is documented:
``follows`` accepts it with a ``journal_reset`` warning that names both heads and the reason — shown,
never hidden. A reset naming an older head than the one seen is still a rollback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Optional

from ..errors import AgentError
from .inspector import InspectorDir
from .messages import Problem

GENESIS = "0" * 64
STATE_FILE = "heads.json"
STATE_FORMAT = "bmnn-inspector-heads"


@dataclass(frozen=True)
class Head:
    """The last record of a journal: sequence number and hash (seq 0 and 64 zeros for an empty one)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Seen:
    """What the inspector has already accepted from one host: enough to judge the next snapshot."""

    where: Any
    """How messages name it: a file name, or the phrase "the review of DATE" (a ``Problem``)."""
    created_at: Optional[str]
    """When that snapshot was made (the host's signed clock)."""
    manifest_sha256: str
    """SHA-256 of its manifest: the same snapshot presented again has the same one."""
    head: Optional[Head]
    """The journal head it witnessed; None when the host had no journal."""
    fingerprint: Optional[str] = None
    """The key that signed it."""
    machine_id: Optional[str] = None
    """/etc/machine-id of the host."""
    hostname: Optional[str] = None


@dataclass(frozen=True)
class Excerpt:
    """The links of a journal excerpt, 32 bytes a record: all ``follows`` needs of it, so that a
    review of many large snapshots does not keep their records in memory."""

    first_seq: Optional[int] = None
    """Sequence number of the first record (None: no record)."""
    first_prev: Optional[str] = None
    """``prev_hash`` of the first record."""
    hashes: bytes = b""
    """The records' hashes, raw, in sequence order without gaps."""
    checkpoints: tuple[tuple[int, dict], ...] = ()
    """(seq, evidence) of checkpoint records: they explain removed ranges."""
    resets: tuple[tuple[int, str, dict], ...] = ()
    """(seq, time, evidence) of ``journal_reset`` records: a documented new start."""

    @classmethod
    def of(cls, records: list[dict]) -> "Excerpt":
        """From excerpt records (stops at the first irregular one: such an excerpt is invalid anyway)."""
        out, first, first_prev, checkpoints, resets = bytearray(), None, None, [], []
        for r in records:
            seq, h = r.get("seq"), r.get("hash")
            if not isinstance(seq, int) or (first is not None and seq != first + len(out) // 32):
                break
            try:
                raw = bytes.fromhex(h) if isinstance(h, str) else b""
            except ValueError:
                break
            if len(raw) != 32:
                break
            if first is None:
                first, first_prev = seq, r.get("prev_hash")
            out += raw
            if r.get("kind") == "checkpoint" and isinstance(r.get("evidence"), dict):
                checkpoints.append((seq, r["evidence"]))
            if r.get("kind") == "journal_reset" and seq == 1 and isinstance(r.get("evidence"), dict):
                resets.append((seq, str(r.get("time")), r["evidence"]))
        return cls(first, first_prev, bytes(out), tuple(checkpoints), tuple(resets))

    @property
    def last_seq(self) -> Optional[int]:
        return None if self.first_seq is None else self.first_seq + len(self.hashes) // 32 - 1

    def hash_at(self, seq: int) -> Optional[str]:
        """The hash of record ``seq`` if the excerpt holds it."""
        if self.first_seq is None or not self.first_seq <= seq <= self.last_seq:
            return None
        i = (seq - self.first_seq) * 32
        return self.hashes[i:i + 32].hex()

    def prev_at(self, seq: int) -> Optional[str]:
        """The ``prev_hash`` of record ``seq`` if the excerpt holds it."""
        if seq == self.first_seq:
            return self.first_prev
        return self.hash_at(seq - 1) if self.hash_at(seq) is not None else None


def head_of(manifest: Mapping[str, Any]) -> Optional[Head]:
    """The journal head a manifest witnesses, None when the host had no journal.

    Format 2 says it in ``journal.head``; format 1 only in the excerpt's ``last_seq``/``head_hash``.
    """
    j = manifest.get("journal") or {}
    if not j.get("present"):
        return None
    h = j.get("head") if manifest.get("version", 1) >= 2 else {"seq": j.get("last_seq"), "hash": j.get("head_hash")}
    if not isinstance(h, dict):
        return None
    seq, digest = h.get("seq"), h.get("hash")
    if seq is None and digest is None:
        return Head(0, GENESIS)
    if not isinstance(seq, int) or not isinstance(digest, str):
        return None
    return Head(seq, digest)


def seen_from(manifest: Mapping[str, Any], mbytes: bytes, where: str) -> Seen:
    host = manifest.get("host") or {}
    return Seen(where=where, created_at=manifest.get("created_at"), manifest_sha256=hashlib.sha256(mbytes).hexdigest(),
                head=head_of(manifest), fingerprint=(manifest.get("key") or {}).get("fingerprint"),
                machine_id=host.get("machine_id"), hostname=host.get("hostname"))


def _time(s: Optional[str]) -> Optional[dt.datetime]:
    try:
        t = dt.datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def follows(prev: Seen, cur: Seen, excerpt: Excerpt) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings) of ``cur`` coming after ``prev`` for the same host.

    ``excerpt`` is ``cur``'s journal excerpt, already checked to be one unbroken chain ending at
    ``cur.head``.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    if cur.manifest_sha256 == prev.manifest_sha256:
        return [Problem.of("same_snapshot", other=prev.where)], []
    p, c = prev.head, cur.head
    t_prev, t_cur = _time(prev.created_at), _time(cur.created_at)
    # times are signed to the second: the same second counts as later only with a longer journal
    same_second_later = t_cur == t_prev and p is not None and c is not None and c.seq > p.seq
    if t_prev is None or t_cur is None or t_cur < t_prev or (t_cur == t_prev and not same_second_later):
        problems.append(Problem.of("not_later", created=cur.created_at, previous=prev.where,
                                   previous_created=prev.created_at))
    if p is None:
        if c is not None:
            warnings.append(Problem.of("previous_no_journal"))
        return problems, warnings
    if c is None:
        problems.append(Problem.of("journal_gone", previous_seq=p.seq))
        return problems, warnings
    names = dict(previous=prev.where, previous_seq=p.seq, previous_hash=p.hash[:16])
    documented = _documented_reset(excerpt, p)
    if documented is not None and (c.seq < p.seq or excerpt.hash_at(p.seq) != p.hash):
        warnings.append(documented)
        return problems, warnings
    if c.seq < p.seq:
        problems.append(Problem.of("rollback", seq=c.seq, hash=c.hash[:16], **names))
    elif c.seq == p.seq:
        if c.hash != p.hash:
            problems.append(Problem.of("branch", seq=c.seq, hash=c.hash[:16], **names))
        else:
            warnings.append(Problem.of("no_new_records", previous=prev.where, seq=c.seq))
    else:
        at, after = excerpt.hash_at(p.seq), excerpt.prev_at(p.seq + 1)
        if at is not None or after is not None:
            link = at if at is not None else after
            if link != p.hash:
                problems.append(Problem.of("branch", seq=p.seq, hash=str(link)[:16], **names))
        else:
            first = excerpt.first_seq if excerpt.first_seq and excerpt.first_seq > p.seq else c.seq + 1
            problems.append(Problem.of("deleted_range", previous=prev.where, first=p.seq + 1, last=first - 1))
            for seq, ev in excerpt.checkpoints:
                if isinstance(ev.get("pruned_through"), int) and ev["pruned_through"] > p.seq:
                    problems.append(Problem.of("deleted_range_checkpoint", seq=seq, first=ev.get("pruned_from"),
                                               last=ev.get("pruned_through"), reason=ev.get("reason")))
    return problems, warnings


def _documented_reset(excerpt: Excerpt, p: Head) -> Optional[Problem]:
    """The ``journal_reset`` warning when the excerpt starts a new journal naming an old head at or
    after ``p`` (with ``p``'s hash when at it); None otherwise."""
    from ..journal_reset import reset_of
    for seq, time, ev in excerpt.resets:
        old = reset_of(ev)
        if old is None or old["seq"] < p.seq or (old["seq"] == p.seq and old["hash"] != p.hash):
            continue
        return Problem.of("journal_reset", seq=seq, time=time, reason=str(ev.get("reason"))[:200],
                          old_seq=old["seq"], old_hash=old["hash"][:16], previous_seq=p.seq, previous_hash=p.hash[:16])
    return None


# ---------------------------------------------------------------- what report fleet accepted before


def load_state(idir: Optional[InspectorDir]) -> dict[str, dict]:
    """Host id -> the last accepted snapshot (``Seen`` fields plus ``accepted_at``)."""
    value = idir.read_json(STATE_FILE) if idir is not None else None
    if value is None:
        return {}
    if not isinstance(value, dict) or value.get("format") != STATE_FORMAT or not isinstance(value.get("hosts"), dict):
        raise AgentError(f"{idir.path}/{STATE_FILE}: not a bmnn inspector state file", kind="config")
    return value["hosts"]


def seen_of_state(item: Mapping[str, Any]) -> Seen:
    """What an earlier review accepted for one host, named "the review of DATE" in messages."""
    h = item.get("head")
    return Seen(where=Problem.of("history_previous", date=item.get("accepted_at")), created_at=item.get("created_at"), manifest_sha256=str(item.get("manifest_sha256")),
                head=Head(h["seq"], h["hash"]) if isinstance(h, dict) else None, fingerprint=item.get("fingerprint"),
                machine_id=item.get("machine_id"), hostname=item.get("hostname"))


def remember(idir: InspectorDir, accepted: Mapping[str, Seen], now: dt.datetime) -> None:
    """Record the accepted snapshots, one per host, never moving a host's head backwards."""
    if not accepted:
        return
    with idir.transaction() as tx:
        value = tx.read_json(STATE_FILE)
        hosts = dict(value.get("hosts") or {}) if isinstance(value, dict) else {}
        for host_id, seen in accepted.items():
            old = hosts.get(host_id)
            if old is not None:
                t_old, t_new = _time(old.get("created_at")), _time(seen.created_at)
                if t_old is not None and (t_new is None or t_new <= t_old):
                    continue
            item = asdict(seen)
            item["where"] = str(seen.where)
            item["accepted_at"] = now.isoformat(timespec="seconds")
            hosts[host_id] = item
        tx.write_json(STATE_FILE, {"format": STATE_FORMAT, "version": 1, "hosts": hosts})
