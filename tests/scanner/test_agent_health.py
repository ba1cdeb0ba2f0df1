"""The agent collector claims "running" only on evidence: a daemon that answers its status with a
pid the kernel confirms, or systemd's word when the socket will not serve this user. A socket file
nobody listens on, a listener that never answers, one that answers something else, and one served
by another user are not a running daemon. The real daemon: tests/agent/test_agent_self.py."""

import json
import os
import pwd
import socket
import threading

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.scanner.collect import collect_agent

from .support import IS_ROOT, judge

OK_JOURNAL = (True, "2026-11-23T09:00:00+00:00", None, {"mac_checked": True, "count": 12})


class Server:
    """A listener on a Unix socket that answers every request line with ``reply(request)``
    (None: never answers; bytes: sent as they are)."""

    def __init__(self, path, reply):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen()
        self.reply = reply
        self.conns = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            buf = b""
            while b"\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                buf += chunk
            out = self.reply(json.loads(buf.split(b"\n")[0]))
            if out is None:
                continue  # hold the connection open, say nothing
            try:
                conn.sendall(out if isinstance(out, bytes) else json.dumps(out).encode() + b"\n")
            except OSError:
                pass  # the client stopped reading (an oversized reply)
            conn.close()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


def status(pid=None, **kw):
    return lambda req: {"id": req["id"], "ok": True, "result": {
        "running": True, "pid": os.getpid() if pid is None else pid, "started": "2026-11-23T08:00:00Z",
        "uptime_s": 3600.0, "policy": {"sha256": "ab" * 32, "profile": "secret-workstation"}, **kw}}


def no_systemd():
    return None, None


def collect(tmp_path, **kw):
    kw.setdefault("systemd", no_systemd)
    kw.setdefault("journal_check", lambda: OK_JOURNAL)
    return collect_agent(unit_dirs=(str(tmp_path),), sock=str(tmp_path / "agent.sock"), timeout=1.0, **kw)


def agt(a):
    results, _ = judge(F.Facts(agent=a, collected=("agent",)))
    return results["BMNN-AGT-001"]


def test_a_daemon_that_answers_passes_and_says_how(tmp_path):
    srv = Server(tmp_path / "agent.sock", status())
    try:
        a = collect(tmp_path)
    finally:
        srv.close()
    assert (a.running, a.running_how, a.pid, a.started, a.uptime_s, a.policy_sha256) == \
        (True, "socket", os.getpid(), "2026-11-23T08:00:00Z", 3600.0, "ab" * 32)
    assert (a.installed, a.journal_verified, a.journal_check, a.journal_records, a.errors) == \
        (False, True, "chain+mac", 12, ())
    r = agt(a)
    assert r.status == "pass"  # a foreground daemon without the unit installed protects the machine
    (row,) = r.evidence
    assert row["running_how"] == "socket" and row["pid"] == os.getpid() and row["journal_check"] == "chain+mac"
    assert row["installed"] is False and row["policy_sha256"] == "ab" * 32


def test_chain_only_when_the_key_is_not_readable(tmp_path):
    srv = Server(tmp_path / "agent.sock", status())
    try:
        a = collect(tmp_path, journal_check=lambda: (True, None, None, {"mac_checked": False, "count": 3}))
    finally:
        srv.close()
    assert a.journal_check == "chain only" and agt(a).status == "pass"
    assert agt(a).evidence[0]["journal_check"] == "chain only"


def test_a_tampered_journal_fails_with_the_first_bad_record(tmp_path):
    srv = Server(tmp_path / "agent.sock", status())
    try:
        a = collect(tmp_path, journal_check=lambda: (False, None, None, {"mac_checked": True, "count": 9,
                                                                         "first_bad_seq": 4, "reason": "edited"}))
    finally:
        srv.close()
    r = agt(a)
    assert r.status == "fail"
    assert (r.evidence[0]["journal_first_bad_seq"], r.evidence[0]["journal_problem"]) == (4, "edited")


