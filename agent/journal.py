"""The tamper-evident, crash-safe event journal.

Storage: one SQLite file in WAL mode with ``synchronous=FULL``: when ``append`` returns, the
record is in the write-ahead log and fsync'ed, so a ``kill -9`` or a power cut after that point
cannot lose it. Readers (``bmnn events``, the IPC server) use their own connections and see a
consistent snapshot while the daemon writes. A full disk makes ``append`` raise
``AgentError(kind="disk_full")`` with nothing half-written; ``bmnn_guard.agent.spool.JournalWriter`` keeps the
event in memory and writes it when space returns.

Each record carries two chains:

``hash`` — plain SHA-256 over ``prev_hash || canonical(record)``; the first record links to 64
zeros. Anyone (an inspector with a copy of the file and no secret) can check that no record was
edited, removed, inserted or reordered *unless the whole chain after it was recomputed*.

``mac`` — HMAC-SHA256 over the same bytes with a key that evolves forward after every record:
``key_1`` is 32 random bytes made when the journal is created (the *initial key*, written to
``journal.key``, mode 0400); ``key_{n+1} = SHA256("evolve" || key_n)``. Only the key for the next
record is kept (in the database, updated in the same transaction as the record); older keys are
gone because SHA-256 cannot be run backwards.

What this does and does not protect, honestly:

* Someone who edits the file without root (a backup copy, a disk taken out of the machine, a
  partial compromise) and does not recompute the chain is caught by the plain chain alone.
* An attacker who gets root *after* some records were written can read the current key
  ``key_{n+1}``. They can recompute the plain chain, but cannot produce valid MACs for records
  ``1..n`` without an earlier key, so rewriting, deleting or reordering the past is caught by
  ``verify`` **when the verifier holds the initial key** — which is only meaningful if the
  initial key is *not on the machine any more*. While ``journal.key`` stays in the state
  directory, root can read it and forge everything; the forward security holds only once the
  security officer has copied it off the host (a registered USB stick, the inspector's file) and
  removed it (``shred -u``). ``bmnn events verify --key FILE`` then checks the MACs.
* Deleting the newest records (truncating the tail) is caught from the key state: the stored
  next-key belongs to a later sequence number than the last record (and, without the initial key,
  from the stored next sequence number, which root can also edit).
* Root can always *append* well-formed records from now on, or stop the daemon. Heartbeats (every
  60 s by default) make downtime visible as a gap, and each carries the head (seq, hash) to the
  sinks. A journal is never started anew by itself: beside an existing ``journal.key`` or
  ``journal.head`` (the last head this host witnessed) a missing or empty journal is refused
  (``refuse_new_journal``), and the daemon refuses one that does not extend ``journal.head``
  (``check_witness``); the key file is never overwritten. ``bmnn journal reset`` (agent/journal_reset.py)
  is the explicit way, and the new journal's first record names the old head. Root can edit
  ``journal.head`` as well: the heads already sent out and in snapshots (``extends``) are the
  witnesses that bound it.
* Retention (``retention``/``checkpoint``) deletes a prefix of old records and appends a
  ``checkpoint`` record naming the last deleted sequence and its hash; verification starts from
  that anchor. Root can do the same, but it shows as a checkpoint record at the time it was done,
  and the checkpoint carries the last record it removed (body and MAC): with the initial key,
  ``verify(retention_days=N)`` proves that record's true time and fails a checkpoint that removed
  records younger than N days, or any checkpoint when no retention is configured.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import socket
import sqlite3
import threading
import urllib.parse
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .errors import AgentError
from .event import KINDS, Event, canonical_json, now_iso  # KINDS, now_iso: imported from here by config and sinks
from .wording import said

GENESIS = "0" * 64
SALVAGE_MAX_BYTES = 16 << 30
SALVAGE_MAX_RECORDS = 2_000_000
"""Bounds of ``damage_report`` on a hostile file: the size a header may claim, the records tried."""
UNCHECKED = object()
"""``verify(retention_days=UNCHECKED)``: checkpoints are not judged against a retention."""
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
FORMAT_VERSION = 1
_CHUNK = 2000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    check_id TEXT,
    severity TEXT,
    evidence TEXT,
    message TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_time ON records(time);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLS = "seq, time, host, kind, check_id, severity, evidence, message, prev_hash, hash, mac"


_encode_str = json.encoder.encode_basestring  # the C escaper json.dumps(ensure_ascii=False) uses


def _js(v: Any) -> str:
    """json.dumps(v, ensure_ascii=False) for the record's string fields, ~5x faster."""
    if v is None:
        return "null"
    if type(v) is str:
        return _encode_str(v)
    return json.dumps(v, ensure_ascii=False)


def canonical_body(seq: int, time: str, host: str, kind: str, check_id: Optional[str], severity: Optional[str],
                   evidence_json: Optional[str], message: Optional[str], prev_hash: str) -> str:
    """The one canonical form of a record: the JSON object of its hashed fields with sorted keys
    and no spaces (``check_id, evidence, host, kind, message, prev_hash, seq, severity, time, v``),
    ``evidence_json`` being the evidence's canonical JSON (``bmnn_guard.agent.event.canonical_json``) as it is
    stored. Assembled from the columns: append, verify and export never re-serialise evidence."""
    return (f'{{"check_id":{_js(check_id)},"evidence":{"null" if evidence_json is None else evidence_json},'
            f'"host":{_js(host)},"kind":{_js(kind)},"message":{_js(message)},"prev_hash":{_js(prev_hash)},'
            f'"seq":{int(seq)},"severity":{_js(severity)},"time":{_js(time)},"v":{FORMAT_VERSION}}}')


