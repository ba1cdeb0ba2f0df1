"""The journal: append, read, verify, and each way of tampering caught at the right record."""

import datetime as dt
import hashlib
import json
import sqlite3
import threading

import pytest

from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.event import Event
from bmnn_guard.agent.journal import GENESIS, Journal, Record, key_for


def fill(j, n, kind="heartbeat"):
    return [j.append(kind, message=f"m{i}", evidence={"i": i, "tên": "Mật"}) for i in range(n)]


@pytest.fixture
def jpath(tmp_path):
    return tmp_path / "journal.db"


def db(path):
    return sqlite3.connect(str(path), isolation_level=None)


def test_append_read_verify(jpath):
    j = Journal.open(jpath)
    recs = fill(j, 5)
    v = j.append("violation", check_id="BMNN-NET-001", severity="high", evidence={"if": "wlan0"}, message="online")
    assert [r.seq for r in recs] == [1, 2, 3, 4, 5] and v.seq == 6
    assert recs[0].prev_hash == GENESIS and recs[1].prev_hash == recs[0].hash
    assert isinstance(v, Record)
    with pytest.raises(Exception):
        v.seq = 9  # frozen
    assert [r.seq for r in j.records(since_seq=4)] == [5, 6]
    assert j.head() == v
    res = j.verify()
    assert res.ok and res.count == 6 and res.mac_checked and res.head_seq == 6 and res.head_hash == v.hash
    j.close()
    # the file survives a reopen, the chain goes on
    j = Journal.open(jpath)
    assert j.append("heartbeat").prev_hash == v.hash
    assert j.verify().ok


def test_key_file_is_root_only_and_evolves(jpath):
    j = Journal.open(jpath)
    fill(j, 3)
    kp = jpath.with_name("journal.key")
    assert (kp.stat().st_mode & 0o777) == 0o400
    key0 = bytes.fromhex(kp.read_text().strip())
    meta = dict(db(jpath).execute("SELECT name, value FROM meta").fetchall())
    assert meta["next_key"] == key_for(key0, 4).hex() != key0.hex()


def test_plain_chain_is_checkable_without_a_key(jpath):
    j = Journal.open(jpath)
    fill(j, 4)
    res = j.verify(use_key_file=False)
    assert res.ok and not res.mac_checked
    # an inspector's own check, with nothing but hashlib and the documented layout
    prev = GENESIS
    for r in j.records():
        assert r.prev_hash == prev
        assert hashlib.sha256(r.signed_bytes()).hexdigest() == r.hash
        prev = r.hash


def test_since_time_and_kinds(jpath):
    j = Journal.open(jpath)
    j.append("heartbeat", time="2026-01-01T00:00:00.000000Z")
    j.append("violation", check_id="BMNN-USB-001", severity="critical", time="2026-02-01T00:00:00.000000Z")
    j.append("heartbeat", time="2026-03-01T00:00:00.000000Z")
    assert [r.seq for r in j.records(since_time=dt.datetime(2026, 1, 15))] == [2, 3]
    assert [r.seq for r in j.records(kinds=["violation"])] == [2]
    assert [r.seq for r in j.records(limit=2)] == [1, 2]


def test_rejects_unknown_kind_and_severity(jpath):
    j = Journal.open(jpath)
    with pytest.raises(AgentError):
        j.append("nonsense")
    with pytest.raises(AgentError):
        j.append("violation", severity="urgent")
    assert j.head() is None


# ---------------------------------------------------------------- tampering


