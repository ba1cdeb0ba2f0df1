"""A real `bmnn-agent` for the attack replays: started as root with a systemd-style notify socket
and watchdog, asked through the real CLI, stopped with SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.agent.conftest import ROOT, run_bmnn


class Notify:
    """A NOTIFY_SOCKET read all the time, as systemd reads it: an unread datagram socket fills
    after about ten messages and then blocks the daemon's sd_notify (and so its main loop)."""

    def __init__(self, path: Path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.msgs: list[tuple[float, str]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                self.msgs.append((time.monotonic(), self.sock.recv(4096).decode()))
            except socket.timeout:
                continue
            except OSError:
                return

    def wait_for(self, text: str, timeout: float, *, since: float = 0.0) -> bool:
        """Whether a message holding ``text`` arrives (after monotonic time ``since``) within ``timeout``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(t >= since and text in m for t, m in list(self.msgs)):
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


class RunningDaemon:
    """``with RunningDaemon(env, tmp_path) as d:`` — READY before the body, stopped after it."""

    def __init__(self, env: dict, tmp_path: Path, *, watchdog_usec: int = 2_000_000):
        self.env, self.tmp = env, tmp_path
        self.notify = Notify(tmp_path / "notify")
        self.log = tmp_path / "daemon.out"
        self.watchdog_usec = watchdog_usec
        self.proc = None

    def __enter__(self) -> "RunningDaemon":
        e = dict(os.environ, **self.env, NOTIFY_SOCKET=self.notify.path, WATCHDOG_USEC=str(self.watchdog_usec),
                 PYTHONPATH=str(ROOT))
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT), stdout=out,
                                         stderr=subprocess.STDOUT)
        assert self.notify.wait_for("READY=1", 60), (self.proc.poll(), self.output())
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()

    def output(self) -> str:
        """Everything the daemon wrote to stdout and stderr (journald gets exactly this)."""
        return self.log.read_text(errors="replace")

    def status(self) -> tuple[dict, float]:
        """``bmnn status --json`` and how long it took to answer."""
        t0 = time.monotonic()
        p = run_bmnn(["status", "--json"], self.env)
        took = time.monotonic() - t0
        assert p.returncode == 0, (p.stdout, p.stderr, self.output())
        return json.loads(p.stdout), took

    def reload(self):
        """``bmnn reload`` and how long it took."""
        t0 = time.monotonic()
        p = run_bmnn(["--lang", "en", "reload"], self.env, timeout=120)
        return p, time.monotonic() - t0

    def peak_rss_mib(self) -> float:
        """VmHWM of the daemon: the most memory it ever held."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM")

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM and the exit code (the test fails if it is not honoured in time)."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def events(self) -> list[dict]:
        """The journal, through ``bmnn events --json``."""
        p = run_bmnn(["events", "--json"], self.env)
        assert p.returncode == 0, p.stderr
        return [json.loads(x) for x in p.stdout.splitlines()]


def write_agent_yaml(env: dict, text: str = "") -> Path:
    """agent.yaml with a 1 s heartbeat, no desktop/wall alerts, plus ``text``."""
    p = Path(env["BMNN_CONFIG_DIR"], "agent.yaml")
    p.write_text("heartbeat_seconds: 1\nsinks:\n  alert: {enabled: false}\n" + text, encoding="utf-8")
    return p
