"""`bmnn events [verify]`, `bmnn status`, `bmnn reload` through the CLI as the lead wires them."""

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bmnn_guard.agent.event import Event
from bmnn_guard.agent.journal import Journal
from tests.agent.conftest import ROOT, WIRED_CLI, run_bmnn


def make_journal(env, n=5):
    j = Journal.open(Path(env["BMNN_STATE_DIR"]) / "journal.db")
    j.append("agent_start", severity="info", message="bmnn-agent started", time="2026-01-01T08:00:00.000000Z")
    j.append("violation", check_id="BMNN-NET-001", severity="critical", message="Máy đang kết nối mạng: wlan0",
             evidence={"if": "wlan0"}, time="2026-01-02T08:00:00.000000Z")
    for i in range(n - 2):
        j.append("heartbeat")
    return j


def test_events_text_and_json(agent_env):
    make_journal(agent_env)
    p = run_bmnn(["events"], agent_env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 5 and "vi phạm" in lines[1] and "BMNN-NET-001" in lines[1] and "[critical]" in lines[1]
    p = run_bmnn(["events", "--lang", "en", "--kind", "violation"], agent_env)
    assert p.stdout.count("\n") == 1 and "violation" in p.stdout
    p = run_bmnn(["events", "--json", "--since", "2026-01-02"], agent_env)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["seq"] for r in recs] == [2, 3, 4, 5] and recs[0]["evidence"] == {"if": "wlan0"}
    p = run_bmnn(["events", "--since", "1h", "--json"], agent_env)
    assert [json.loads(x)["seq"] for x in p.stdout.splitlines()] == [3, 4, 5]
    p = run_bmnn(["events", "--since", "yesterday-ish"], agent_env)
    assert p.returncode == 1 or p.returncode == 2
    assert "30m" in p.stderr


