"""No silent reset or rollback, with the real daemon: an emptied, missing or older journal beside the
kept key makes `bmnn-agent` refuse to start (exit 4, STATUS, the files untouched); only
`bmnn journal reset --reason` starts a new journal, keeping the old files and recording the old
head in its first record; every heartbeat carries the head to the sinks."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bmnn_guard.agent.journal import Journal, key_id
from tests.agent.conftest import ROOT, run_bmnn
from tests.agent.test_daemon import Notify, setup_dirs  # noqa: F401  (fixture)


def _start(env, tmp_path, name="daemon"):
    n = Notify(tmp_path / f"{name}.notify")
    e = dict(os.environ, **env, NOTIFY_SOCKET=n.path, PYTHONPATH=str(ROOT))
    errf = open(tmp_path / f"{name}.stderr", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT), stdout=errf, stderr=errf)
    return proc, n, tmp_path / f"{name}.stderr"


def _journal(env, n=20):
    state = Path(env["BMNN_STATE_DIR"])
    with Journal.open(state / "journal.db") as j:
        for i in range(n):
            j.append("heartbeat", evidence={"i": i})
    return state


def _refused(env, tmp_path):
    proc, n, errpath = _start(env, tmp_path)
    try:
        rc = proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert n.wait_for("STATUS=refusing to start", 5), n.msgs
    assert not any("READY=1" in m for m in n.msgs)
    return rc, errpath.read_text()


def _tamper_emptied(state, tmp_path):
    os.truncate(state / "journal.db", 0)
    return ["is empty", "journal.key"]


def _tamper_missing(state, tmp_path):
    os.unlink(state / "journal.db")
    return ["is missing", "journal.key"]


def _tamper_missing_key_off_host(state, tmp_path):
    os.unlink(state / "journal.key")  # the key went to the officer's stick, as documented
    os.unlink(state / "journal.db")
    return ["is missing", "journal.head"]


def _tamper_older_copy(state, tmp_path):
    shutil.copyfile(state / "journal.db", tmp_path / "at-20.db")
    with Journal.open(state / "journal.db") as j:
        for _ in range(5):
            j.append("violation", check_id="BMNN-USB-001", severity="critical", message="USB stick")
    os.replace(tmp_path / "at-20.db", state / "journal.db")
    return ["head #20", "#25", "older (shorter) than"]


@pytest.mark.parametrize("tamper", [_tamper_emptied, _tamper_missing, _tamper_missing_key_off_host,
                                    _tamper_older_copy], ids=lambda f: f.__name__[8:])
def test_daemon_refuses_a_journal_that_is_not_the_one_kept(setup_dirs, tmp_path, tamper):
    env, _pol, _hook = setup_dirs
    state = _journal(env)
    key = (state / "journal.key").read_bytes() if (state / "journal.key").exists() else None
    said = tamper(state, tmp_path)
    before = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    rc, err = _refused(env, tmp_path)
    assert rc == 4, err
    assert "refusing to start" in err and "bmnn journal reset --reason TEXT" in err, err
    for text in said:
        assert text in err, (text, err)
    after = {p.name: p.read_bytes() for p in state.iterdir() if p.is_file()}
    assert after == before  # nothing created, nothing overwritten: the key is the same bytes
    if key is not None and "journal.key" in before:
        assert after["journal.key"] == key


def test_reset_keeps_the_old_files_and_records_the_old_head(setup_dirs, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("bmnn journal reset needs root")
    env, _pol, _hook = setup_dirs
    state = _journal(env)
    old_key = (state / "journal.key").read_bytes()
    with Journal.open(state / "journal.db", readonly=True) as j:
        old_head = j.current_head()
    os.truncate(state / "journal.db", 0)  # the file is lost; the head was witnessed in journal.head
    p = run_bmnn(["journal", "reset", "--reason", "ổ đĩa hỏng, thay mới", "--lang", "en"], env)
    assert p.returncode == 0, p.stderr
    assert "records the old journal's head #20" in p.stdout and "not deleted" in p.stdout
    kept = sorted(x.name for x in state.iterdir() if ".reset-" in x.name)
    assert {k.split(".reset-")[0] for k in kept} >= {"journal.db", "journal.key", "journal.head"}
    assert (state / [k for k in kept if k.startswith("journal.key")][0]).read_bytes() == old_key
    assert (state / "journal.key").read_bytes() != old_key  # a new key for the new journal
    with Journal.open(state / "journal.db", readonly=True) as j:
        first = next(j.records())
    assert first.seq == 1 and first.kind == "journal_reset"
    ev = first.evidence
    assert ev["reason"] == "ổ đĩa hỏng, thay mới"
    assert ev["previous"]["head"] == old_head and ev["previous"]["witnessed"]["seq"] == 20
    assert ev["previous"]["key_id"] == key_id(bytes.fromhex(old_key.decode().strip()))
    assert sorted(ev["kept_as"]) == kept

    # the daemon starts on the new journal; its heartbeats carry the head to the sinks
    proc, n, errpath = _start(env, tmp_path, "after")
    try:
        assert n.wait_for("READY=1"), (proc.poll(), errpath.read_text())
        time.sleep(2.5)  # heartbeat_seconds: 1
        p = run_bmnn(["journal", "reset", "--reason", "again", "--lang", "en"], env)
        assert p.returncode == 1 and "is running" in p.stderr  # never under a running daemon
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ecs = [json.loads(x) for x in Path(env["BMNN_LOG_DIR"], "events.ndjson").read_text().splitlines()]
    beats = [x for x in ecs if x.get("event.action") == "heartbeat"]
    assert beats, ecs
    with Journal.open(state / "journal.db", readonly=True) as j:
        by_seq = {r.seq: r.hash for r in j.records()}
    for b in beats:
        head = b["bmnn.evidence"]["head"]
        assert head["seq"] == b["event.sequence"] - 1 and by_seq[head["seq"]] == head["hash"]
    p = run_bmnn(["events", "verify", "--lang", "en"], env)
    assert p.returncode == 0, p.stderr
    witnessed = json.loads((state / "journal.head").read_text())
    assert witnessed["seq"] == max(by_seq)  # the clean stop wrote the last head


def test_reset_needs_a_reason(agent_env):
    p = run_bmnn(["journal", "reset", "--reason", "   "], agent_env)
    assert p.returncode == 1 and "--reason" in p.stderr
