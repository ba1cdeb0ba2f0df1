"""The agent judges itself honestly, with the real daemon process and the real CLI: `bmnn scan`
passes BMNN-AGT-001 while the daemon runs and says how it knows (its answer on the socket, the
journal verified with the key), fails it when the daemon is gone or its journal was edited."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.agent.conftest import ROOT, run_bmnn


def start_daemon(env, log_path):
    e = dict(os.environ, **env, PYTHONPATH=str(ROOT))
    e.pop("NOTIFY_SOCKET", None)
    errf = open(log_path, "a")
    proc = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT), stdout=errf, stderr=errf)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(f"the daemon exited {proc.returncode}: {open(log_path).read()}")
        p = run_bmnn(["status", "--json"], env)
        if p.returncode == 0 and json.loads(p.stdout).get("pid") == proc.pid:
            return proc
        time.sleep(0.3)
    proc.kill()
    raise AssertionError(f"the daemon did not answer: {open(log_path).read()}")


def stop_daemon(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture
def daemon_env(agent_env, tmp_path):
    (tmp_path / "etc" / "agent.yaml").write_text("heartbeat_seconds: 1\nsinks:\n  alert: {enabled: false}\n")
    return agent_env


def agt(env):
    p = run_bmnn(["scan", "--no-content", "--no-input", "--format", "json", "--lang", "en"], env, timeout=300)
    assert p.returncode in (0, 2, 3), p.stderr
    (r,) = [r for r in json.loads(p.stdout)["results"] if r["check_id"] == "BMNN-AGT-001"]
    return r


def test_scan_passes_agt_001_while_the_daemon_runs_and_says_how(daemon_env, tmp_path):
    env = daemon_env
    proc = start_daemon(env, tmp_path / "daemon.log")
    try:
        time.sleep(1.5)  # a heartbeat
        r = agt(env)
        st = json.loads(run_bmnn(["status", "--json"], env).stdout)
        # the daemon's own judgement agrees: it does not report itself broken
        assert "BMNN-AGT-001" not in [v["check_id"] for v in st["open_violations"]], st["open_violations"]
        text = run_bmnn(["scan", "--no-content", "--no-input", "--lang", "en", "--format", "csv"], env,
                        timeout=300).stdout  # evidence in words, one line per check
    finally:
        stop_daemon(proc)
    assert r["status"] == "pass", r
    (ev,) = r["evidence"]
    assert (ev["running"], ev["running_how"], ev["pid"]) == (True, "socket", proc.pid)
    assert ev["policy_sha256"] == st["policy"]["sha256"] and ev["started"] == st["started"]
    assert (ev["journal_verified"], ev["journal_check"]) == (True, "chain+mac")  # root reads the key here
    (line,) = [x for x in text.splitlines() if "BMNN-AGT-001" in x]
    assert "Established by: the daemon answered on its control socket" in line
    assert "Journal verified by: hash chain and every record's MAC" in line and f"Process ID: {proc.pid}" in line

    # stopped: the socket is gone or stale, whatever pid it had
    r = agt(env)
    assert r["status"] == "fail" and r["evidence"][0]["running"] is False
    assert r["evidence"][0]["running_problem"]

    # an edited journal fails the check, naming the first bad record
    with sqlite3.connect(tmp_path / "state" / "journal.db") as c:
        c.execute("UPDATE records SET message = 'nothing happened' WHERE seq = 1")
    proc = start_daemon(env, tmp_path / "daemon.log")  # the daemon itself does not verify at start
    try:
        r = agt(env)
    finally:
        stop_daemon(proc)
    assert r["status"] == "fail"
    ev = r["evidence"][0]
    assert ev["running"] is True and ev["journal_verified"] is False and ev["journal_first_bad_seq"] == 1


def test_chain_only_when_the_key_cannot_be_read(daemon_env, tmp_path):
    """Without the initial key (moved off the machine, or unreadable here) only the chain is
    checked, and the evidence says so."""
    env = daemon_env
    proc = start_daemon(env, tmp_path / "daemon.log")
    stop_daemon(proc)
    key = tmp_path / "state" / "journal.key"
    key.rename(tmp_path / "journal.key.offline")
    p = run_bmnn(["facts", "--json"], env, timeout=300)
    assert p.returncode == 0, p.stderr
    a = json.loads(p.stdout)["agent"]
    assert (a["journal_verified"], a["journal_check"], a["running"]) == (True, "chain only", False)