TAMPERING = {
    "edit a record": (["UPDATE records SET message = 'nothing happened' WHERE seq = 6"], 6, "hash"),
    "delete a range": (["DELETE FROM records WHERE seq BETWEEN 4 AND 7"], 4, "missing"),
    "reorder two records": (["UPDATE records SET seq = -1 WHERE seq = 3", "UPDATE records SET seq = 3 WHERE seq = 7",
                             "UPDATE records SET seq = 7 WHERE seq = -1"], 3, "does not link"),
    "truncate the tail": (["DELETE FROM records WHERE seq > 7"], 8, "truncated"),
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_tampering_is_caught_at_the_first_bad_record_without_a_key(jpath, how):
    statements, first_bad, why = TAMPERING[how]
    j = Journal.open(jpath)
    fill(j, 10)
    c = db(jpath)
    c.execute("BEGIN")
    for sql in statements:
        c.execute(sql)
    c.execute("COMMIT")
    res = j.verify(use_key_file=False)
    assert not res.ok and res.first_bad_seq == first_bad and why in res.reason, res
    assert j.verify().first_bad_seq == first_bad  # with the key: the same answer


def test_truncated_tail_with_forged_counters_is_caught_by_the_key(jpath):
    """Root deletes #8..#10 and also rewinds next_seq/head_hash: only the evolved key gives it away."""
    j = Journal.open(jpath)
    fill(j, 10)
    c = db(jpath)
    h7 = c.execute("SELECT hash FROM records WHERE seq = 7").fetchone()[0]
    c.execute("DELETE FROM records WHERE seq > 7")
    c.execute("UPDATE meta SET value = '8' WHERE name = 'next_seq'")
    c.execute("UPDATE meta SET value = ? WHERE name = 'head_hash'", (h7,))
    assert j.verify(use_key_file=False).ok  # the plain chain cannot see it
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 8 and res.mac_checked


def test_recomputed_chain_is_caught_only_with_the_initial_key(jpath):
    """An attacker with root now rewrites #4 and recomputes every later hash; with the current key
    (the only one left on the machine once journal.key was moved off it) the MACs of #4..#10
    cannot be forged."""
    j = Journal.open(jpath)
    fill(j, 10)
    kp = jpath.with_name("journal.key")
    escrow = kp.read_text()
    kp.chmod(0o600)
    kp.unlink()  # the officer moved the initial key off the host
    c = db(jpath)
    rows = [Record(*[r[i] for i in range(6)], json.loads(r[6]), r[7], r[8], r[9], r[10])
            for r in c.execute("SELECT seq, time, host, kind, check_id, severity, evidence, message, prev_hash, hash, mac"
                               " FROM records ORDER BY seq")]
    prev = rows[2].hash
    for r in rows[3:]:
        msg = "edited" if r.seq == 4 else r.message
        forged = Record(r.seq, r.time, r.host, r.kind, r.check_id, r.severity, r.evidence, msg, prev, "", r.mac)
        h = hashlib.sha256(forged.signed_bytes()).hexdigest()
        c.execute("UPDATE records SET message = ?, prev_hash = ?, hash = ? WHERE seq = ?", (msg, prev, h, r.seq))
        prev = h
    c.execute("UPDATE meta SET value = ? WHERE name = 'head_hash'", (prev,))
    plain = j.verify()
    assert plain.ok and not plain.mac_checked  # honest limit: without the key this is invisible
    keyfile = jpath.parent / "escrow.key"
    keyfile.write_text(escrow)
    res = j.verify(j.read_initial_key(keyfile))
    assert not res.ok and res.first_bad_seq == 4 and "MAC" in res.reason


def test_wrong_key_is_reported(jpath):
    j = Journal.open(jpath)
    fill(j, 3)
    res = j.verify(b"\x01" * 32)
    assert not res.ok and res.key_mismatch and "not this journal's" in res.reason
    with j._lock:  # a journal from before key ids: the first MAC fails
        j._conn.execute("DELETE FROM meta WHERE name = 'key_id'")
    res = j.verify(b"\x01" * 32)
    assert not res.ok and res.first_bad_seq == 1 and not res.key_mismatch


# ---------------------------------------------------------------- retention


def test_retention_keeps_the_chain_verifiable(jpath):
    j = Journal.open(jpath)
    old = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc)
    for i in range(5):
        j.append("heartbeat", time=(old + dt.timedelta(days=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    fill(j, 3)
    cp = j.retention(30)
    assert cp.kind == "checkpoint" and cp.evidence["pruned_through"] == 5 and cp.evidence["pruned_count"] == 5
    assert [r.seq for r in j.records()] == [6, 7, 8, 9]
    res = j.verify()
    assert res.ok and res.first_seq == 6 and res.count == 4 and res.mac_checked
    assert j.retention(30) is None  # nothing more to prune
    j.append("heartbeat")
    assert j.verify().ok


def test_prefix_deleted_behind_a_checkpoint_is_caught(jpath):
    j = Journal.open(jpath)
    fill(j, 10)
    j.checkpoint(3)
    db(jpath).execute("DELETE FROM records WHERE seq <= 5")
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 4


def test_prefix_deleted_with_forged_anchor_is_caught(jpath):
    j = Journal.open(jpath)
    fill(j, 10)
    c = db(jpath)
    h5 = c.execute("SELECT hash FROM records WHERE seq = 5").fetchone()[0]
    c.execute("DELETE FROM records WHERE seq <= 5")
    c.execute("UPDATE meta SET value = '5' WHERE name = 'base_seq'")
    c.execute("UPDATE meta SET value = ? WHERE name = 'base_hash'", (h5,))
    res = j.verify()
    assert not res.ok and res.first_bad_seq == 6 and "checkpoint" in res.reason


# ---------------------------------------------------------------- concurrency


def test_reader_sees_consistent_records_while_the_writer_appends(jpath):
    j = Journal.open(jpath)
    fill(j, 10)
    stop = threading.Event()
    errors = []

    def write():
        while not stop.is_set():
            j.append_many([dict(kind="file", evidence={"n": i}) for i in range(20)])

    t = threading.Thread(target=write)
    t.start()
    try:
        for _ in range(20):
            r = Journal.open(jpath, readonly=True)
            res = r.verify(use_key_file=False)
            if not res.ok:
                errors.append(res)
            seqs = [x.seq for x in r.records()]
            if seqs != list(range(1, len(seqs) + 1)):
                errors.append("gap in a snapshot")
            r.close()
    finally:
        stop.set()
        t.join()
    assert not errors
    assert j.verify().ok


def test_readonly_refuses_to_write(jpath):
    Journal.open(jpath).append("heartbeat")
    r = Journal.open(jpath, readonly=True)
    with pytest.raises(AgentError):
        r.append("heartbeat")
    assert r.verify().ok


def test_missing_journal_readonly_is_a_clear_error(tmp_path):
    with pytest.raises(AgentError, match="no journal"):
        Journal.open(tmp_path / "nope.db", readonly=True)


def test_fast_signed_bytes_equal_the_documented_canonical_form(jpath):
    """The inspector's recipe (prev_hash || the JSON object of the hashed fields, sorted keys, no
    spaces, written here independently of agent/journal.py) and the one canonical form used by
    append, verify and Record.signed_bytes give the same bytes, Vietnamese text and nesting included."""
    import json as _json
    from bmnn_guard.agent.journal import FORMAT_VERSION, canonical_json, signed_bytes
    j = Journal.open(jpath)
    recs = [j.append("violation", check_id="BMNN-DOC-001", severity="high", message="Tài liệu \"TỐI MẬT\"\n",
                     evidence={"z": [1, {"b": None, "a": 1.5}], "đường dẫn": "/home/a/b\\c"}),
            j.append("heartbeat")]
    for r in recs:
        ev = None if r.evidence is None else canonical_json(r.evidence)
        assert signed_bytes(r.seq, r.time, r.host, r.kind, r.check_id, r.severity, ev, r.message, r.prev_hash) \
            == r.signed_bytes()
        assert hashlib.sha256(r.signed_bytes()).hexdigest() == r.hash
        body = {"v": FORMAT_VERSION, "seq": r.seq, "time": r.time, "host": r.host, "kind": r.kind,
                "check_id": r.check_id, "severity": r.severity, "evidence": r.evidence, "message": r.message,
                "prev_hash": r.prev_hash}
        recipe = bytes.fromhex(r.prev_hash) + _json.dumps(body, sort_keys=True, separators=(",", ":"),
                                                          ensure_ascii=False).encode("utf-8")
        assert recipe == r.signed_bytes()


def test_rejects_a_time_in_another_format(jpath):
    j = Journal.open(jpath)
    with pytest.raises(AgentError, match="format"):
        j.append("heartbeat", time="23/11/2026 10:00")
    assert j.append("heartbeat", time="2026-11-23T10:00:00.000000Z").time == "2026-11-23T10:00:00.000000Z"


def test_writer_burst_is_one_transaction_and_keeps_order(jpath):
    from bmnn_guard.agent.spool import JournalWriter
    j = Journal.open(jpath)
    w = JournalWriter(j)
    w.write([Event.of("agent_start")])
    recs = w.write([Event.of("file", evidence={"path": f"/srv/mat/{i}.docx", "action": "modified"})
                    for i in range(500)])
    assert [r.seq for r in recs] == list(range(2, 502)) and recs[-1].evidence["path"] == "/srv/mat/499.docx"
    with pytest.raises(AgentError):
        w.write([Event.of("file"), Event.of("bogus")])  # validated before anything is written
    assert j.head().seq == 501 and j.verify().ok


def test_a_burst_larger_than_the_spool_is_written_whole(jpath):
    """The spool bounds what waits for a failing disk; a healthy journal takes any burst (a tick
    once held 12,814 file events and the spool of 10,000 dropped 2,814 of them)."""
    from bmnn_guard.agent.spool import JournalWriter
    j = Journal.open(jpath)
    w = JournalWriter(j, max_spool=5)
    recs = w.write([Event.of("file", evidence={"path": f"/srv/mat/{i}"}) for i in range(23)])
    assert len(recs) == 23 and w.dropped == 0 and w.pending == 0
    assert [r.kind for r in j.records()] == ["file"] * 23 and j.verify().ok
