"""The control socket: JSON lines, SO_PEERCRED access rules, bad requests answered, never a crash;
and sd_notify received on sockets we bind."""

import grp
import json
import os
import pwd
import shutil
import socket
import tempfile

import pytest

from bmnn_guard.agent import sdnotify
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.ipc import MAX_REQUEST, IpcClient, IpcServer


@pytest.fixture
def sockdir():
    d = tempfile.mkdtemp(prefix="bmnn-ipc-")
    os.chmod(d, 0o711)  # so that a client running as nobody can reach the socket
    yield d
    shutil.rmtree(d, ignore_errors=True)


def handlers(log):
    def status(params, peer):
        log.append(("status", peer.uid))
        return {"running": True, "peer_uid": peer.uid}

    def reload(params, peer):
        log.append(("reload", peer.uid))
        return {"ok": True}

    def boom(params, peer):
        raise ValueError("handler bug")

    def refuse(params, peer):
        raise AgentError("nothing to acknowledge", kind="usage")

    return {"status": status, "events": lambda p, peer: [], "reload": reload, "ack": refuse, "boom": boom}


def raw(path, payload: bytes):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(payload)
    buf = b""
    while b"\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf.split(b"\n")[0])


def test_status_and_errors_as_root(sockdir):
    log = []
    path = os.path.join(sockdir, "agent.sock")
    srv = IpcServer(path, handlers(log), group=None).start()
    try:
        c = IpcClient(path)
        assert c.call("status")["running"] is True
        assert oct(os.stat(path).st_mode & 0o777) == oct(0o660)
        with pytest.raises(AgentError, match="unknown method"):
            c.call("shutdown")
        with pytest.raises(AgentError) as ei:
            c.call("ack", check_id="X")
        assert ei.value.kind == "usage"
        with pytest.raises(AgentError, match="handler bug"):
            c.call("boom")
        assert raw(path, b"this is not json\n")["error"]["code"] == "usage"
        assert raw(path, b"[1, 2]\n")["ok"] is False
        assert raw(path, b'{"method": "status", "params": 5}\n')["ok"] is False
        assert raw(path, b"\xff\xfe\n")["ok"] is False
        big = raw(path, b'{"method": "status", "pad": "' + b"x" * (MAX_REQUEST + 10))
        assert big["ok"] is False and "larger" in big["error"]["message"]
        # pickle is not a protocol here
        import pickle
        assert raw(path, pickle.dumps({"method": "status"}) + b"\n")["ok"] is False
        # still serving after all that
        assert c.call("status")["running"] is True
    finally:
        srv.stop()
    assert not os.path.exists(path)


def test_second_server_refused_stale_socket_replaced(sockdir):
    path = os.path.join(sockdir, "agent.sock")
    srv = IpcServer(path, handlers([]), group=None).start()
    with pytest.raises(AgentError, match="another daemon"):
        IpcServer(path, handlers([]), group=None).start()
    srv.stop()
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # a socket file left by a killed daemon
    srv = IpcServer(path, handlers([]), group=None).start()
    assert IpcClient(path).call("status")["running"]
    srv.stop()


def test_not_running_is_a_clear_error(sockdir):
    with pytest.raises(AgentError) as ei:
        IpcClient(os.path.join(sockdir, "none.sock")).call("status")
    assert ei.value.kind == "not_running"


def as_user(path, uid, gid, method):
    """Fork, drop to uid/gid with os.setuid, call the daemon; returns (ok, code) from the child."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            try:
                IpcClient(path).call(method)
                out = {"ok": True}
            except AgentError as exc:
                out = {"ok": False, "code": exc.kind, "message": str(exc)}
            os.write(w, json.dumps(out).encode())
        finally:
            os._exit(0)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root")
def test_peercred_nobody_refused_group_member_reads_only(sockdir):
    nobody = pwd.getpwnam("nobody").pw_uid
    nogroup = grp.getgrnam("nogroup").gr_gid if _has_group("nogroup") else pwd.getpwnam("nobody").pw_gid
    group_name = grp.getgrgid(nogroup).gr_name
    other_gid = grp.getgrnam("daemon").gr_gid
    log = []
    path = os.path.join(sockdir, "agent.sock")
    # mode 0666 so that the file permissions let everyone connect: the credential check alone decides
    srv = IpcServer(path, handlers(log), group=group_name, mode=0o666).start()
    try:
        assert os.stat(path).st_gid == nogroup
        stranger = as_user(path, nobody, other_gid, "status")
        assert stranger["ok"] is False and stranger["code"] == "forbidden"
        stranger = as_user(path, nobody, other_gid, "reload")
        assert stranger["ok"] is False and stranger["code"] == "forbidden"
        member = as_user(path, nobody, nogroup, "status")
        assert member == {"ok": True}
        member = as_user(path, nobody, nogroup, "reload")
        assert member["ok"] is False and member["code"] == "forbidden" and "only root" in member["message"]
        assert ("reload", nobody) not in log and ("status", nobody) in log
        assert IpcClient(path).call("reload") == {"ok": True}
        assert srv.refused == 3
    finally:
        srv.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="dropping to another uid needs root")
def test_file_mode_keeps_strangers_out_before_any_credential_check(sockdir):
    path = os.path.join(sockdir, "agent.sock")
    srv = IpcServer(path, handlers([]), group=None).start()  # 0660 root:root
    try:
        out = as_user(path, pwd.getpwnam("nobody").pw_uid, grp.getgrnam("daemon").gr_gid, "status")
        assert out["ok"] is False and out["code"] == "forbidden" and "permission" in out["message"]
    finally:
        srv.stop()


def _has_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


# ---------------------------------------------------------------- sd_notify


def test_sd_notify_to_a_path_socket(tmp_path):
    path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(5)
    assert sdnotify.notify("READY=1\nSTATUS=watching", {"NOTIFY_SOCKET": path})
    assert s.recv(4096) == b"READY=1\nSTATUS=watching"
    s.close()


def test_sd_notify_to_an_abstract_socket():
    name = f"bmnn-test-{os.getpid()}"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    s.settimeout(5)
    assert sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
    assert s.recv(4096) == b"WATCHDOG=1"
    s.close()


def test_sd_notify_without_systemd_is_a_no_op():
    assert sdnotify.notify("READY=1", {}) is False
    assert sdnotify.watchdog_interval({}) is None
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None


def test_sd_notify_never_blocks_on_a_reader_that_does_not_read(tmp_path):
    """A full notify socket drops the message instead of freezing the caller (the main loop)."""
    import time
    path = str(tmp_path / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    t0 = time.monotonic()
    sent = [sdnotify.notify("WATCHDOG=1", {"NOTIFY_SOCKET": path}) for _ in range(500)]
    assert time.monotonic() - t0 < 5
    assert sent[0] and not all(sent)  # the first were queued, the rest dropped, none waited
    s.close()