def test_no_socket_and_a_stale_socket_are_not_running(tmp_path):
    a = collect(tmp_path)
    assert (a.running, a.running_how) == (False, None) and "no socket" in a.running_problem
    assert agt(a).status == "fail"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "agent.sock"))  # a socket file left behind, nobody listening
    try:
        a = collect(tmp_path)
    finally:
        stale.close()
    assert a.running is False and "stale socket" in a.running_problem
    r = agt(a)
    assert r.status == "fail" and "stale socket" in r.evidence[0]["running_problem"]


@pytest.mark.parametrize("reply, why", [
    (lambda req: None, "nothing answered"),
    (lambda req: b"HTTP/1.0 200 OK\r\n\r\n", "did not answer as bmnn-agent"),
    (lambda req: {"id": 1, "ok": True, "result": {"running": True}}, "no pid"),
    (lambda req: b"[1, 2]\n", "did not answer as bmnn-agent"),
    (lambda req: b"x" * (2 << 20), "did not answer as bmnn-agent"),
    (lambda req: {"id": 1, "ok": False, "error": {"code": "internal", "message": "boom"}}, "boom"),
])
def test_a_listener_that_is_not_the_daemon_is_not_running(tmp_path, reply, why):
    srv = Server(tmp_path / "agent.sock", reply)
    try:
        a = collect(tmp_path)
    finally:
        srv.close()
    assert a.running is False and why in a.running_problem, a
    assert agt(a).status == "fail"


def test_a_pid_the_kernel_does_not_confirm_is_an_error(tmp_path):
    srv = Server(tmp_path / "agent.sock", status(pid=1))
    try:
        a = collect(tmp_path)
    finally:
        srv.close()
    assert a.running is None and any("belongs to pid" in e.message for e in a.errors)
    assert agt(a).status == "error"  # never a pass on a claim the kernel contradicts


def test_refused_by_the_daemon_systemd_decides(tmp_path):
    forbidden = lambda req: {"id": req["id"], "ok": False, "error": {"code": "forbidden", "message": "root or bmnn"}}
    srv = Server(tmp_path / "agent.sock", forbidden)
    try:
        active = collect(tmp_path, systemd=lambda: ("active", 4242))
        inactive = collect(tmp_path, systemd=lambda: ("inactive", None))
        none = collect(tmp_path)
    finally:
        srv.close()
    assert (active.running, active.running_how, active.pid, active.unit_state) == (True, "systemd", 4242, "active")
    assert agt(active).status == "pass" and agt(active).evidence[0]["running_how"] == "systemd"
    assert inactive.running is None and agt(inactive).status == "error"
    assert none.running is None and any("refuses this user" in e.message for e in none.errors)


def test_systemd_active_does_not_outweigh_a_silent_socket(tmp_path):
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(tmp_path / "agent.sock"))
    try:
        a = collect(tmp_path, systemd=lambda: ("active", 4242))
    finally:
        stale.close()
    assert a.running is False and a.unit_state == "active" and agt(a).status == "fail"


def test_a_socket_served_by_another_user_is_not_trusted(tmp_path):
    if not IS_ROOT:
        pytest.skip("needs root (a listener running as nobody)")
    import shutil
    import tempfile
    from pathlib import Path
    nobody = pwd.getpwnam("nobody")
    tmp_path = Path(tempfile.mkdtemp(prefix="bmnn-impostor-"))  # pytest's own folders are root's alone
    os.chmod(tmp_path, 0o777)
    path = str(tmp_path / "agent.sock")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # an impostor as nobody: answers exactly as the daemon does, with its own pid
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            s = socket.socket(socket.AF_UNIX)
            s.bind(path)
            s.listen()
            s.settimeout(30)
            os.write(wfd, b"r")
            conn, _ = s.accept()
            conn.recv(4096)
            conn.sendall(json.dumps(status(pid=os.getpid())({"id": 1})).encode() + b"\n")
            conn.close()
        finally:
            os._exit(0)
    os.close(wfd)
    try:
        assert os.read(rfd, 1) == b"r"
        a = collect(tmp_path)
    finally:
        os.close(rfd)
        os.waitpid(pid, 0)
        shutil.rmtree(tmp_path)
    assert a.running is None and any(f"uid {nobody.pw_uid}" in e.message for e in a.errors)
    assert agt(a).status == "error"