def signed_bytes(seq: int, time: str, host: str, kind: str, check_id: Optional[str], severity: Optional[str],
                 evidence_json: Optional[str], message: Optional[str], prev_hash: str) -> bytes:
    """prev_hash || canonical JSON of the record (what hash and mac cover)."""
    return bytes.fromhex(prev_hash) + canonical_body(seq, time, host, kind, check_id, severity, evidence_json,
                                                     message, prev_hash).encode("utf-8")


def evolve(key: bytes) -> bytes:
    """The next MAC key: SHA256("evolve" || key). One-way: the previous key cannot be recovered."""
    return hashlib.sha256(b"evolve" + key).digest()


def key_for(initial: bytes, seq: int) -> bytes:
    """The MAC key of record ``seq`` (1-based) derived from the initial key."""
    k = initial
    for _ in range(seq - 1):
        k = evolve(k)
    return k


def key_id(key: bytes) -> str:
    """A public name of an initial key: SHA-256 of a label and the key, hex in groups of four.

    Stored in the journal's meta when it is created, so that ``verify`` tells a key that is not
    this journal's (the wrong file from the stick) from records whose MACs do not match, and a
    ``journal reset`` can name the key of the journal it put aside. It reveals nothing of the key.
    """
    h = hashlib.sha256(b"bmnn-journal-key-id\0" + key).hexdigest()
    return " ".join(h[i:i + 4] for i in range(0, len(h), 4))


def iso(t: dt.datetime) -> str:
    """A datetime in the journal's format (naive times are taken as UTC)."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Record:
    """One journal record."""

    seq: int
    """Sequence number, 1-based, without gaps (retention removes a prefix only)."""
    time: str
    """When the event was observed, UTC ISO 8601 with microseconds."""
    host: str
    """Host name of the machine that wrote it."""
    kind: str
    """One of KINDS."""
    check_id: Optional[str]
    """Check the event is about, if any."""
    severity: Optional[str]
    """Effective severity of the check, if any."""
    evidence: Any
    """Metadata of what was seen (JSON value; never document content)."""
    message: Optional[str]
    """One line for people."""
    prev_hash: str
    """``hash`` of the previous record (64 zeros for the first)."""
    hash: str
    """SHA-256 over prev_hash || canonical record (verifiable without a key)."""
    mac: str
    """HMAC-SHA256 over the same bytes with the forward-evolving key."""

    def signed_bytes(self) -> bytes:
        """prev_hash || canonical record (``canonical_body``): what hash and mac are computed over."""
        return signed_bytes(self.seq, self.time, self.host, self.kind, self.check_id, self.severity,
                            None if self.evidence is None else canonical_json(self.evidence), self.message,
                            self.prev_hash)

    def to_dict(self) -> dict:
        """Plain JSON-ready form (shallow: evidence is shared, not copied)."""
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Record":
        """Inverse of ``to_dict`` (used by the IPC client)."""
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__})


_FIELDS = tuple(f.name for f in fields(Record))


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``Journal.verify``."""

    ok: bool
    """The journal verifies."""
    first_bad_seq: Optional[int]
    """First sequence number that is wrong or missing; None when ok."""
    reason: Optional[str]
    """What is wrong there, in English."""
    count: int
    """Records checked."""
    mac_checked: bool
    """MACs were checked (the initial key was available); False means the plain chain only."""
    first_seq: Optional[int] = None
    """First record present (after retention, the one after the checkpoint anchor)."""
    head_seq: Optional[int] = None
    """Last record present."""
    head_hash: Optional[str] = None
    """Hash of the last record: write it down, an inspector can compare it later."""
    wal: Optional[str] = None
    """The write-ahead log beside the file: "present" (its records were read too), "absent"
    (fine after a clean stop or a snapshot export, which fold it into the file; a copy taken
    while the daemon wrote may lack the newest records, which only a witnessed head can show),
    None when the file is not in WAL mode or could not be read."""
    retention_checked: bool = False
    """Every checkpoint was judged against the configured retention (``verify(retention_days=...)``)."""
    key_mismatch: bool = False
    """The key given is well-formed but not this journal's (its key id differs from the one
    stored at creation): nothing is proven; the wrong file, or a journal made under another key."""


def _row_record(row: Sequence[Any]) -> Record:
    seq, time, host, kind, check_id, severity, evidence, message, prev_hash, h, mac = row
    return Record(seq, time, host, kind, check_id, severity, None if evidence is None else json.loads(evidence),
                  message, prev_hash, h, mac)


def _sql_error(exc: sqlite3.Error, path: Path, doing: str) -> AgentError:
    text = str(exc)
    low = text.lower()
    if "full" in low:
        return AgentError(f"journal {path}: disk full while {doing} ({text}); the event is kept in memory "
                          f"and will be written when space is freed", kind="disk_full")
    if "readonly" in low or "read-only" in low:
        return AgentError(f"journal {path}: read-only while {doing} ({text})", kind="io")
    if "not a database" in low or "malformed" in low or "no such table" in low:
        return AgentError(f"journal {path}: damaged file ({text})", kind="integrity")
    if "unable to open" in low:
        return AgentError(f"journal {path}: cannot open ({text})", kind="io")
    return AgentError(f"journal {path}: {text} while {doing}", kind="io")


