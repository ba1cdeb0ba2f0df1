"""What a hostile root (or a careless copy) does to the journal file, and what `bmnn events verify`
says about it, through the real command: one parametrised suite, each case a scenario built on a
real journal file and key, judged by the exit code and the words of the output.

Exit codes: 0 intact (chain, MACs and tail checked with the initial key), 3 chain only (no key:
incomplete), 4 integrity (tampered, damaged, rolled back, or a key that is not this journal's),
1 a key file that is not a key.
"""

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from bmnn_guard.agent.journal import Journal
from tests.agent.conftest import run_bmnn

N = 20


@pytest.fixture
def world(agent_env, tmp_path):
    state = Path(agent_env["BMNN_STATE_DIR"])
    with Journal.open(state / "journal.db", host="may-mat-01") as j:
        for i in range(N):
            j.append("heartbeat", evidence={"i": i, "pad": "x" * 300})
    offhost = tmp_path / "stick" / "journal.key"  # what the security officer keeps off the host
    offhost.parent.mkdir()
    shutil.copyfile(state / "journal.key", offhost)
    return agent_env, state, offhost, tmp_path


def _sql(db, *statements):
    conn = sqlite3.connect(str(db), isolation_level=None)
    try:
        for s in statements:
            conn.execute(*s) if isinstance(s, tuple) else conn.execute(s)
    finally:
        conn.close()


def _cut_tail(state, keep):
    """Delete the newest records and make next_seq/head_hash agree (what root does to hide them)."""
    db = state / "journal.db"
    conn = sqlite3.connect(str(db), isolation_level=None)
    head = conn.execute("SELECT hash FROM records WHERE seq = ?", (keep,)).fetchone()[0]
    conn.close()
    _sql(db, ("DELETE FROM records WHERE seq > ?", (keep,)),
         ("UPDATE meta SET value = ? WHERE name = 'next_seq'", (str(keep + 1),)),
         ("UPDATE meta SET value = ? WHERE name = 'head_hash'", (head,)))


def case_intact_with_offhost_key(state, key, tmp):
    return ["--key", key], 0, ["Journal intact: 20 records", "MACs and tail"], ["Chain only"]


def case_intact_without_key(state, key, tmp):
    (state / "journal.key").unlink()  # the key has left the host, as the documentation asks
    return [], 3, ["Chain only — a truncated tail or a rewritten chain cannot be detected without the key"], ["intact"]


def case_tail_cut_with_key(state, key, tmp):
    _cut_tail(state, 15)
    return ["--key", key], 4, ["JOURNAL TAMPERED", "#16", "truncated"], ["intact"]


def case_tail_cut_without_key(state, key, tmp):
    _cut_tail(state, 15)
    (state / "journal.key").unlink()
    return [], 3, ["Chain only — a truncated tail or a rewritten chain cannot be detected without the key",
                   "15 records"], ["intact"]


def case_garbage_key(state, key, tmp):
    bad = tmp / "garbage.key"
    bad.write_text("this is not a key\n")
    return ["--key", bad], 1, [f"journal key {bad}: not a journal key"], ["Chain only", "intact"]


def case_garbage_key_beside_the_journal(state, key, tmp):
    os.chmod(state / "journal.key", 0o600)
    (state / "journal.key").write_text("0" * 63 + "\n")
    return [], 1, [f"journal key {state / 'journal.key'}: not a journal key"], ["Chain only", "intact"]


def case_wrong_key(state, key, tmp):
    other = tmp / "other.key"
    other.write_text(os.urandom(32).hex() + "\n")
    return ["--key", other], 4, [f"The key {other} is not the key of the journal"], ["intact"]


