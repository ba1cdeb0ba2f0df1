"""The daemon skeleton as a real process (READY, WATCHDOG, heartbeats, SIGHUP, SIGTERM), and its
main loop in-process (reconcile, ack, source gaps, a hung loop stops the watchdog pings)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bmnn_guard.agent.daemon import Daemon
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.ipc import IpcClient
from bmnn_guard.agent.event import Event
from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.paths import from_env
from bmnn_guard.policies import facts as F
from bmnn_guard.policies.evaluator import evaluate
from tests.agent.conftest import ROOT, run_bmnn

BUILTIN = ROOT / "policies" / "data"


@pytest.fixture
def setup_dirs(agent_env, tmp_path):
    pol = tmp_path / "policy"
    shutil.copytree(BUILTIN, pol)
    hook_out = tmp_path / "hook.ndjson"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ncat >> {hook_out}\necho >> {hook_out}\n")
    hook.chmod(0o755)
    Path(agent_env["BMNN_CONFIG_DIR"], "agent.yaml").write_text(
        "heartbeat_seconds: 1\n"
        "labels: {agency: test}\n"
        "sinks:\n"
        "  alert: {enabled: false}\n"
        f"  hooks: [{{command: [{hook}], kinds: [violation, cleared, policy_loaded]}}]\n")
    env = dict(agent_env, BMNN_POLICY_DIR=str(pol))
    return env, pol, hook_out


class Notify:
    """A NOTIFY_SOCKET like systemd's: read all the time by a thread, as systemd reads it (a socket
    nobody reads fills after ~10 datagrams, and the daemon then drops its notifications)."""

    def __init__(self, path):
        import threading
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.msgs = []
        self._seen = 0
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            try:
                m = self.sock.recv(4096).decode()
            except OSError:
                return
            with self._cond:
                self.msgs.append(m)
                self._cond.notify_all()

    def _next(self, deadline):
        """The next message not yet taken by wait_for/drain, or None at the deadline."""
        with self._cond:
            while self._seen >= len(self.msgs):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            self._seen += 1
            return self.msgs[self._seen - 1]

    def wait_for(self, text, timeout=20):
        end = time.monotonic() + timeout
        while (m := self._next(end)) is not None:
            if text in m:
                return True
        return False

    def drain(self, seconds):
        end = time.monotonic() + seconds
        got = []
        while (m := self._next(end)) is not None:
            got.append(m)
        return got


def events(env):
    p = run_bmnn(["events", "--json"], env)
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in p.stdout.splitlines()]


def test_daemon_process_lifecycle(setup_dirs, tmp_path):
    env, pol, hook_out = setup_dirs
    n = Notify(tmp_path / "notify")
    e = dict(os.environ, **env, NOTIFY_SOCKET=n.path, WATCHDOG_USEC="1000000", PYTHONPATH=str(ROOT))
    errf = open(tmp_path / "daemon.stderr", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT), stdout=errf, stderr=errf)
    try:
        assert n.wait_for("READY=1"), (proc.poll(), n.msgs)
        later = n.drain(3.0)
        assert later.count("WATCHDOG=1") >= 2

        p = run_bmnn(["status", "--json"], env)
        assert p.returncode == 0, p.stderr
        st = json.loads(p.stdout)
        sha = st["policy"]["sha256"]
        assert st["running"] and st["pid"] == proc.pid and st["policy"]["profile"] == "secret-workstation"
        assert {s["name"] for s in st["sinks"]} == {"journald", "ecs", "hook:hook.sh"}
        # the live watch is installed: its sources run, and what this machine violates is open
        assert {"netlink", "udev", "reconcile"} <= {s["name"] for s in st["sources"]}
        assert all(s["alive"] for s in st["sources"]), st["sources"]
        assert isinstance(st["open_violations"], list)
        p = run_bmnn(["status", "--lang", "en"], env)
        assert p.returncode == 0 and "bmnn-agent running" in p.stdout

        # a broken policy is refused by `bmnn reload`, the old one stays in force
        checks = pol / "checks" / "network.yaml"
        good = checks.read_text(encoding="utf-8")
        checks.write_text(good.replace("    severity:", "    severty:", 1), encoding="utf-8")
        p = run_bmnn(["reload"], env)
        assert p.returncode == 4 and "severty" in p.stderr
        p = run_bmnn(["status", "--json"], env)
        assert json.loads(p.stdout)["policy"]["sha256"] == sha

        # SIGHUP with a fixed (and changed) policy switches to it
        checks.write_text(good.replace("Wi-Fi hardware present", "Wi-Fi hardware (changed) present", 1),
                          encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        end = time.monotonic() + 10
        new = sha
        while time.monotonic() < end and new == sha:
            time.sleep(0.2)
            p = run_bmnn(["status", "--json"], env)
            assert p.returncode == 0, (p.stderr, (tmp_path / "daemon.stderr").read_text())
            new = json.loads(p.stdout)["policy"]["sha256"]
        assert new != sha

        time.sleep(1.2)  # at least one heartbeat
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert n.wait_for("STOPPING=1", 2) or any("STOPPING=1" in m for m in n.msgs)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    evs = events(env)
    kinds = [r["kind"] for r in evs]
    assert kinds[0] == "agent_start" and kinds[-1] == "agent_stop" and "heartbeat" in kinds
    loaded = [r for r in evs if r["kind"] == "policy_loaded"]
    assert [r["evidence"]["ok"] for r in loaded] == [True, False, True]
    assert "severty" in loaded[1]["evidence"]["error"] and loaded[1]["evidence"]["kept"] == sha
    p = run_bmnn(["events", "verify"], env)
    assert p.returncode == 0, p.stderr
    # every sink got them: the ECS file, the hook (only the kinds it asked for)
    ecs = [json.loads(x) for x in Path(env["BMNN_LOG_DIR"], "events.ndjson").read_text().splitlines()]
    assert [x["event.sequence"] for x in ecs] == [r["seq"] for r in evs]
    assert all(x["labels.agency"] == "test" for x in ecs)
    hooked = [json.loads(x) for x in hook_out.read_text().splitlines() if x.strip()]
    assert {h["event.action"] for h in hooked} <= {"violation", "cleared", "policy_loaded"}
    assert [h["event.action"] for h in hooked if h["event.action"] == "policy_loaded"] == ["policy_loaded"] * 3
    assert [h["event.sequence"] for h in hooked] == [r["seq"] for r in evs if r["kind"] in ("violation", "cleared", "policy_loaded")]
    err = (tmp_path / "daemon.stderr").read_text()
    assert "<5>#1 agent_start" in err and "bmnn-agent đã khởi động, chính sách" in err  # agent.yaml lang: vi
    rejected = next(x for x in ecs if x["event.sequence"] == loaded[1]["seq"])
    assert rejected["message"].startswith("từ chối nạp lại") and rejected["bmnn.message"] == loaded[1]["message"]
    assert loaded[1]["message"].startswith("reload rejected")  # the signed text stays as written


def test_daemon_refuses_to_start_on_a_bad_config(setup_dirs):
    env, _, _ = setup_dirs
    Path(env["BMNN_CONFIG_DIR"], "agent.yaml").write_text("heartbeat_secs: 5\n")
    p = subprocess.run([sys.executable, "-m", "bmnn_guard.agent"], env=dict(os.environ, **env), cwd=str(ROOT),
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "agent.yaml:1:1: unknown key 'heartbeat_secs'" in p.stderr


class DyingSource:
    """An event source whose thread dies after start (like a pyudev monitor on ENOBUFS)."""

    name = "udev"

    def __init__(self):
        self.running = False

    def start(self, emit):
        self.running = True

    def stop(self):
        self.running = False

    def alive(self):
        return self.running


def agent_facts(installed):
    return F.Facts(collected=("agent",), agent=F.AgentHealth(installed=installed, running=installed,
                                                            journal_verified=True if installed else None))


def test_main_loop_reconcile_ack_gap_and_watchdog(setup_dirs, tmp_path, monkeypatch):
    env, _, _ = setup_dirs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    n = Notify(tmp_path / "notify")
    d = Daemon(from_env(), env=dict(os.environ, NOTIFY_SOCKET=n.path, WATCHDOG_USEC="400000"))
    src = DyingSource()
    d.register_source(src)
    d.setup()
    src.start(lambda trigger: None)
    t = threading.Thread(target=d._loop, daemon=True)
    t.start()
    try:
        from bmnn_guard.agent.engine import Engine
        from bmnn_guard.policies.context import EvalContext
        machine = [agent_facts(False)]
        eng = Engine(d.policy.bundle, d.policy.tailoring, EvalContext(), collect=lambda domains: machine[0])

        def judge():  # what the live watch does on the main loop: refresh, then journal the changes
            out = []
            for e in eng.refresh(("agent",)):
                if e.kind in ("violation", "cleared"):
                    out += d.record(e)
            d.last_reconcile = "now"
            return out

        recs = d.call_soon(judge).result(10)
        assert [(r.kind, r.check_id) for r in recs] == [("violation", "BMNN-AGT-001")]
        assert d.call_soon(judge).result(10) == []  # still open: not journaled twice
        c = IpcClient(d.paths.socket)
        st = c.call("status")
        assert [v["check_id"] for v in st["open_violations"]] == ["BMNN-AGT-001"] and st["last_reconcile"]
        seq = st["open_violations"][0]["seq"]
        assert c.call("ack", seq=seq, reason="đã báo cán bộ bảo mật")["ok"]
        assert c.call("ack", seq=seq, reason="again")["error"] == "already_acknowledged"
        with pytest.raises(AgentError, match="needs a reason"):
            c.call("ack", seq=seq)
        o = c.call("status")["open_violations"][0]
        assert o["acknowledged"] is True and (o["ack"]["by"], o["ack"]["reason"]) == ("root", "đã báo cán bộ bảo mật")

        machine[0] = agent_facts(True)
        recs = d.call_soon(judge).result(10)
        assert [(r.kind, r.check_id) for r in recs] == [("cleared", "BMNN-AGT-001")]

        src.running = False  # the source dies: one gap record, then status says so
        n.drain(0.3)
        end = time.monotonic() + 5
        while time.monotonic() < end and not any(s["alive"] is False for s in c.call("status")["sources"]):
            time.sleep(0.1)
        gaps = [r for r in d.journal.records(kinds=["gap"])]
        assert len(gaps) == 1 and gaps[0].evidence["source"] == "udev" \
            and gaps[0].evidence["text"] == {"key": "record.msg.source_stopped", "args": {"source": "udev"}}

        # a hung main loop stops the watchdog pings (systemd then restarts the service)
        assert "WATCHDOG=1" in n.drain(0.5)
        d.call_soon(lambda: time.sleep(1.5))
        time.sleep(0.1)
        assert "WATCHDOG=1" not in n.drain(1.2)
        assert "WATCHDOG=1" in n.drain(1.0)
    finally:
        d.request_stop()
        t.join(10)
        d._shutdown()
    j = Journal.open(d.paths.journal, readonly=True)
    kinds = [r.kind for r in j.records()]
    assert kinds[:1] == ["violation"] and "ack" in kinds and "cleared" in kinds and kinds[-1] == "agent_stop"
    assert j.verify().ok
    # a restarted daemon remembers what is still open (nothing here) from the journal
    d2 = Daemon(from_env())
    d2.setup()
    assert d2.open_violations == {}
    d2.ipc.stop()
    d2.sinks.stop()
    d2.journal.close()


def test_daemon_never_imports_the_report_stack(setup_dirs):
    env, _, _ = setup_dirs
    code = ("import sys\n"
            "from bmnn_guard.agent.daemon import Daemon\n"
            "from bmnn_guard.agent.paths import from_env\n"
            "d = Daemon(from_env()); d.setup()\n"
            "from bmnn_guard.agent.event import Event\n"
            "d.record(Event.of('heartbeat')); d.sinks.drain(5)\n"
            "print(sorted(m for m in ('rich', 'jinja2', 'weasyprint', 'pypdfium2', 'PIL', 'tesserocr', 'click') if m in sys.modules))\n"
            "d.ipc.stop(); d.sinks.stop()\n")
    p = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env, PYTHONPATH=str(ROOT)),
                       cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_restart_after_a_crash_journals_the_gap(setup_dirs, tmp_path):
    env, _, _ = setup_dirs
    n = Notify(tmp_path / "notify")
    e = dict(os.environ, **env, NOTIFY_SOCKET=n.path, PYTHONPATH=str(ROOT))
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert n.wait_for("READY=1")
        proc.kill()  # kill -9: no agent_stop
        proc.wait()
    evs = events(env)
    assert [r["kind"] for r in evs if r["kind"] != "heartbeat"] == ["agent_start", "policy_loaded", "gap",
                                                                    "agent_start", "policy_loaded"]
    gap = next(r for r in evs if r["kind"] == "gap")
    assert gap["evidence"]["previous_kind"] in ("policy_loaded", "heartbeat") and "without agent_stop" in gap["message"]


def test_on_appended_is_told_the_last_seq_of_each_commit(setup_dirs, monkeypatch):
    env, _, _ = setup_dirs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    d = Daemon(from_env())
    d.setup()
    try:
        seen, bad = [], []
        d.on_appended(seen.append)
        d.on_appended(lambda seq: bad.append(1 / 0))  # a listener's bug never stops journaling
        one = d.record(Event.of("heartbeat"))
        many = d.record([Event.of("file", evidence={"path": f"/x/{i}"}) for i in range(3)])
        assert seen == [one[-1].seq, many[-1].seq] and many[-1].seq == one[-1].seq + 3
        assert d.journal.head().seq == many[-1].seq
    finally:
        d.ipc.stop()
        d.sinks.stop()
        d.journal.close()


def test_status_while_the_main_loop_is_busy_says_with_what_and_names_the_journal(setup_dirs, monkeypatch):
    """``bmnn status`` during a long job of the main loop (a burst's journal writes) is read
    directly: it names the job and how long it has run, and the journal's path even when the loop
    never read the counts before; a status the loop takes up just after the wait is answered by
    the loop (not reported as a busy loop whose job is that very status)."""
    env, _, _ = setup_dirs
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    d = Daemon(from_env())
    d.setup()
    t = threading.Thread(target=d._loop, daemon=True)
    t.start()
    try:
        def long_job():
            time.sleep(1.0)

        d.call_soon(long_job)
        time.sleep(0.3)
        st = IpcClient(d.paths.socket).call("status")
        assert st["main_loop"]["busy"] is True and st["main_loop"]["job"].endswith("long_job")
        assert st["main_loop"]["busy_s"] >= 0.2 and st["journal"]["path"] == str(d.paths.journal)
        time.sleep(1.0)
        st = IpcClient(d.paths.socket).call("status")
        assert "main_loop" not in st and st["journal"]["path"] == str(d.paths.journal)
    finally:
        d.request_stop()
        t.join(10)
        d._shutdown()