class Journal:
    """An open journal. Thread-safe: one connection guarded by a lock; readers may open their own."""

    def __init__(self, conn: sqlite3.Connection, path: Path, key_path: Optional[Path], host: str, readonly: bool):
        self._conn = conn
        self._lock = threading.RLock()
        self.path = path
        """The database file."""
        self.key_path = key_path
        """Where the initial key is (or was) kept."""
        self.host = host
        """Host name written into new records."""
        self.readonly = readonly
        """Opened read-only (``bmnn events`` without the daemon)."""

    # ------------------------------------------------------------ open / close

    @classmethod
    def open(cls, path: os.PathLike | str, *, readonly: bool = False, key_path: os.PathLike | str | None = None,
             host: Optional[str] = None) -> "Journal":
        """Open (and when writable, create) the journal at ``path``.

        The initial key goes to ``key_path`` (default: ``journal.key`` beside the database) with
        mode 0400 when the journal is created.
        """
        path = Path(path)
        kp = Path(key_path) if key_path is not None else path.with_name(path.stem + ".key")
        host = host or socket.gethostname()
        if readonly:
            if not os.path.exists(path):  # (Path.exists raises on EACCES)
                if os.path.isdir(path.parent) and not os.access(path.parent, os.R_OK | os.X_OK):
                    raise AgentError(f"cannot read the journal in {path.parent}: permission denied (root only; "
                                     "members of group bmnn use `bmnn events`, served by the daemon)", kind="forbidden")
                raise AgentError(f"no journal at {path}", kind="io")
            uri = "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"
            try:
                conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None, check_same_thread=False)
                conn.execute("PRAGMA query_only=ON")
                conn.execute("SELECT count(*) FROM meta").fetchone()
            except sqlite3.Error as exc:
                raise _sql_error(exc, path, "opening read-only") from None
            return cls(conn, path, kp, host, True)
        if not os.path.exists(path):
            refuse_new_journal(path, kp, "is missing")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
            try:
                kept = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'meta'").fetchone()[0] and \
                    conn.execute("SELECT count(*) FROM meta WHERE name = 'next_seq'").fetchone()[0]
                if not kept:  # before anything is written to it: the file stays as it was found
                    refuse_new_journal(path, kp, "is empty")
            except BaseException:
                conn.close()
                raise
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise AgentError(f"journal {path}: cannot switch to WAL mode (got {mode})", kind="io")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA fullfsync=ON")
            conn.executescript(_SCHEMA)
            os.chmod(path, 0o600)
        except sqlite3.Error as exc:
            raise _sql_error(exc, path, "opening") from None
        except OSError as exc:
            raise AgentError(f"journal {path}: {exc.strerror or exc}", kind="io") from None
        j = cls(conn, path, kp, host, False)
        j._init_meta()
        return j

    def _init_meta(self) -> None:
        with self._lock:
            have = dict(self._conn.execute("SELECT name, value FROM meta").fetchall())
            if "next_seq" in have:
                return
            if self._conn.execute("SELECT count(*) FROM records").fetchone()[0]:
                raise AgentError(f"journal {self.path}: records without key state (meta table emptied?)",
                                 kind="integrity")
            refuse_new_journal(self.path, self.key_path, "is empty")
            initial = os.urandom(32)
            self._write_key(initial)
            meta = {"version": str(FORMAT_VERSION), "created": now_iso(), "host": self.host,
                    "next_seq": "1", "next_key": initial.hex(), "head_hash": GENESIS,
                    "base_seq": "0", "base_hash": GENESIS, "key_id": key_id(initial)}
            with self._write_txn("creating"):
                self._conn.executemany("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", meta.items())

    def _write_key(self, key: bytes) -> None:
        kp = self.key_path
        tmp = kp.with_name(kp.name + ".tmp")
        try:
            if tmp.exists():
                tmp.unlink()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
            try:
                os.write(fd, key.hex().encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, kp)  # never over an existing key (os.replace would overwrite it)
            except FileExistsError:
                os.unlink(tmp)
                raise AgentError(f"journal key {kp} exists: refusing to overwrite it", kind="integrity") from None
            os.unlink(tmp)
            dfd = os.open(kp.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as exc:
            raise AgentError(f"cannot write the journal key {kp}: {exc.strerror or exc}", kind="io") from None

    def close(self) -> None:
        """Close the connection; a writer first folds the WAL into the file (a clean stop leaves
        a ``journal.db`` that can be copied and verified alone)."""
        if not self.readonly:
            self.trim_wal()
            with contextlib.suppress(AgentError, sqlite3.Error):
                self.note_head()
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def _write_txn(self, doing: str) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT under the lock; rollback and AgentError on any failure."""
        if self.readonly:
            raise AgentError(f"journal {self.path} is open read-only", kind="usage")
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield
                self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise _sql_error(exc, self.path, doing) from None
            except BaseException:
                self._rollback()
                raise

    @property
    def head_path(self) -> Path:
        """``journal.head`` beside the database: the last head this host witnessed (see ``note_head``)."""
        return self.path.with_name(self.path.stem + ".head")

    def current_head(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the last record as the key state says (seq 0 and 64 zeros when empty):
        what heartbeats, snapshots and ``journal.head`` witness."""
        with self._lock:
            meta = self._meta()
        return {"seq": int(meta.get("next_seq", "1")) - 1, "hash": meta.get("head_hash", GENESIS)}

    def note_head(self) -> dict[str, Any]:
        """Write the current head to ``journal.head`` (atomically; at each heartbeat and on close).

        The daemon refuses to start on a journal that does not extend it: an older copy of
        ``journal.db`` put back while it was stopped, or an emptied one. Root can edit this file
        too; the heads in the heartbeats sent to the sinks and in the snapshots are the
        witnesses root cannot take back.
        """
        head = self.current_head()
        with self._lock:
            kid = self._meta().get("key_id")
        doc = {"format": "bmnn-journal-head", "version": 1, "seq": head["seq"], "hash": head["hash"],
               "key_id": kid, "time": now_iso()}
        tmp = self.head_path.with_name(self.head_path.name + ".tmp")
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)  # a fresh file: never write through whatever was left at that name
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, json.dumps(doc, sort_keys=True).encode() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.head_path)
        except OSError as exc:
            raise AgentError(f"cannot write {self.head_path}: {exc.strerror or exc}", kind="io") from None
        return head

    def check_witness(self) -> None:
        """Refuse (AgentError kind integrity) a journal that does not extend the head in ``journal.head``.

        Run by the daemon at start-up: a journal put back from an older copy, or one whose
        records were cut, has a lower head or another hash at the witnessed sequence number.
        """
        seen = read_witness(self.head_path)
        if seen is None:
            return
        with self._lock:
            meta = self._meta()
            row = self._conn.execute("SELECT hash FROM records WHERE seq = ?", (seen["seq"],)).fetchone()
        cur = self.current_head()
        base, base_hash = int(meta.get("base_seq", "0")), meta.get("base_hash", GENESIS)
        if seen["seq"] > cur["seq"]:
            why = "is older (shorter) than"
        elif seen["seq"] == cur["seq"] and seen["hash"] != cur["hash"]:
            why = "branches from"
        elif row is not None and row[0] != seen["hash"]:
            why = "branches from"
        elif row is None and seen["seq"] == base and base_hash != seen["hash"]:
            why = "branches from"
        else:
            return
        raise AgentError(
            f"journal {self.path} (head #{cur['seq']} {cur['hash'][:16]}…) {why} the head this host witnessed "
            f"in {self.head_path} (#{seen['seq']} {seen['hash'][:16]}…): an older or altered journal was put back. "
            f"Refusing to start. Keep the files for the inspection; `bmnn journal reset --reason TEXT` starts a new "
            f"journal that records the old head", kind="integrity")

    def extends(self, seq: int, digest: str) -> tuple[str, dict[str, Any]]:
        """Does this journal extend the head ``(seq, digest)`` seen before (a snapshot, a heartbeat)?

        (verdict, facts): ``extends`` (record ``seq`` has that hash, also when nothing was added
        since), ``reset`` (a ``journal_reset`` record at #1 names an old head at or after it: a
        documented break, shown), ``unproven`` (record ``seq`` was removed by a checkpoint),
        ``rollback`` (this journal is shorter) or ``branch`` (another hash at ``seq``).
        """
        from .journal_reset import reset_of
        with self._lock:
            meta = self._meta()
            row = self._conn.execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone() if seq > 0 else None
            first = self._conn.execute(f"SELECT {_COLS} FROM records WHERE seq = 1").fetchone()
        cur = self.current_head()
        base, base_hash = int(meta.get("base_seq", "0")), meta.get("base_hash", GENESIS)
        facts: dict[str, Any] = {"head": cur, "seen": {"seq": seq, "hash": digest}}
        reset = None
        if first is not None and first[3] == "journal_reset":
            reset = reset_of(_row_record(first).evidence)
            facts["reset"] = {"seq": 1, "time": first[1], "previous": reset,
                              "reason": (_row_record(first).evidence or {}).get("reason")}
        if seq == 0:
            return ("extends" if digest == GENESIS else "branch"), facts
        if row is not None and row[0] == digest:
            return "extends", facts
        if row is None and seq == base and base > 0:
            return ("extends" if base_hash == digest else "branch"), facts
        if reset is not None and (reset["seq"] > seq or (reset["seq"] == seq and reset["hash"] == digest)):
            return "reset", facts
        if row is None and 0 < seq < base:
            facts["checkpoint_through"] = base
            return "unproven", facts
        if seq > cur["seq"]:
            return "rollback", facts
        return "branch", facts

    def trim_wal(self) -> bool:
        """Copy the write-ahead log into the database and truncate it to nothing
        (``wal_checkpoint(TRUNCATE)``): after a full disk, a spool written back in small
        transactions then never needs more free space than one of them. False when it could not
        (a reader holds the log, or no space): the next commit tries again."""
        if self.readonly:
            return False
        with self._lock:
            try:
                busy, _log, _done = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error:
                return False
        return not busy

    def _rollback(self) -> None:
        try:
            self._conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass

    def _meta(self) -> dict[str, str]:
        return dict(self._conn.execute("SELECT name, value FROM meta").fetchall())

    # ------------------------------------------------------------ writing

    def write(self, events: Sequence[Event]) -> list[Record]:
        """Append events in one transaction (one fsync): all or none are written; durable when this
        returns. Raises AgentError (disk_full, io). The daemon's only way in (via JournalWriter)."""
        with self._write_txn("appending"):
            return self._append_in_txn(events)

    def append(self, kind: str, **fields: Any) -> Record:
        """One event spelt as arguments (tools, tests): ``write([Event.of(kind, **fields)])``."""
        return self.write([Event.of(kind, **fields)])[0]

    def append_many(self, events: Sequence[Mapping[str, Any]]) -> list[Record]:
        """Events spelt as mappings (tools, tests): ``write`` of each ``Event.from_mapping``."""
        return self.write([Event.from_mapping(e) for e in events])

    def _append_in_txn(self, events: Sequence[Event]) -> list[Record]:
        meta = self._meta()
        seq = int(meta["next_seq"])
        key = bytes.fromhex(meta["next_key"])
        prev = meta["head_hash"]
        host = self.host
        out, rows = [], []
        sha256, hmac_digest = hashlib.sha256, hmac.digest
        for e in events:
            data = signed_bytes(seq, e.time, host, e.kind, e.check_id, e.severity, e.evidence_json, e.message, prev)
            h = sha256(data).hexdigest()
            mac = hmac_digest(key, data, "sha256").hex()
            rows.append((seq, e.time, host, e.kind, e.check_id, e.severity, e.evidence_json, e.message, prev, h, mac))
            out.append(Record(seq, e.time, host, e.kind, e.check_id, e.severity, e.evidence, e.message, prev, h, mac))
            prev, seq, key = h, seq + 1, evolve(key)
        self._conn.executemany(f"INSERT INTO records({_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        self._conn.executemany("UPDATE meta SET value = ? WHERE name = ?",
                               [(str(seq), "next_seq"), (key.hex(), "next_key"), (prev, "head_hash")])
        return out

    # ------------------------------------------------------------ retention

    def checkpoint(self, through_seq: int, *, reason: str = "retention",
                   now: Optional[dt.datetime] = None) -> Optional[Record]:
        """Delete records ``<= through_seq`` and append a ``checkpoint`` record anchoring the chain.

        The checkpoint names the last deleted sequence number and its hash; ``verify`` starts the
        chain there. It also carries that last removed record itself (its canonical body and MAC):
        the body hashes to the anchor, and its MAC is made with a key only the initial key
        derives, so a verifier holding the off-host key knows the true time of the youngest
        record removed, and fails a checkpoint that removed records younger than the retention
        (``verify(retention_days=...)``). Returns the checkpoint record, or None when there was
        nothing to delete.
        """
        with self._write_txn("checkpointing"):
            meta = self._meta()
            base = int(meta["base_seq"])
            through = min(through_seq, int(meta["next_seq"]) - 1)
            if through <= base:
                return None
            row = self._conn.execute(f"SELECT {_COLS} FROM records WHERE seq = ?", (through,)).fetchone()
            if row is None:
                raise AgentError(f"journal {self.path}: record {through} missing, cannot checkpoint", kind="integrity")
            anchor = row[9]
            last = {"body": canonical_body(*row[:9]), "mac": row[10]}
            count = self._conn.execute("SELECT count(*) FROM records WHERE seq <= ?", (through,)).fetchone()[0]
            ev = {"pruned_from": base + 1, "pruned_through": through, "anchor_hash": anchor,
                  "pruned_count": count, "reason": reason, "last_removed": last}
            rec = self._append_in_txn([Event.of(
                "checkpoint", evidence=ev, time=iso(now) if now is not None else None,
                **said("record.msg.checkpoint", first=base + 1, last=through, reason=reason))])[0]
            self._conn.execute("DELETE FROM records WHERE seq <= ?", (through,))
            self._conn.executemany("UPDATE meta SET value = ? WHERE name = ?",
                                   [(str(through), "base_seq"), (anchor, "base_hash")])
        return rec

    def retention(self, keep_days: float, *, now: Optional[dt.datetime] = None) -> Optional[Record]:
        """Remove records older than ``keep_days`` (a prefix only) behind a checkpoint record."""
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff = iso(now - dt.timedelta(days=keep_days))
        with self._lock:
            row = self._conn.execute("SELECT min(seq) FROM records WHERE time >= ?", (cutoff,)).fetchone()
            first_young = row[0]
            if first_young is None:
                first_young = self._conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM records").fetchone()[0]
        return self.checkpoint(first_young - 1, reason=f"retention {keep_days:g} days (before {cutoff})", now=now)

    # ------------------------------------------------------------ reading

    def head(self) -> Optional[Record]:
        """The newest record, or None for an empty journal."""
        with self._lock:
            row = self._conn.execute(f"SELECT {_COLS} FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return None if row is None else _row_record(row)

    def records(self, since_seq: Optional[int] = None, since_time: Optional[str | dt.datetime] = None,
                limit: Optional[int] = None, kinds: Optional[Sequence[str]] = None) -> Iterator[Record]:
        """Records in sequence order: ``seq > since_seq`` and ``time >= since_time``."""
        if isinstance(since_time, dt.datetime):
            since_time = iso(since_time)
        last = since_seq or 0
        left = limit
        while left is None or left > 0:
            n = _CHUNK if left is None else min(_CHUNK, left)
            sql = f"SELECT {_COLS} FROM records WHERE seq > ?"
            args: list[Any] = [last]
            if since_time:
                sql += " AND time >= ?"
                args.append(since_time)
            if kinds:
                sql += f" AND kind IN ({','.join('?' * len(kinds))})"
                args.extend(kinds)
            sql += " ORDER BY seq LIMIT ?"
            args.append(n)
            with self._lock:
                try:
                    rows = self._conn.execute(sql, args).fetchall()
                except sqlite3.Error as exc:
                    raise _sql_error(exc, self.path, "reading") from None
            for r in rows:
                yield _row_record(r)
            if len(rows) < n:
                return
            last = rows[-1][0]
            if left is not None:
                left -= len(rows)

    def stats(self) -> dict[str, Any]:
        """Counts and head for ``bmnn status``."""
        with self._lock:
            meta = self._meta()
            n, first, last = self._conn.execute("SELECT count(*), min(seq), max(seq) FROM records").fetchone()
        return {"path": str(self.path), "records": n, "first_seq": first, "head_seq": last,
                "head_hash": meta.get("head_hash"), "base_seq": int(meta.get("base_seq", 0)),
                "created": meta.get("created")}

    # ------------------------------------------------------------ verification

    def read_initial_key(self, key_path: os.PathLike | str | None = None) -> Optional[bytes]:
        """The initial key from ``key_path`` (default: beside the journal); None when there is no such file.

        A file that exists but is not a 32-byte hex key, or cannot be read, raises AgentError
        (kind usage, naming the file): a garbage key must never quietly turn verification into
        a plain chain check.
        """
        from .keys import read_key_file
        p = Path(key_path) if key_path is not None else self.key_path
        if p is None:
            return None
        try:
            # the key beside the journal is this machine's (StrictModes as root); one the user names
            # may sit on an inspector's stick: bounded either way, so --key /dev/zero cannot hang
            text = read_key_file(str(p), trusted=key_path is None, private=True)
        except FileNotFoundError:
            if key_path is None:
                return None
            raise AgentError(f"journal key {p}: no such file", kind="usage") from None
        except OSError as exc:
            raise AgentError(f"journal key {p}: cannot read it ({exc.strerror or exc})", kind="usage") from None
        except AgentError as exc:
            raise AgentError(f"journal key {p}: {exc}", kind="usage") from None
        try:
            key = bytes.fromhex(text.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            key = b""
        if len(key) != 32:
            raise AgentError(f"journal key {p}: not a journal key (64 hex digits expected)", kind="usage")
        return key

    def verify(self, key: Optional[bytes] = None, *, use_key_file: bool = True,
               visit: Optional[Callable[[int, str, str, Optional[str]], None]] = None, visit_from: int = 1,
               retention_days: Any = UNCHECKED, now: Optional[dt.datetime] = None) -> VerifyResult:
        """Check the whole chain; with the initial key (argument or key file) also every MAC.

        ``visit(seq, canonical_body, hash, mac)`` is called for each record from ``visit_from`` on
        once it has verified, so that a snapshot export reads and hashes the journal only once.

        ``retention_days``: the retention the host is configured with (None: none configured).
        Every checkpoint record must then have removed only records older than that at its own
        time (proven with the key: see ``checkpoint``), and be dated no later than ``now`` (the
        verification's clock, default the real one). Left out, checkpoints are not judged
        (``VerifyResult.retention_checked`` False).
        """
        if key is None and use_key_file:
            key = self.read_initial_key()
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    res = self._verify(key, visit, visit_from)
                    if res.ok and retention_days is not UNCHECKED:
                        res = self._verify_checkpoints(res, key, retention_days,
                                                       now or dt.datetime.now(dt.timezone.utc))
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                res = damage_report(self.path, exc, key is not None)
        return replace(res, wal=wal_state(self.path))

    def _verify_checkpoints(self, res: VerifyResult, key: Optional[bytes], retention_days: Optional[float],
                            now: dt.datetime) -> VerifyResult:
        rows = self._conn.execute("SELECT seq, time, evidence FROM records WHERE kind = 'checkpoint' "
                                  "ORDER BY seq").fetchall()
        # the MAC keys of the anchors, derived in one forward pass (not once from the start per checkpoint)
        anchors = sorted({t for t, s in ((_through(r[2]), r[0]) for r in rows) if t is not None and t < s})
        keys: dict[int, bytes] = {}
        if key is not None:
            k, at = key, 1
            for t in anchors:
                for _ in range(t - at):
                    k = evolve(k)
                at, keys[t] = t, k
        for seq, time_, ev_json in rows:
            problem = checkpoint_problem(seq, time_, ev_json, keys.get(_through(ev_json)) if key is not None else None,
                                         retention_days, now, anchor_key=True)
            if problem is not None:
                return replace(res, ok=False, first_bad_seq=seq, reason=problem, head_seq=None, head_hash=None)
        return replace(res, retention_checked=True)

    def _verify(self, key: Optional[bytes], visit=None, visit_from: int = 1) -> VerifyResult:
        mac_checked = key is not None
        meta = self._meta()
        need = ("next_seq", "next_key", "head_hash", "base_seq", "base_hash")
        missing = [k for k in need if k not in meta]
        first_row = self._conn.execute("SELECT min(seq) FROM records").fetchone()[0]
        if missing:
            return VerifyResult(False, first_row or 1, f"key state missing ({', '.join(missing)})", 0, mac_checked)
        base, base_hash = int(meta["base_seq"]), meta["base_hash"]
        next_seq, head_hash = int(meta["next_seq"]), meta["head_hash"]

        def bad(seq: Optional[int], reason: str, count: int) -> VerifyResult:
            return VerifyResult(False, seq, reason, count, mac_checked, first_row, None, None)

        if key is not None and meta.get("key_id") and meta["key_id"] != key_id(key):
            return replace(bad(None, f"the key (id {key_id(key)[:19]}) is not this journal's (id "
                                     f"{meta['key_id'][:19]}): nothing was proven", 0), key_mismatch=True)

        if base > 0:
            cp = None
            for row in self._conn.execute(f"SELECT {_COLS} FROM records WHERE kind = 'checkpoint' ORDER BY seq DESC"):
                try:
                    ev = json.loads(row[6]) if row[6] else {}
                except ValueError:
                    continue
                if isinstance(ev, dict) and ev.get("pruned_through") == base:
                    cp = ev
                    break
            if cp is None or cp.get("anchor_hash") != base_hash:
                return bad(base + 1, f"records up to #{base} were removed without a matching checkpoint record", 0)
        expected, prev = base + 1, base_hash
        k = key_for(key, expected) if key is not None else None
        count = 0
        last_hash = base_hash
        cur = self._conn.execute(f"SELECT {_COLS} FROM records ORDER BY seq")
        while True:
            rows = cur.fetchmany(_CHUNK)
            if not rows:
                break
            for row in rows:
                seq, time_, host, kind, check_id, severity, ev_json, message, prev_hash, h, mac = row
                if seq != expected:
                    if seq < expected:
                        return bad(seq, f"record #{seq} is before the checkpoint anchor #{base}", count)
                    what = f"#{expected}" if seq == expected + 1 else f"#{expected}..#{seq - 1}"
                    return bad(expected, f"record(s) {what} missing (deleted)", count)
                if kind not in KINDS:
                    return bad(seq, f"unknown kind {kind!r} (edited)", count)
                if prev_hash != prev:
                    return bad(seq, "prev_hash does not link to the previous record (reordered, inserted or "
                                    "the previous record was replaced)", count)
                try:
                    body = canonical_body(seq, time_, host, kind, check_id, severity, ev_json, message, prev_hash)
                    data = bytes.fromhex(prev_hash) + body.encode("utf-8")
                except (TypeError, ValueError):
                    return bad(seq, "a field has the wrong type (edited)", count)
                if hashlib.sha256(data).hexdigest() != h:
                    return bad(seq, "content does not match its hash (edited)", count)
                if k is not None:
                    if not hmac.compare_digest(hmac.digest(k, data, "sha256").hex(), mac or ""):
                        return bad(seq, "MAC does not match: the record was rewritten and the chain recomputed "
                                        "(or the key is not this journal's)", count)
                    k = evolve(k)
                if visit is not None and seq >= visit_from:
                    visit(seq, body, h, mac)
                count += 1
                prev = last_hash = h
                expected += 1
        head = expected - 1
        if next_seq - 1 > head:
            what = f"#{expected}" if next_seq - 1 == expected else f"#{expected}..#{next_seq - 1}"
            return bad(expected, f"record(s) {what} missing at the end (journal truncated)", count)
        if next_seq - 1 < head:
            return bad(next_seq, f"key state says the last record is #{next_seq - 1} but #{head} exists", count)
        if head_hash != last_hash:
            return bad(head + 1 if head > base else base + 1,
                       "stored head hash does not match the last record (records removed at the end)", count)
        if key is not None and k is not None and meta["next_key"] != k.hex():
            return bad(expected, "stored key state belongs to a later record: records after "
                                 f"#{head} were removed (journal truncated)", count)
        return VerifyResult(True, None, None, count, mac_checked, first_row, head if head > base else None,
                            last_hash if head > base else None)


def _when(text: Any) -> Optional[dt.datetime]:
    if not isinstance(text, str) or not _TIME.match(text):
        return None
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def _through(ev_json: Optional[str]) -> Optional[int]:
    try:
        t = json.loads(ev_json).get("pruned_through") if ev_json else None
    except (ValueError, AttributeError):
        return None
    return t if isinstance(t, int) and not isinstance(t, bool) and t > 0 else None


def checkpoint_problem(seq: int, time_: str, ev_json: Optional[str], key: Optional[bytes],
                       retention_days: Optional[float], now: dt.datetime, *, anchor_key: bool = False) -> Optional[str]:
    """Why the checkpoint record ``seq`` breaks the retention rule, or None when it obeys it.

    It must carry the last record it removed, hashing to its anchor (and, with the initial key,
    with a valid MAC: then its time is the true one); that record must be older than
    ``retention_days`` at the checkpoint's time, and the checkpoint not dated after ``now``.
    ``key`` is the initial key, or with ``anchor_key`` already the MAC key of the anchor record.
    """
    try:
        ev = json.loads(ev_json) if ev_json else {}
    except ValueError:
        ev = None
    if not isinstance(ev, dict):
        return f"checkpoint #{seq} has no readable evidence"
    through, first = ev.get("pruned_through"), ev.get("pruned_from")
    if _through(ev_json) is None or through >= seq:
        return f"checkpoint #{seq} names no record before it as removed (pruned_through {through!r})"
    lr = ev.get("last_removed")
    if not isinstance(lr, dict) or not isinstance(lr.get("body"), str):
        return (f"checkpoint #{seq} does not carry the last record it removed (#{through}): the age of the removed "
                f"records cannot be proven")
    try:
        d = json.loads(lr["body"])
        data = bytes.fromhex(d["prev_hash"]) + lr["body"].encode("utf-8")
    except (ValueError, TypeError, KeyError):
        return f"checkpoint #{seq}: the last removed record it carries is malformed (forged)"
    if not isinstance(d, dict) or d.get("seq") != through or hashlib.sha256(data).hexdigest() != ev.get("anchor_hash"):
        return f"checkpoint #{seq}: the last removed record it carries is not record #{through} of the chain (forged)"
    mac_key = key if anchor_key or key is None else key_for(key, through)
    if mac_key is not None and not hmac.compare_digest(hmac.digest(mac_key, data, "sha256").hex(),
                                                   str(lr.get("mac"))):
        return (f"checkpoint #{seq}: the MAC of the last removed record #{through} does not match: the checkpoint "
                "was forged by someone without the initial key")
    t_cp, t_last = _when(time_), _when(d.get("time"))
    if t_cp is None or t_last is None:
        return f"checkpoint #{seq}: a time is not in the journal's format"
    if t_cp > now + dt.timedelta(minutes=5):
        return f"checkpoint #{seq} is dated {time_}, after the time of this verification ({iso(now)})"
    youngest = f"the youngest removed record is #{through} of {d.get('time')}"
    if retention_days is None:
        return (f"checkpoint #{seq} ({time_}) removed records #{first}..#{through} but no retention is configured "
                f"({youngest})")
    if t_last > t_cp - dt.timedelta(days=float(retention_days)):
        return (f"checkpoint #{seq} ({time_}) removed records younger than the retention of {float(retention_days):g} "
                f"days: {youngest}")
    return None


def read_witness(path: os.PathLike | str) -> Optional[dict[str, Any]]:
    """The head in a ``journal.head`` file, or None when there is none or it is not one (bounded read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = os.read(fd, 4096)
    finally:
        os.close(fd)
    try:
        doc = json.loads(data)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get("format") != "bmnn-journal-head":
        return None
    seq, h = doc.get("seq"), doc.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or not isinstance(h, str) \
            or not re.fullmatch(r"[0-9a-f]{64}", h):
        return None
    return doc


def refuse_new_journal(path: Path, key_path: Optional[Path], state: str) -> None:
    """Raise AgentError(integrity) when a journal was kept here before and this one ``state``
    (missing, empty): an existing ``journal.key`` or ``journal.head`` says so. A new journal then
    needs ``bmnn journal reset --reason TEXT``, which puts the old files aside and records the old
    head in the new journal's first record; nothing starts one silently."""
    head_path = path.with_name(path.stem + ".head")
    there = [str(p) for p in (key_path, head_path) if p is not None and os.path.lexists(p)]
    if not there:
        return
    raise AgentError(
        f"journal {path} {state} but {' and '.join(there)} exist: a journal was kept here before. Refusing to "
        f"start a new one. Keep the files for the inspection; `bmnn journal reset --reason TEXT` (root, daemon "
        f"stopped) puts them aside and starts a new journal that records the old head", kind="integrity")


def wal_state(path: os.PathLike | str) -> Optional[str]:
    """"present" or "absent": whether a ``-wal`` file sits beside a WAL-mode journal file (see
    ``VerifyResult.wal``); None when the file is not in WAL mode or its header cannot be read."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError:
        return None
    if len(header) < 20 or not header.startswith(b"SQLite format 3\0") or header[18:20] != b"\x02\x02":
        return None
    try:
        return "present" if os.path.getsize(str(path) + "-wal") > 0 else "absent"
    except OSError:
        return "absent"


def _pages(header: bytes) -> tuple[int, int]:
    """(page size, page count) an SQLite header claims."""
    page = int.from_bytes(header[16:18], "big")
    return (65536 if page == 1 else page), int.from_bytes(header[28:32], "big")


def _missing_pages(path: os.PathLike | str) -> Optional[str]:
    """What the file's own header says is missing from it (a truncated copy), or None."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        return f"cannot read the file ({exc.strerror or exc})"
    if size == 0:
        return "the file is empty (0 bytes): no record and no key state"
    if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
        return f"the file ({size} bytes) is not an SQLite database: its header is missing or overwritten"
    page, pages = _pages(header)
    if page and pages and size < page * pages:
        have = size // page
        return (f"the file is {size} bytes but its header says {pages} pages of {page} bytes: pages "
                f"{have + 1}..{pages} ({page * pages - size} bytes) are missing (truncated)")
    return None


def damage_report(path: os.PathLike | str, exc: Exception, mac_checked: bool) -> VerifyResult:
    """A journal file SQLite cannot read whole: what is missing, as far as can be told.

    A copy of the file, padded back to the size its header claims (a sparse file of zeros) so
    that SQLite reads the pages that are left, is asked for the key state and then for every
    record from the checkpoint anchor to the stored next sequence number, one by one: the
    report names the records that cannot be read and the pages that are gone.
    """
    import shutil
    import tempfile
    lost = _missing_pages(path)
    said = re.search(r"damaged file \((.*)\)$", str(exc))
    parts = [f"damaged file ({said.group(1) if said else exc})"] + ([lost] if lost else [])
    first_bad: Optional[int] = None
    with tempfile.TemporaryDirectory(prefix="bmnn-salvage-") as tmp:
        copy = os.path.join(tmp, "copy.db")
        try:
            shutil.copyfile(path, copy)
            for suffix in ("-wal",):
                if os.path.exists(str(path) + suffix):
                    shutil.copyfile(str(path) + suffix, copy + suffix)
            with open(copy, "rb") as fh:
                header = fh.read(100)
            if len(header) == 100 and header.startswith(b"SQLite format 3\0"):
                page, pages = _pages(header)
                want = page * pages
                if os.path.getsize(copy) < want <= SALVAGE_MAX_BYTES:  # a header's claim is bounded
                    os.truncate(copy, want)
            conn = sqlite3.connect(copy, isolation_level=None)
        except (OSError, sqlite3.Error) as e:
            parts.append(f"nothing could be read ({getattr(e, 'strerror', None) or e})")
            return VerifyResult(False, None, "; ".join(parts), 0, mac_checked)
        try:
            try:
                meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
                base, nxt = int(meta["base_seq"]), int(meta["next_seq"])
            except (sqlite3.Error, KeyError, ValueError):
                parts.append("the key state (meta table) cannot be read: how many records there were is unknown")
                meta, base, nxt = None, 0, None
            if nxt is None:
                try:
                    nxt = conn.execute("SELECT max(seq) FROM records").fetchone()[0] + 1
                except (sqlite3.Error, TypeError):
                    nxt = None
            if nxt is not None:
                bad: list[int] = []
                if nxt - base - 1 > SALVAGE_MAX_RECORDS:
                    parts.append(f"only records #{base + 1}..#{base + SALVAGE_MAX_RECORDS} were tried "
                                 f"(the key state claims #{nxt - 1})")
                    nxt = base + 1 + SALVAGE_MAX_RECORDS
                for seq in range(base + 1, nxt):
                    try:
                        if conn.execute("SELECT hash FROM records WHERE seq = ?", (seq,)).fetchone() is None:
                            bad.append(seq)
                    except sqlite3.Error:
                        bad.append(seq)
                if bad:
                    first_bad = bad[0]
                    parts.append(f"records {_ranges(bad)} cannot be read (of #{base + 1}..#{nxt - 1})")
                elif meta is not None:
                    parts.append(f"records #{base + 1}..#{nxt - 1} are readable; the damage is elsewhere in the file")
            else:
                parts.append("no record can be read")
        finally:
            conn.close()
    return VerifyResult(False, first_bad, "; ".join(parts), 0, mac_checked)


def _ranges(seqs: Sequence[int]) -> str:
    """[3, 4, 5, 9] -> "#3..#5, #9" (at most ten ranges, then how many more)."""
    out: list[str] = []
    start = prev = seqs[0]
    for s in list(seqs[1:]) + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        out.append(f"#{start}" if start == prev else f"#{start}..#{prev}")
        if s is not None:
            start = prev = s
    more = len(out) - 10
    return ", ".join(out[:10]) + (f" and {more} more ranges" if more > 0 else "")


def checkpoint_file(path: os.PathLike | str) -> bool:
    """Fold the write-ahead log of the journal at ``path`` into the file (``wal_checkpoint(TRUNCATE)``),
    so that a copy of ``journal.db`` alone holds every record. Done at each snapshot export and on
    the daemon's clean stop (``Journal.close``); safe while the daemon writes (SQLite serialises
    it). False when it could not (no such file, read-only, or a reader held the log)."""
    if not os.path.isfile(path):
        return False
    uri = "file:" + urllib.parse.quote(str(Path(path).resolve())) + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=10, isolation_level=None)
        try:
            busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return not busy


def health_check(path: os.PathLike | str) -> tuple[Optional[bool], Optional[str], Optional[str], dict[str, Any]]:
    """(verified, last heartbeat, problem, details) of the journal at ``path``, read-only: what the
    agent collector gets for the agent-health check (see agent/health.py, which does the work)."""
    from .health import journal_health
    return journal_health(path)
