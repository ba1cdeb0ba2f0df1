"""The real daemon, real unprivileged users and real clients for the attack replays.

``Agent`` runs ``python -m bmnn_guard.agent`` (the same daemon as ``bmnn agent run``) on directories under
the test's tmp_path with one marked folder writable by everyone (sticky, like /tmp), so that an
unprivileged user can do there whatever a careless permission would let them. ``local_user``
creates a real user (and group) with a unique name through ``useradd`` and removes it again;
``as_user`` runs a command as that user through ``setpriv``. ``StatusProbe`` asks ``status``
over the real socket again and again while an attack runs, and keeps each answer's latency.
"""

from __future__ import annotations

import contextlib
import grp
import json
import os
import pwd
import signal
import shutil
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Optional

import pytest

from tests.agent.probe import JournalProbe

ROOT = Path(__file__).resolve().parents[2]


def need(*tools: str, root: bool = True) -> None:
    """Skip (with the reason) when not root or a tool is missing."""
    if root and os.geteuid() != 0:
        pytest.skip("needs root (real users, setpriv, namespaces)")
    for t in tools:
        if shutil.which(t) is None:
            pytest.skip(f"needs {t}")


def suffix() -> str:
    return uuid.uuid4().hex[:8]


@contextlib.contextmanager
def local_user(groups: tuple[str, ...] = ()):
    """A fresh user ``bmt<suffix>`` with its own primary group (and ``groups`` as supplementary)."""
    need("useradd", "userdel", "setpriv")
    name = f"bmt{suffix()}"
    cmd = ["useradd", "--no-create-home", "--user-group", "--shell", "/usr/sbin/nologin", name]
    if groups:
        cmd[1:1] = ["--groups", ",".join(groups)]
    subprocess.run(cmd, check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)
        with contextlib.suppress(KeyError):
            grp.getgrnam(name)
            subprocess.run(["groupdel", name], capture_output=True)


@contextlib.contextmanager
def local_group():
    """A fresh group ``bmg<suffix>``, removed afterwards."""
    need("groupadd", "groupdel")
    name = f"bmg{suffix()}"
    subprocess.run(["groupadd", name], check=True, capture_output=True)
    try:
        yield grp.getgrnam(name)
    finally:
        subprocess.run(["groupdel", name], capture_output=True)


def as_user(user, argv: list[str], *, init_groups: bool = True, env: Optional[dict] = None, **kw) -> subprocess.Popen:
    """Start ``argv`` as ``user`` (its real supplementary groups when ``init_groups``) with only
    ``env`` (PATH and the BMNN_* variables, say) in its environment."""
    groups = ["--init-groups"] if init_groups else ["--clear-groups"]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **(env or {})}
    return subprocess.Popen(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", *groups, "--", *argv],
                            env=env, **kw)


