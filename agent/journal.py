"""The tamper-evident, crash-safe event journal.

Storage: one SQLite file in WAL mode with ``synchronous=FULL``: when ``append`` returns, the
record is in the write-ahead log and fsync'ed, so a ``kill -9`` or a power cut after that point
cannot lose it. Readers (``bmnn events``, the IPC server) use their own connections and see a
consistent snapshot while the daemon writes. A full disk makes ``append`` raise
``AgentError(kind="disk_full")`` with nothing half-written; ``agent.spool.JournalWriter`` keeps the
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
* Root can always *append* well-formed records from now on, delete the whole journal and start
  a new one, or stop the daemon. Heartbeats (every 60 s by default) make downtime visible as a
  gap; a fresh journal is visible to anyone holding an older head hash (an inspection snapshot).
* Retention (``retention``/``checkpoint``) deletes a prefix of old records and appends a
  ``checkpoint`` record naming the last deleted sequence and its hash; verification starts from
  that anchor. Root can do the same, but it shows as a checkpoint record at the time it was done.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import json
import os
import socket
import sqlite3
import threading
import urllib.parse
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional, Sequence

from .errors import AgentError
from .event import KINDS, Event, canonical_json, now_iso  # KINDS, now_iso: imported from here by config and sinks

GENESIS = "0" * 64
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
    ``evidence_json`` being the evidence's canonical JSON (``agent.event.canonical_json``) as it is
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
    if "not a database" in low or "malformed" in low:
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
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            conn = sqlite3.connect(str(path), timeout=10, isolation_level=None, check_same_thread=False)
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
            initial = os.urandom(32)
            self._write_key(initial)
            meta = {"version": str(FORMAT_VERSION), "created": now_iso(), "host": self.host,
                    "next_seq": "1", "next_key": initial.hex(), "head_hash": GENESIS,
                    "base_seq": "0", "base_hash": GENESIS}
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
            os.replace(tmp, kp)
            dfd = os.open(kp.parent, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError as exc:
            raise AgentError(f"cannot write the journal key {kp}: {exc.strerror or exc}", kind="io") from None

    def close(self) -> None:
        """Close the connection."""
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

    def checkpoint(self, through_seq: int, *, reason: str = "retention") -> Optional[Record]:
        """Delete records ``<= through_seq`` and append a ``checkpoint`` record anchoring the chain.

        The checkpoint names the last deleted sequence number and its hash; ``verify`` starts the
        chain there. Returns the checkpoint record, or None when there was nothing to delete.
        """
        with self._write_txn("checkpointing"):
            meta = self._meta()
            base = int(meta["base_seq"])
            through = min(through_seq, int(meta["next_seq"]) - 1)
            if through <= base:
                return None
            row = self._conn.execute("SELECT hash FROM records WHERE seq = ?", (through,)).fetchone()
            if row is None:
                raise AgentError(f"journal {self.path}: record {through} missing, cannot checkpoint", kind="integrity")
            anchor = row[0]
            count = self._conn.execute("SELECT count(*) FROM records WHERE seq <= ?", (through,)).fetchone()[0]
            ev = {"pruned_from": base + 1, "pruned_through": through, "anchor_hash": anchor,
                  "pruned_count": count, "reason": reason}
            rec = self._append_in_txn([Event.of(
                "checkpoint", evidence=ev,
                message=f"records {base + 1}..{through} removed by {reason}; chain anchored at #{through}")])[0]
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
        return self.checkpoint(first_young - 1, reason=f"retention {keep_days:g} days (before {cutoff})")

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
        """The initial key from ``key_path`` (default: beside the journal), or None when unreadable."""
        from .keys import read_key_file
        p = Path(key_path) if key_path is not None else self.key_path
        if p is None:
            return None
        try:
            # the key beside the journal is this machine's (StrictModes as root); one the user names
            # may sit on an inspector's stick: bounded either way, so --key /dev/zero cannot hang
            text = read_key_file(str(p), trusted=key_path is None, private=True).decode("ascii").strip()
            key = bytes.fromhex(text)
        except (OSError, ValueError, AgentError):
            return None
        return key if len(key) == 32 else None

    def verify(self, key: Optional[bytes] = None, *, use_key_file: bool = True,
               visit: Optional[Callable[[int, str, str, Optional[str]], None]] = None, visit_from: int = 1) -> VerifyResult:
        """Check the whole chain; with the initial key (argument or key file) also every MAC.

        ``visit(seq, canonical_body, hash, mac)`` is called for each record from ``visit_from`` on
        once it has verified, so that a snapshot export reads and hashes the journal only once.
        """
        if key is None and use_key_file:
            key = self.read_initial_key()
        with self._lock:
            try:
                self._conn.execute("BEGIN")
                try:
                    return self._verify(key, visit, visit_from)
                finally:
                    self._conn.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                return VerifyResult(False, None, f"cannot read the journal: {exc}", 0, key is not None)

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


def health_check(path: os.PathLike | str) -> tuple[Optional[bool], Optional[str], Optional[str]]:
    """(verified, time of the last heartbeat, problem) of the journal at ``path``, read-only.

    What ``bmnn scan`` hands to the agent collector for the agent-health check: a missing journal is a
    problem (the agent never ran here), an unreadable one too; a journal that does not verify is
    ``False`` with the first bad record named.
    """
    if not os.path.exists(path):
        return None, None, f"no journal at {path}"
    try:
        j = Journal.open(path, readonly=True)
    except AgentError as exc:
        return None, None, str(exc)
    try:
        result = j.verify()
        beats = list(j.records(kinds=("heartbeat",), since_seq=max(0, (result.head_seq or 0) - 5000)))
    except AgentError as exc:
        return None, None, str(exc)
    finally:
        j.close()
    last = beats[-1].time if beats else None
    if not result.ok:
        return False, last, None
    return True, last, None