def case_truncated_file(state, key, tmp):
    db = state / "journal.db"
    os.truncate(db, os.path.getsize(db) // 2)
    return ["--key", key], 4, ["JOURNAL DAMAGED", "are missing (truncated)", "cannot be read (of #1..#20)"], ["intact"]


def case_emptied_file(state, key, tmp):
    os.truncate(state / "journal.db", 0)
    return ["--key", key], 4, ["JOURNAL DAMAGED", "the file is empty (0 bytes)"], ["intact"]


def case_copy_without_its_wal(state, key, tmp):
    """A copy of journal.db taken while a writer holds records in the WAL: said, not hidden."""
    j = Journal.open(state / "journal.db")
    try:
        j.append("heartbeat", evidence={"late": True})
        assert os.path.getsize(str(state / "journal.db") + "-wal") > 0
        copy = tmp / "copy" / "journal.db"
        copy.parent.mkdir()
        shutil.copyfile(state / "journal.db", copy)
    finally:
        j._conn.close()  # no clean stop: the WAL is not folded into the file
    return ["--journal", copy, "--key", key], 0, ["Journal intact: 20 records", f"No file {copy}-wal beside it"], []


def case_clean_stop_folds_the_wal(state, key, tmp):
    with Journal.open(state / "journal.db") as j:
        j.append("heartbeat", evidence={"late": True})
    assert not os.path.exists(str(state / "journal.db") + "-wal") or \
        os.path.getsize(str(state / "journal.db") + "-wal") == 0
    copy = tmp / "copy.db"
    shutil.copyfile(state / "journal.db", copy)
    return ["--journal", copy, "--key", key], 0, ["Journal intact: 21 records"], []


def _head(state) -> str:
    with Journal.open(state / "journal.db", readonly=True) as j:
        h = j.current_head()
    return f"{h['seq']}:{h['hash']}"


def _append(state, n, **kw):
    with Journal.open(state / "journal.db") as j:
        for i in range(n):
            j.append("heartbeat", **kw)


def case_head_no_new_records(state, key, tmp):
    return ["--key", key, "--head", _head(state)], 0, ["extends the head seen before, #20"], ["ROLLED BACK"]


def case_head_more_records(state, key, tmp):
    seen = _head(state)
    _append(state, 5)
    return ["--key", key, "--head", seen], 0, ["extends the head seen before, #20", "its head is now #25"], []


def case_head_restored_older_copy(state, key, tmp):
    shutil.copyfile(state / "journal.db", tmp / "at-20.db")
    _append(state, 5)
    seen = _head(state)  # what a snapshot or a heartbeat witnessed
    os.replace(tmp / "at-20.db", state / "journal.db")  # root puts the older journal back
    return ["--key", key, "--head", seen], 4, ["JOURNAL ROLLED BACK: its head #20", "shorter than the head seen before, #25"], \
        ["extends"]


def case_head_branch(state, key, tmp):
    shutil.copyfile(state / "journal.db", tmp / "at-20.db")
    _append(state, 5, message="the real history")
    seen = _head(state)
    os.replace(tmp / "at-20.db", state / "journal.db")
    _append(state, 7, message="another history")
    return ["--key", key, "--head", seen], 4, ["JOURNAL BRANCHED: the head seen before, #25", "its head is #27"], \
        ["extends"]


def case_head_without_key_still_catches_rollback(state, key, tmp):
    shutil.copyfile(state / "journal.db", tmp / "at-20.db")
    _append(state, 1)
    seen = _head(state)
    os.replace(tmp / "at-20.db", state / "journal.db")
    (state / "journal.key").unlink()
    return ["--head", seen], 4, ["JOURNAL ROLLED BACK", "Chain only"], ["extends"]


def case_head_malformed(state, key, tmp):
    return ["--head", "20:xyz"], 1, ["--head must be SEQ:HASH"], []


def case_head_across_a_documented_reset(state, key, tmp):
    if os.geteuid() != 0:
        pytest.skip("bmnn journal reset needs root")
    seen = _head(state)
    p = run_bmnn(["journal", "reset", "--reason", "ổ đĩa thay mới"], _ENV[0])
    assert p.returncode == 0, p.stderr
    _append(state, 2)
    return ["--head", seen], 0, ["started anew by `bmnn journal reset`", "ổ đĩa thay mới", "head was #20"], \
        ["ROLLED BACK", "BRANCHED"]


# ---------------------------------------------------------------- checkpoints and retention
# times pinned in 2001: never "in the future" on any clock the suite runs under

import datetime as dt  # noqa: E402

T0 = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
PURGE = dt.datetime(2001, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def _dated_journal(tmp):
    """Records 1..10 from January 2001, 11..20 from the morning of 1 March 2001; the initial key
    is moved off the host at once, as documented (root has only the current key state)."""
    d = tmp / "dated"
    d.mkdir()
    with Journal.open(d / "journal.db", host="may-mat-01") as j:
        for i in range(10):
            j.append("heartbeat", time=(T0 + dt.timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        for i in range(10):
            j.append("heartbeat", time=(PURGE - dt.timedelta(hours=10 - i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    key = tmp / "dated.key"
    shutil.copyfile(d / "journal.key", key)
    (d / "journal.key").unlink()
    return d / "journal.db", key


def case_checkpoint_obeys_retention(state, key, tmp):
    db, k = _dated_journal(tmp)
    with Journal.open(db) as j:
        assert j.retention(30, now=PURGE).evidence["pruned_through"] == 10
    return ["--journal", db, "--key", k, "--retention-days", "30"], 0, ["Journal intact: 11 records (#11..#21)"], []


def case_checkpoint_without_retention_configured(state, key, tmp):
    db, k = _dated_journal(tmp)
    with Journal.open(db) as j:
        j.retention(30, now=PURGE)
    return ["--journal", db, "--key", k], 4, ["first bad record is #21", "checkpoint #21", "no retention is configured",
                                              "the youngest removed record is #10 of 2001-01-01T09:00:00"], ["intact"]


def case_checkpoint_of_fresh_records(state, key, tmp):
    db, k = _dated_journal(tmp)
    with Journal.open(db) as j:  # root, without the initial key, prunes records hours old
        j.checkpoint(15, reason="retention 30 days", now=PURGE)
    return ["--journal", db, "--key", k, "--retention-days", "30"], 4, \
        ["checkpoint #21 (2001-03-01T12:00:00.000000Z) removed records younger than the retention of 30 days",
         "the youngest removed record is #15 of 2001-03-01T"], ["intact"]


def case_checkpoint_forged_age(state, key, tmp):
    """Root writes the checkpoint by hand, claiming the last removed record is old."""
    db, k = _dated_journal(tmp)
    conn = sqlite3.connect(str(db))
    row = conn.execute("SELECT seq, time, host, kind, check_id, severity, evidence, message, prev_hash, hash, mac "
                       "FROM records WHERE seq = 15").fetchone()
    conn.close()
    from bmnn_guard.agent.journal import canonical_body
    body = canonical_body(15, "2000-01-01T00:00:00.000000Z", *row[2:9])
    with Journal.open(db) as j:
        j.append("checkpoint", time="2001-03-01T12:00:00.000000Z", message="records 1..15 removed by retention",
                 evidence={"pruned_from": 1, "pruned_through": 15, "anchor_hash": row[9], "pruned_count": 15,
                           "reason": "retention 30 days", "last_removed": {"body": body, "mac": row[10]}})
    _sql(db, "DELETE FROM records WHERE seq <= 15", "UPDATE meta SET value = '15' WHERE name = 'base_seq'",
         ("UPDATE meta SET value = ? WHERE name = 'base_hash'", (row[9],)))
    return ["--journal", db, "--key", k, "--retention-days", "30"], 4, \
        ["checkpoint #21", "is not record #15 of the chain (forged)"], ["intact"]


def case_checkpoint_dated_in_the_future(state, key, tmp):
    db, k = _dated_journal(tmp)
    with Journal.open(db) as j:  # a date far ahead makes yesterday's records look old
        j.checkpoint(15, reason="retention 30 days", now=dt.datetime(2999, 1, 1, tzinfo=dt.timezone.utc))
    return ["--journal", db, "--key", k, "--retention-days", "30"], 4, \
        ["checkpoint #21 is dated 2999-01-01", "after the time of this verification"], ["intact"]


def case_head_removed_by_retention(state, key, tmp):
    db, k = _dated_journal(tmp)
    with Journal.open(db, readonly=True) as j:
        h5 = next(r.hash for r in j.records() if r.seq == 5)
    with Journal.open(db) as j:
        j.retention(30, now=PURGE)
    return ["--journal", db, "--key", k, "--retention-days", "30", "--head", f"5:{h5}"], 3, \
        ["Cannot be proven: record #5 was removed by a checkpoint (through #10)"], ["ROLLED BACK"]


_ENV: list = []

CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_journal_tamper_case(world, name):
    env, state, key, tmp = world
    _ENV[:] = [env]
    args, exit_code, said, unsaid = CASES[name](state, key, tmp)
    p = run_bmnn(["events", "verify", "--lang", "en", *map(str, args)], env)
    out = p.stdout + p.stderr
    assert p.returncode == exit_code, (name, p.returncode, out)
    for text in said:
        assert text in out, (name, text, out)
    for text in unsaid:
        assert text not in out, (name, text, out)
    assert "Traceback" not in out
    p = run_bmnn(["events", "verify", "--json", *map(str, args)], env)
    assert p.returncode == exit_code, (name, p.stdout, p.stderr)
    if exit_code in (0, 3, 4) and p.stdout.strip():
        doc = json.loads(p.stdout)
        assert doc["exit_code"] == exit_code
        assert (doc["checked"] == ["chain", "mac", "tail"]) == (doc["ok"] and doc["mac_checked"])
        assert (exit_code == 0) <= (doc["checked"] == ["chain", "mac", "tail"])