def cpu_seconds(pid: int, tid: Optional[int] = None) -> float:
    """utime + stime of a process and all its threads (or of its thread ``tid``), in seconds."""
    with open(f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Agent:
    """``python -m bmnn_guard.agent`` on private directories, with a world-writable marked folder ``mat``."""

    def __init__(self, base: Path, *, agent_yaml: str = "", marked: bool = True, env: Optional[dict] = None):
        self.base = base
        for d in ("etc/local.d", "state", "run", "log", "mat"):
            (base / d).mkdir(parents=True, exist_ok=True)
        for d in (base, base / "etc", base / "etc/local.d"):
            os.chmod(d, 0o755)
        os.chmod(base / "run", 0o755)
        os.chmod(base / "mat", 0o1777)
        self.mat = base / "mat"
        if marked:
            (base / "etc/local.d/10-mat.yaml").write_text(f"marked_folders: [{{path: {self.mat}}}]\n", encoding="utf-8")
        if agent_yaml:
            (base / "etc/agent.yaml").write_text(agent_yaml, encoding="utf-8")
        self.env = dict(os.environ, BMNN_CONFIG_DIR=str(base / "etc"), BMNN_STATE_DIR=str(base / "state"),
                        BMNN_RUNTIME_DIR=str(base / "run"), BMNN_LOG_DIR=str(base / "log"), PYTHONPATH=str(ROOT),
                        BMNN_LANG="en", **(env or {}))
        self.env.pop("NOTIFY_SOCKET", None)
        self.socket = base / "run/agent.sock"
        self.journal = JournalProbe(str(base / "state/journal.db"))
        self.proc: Optional[subprocess.Popen] = None

    def start(self, prefix: Optional[list[str]] = None) -> "Agent":
        argv = [*(prefix or []), sys.executable, "-m", "bmnn_guard.agent"]
        self.err = open(self.base / "daemon.err", "w")
        self.proc = subprocess.Popen(argv, env=self.env, cwd=str(ROOT), stdout=subprocess.DEVNULL, stderr=self.err)
        assert self.journal.wait_for("SELECT seq FROM records WHERE kind='agent_start'", timeout=30), self.stderr()
        assert self.wait_socket(), self.stderr()
        time.sleep(1.0)  # the initial full read and content scan
        return self

    def wait_socket(self, timeout: float = 15.0) -> bool:
        from bmnn_guard.agent.ipc import IpcClient
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                IpcClient(self.socket, timeout=2).call("status")
                return True
            except Exception:
                time.sleep(0.05)
        return False

    def stderr(self) -> str:
        try:
            return (self.base / "daemon.err").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self, timeout: float = 20.0) -> tuple[Optional[int], float]:
        """SIGTERM; (exit code or None when it had to be killed, seconds it took)."""
        if self.proc is None or self.proc.poll() is not None:
            return (self.proc.returncode if self.proc else None), 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = None
        return rc, time.monotonic() - t0

    def records(self, sql: str = "SELECT seq, kind, check_id, message, evidence FROM records", *args) -> list:
        return self.journal.rows(sql, *args)

    def file_evidence(self) -> list[dict]:
        return [json.loads(e) for (e,) in self.records("SELECT evidence FROM records WHERE kind='file'")]

    def __enter__(self) -> "Agent":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class StatusProbe:
    """A thread calling ``status`` over the socket back to back; latencies in ms, failures kept."""

    def __init__(self, socket_path: Path, *, pause: float = 0.05, timeout: float = 10.0):
        self.socket_path, self.pause, self.timeout = socket_path, pause, timeout
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from bmnn_guard.agent.ipc import IpcClient
        client = IpcClient(self.socket_path, timeout=self.timeout)
        while not self._stop.is_set():
            t0 = time.monotonic()
            try:
                client.call("status")
                self.latencies.append((time.monotonic() - t0) * 1000)
            except Exception as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
            self._stop.wait(self.pause)

    def __enter__(self) -> "StatusProbe":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(self.timeout + 1)

    def p50(self) -> float:
        xs = sorted(self.latencies)
        return xs[len(xs) // 2] if xs else float("nan")

    def max(self) -> float:
        return max(self.latencies) if self.latencies else float("nan")

    def summary(self) -> str:
        return f"status n={len(self.latencies)} p50={self.p50():.1f} ms max={self.max():.1f} ms failures={len(self.failures)}"


def served(agent: "Agent") -> dict:
    """The daemon's own figures for the requests it answered (accept -> reply sent), last 1,000."""
    from bmnn_guard.agent.ipc import IpcClient
    return IpcClient(agent.socket, timeout=30).call("status").get("ipc", {})


def status_ok(probe: "StatusProbe", daemon_side: dict, bound_ms: float = 1000.0) -> tuple[bool, str]:
    """``status`` answered within ``bound_ms``: every request by the daemon's own clock (accept to
    reply sent), and the client's median; the client's maximum also counts its own scheduling
    on a shared machine and is reported, not asserted."""
    ok = not probe.failures and daemon_side.get("max_ms", 0) < bound_ms and probe.p50() < bound_ms
    return ok, f"{probe.summary()}; daemon side p50={daemon_side.get('p50_ms')} ms max={daemon_side.get('max_ms')} ms"


def figure(name: str, text: str) -> None:
    """Print a measured figure (pytest -s shows it; FIGURES file collects them when set)."""
    line = f"[figure] {name}: {text}"
    print(line)
    path = os.environ.get("BMNN_SECURITY_FIGURES")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
