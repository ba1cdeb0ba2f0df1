"""`bmnn journal reset --reason TEXT`: the one way to start a new journal where one was kept.

The daemon never starts a new journal by itself beside an existing ``journal.key`` or
``journal.head`` (agent/journal.py ``refuse_new_journal``, ``Journal.check_witness``): a journal
that was emptied, removed or put back from an older copy makes it refuse to start. When the
administrator has looked and decided (the disk failed, the file is damaged beyond use), this
command, as root with the daemon stopped:

* renames the old files (``journal.db`` and its ``-wal``/``-shm``, ``journal.key``,
  ``journal.head``) to ``NAME.reset-YYYYmmddTHHMMSSZ`` — never deletes them: they are evidence;
* starts a new journal whose first record (``journal_reset``) names the reason, the old head
  (sequence number and hash, as the old file says and as this host last witnessed it), the old
  key id, whether the old journal verified, and where the old files were put.

An inspector holding an earlier head sees the break as that record (``heads.follows``,
``events verify --head``): shown, never hidden.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from .errors import AgentError
from .journal import GENESIS, Journal, Record, key_id, read_witness
from .paths import Paths
from .wording import said

MAX_REASON = 500
"""Characters of the reason kept in the record."""


@dataclass(frozen=True)
class ResetResult:
    """What ``reset`` did."""

    record: Record
    """The new journal's first record (kind ``journal_reset``)."""
    kept: tuple[str, ...]
    """The old files, as renamed (full paths)."""


def _old_state(db: Path, key_path: Path, head_path: Path) -> dict[str, Any]:
    """The old journal's head and key id, from whatever of it can still be read."""
    out: dict[str, Any] = {"seq": None, "hash": None, "key_id": None, "verified": None, "problem": None}
    if os.path.exists(db):
        try:
            uri = "file:" + urllib.parse.quote(str(db.resolve())) + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, timeout=5)
            try:
                meta = dict(conn.execute("SELECT name, value FROM meta").fetchall())
            finally:
                conn.close()
            if "next_seq" in meta:
                out.update(seq=int(meta["next_seq"]) - 1, hash=meta.get("head_hash"), key_id=meta.get("key_id"))
            else:
                out.update(seq=0, hash=GENESIS, problem="no key state (empty journal)")
        except (sqlite3.Error, ValueError) as exc:
            out["problem"] = f"unreadable: {exc}"
        if out["problem"] is None:
            try:
                with Journal.open(db, readonly=True, key_path=key_path) as j:
                    res = j.verify()
                out["verified"] = res.ok
                out["mac_checked"] = res.mac_checked
                if not res.ok:
                    out["problem"] = f"#{res.first_bad_seq}: {res.reason}"
            except AgentError as exc:
                out["problem"] = str(exc)
    else:
        out["problem"] = "missing"
    if out["key_id"] is None and os.path.exists(key_path):
        try:
            with open(key_path, "rb") as fh:
                out["key_id"] = key_id(bytes.fromhex(fh.read(200).decode("ascii").strip()))
        except (OSError, ValueError):
            pass
    seen = read_witness(head_path)
    out["witnessed"] = {"seq": seen["seq"], "hash": seen["hash"], "time": seen.get("time")} if seen else None
    if out["key_id"] is None and seen:
        out["key_id"] = seen.get("key_id")
    # the head to compare with: the file's, unless this host witnessed a later one (a rollback)
    head = {"seq": out["seq"], "hash": out["hash"]} if out["seq"] is not None else None
    if seen and (head is None or seen["seq"] > head["seq"]):
        head = {"seq": seen["seq"], "hash": seen["hash"]}
    out["head"] = head
    return out


def _daemon_running(paths: Paths) -> Optional[str]:
    from .ipc import IpcClient
    try:
        st = IpcClient(paths.socket, timeout=3).call("status")
    except AgentError as exc:
        return None if exc.kind == "not_running" else str(exc)
    return f"pid {(st or {}).get('pid', '?')}"


def reset(paths: Paths, reason: str, *, now: Optional[dt.datetime] = None, host: Optional[str] = None) -> ResetResult:
    """Put the old journal files aside and start a new journal that records them (see module doc)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise AgentError("journal reset needs --reason TEXT (why a new journal is started)", kind="usage")
    if len(reason) > MAX_REASON:
        raise AgentError(f"the reason is longer than {MAX_REASON} characters", kind="usage")
    if os.geteuid() != 0:
        raise AgentError("journal reset needs root", kind="forbidden")
    running = _daemon_running(paths)
    if running:
        raise AgentError(f"bmnn-agent is running ({running}): stop it first (systemctl stop bmnn-agent)",
                         kind="usage")
    now = now or dt.datetime.now(dt.timezone.utc)
    db, key_path = Path(paths.journal), Path(paths.journal_key)
    head_path = db.with_name(db.stem + ".head")
    old = _old_state(db, key_path, head_path)
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    files = [db, Path(str(db) + "-wal"), Path(str(db) + "-shm"), key_path, head_path]
    present = [f for f in files if os.path.lexists(f)]
    suffix, n = f".reset-{stamp}", 1
    while any(os.path.lexists(str(f) + suffix) for f in files):
        n += 1
        suffix = f".reset-{stamp}-{n}"
    kept = []
    for f in present:
        os.rename(f, str(f) + suffix)  # kept aside, never deleted
        kept.append(str(f) + suffix)
    evidence = {"reason": reason, "previous": old, "kept_as": [os.path.basename(k) for k in kept],
                "by_uid": os.geteuid()}
    head = old.get("head")
    was = f"#{head['seq']} {head['hash'][:16]}…" if head else "unknown"
    with Journal.open(db, key_path=key_path, host=host) as j:
        rec = j.append("journal_reset", severity="high", evidence=evidence,
                       **said("record.msg.journal_reset", note=reason, head=was,
                              key_id=(old.get("key_id") or "unknown")[:19], suffix=suffix))
    return ResetResult(rec, tuple(kept))


def reset_of(evidence: Any) -> Optional[dict]:
    """The old head ``{"seq", "hash"}`` a ``journal_reset`` record's evidence names, or None."""
    if not isinstance(evidence, dict):
        return None
    prev = evidence.get("previous")
    head = prev.get("head") if isinstance(prev, dict) else None
    if not isinstance(head, dict) or not isinstance(head.get("seq"), int) or not isinstance(head.get("hash"), str):
        return None
    return {"seq": head["seq"], "hash": head["hash"]}