def test_events_follow_prints_new_records(agent_env):
    j = make_journal(agent_env, n=2)
    e = dict(os.environ, PYTHONPATH=str(ROOT), **agent_env)
    p = subprocess.Popen([sys.executable, "-c", WIRED_CLI, "events", "--follow", "--json"], env=e, cwd=str(ROOT),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        got = [json.loads(p.stdout.readline())["seq"] for _ in range(2)]
        j.append("gap", severity="high", message="udev monitor overflow")
        got.append(json.loads(p.stdout.readline())["seq"])
        assert got == [1, 2, 3]
    finally:
        p.terminate()
        p.wait(5)


def test_verify_ok_and_tampered_exit_codes(agent_env):
    make_journal(agent_env, n=8)
    p = run_bmnn(["events", "verify"], agent_env)
    assert p.returncode == 0, p.stderr
    assert "toàn vẹn" in p.stdout and "8 bản ghi" in p.stdout and "MAC" in p.stdout
    db = sqlite3.connect(str(Path(agent_env["BMNN_STATE_DIR"]) / "journal.db"), isolation_level=None)
    db.execute("UPDATE records SET severity = 'low' WHERE seq = 2")
    p = run_bmnn(["events", "verify", "--lang", "en"], agent_env)
    assert p.returncode == 4
    assert "first bad record is #2" in p.stderr
    p = run_bmnn(["events", "verify", "--json"], agent_env)
    out = json.loads(p.stdout)
    assert p.returncode == 4 and out["ok"] is False and out["first_bad_seq"] == 2


def test_verify_a_copied_journal_with_an_escrowed_key(agent_env, tmp_path):
    make_journal(agent_env, n=4).close()
    state = Path(agent_env["BMNN_STATE_DIR"])
    copy = tmp_path / "inspection" / "ws-01.db"
    copy.parent.mkdir()
    src = sqlite3.connect(str(state / "journal.db"))
    dst = sqlite3.connect(str(copy))
    src.backup(dst)  # what an inspector takes home: a consistent copy
    dst.close()
    key = tmp_path / "inspection" / "ws-01.key"
    key.write_text((state / "journal.key").read_text())
    (state / "journal.key").unlink()
    p = run_bmnn(["events", "verify", "--journal", str(copy), "--key", str(key), "--json"], agent_env)
    out = json.loads(p.stdout)
    assert p.returncode == 0 and out["ok"] and out["mac_checked"] and out["count"] == 4
    p = run_bmnn(["events", "verify", "--lang", "en"], agent_env)  # the key has left the host: chain only
    assert p.returncode == 3 and "Chain only — a truncated tail or a rewritten chain cannot be detected without the key" \
        in p.stdout and "intact" not in p.stdout


def test_missing_journal_is_exit_1_with_one_line(agent_env):
    p = run_bmnn(["events", "verify"], agent_env)
    assert p.returncode == 1 and "không có nhật ký tại" in p.stderr and "Traceback" not in p.stderr


def test_status_and_reload_when_the_daemon_is_not_running(agent_env):
    p = run_bmnn(["status"], agent_env)
    assert p.returncode == 1 and "không chạy" in p.stderr
    p = run_bmnn(["status", "--json"], agent_env)
    assert p.returncode == 1 and json.loads(p.stdout)["running"] is False
    p = run_bmnn(["reload"], agent_env)
    assert p.returncode == 1 and "bmnn-agent không chạy" in p.stderr


def test_help_lists_the_commands(agent_env):
    p = run_bmnn(["--help"], agent_env)
    assert p.returncode == 0 and "events" in p.stdout and "status" in p.stdout and "reload" in p.stdout
    p = run_bmnn(["events", "--help"], agent_env)
    assert "verify" in p.stdout


def test_group_member_reads_events_through_the_daemon(agent_env, tmp_path, monkeypatch):
    """A member of the reader group cannot open the root-only journal file; `bmnn events` then asks
    the daemon over the socket (the child drops to nobody:nogroup with os.setuid)."""
    import grp
    import pwd
    import shutil
    import tempfile
    import threading

    if os.geteuid() != 0:
        import pytest
        pytest.skip("dropping to another uid needs root")
    run = tempfile.mkdtemp(prefix="bmnn-run-")
    os.chmod(run, 0o711)
    env = dict(agent_env, BMNN_RUNTIME_DIR=run)
    Path(env["BMNN_CONFIG_DIR"], "agent.yaml").write_text("ipc_group: nogroup\nsinks: {alert: {enabled: false}}\n")
    os.chmod(env["BMNN_STATE_DIR"], 0o700)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    from bmnn_guard.agent.daemon import Daemon
    from bmnn_guard.agent.paths import from_env
    d = Daemon(from_env())
    d.setup()
    d.record(Event.of("violation", check_id="BMNN-USB-001", severity="critical", message="USB chưa đăng ký"))
    t = threading.Thread(target=d._loop, daemon=True)
    t.start()
    try:
        import bmnn_guard.cli as cli
        from bmnn_guard.agent.commands import events_group
        if "events" not in cli.cli.commands:
            cli.cli.add_command(events_group)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            rc = 1
            try:
                os.close(r)
                os.setgroups([])
                os.setgid(grp.getgrnam("nogroup").gr_gid)
                os.setuid(pwd.getpwnam("nobody").pw_uid)
                sys.stdout = sys.stderr = os.fdopen(w, "w")  # pytest's capture objects are not fd 1
                rc = cli.main(["events", "--json"])
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(rc)
        os.close(w)
        out = b""
        while chunk := os.read(r, 65536):
            out += chunk
        os.close(r)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, out
        recs = [json.loads(x) for x in out.decode().splitlines()]
        assert [r["kind"] for r in recs] == ["violation"] and recs[0]["message"] == "USB chưa đăng ký"
    finally:
        d.request_stop()
        t.join(10)
        d._shutdown()
        shutil.rmtree(run, ignore_errors=True)
