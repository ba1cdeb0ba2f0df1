"""Sinks as cursors over the journal: every sink reads what was journaled, in order, from the
last seq it delivered, and remembers that seq on disk.

The journal is the durable truth, so a sink needs no queue of its own: each ``SinkReader`` has
its own thread and its own read-only SQLite connection (WAL: readers never block the writer nor
each other), and a *cursor*, the seq and hash of the last record it delivered (or skipped because
it does not want that kind). It reads the records after its cursor in batches, hands each to the
sink's ``emit`` (or the whole batch to ``emit_many`` where a sink has it: the ECS file, syslog),
retrying with backoff (0.5 s doubling to 30 s) until it goes through, and writes the cursor back:
atomically (scanner.atomic), root-only, after the sink's ``sync`` (the ECS file's fsync), when it
reaches the head and at least every ``SAVE_EVERY_S`` while catching up. A
``kill -9`` therefore loses nothing: the reader starts again from the saved cursor and
re-delivers at most the records after it (at-least-once; every line carries seq and hash, so a
receiver drops duplicates).

The reader sleeps on an event that the daemon sets after each append (``appended``): an idle
sink costs no wakeups. A slow or failing sink only falls behind; it never slows the journal or
the other sinks.

Decisions (docs/agent.md, "Delivery guarantee"):

* **No cursor** (a new sink in agent.yaml, the first start after an upgrade from the queue-fed
  sinks): the sink starts at the journal's head when the daemon started (``sinks.start: head``,
  the default, so a SIEM is not flooded with the whole history) or at its oldest record
  (``sinks.start: beginning``); ``bmnn status`` shows which (``started``).
* **A cursor that cannot be trusted** (not a regular root-only file, not our JSON, a seq beyond
  the journal's head, a hash that is not the journal's record at that seq: the journal was
  replaced or restored): journaled (``state``, medium) and replaced: an unreadable cursor is
  treated as no cursor (``sinks.start``); one that names another journal restarts at this
  journal's oldest record (duplicates are safer than a hole).
* **Retention removed records a sink had not delivered**: the sink continues at the oldest
  record left, and a ``gap`` (medium, evidence ``source: sink:NAME``, the lost range) is
  journaled once for that sink.
* **Falling behind**: when the sink is failing on a record older than
  ``sinks.lag_warning_seconds``, or a backlog has waited that long (a sink too slow for the
  traffic; one that keeps up with a long burst is not behind), one ``state`` warning is journaled;
  one "caught up" follows when it has delivered everything. ``bmnn status`` shows the lag in
  records and seconds.
* **Not journaled yet** (agent/unjournaled.py, a full disk): urgent events reach the sinks with
  ``takes_unjournaled`` at once through a small in-memory queue on the same thread, marked
  ``journaled: false``; the journaled record arrives later through the cursor, with its seq.

Until the event-core branch adds ``Daemon.on_appended``, the daemon calls ``appended`` from
``Daemon._after_journal`` (one line).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import stat
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from bmnn_guard.scanner.atomic import write_atomic

from .journal import Journal, Record, now_iso
from .wording import said

BATCH = 500
"""Records read per query."""
SAVE_EVERY_S = 1.0
"""While catching up, the cursor is written at least this often (and at the end of each batch
once caught up): a crash re-delivers at most about this much."""
FLUSH_EVERY_S = 60.0
"""A sink's ``flush`` (the alert's summary of old records) runs when the sink reaches the head,
or at least this often during a long catch-up: one summary line, not one per batch."""
CURSOR_MAX_BYTES = 4096
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
START_CHOICES = ("head", "beginning")

OnEvent = Callable[..., Any]
"""``on_event(kind, **fields)``: journal a record about delivery (the daemon's ``submit``)."""


class CursorError(Exception):
    """A cursor file that cannot be trusted (why, as one line)."""


@dataclass(frozen=True)
class Cursor:
    """The last record a sink delivered or skipped."""

    seq: int
    """Its seq (0: nothing yet)."""
    hash: str
    """Its hash ("" with seq 0 or when unknown)."""
    behind: bool = False
    """A lag warning was journaled and no "caught up" yet (kept across restarts: one warning per
    outage, not one per daemon run)."""


def _epoch(t: Optional[str]) -> Optional[float]:
    try:
        return dt.datetime.fromisoformat(t.replace("Z", "+00:00")).timestamp()  # C: ~20x strptime
    except (AttributeError, TypeError, ValueError):
        return None


def record_age(record: Record, now: float) -> float:
    """Seconds since the record's event was observed (0 when its time cannot be read)."""
    t = _epoch(record.time)
    return 0.0 if t is None else max(0.0, now - t)


class CursorStore:
    """One small JSON file per sink in ``<state>/cursors/`` (0700, files 0600)."""

    def __init__(self, directory: os.PathLike | str):
        self.dir = Path(directory)

    @staticmethod
    def file_name(sink_id: str) -> str:
        """A safe, stable file name for a sink id (hook names come from agent.yaml)."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", sink_id)[:80].lstrip(".") or "sink"
        if safe != sink_id:
            safe += "-" + hashlib.sha256(sink_id.encode("utf-8")).hexdigest()[:8]
        return safe + ".cursor"

    def path(self, sink_id: str) -> Path:
        """Where the cursor of ``sink_id`` lives."""
        return self.dir / self.file_name(sink_id)

    def load(self, sink_id: str) -> Optional[Cursor]:
        """The saved cursor, None when there is none; CursorError when it cannot be trusted."""
        p = self.path(sink_id)
        try:
            fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CursorError(f"cannot open {p}: {exc.strerror or exc}") from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise CursorError(f"{p} is not a regular file")
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                raise CursorError(f"{p} is owned by uid {st.st_uid} or writable by others")
            data = os.read(fd, CURSOR_MAX_BYTES + 1)
        finally:
            os.close(fd)
        if len(data) > CURSOR_MAX_BYTES:
            raise CursorError(f"{p} is larger than {CURSOR_MAX_BYTES} bytes")
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise CursorError(f"{p} is not a cursor (not JSON)") from None
        if not isinstance(doc, dict) or doc.get("v") != 1 or doc.get("sink") != sink_id:
            raise CursorError(f"{p} is not a cursor of sink {sink_id}")
        seq, h = doc.get("seq"), doc.get("hash")
        if type(seq) is not int or seq < 0 or not isinstance(h, str) or not (h == "" or _HEX64.match(h)):
            raise CursorError(f"{p} has an invalid seq or hash")
        return Cursor(seq, h, doc.get("behind") is True)

    def save(self, sink_id: str, cursor: Cursor) -> None:
        """Write atomically: a crash leaves the old cursor or the new one, never half of one."""
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        p = self.path(sink_id)
        data = json.dumps({"v": 1, "sink": sink_id, "seq": cursor.seq, "hash": cursor.hash,
                           "behind": cursor.behind, "saved": now_iso()}, ensure_ascii=False).encode("utf-8") + b"\n"
        if p.is_symlink() or (p.exists() and not p.is_file()):
            os.unlink(p)  # refused by load(): replaced, never written through
        write_atomic(str(p), data, 0o600)


@dataclass
class SinkHealth:
    """Health of one sink as ``bmnn status`` shows it."""

    name: str
    """Sink name (journald, ecs, syslog, hook:NAME, alert)."""
    delivered: int = 0
    """Records handed over since start."""
    failures: int = 0
    """Failed attempts (each retry counts)."""
    dropped: int = 0
    """Not-yet-journaled records dropped from the early queue (they still come through the journal)."""
    queued: int = 0
    """Not-yet-journaled records waiting."""
    last_ok: Optional[str] = None
    """Time of the last successful emit."""
    last_error: Optional[str] = None
    """Last error message."""
    last_error_time: Optional[str] = None
    """When it happened."""
    failing: bool = False
    """The record at the cursor is being retried."""
    note: Optional[str] = None
    """A sink's own remark (e.g. "notify-send not installed: wall only")."""
    cursor_seq: Optional[int] = None
    """Last record delivered (or skipped: a kind the sink does not want)."""
    head_seq: Optional[int] = None
    """Newest record journaled, as the sink knows it."""
    lag_records: int = 0
    """Records journaled and not yet delivered."""
    lag_s: float = 0.0
    """Age of the oldest record not yet delivered (0 when caught up)."""
    behind: bool = False
    """A lag warning was journaled and the sink has not caught up since."""
    lost: int = 0
    """Records retention removed before this sink delivered them."""
    started: Optional[str] = None
    """Where the reader began: "cursor" (the saved one), "head" or "beginning" (no cursor:
    ``sinks.start``), "reset" (an untrusted cursor: the journal's oldest record)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain form."""
        return dict(self.__dict__)


class RecentRecords:
    """The records just journaled, kept in memory for the sink readers: the readers of a burst take
    them from here instead of each reading the same rows back from SQLite and parsing the same
    evidence (three sinks did it three times per record: a third of the daemon's work in a burst
    of file events).

    Only a contiguous run of seqs is kept, as the journal committed it: a record whose seq does not
    follow the last one (a write that did not pass here, a journal reset) starts the run again, and
    ``after`` answers only when it holds the very next record after a cursor; otherwise the reader
    reads the journal, as always. A record is given out as it was committed, which is exactly as
    the journal gives it back: ``Event.of`` makes the evidence what the journal's canonical JSON
    reads back as (sorted keys), so a line is the same whichever way it came. At most ``size``
    records are kept, and fewer once every reader has passed them (``done``): an idle daemon
    keeps nothing here."""

    def __init__(self, size: int = 4000):
        self.size = size
        self._q: deque[Record] = deque()
        self._lock = threading.Lock()
        self._done: dict[int, int] = {}  # reader -> last seq it is past
        self.given = 0
        """Records handed to readers from here (tests, the bench)."""

    def add(self, records: list[Record]) -> None:
        """Records just committed, in seq order (the main loop, after each commit)."""
        with self._lock:
            for r in records:
                if self._q and r.seq != self._q[-1].seq + 1:
                    self._q.clear()
                self._q.append(r)
            while len(self._q) > self.size:
                self._q.popleft()

    def after(self, seq: int, limit: int) -> Optional[list[Record]]:
        """Up to ``limit`` records from ``seq + 1`` on, or None when the next one is not here."""
        with self._lock:
            if not self._q or not self._q[0].seq <= seq + 1 <= self._q[-1].seq:
                return None
            i = seq + 1 - self._q[0].seq
            out = [self._q[k] for k in range(i, min(i + limit, len(self._q)))]
            self.given += len(out)
        return out

    def done(self, reader: int, seq: int) -> None:
        """Reader ``reader`` has delivered up to ``seq``: what every reader is past is let go."""
        with self._lock:
            self._done[reader] = seq
            low = min(self._done.values())
            while self._q and self._q[0].seq <= low:
                self._q.popleft()

    def forget(self, reader: int) -> None:
        """A reader that stops no longer holds records back."""
        with self._lock:
            self._done.pop(reader, None)


class SinkReader:
    """One sink, its thread, its read-only journal connection and its cursor."""

    def __init__(self, sink: Any, journal_path: os.PathLike | str, store: CursorStore, *, sink_id: Optional[str] = None,
                 start: str = "head", backoff: tuple[float, float] = (0.5, 30.0), lag_warning_s: float = 300.0,
                 on_event: Optional[OnEvent] = None, early_size: int = 1000, batch: int = BATCH,
                 clock: Callable[[], float] = time.time, head: Optional[int] = None,
                 recent: Optional[RecentRecords] = None):
        if start not in START_CHOICES:
            raise ValueError(f"start must be one of {START_CHOICES}")
        self.sink = sink
        self.sink_id = sink_id or getattr(sink, "cursor_id", None) or sink.name
        self.journal_path = Path(journal_path)
        self.store = store
        self.start_at = start
        self.backoff = backoff
        self.lag_warning_s = lag_warning_s
        self.on_event = on_event or (lambda kind, **fields: None)
        self.batch = batch
        self.clock = clock
        self._start_head = head
        self.recent = recent
        """The records just journaled, shared by the readers of one daemon (None: always the journal)."""
        self.health = SinkHealth(sink.name)
        self.cursor: Optional[Cursor] = None
        self._early: deque[Record] = deque()
        self._early_size = early_size
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._head_hint = 0
        self._pending_time: Optional[str] = None  # observation time of the oldest undelivered record
        self._behind_since: Optional[float] = None  # monotonic: since when the backlog up to
        self._behind_target = 0  # this seq has waited (it moves on as each backlog is delivered)
        self._last_flush = time.monotonic()
        self._busy = False
        self._last_ok: Optional[float] = None
        self._saved: Optional[Cursor] = None
        self._last_save = 0.0
        self.journal: Optional[Journal] = None
        self.thread = threading.Thread(target=self._run, name=f"sink-{sink.name}", daemon=True)

    # ------------------------------------------------------------ called from other threads

    def appended(self, seq: int) -> None:
        """The journal holds records up to ``seq``: wake up (cheap; called after every commit)."""
        if seq > self._head_hint:
            self._head_hint = seq
        self._wake.set()

    def submit_early(self, record: Record) -> None:
        """A record not journaled yet (agent/unjournaled.py): deliver it at once, before the cursor."""
        accepts = getattr(self.sink, "accepts", None)
        if accepts is not None and not accepts(record):
            return
        with self._lock:
            if len(self._early) >= self._early_size:
                self._early.popleft()  # it still arrives journaled, through the cursor
                self.health.dropped += 1
            self._early.append(record)
        self._wake.set()

    def idle(self) -> bool:
        """Everything known to be journaled was delivered and nothing early waits."""
        c = self.cursor
        return (c is not None and c.seq >= self._head_hint and not self._early and not self._busy
                and not self.health.failing)

    def snapshot(self) -> dict[str, Any]:
        """Health with the lag computed now."""
        h = self.health
        c = self.cursor
        h.cursor_seq = None if c is None else c.seq
        h.head_seq = self._head_hint or None
        h.lag_records = 0 if c is None else max(0, self._head_hint - c.seq)
        pt = _epoch(self._pending_time) if h.lag_records else None
        h.lag_s = round(max(0.0, self.clock() - pt), 1) if pt is not None else 0.0
        if self._last_ok is not None:
            h.last_ok = dt.datetime.fromtimestamp(self._last_ok, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        h.queued = len(self._early)
        note = getattr(self.sink, "note", None)
        if note:
            h.note = note
        return h.to_dict()

    def start(self) -> "SinkReader":
        """Start the thread."""
        self.thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the thread to stop after the record in hand (it saves the cursor)."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (the cursor is saved) and close the sink."""
        self.request_stop()
        if self.thread.is_alive():
            self.thread.join(timeout)
        try:
            self.sink.close()
        except Exception:
            pass

    # ------------------------------------------------------------ the thread

    def _run(self) -> None:
        delay = self.backoff[0]
        while not self._stop.is_set():  # open the journal and place the cursor, retrying like a delivery
            try:
                self._open()
                break
            except Exception as exc:  # noqa: BLE001 - reported in status, retried
                self._failed(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
        try:
            while not self._stop.is_set():
                self._wake.clear()
                worked = self._deliver_early()
                if self._stop.is_set():
                    break
                try:
                    worked = self._step() or worked
                except Exception as exc:  # noqa: BLE001 - the journal could not be read: retry
                    self._failed(exc)
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.backoff[1])
                    continue
                delay = self.backoff[0]
                if not worked:
                    self._caught_up()
                    self._wake.wait()  # no timeout: an idle sink costs no wakeups
        finally:
            self._save(force=True)
            if self.recent is not None:
                self.recent.forget(id(self))
            if self.journal is not None:
                self.journal.close()

    def _open(self) -> None:
        self.journal = j = Journal.open(self.journal_path, readonly=True)
        st = j.stats()
        head, base = st.get("head_seq") or 0, st.get("base_seq") or 0
        self._head_hint = max(self._head_hint, head)
        try:
            cur = self.store.load(self.sink_id)
            problem = None
        except CursorError as exc:
            cur, problem = None, str(exc)
        if cur is not None:
            if cur.seq > head:
                problem = f"cursor #{cur.seq} is beyond the journal's head #{head} (journal replaced or restored?)"
            elif cur.seq > base and cur.hash:
                rec = next(iter(j.records(since_seq=cur.seq - 1, limit=1)), None)
                if rec is not None and rec.seq == cur.seq and rec.hash != cur.hash:
                    problem = f"cursor #{cur.seq} names another journal's record (hash differs)"
            self.health.started = "cursor"
            self.health.behind = cur.behind
            if problem is not None:
                cur = Cursor(base, "")
                self.health.started = "reset"
                self.on_event("state", severity="medium",
                              evidence={"sink": self.sink.name, "problem": problem, "restart_seq": base + 1},
                              **said("record.msg.sink_restart", sink=self.sink.name, reason=problem, seq=base + 1))
        else:
            at = base
            if self.start_at == "head":
                at = head if self._start_head is None else max(base, min(head, self._start_head))
            cur = Cursor(at, "")
            self.health.started = self.start_at
            if problem is not None:
                self.on_event("state", severity="medium",
                              evidence={"sink": self.sink.name, "problem": problem, "start": self.start_at,
                                        "start_seq": at + 1},
                              **said("record.msg.sink_bad_cursor", sink=self.sink.name, reason=problem, seq=at + 1,
                                     start=self.start_at))
        self.cursor = cur
        self._save(force=True)

    def _deliver_early(self) -> bool:
        worked = False
        while not self._stop.is_set():
            with self._lock:
                if not self._early:
                    return worked
                rec = self._early.popleft()
            worked = True
            self._emit([rec], retry=False)
        return worked

    def _step(self) -> bool:
        """Deliver one batch after the cursor; False when there was nothing to read."""
        self._busy = True
        try:
            batch = self.recent.after(self.cursor.seq, self.batch) if self.recent is not None else None
            if batch is None:
                batch = list(self.journal.records(since_seq=self.cursor.seq, limit=self.batch))
            if not batch:
                self._pending_time = None
                self._behind_since = None
                return False
            if batch[-1].seq > self._head_hint:
                self._head_hint = batch[-1].seq
            if batch[0].seq > self.cursor.seq + 1:  # retention removed what this sink had not delivered
                self._lost(self.cursor.seq + 1, batch[0].seq - 1)
            if self._behind_since is None:
                self._behind_since, self._behind_target = time.monotonic(), self._head_hint
            accepts = getattr(self.sink, "accepts", None)
            # a sink with emit_many (the ECS file) takes the batch in one write; others one by one
            units = [batch] if hasattr(self.sink, "emit_many") else [[r] for r in batch]
            for unit in units:
                if self._stop.is_set():
                    break
                rec = unit[-1]
                self._pending_time = unit[0].time
                todo = unit if accepts is None else [r for r in unit if accepts(r)]
                if todo and not self._emit(todo, retry=True):
                    break  # stopping
                self.cursor = Cursor(rec.seq, rec.hash)
                now = time.monotonic()
                if not self.health.behind and now - self._behind_since >= self.lag_warning_s > 0:
                    self._check_lag(rec, failing=False)
                if rec.seq >= self._behind_target:
                    # the backlog that existed at _behind_since is delivered: measure from now on
                    # (a sink that keeps up with a long burst is never "behind")
                    self._behind_since, self._behind_target = now, self._head_hint
                if now - self._last_save >= SAVE_EVERY_S:
                    self._save()
            if self.recent is not None:
                self.recent.done(id(self), self.cursor.seq)
            at_head = self.cursor.seq >= self._head_hint
            flush = getattr(self.sink, "flush", None)
            if flush is not None and (at_head or time.monotonic() - self._last_flush >= FLUSH_EVERY_S):
                self._last_flush = time.monotonic()
                try:
                    flush()
                except Exception as exc:  # noqa: BLE001 - a summary line is best-effort
                    self.health.last_error = f"{type(exc).__name__}: {exc}"[:500]
            if at_head:
                self._save(force=True)
            return True
        finally:
            self._busy = False

    def _emit(self, records: list[Record], *, retry: bool) -> bool:
        """Deliver ``records`` (retrying with backoff until it works or the reader stops)."""
        delay, cap = self.backoff
        many = getattr(self.sink, "emit_many", None)
        while True:
            try:
                if many is not None:
                    many(records)
                else:
                    self.sink.emit(records[0])
            except Exception as exc:  # noqa: BLE001 - a sink's failure is data for `bmnn status`
                self._failed(exc)
                if not retry or self._stop.is_set():
                    return False
                self._check_lag(records[0], failing=True)
                self._stop.wait(delay)
                delay = min(delay * 2, cap)
                if self._stop.is_set():
                    return False
                continue
            h = self.health
            h.delivered += len(records)
            h.failing = False
            self._last_ok = time.time()  # formatted when status asks (not per record)
            return True

    def _failed(self, exc: Exception) -> None:
        h = self.health
        h.failures += 1
        h.failing = True
        h.last_error = f"{type(exc).__name__}: {exc}"[:500]
        h.last_error_time = now_iso()

    def _save(self, force: bool = False) -> None:
        c = self.cursor
        if c is not None and c.behind != self.health.behind:
            c = Cursor(c.seq, c.hash, self.health.behind)
        if c is None or c == self._saved:
            return
        if not force and time.monotonic() - self._last_save < SAVE_EVERY_S:
            return
        sync = getattr(self.sink, "sync", None)
        try:
            if sync is not None:  # what the cursor says was delivered is on disk first (the ECS file)
                sync()
            self.store.save(self.sink_id, c)
        except OSError as exc:  # the state directory is full or gone: keep delivering, say so
            self.health.last_error = f"cannot save the cursor: {exc.strerror or exc}"[:500]
            self.health.last_error_time = now_iso()
            return
        self._saved = c
        self._last_save = time.monotonic()

    def _check_lag(self, rec: Record, *, failing: bool) -> None:
        """Journal one warning when the sink is failing on a record older than the limit, or a
        backlog has waited longer than the limit."""
        if self.health.behind or self.lag_warning_s <= 0:
            return
        age = record_age(rec, self.clock())
        behind_for = 0.0 if self._behind_since is None else time.monotonic() - self._behind_since
        if not ((failing and age >= self.lag_warning_s) or behind_for >= self.lag_warning_s):
            return
        age = max(age, behind_for)
        self.health.behind = True
        self._save(force=True)  # remembered across a restart: one warning per outage
        lag = max(0, self._head_hint - (self.cursor.seq if self.cursor else 0))
        self.on_event("state", severity="medium",
                      evidence={"sink": self.sink.name, "lag_records": lag, "lag_s": round(age, 1),
                                "cursor_seq": self.cursor.seq if self.cursor else None,
                                "error": self.health.last_error if failing else None,
                                "limit_s": self.lag_warning_s},
                      **(said("record.msg.sink_behind_failing", sink=self.sink.name, count=lag, age=round(age),
                              limit=f"{self.lag_warning_s:g}", error=self.health.last_error) if failing else
                         said("record.msg.sink_behind", sink=self.sink.name, count=lag, age=round(age),
                              limit=f"{self.lag_warning_s:g}")))

    def _caught_up(self) -> None:
        if not self.health.behind:
            return
        self.health.behind = False
        self._save(force=True)
        seq = self.cursor.seq if self.cursor else None
        self.on_event("state", severity="info", evidence={"sink": self.sink.name, "cursor_seq": seq, "caught_up": True},
                      **said("record.msg.sink_caught_up", sink=self.sink.name, seq=seq))

    def _lost(self, first: int, last: int) -> None:
        self.health.lost += last - first + 1
        self.on_event("gap", severity="medium",
                      evidence={"source": f"sink:{self.sink.name}", "lost_from": first, "lost_through": last,
                                "reason": "retention"},
                      **said("record.msg.sink_lost", sink=self.sink.name, first=first, last=last))
