"""Untrusted files are opened only in worker subprocesses with limits.

Each worker runs ``python -m scanner.content.worker`` under RLIMIT_AS (address space), RLIMIT_CPU
(re-armed before every file: used + limit), RLIMIT_CORE 0 and RLIMIT_FSIZE 0, and reads one JSON
line per batch of paths from stdin, answering one JSON line per file. The parent kills a worker
whose current file passes the wall-time limit, names that file with the reason, and starts a new
worker for the rest of the batch. A crash (memory, CPU, a parser fault) is reported the same way.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict
from typing import Any, Callable, Iterable, Optional

from .limits import Limits

BATCH_FILES = 32
BATCH_BYTES = 16 * 1024 * 1024
RSS_POLL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _serve() -> None:
    import resource

    limits = Limits(**json.loads(sys.argv[1])) if len(sys.argv) > 1 else Limits()
    try:
        if limits.nice:
            os.nice(limits.nice)
    except OSError:
        pass
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.address_space, limits.address_space))
    except (ValueError, OSError):
        pass
    from .analyse import analyse
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        items = json.loads(line)
        for path, need_hash in items:
            used = resource.getrusage(resource.RUSAGE_SELF)
            cpu = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds + 1
            hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
            if hard == resource.RLIM_INFINITY or cpu <= hard:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
            try:
                res = analyse(path, limits, need_hash)
            except MemoryError:
                res = {"error": f"memory limit exceeded ({limits.address_space // (1 << 20)} MiB address space)", "fatal": True}
            out.write(json.dumps(res).encode() + b"\n")
            out.flush()
            if res.get("fatal"):
                return


def _rss(pid: int) -> int:
    """Resident bytes of ``pid`` (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _death_reason(code: Optional[int], killed_for: Optional[str], limits: Limits) -> str:
    if killed_for == "memory":
        return f"memory limit exceeded ({limits.max_rss // (1 << 20)} MiB resident): worker killed"
    if killed_for:
        return f"wall time limit exceeded ({limits.wall_seconds:g} s): worker killed"
    if code is not None and code < 0:
        sig = -code
        if sig == signal.SIGXCPU:
            return f"CPU time limit exceeded ({limits.cpu_seconds} s)"
        if sig == signal.SIGKILL:
            return "worker killed (out of memory?)"
        return f"worker crashed ({signal.Signals(sig).name})"
    return f"worker exited unexpectedly (code {code})"


class _Worker:
    def __init__(self, limits: Limits):
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "scanner.content.worker", json.dumps(asdict(limits))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.pending: deque[str] = deque()
        self.buf = b""
        self.deadline = 0.0
        self.dying = False

    def send(self, items: list[tuple[str, bool]], wall: float) -> None:
        self.pending.extend(items)
        self.deadline = time.monotonic() + wall
        self.proc.stdin.write(json.dumps(items).encode() + b"\n")
        self.proc.stdin.flush()

    def kill(self) -> Optional[int]:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        return self.proc.wait()

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


def run(paths: Iterable[tuple[str, int]], on_result: Callable[[str, dict[str, Any]], None],
        jobs: Optional[int] = None, limits: Optional[Limits] = None,
        need_hash: Callable[[str, int], bool] = lambda p, s: True) -> None:
    """Analyse (path, size) items in ``jobs`` workers; ``on_result(path, result)`` for each, in the
    parent, in completion order. Every path gets exactly one result. ``need_hash(path, size)``
    says whether the hash is wanted even for a clean file (copy detection)."""
    limits = limits or Limits()
    jobs = max(1, jobs or os.cpu_count() or 1)
    queue = deque(paths)
    if not queue:
        return
    jobs = min(jobs, len(queue))
    sel = selectors.DefaultSelector()
    workers: list[_Worker] = []

    def start() -> _Worker:
        w = _Worker(limits)
        sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        workers.append(w)
        return w

    def feed(w: _Worker) -> None:
        batch, size = [], 0
        while queue and len(batch) < BATCH_FILES and size < BATCH_BYTES:
            p, s = queue.popleft()
            batch.append((p, need_hash(p, s)))
            size += s
        if batch:
            w.send(batch, limits.wall_seconds)

    def fail(w: _Worker, killed_for: Optional[str]) -> None:
        code = w.kill() if killed_for or w.proc.poll() is None else w.proc.returncode
        sel.unregister(w.proc.stdout)
        workers.remove(w)
        if w.pending and not w.dying:
            culprit = w.pending.popleft()[0]
            on_result(culprit, {"error": _death_reason(code, killed_for, limits)})
        for p, _ in reversed(w.pending):
            queue.appendleft((p, 0))
        if queue:
            feed(start())

    next_rss = 0.0
    try:
        for _ in range(jobs):
            feed(start())
        while any(w.pending for w in workers):
            now = time.monotonic()
            busy = [w for w in workers if w.pending]
            timeout = min(RSS_POLL_S, max(0.0, min(w.deadline for w in busy) - now))
            events = sel.select(timeout)
            for key, _ in events:
                w: _Worker = key.data
                try:
                    chunk = os.read(w.proc.stdout.fileno(), 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    fail(w, None)
                    continue
                w.buf += chunk
                *done, w.buf = w.buf.split(b"\n")
                for line in done:
                    res = json.loads(line)
                    if res.pop("fatal", None):
                        w.dying = True
                    on_result(w.pending.popleft()[0], res)
                    w.deadline = time.monotonic() + limits.wall_seconds
                if not w.pending:
                    if w.dying or w.proc.poll() is not None:
                        sel.unregister(w.proc.stdout)
                        workers.remove(w)
                        w.kill()
                        if queue:
                            feed(start())
                    else:
                        feed(w)
            now = time.monotonic()
            for w in [w for w in workers if w.pending and w.deadline <= now]:
                fail(w, "time")
            if now >= next_rss:
                next_rss = now + RSS_POLL_S
                for w in [w for w in workers if w.pending and _rss(w.proc.pid) > limits.max_rss]:
                    fail(w, "memory")
    finally:
        for w in workers:
            w.close()
        sel.close()


if __name__ == "__main__":
    _serve()
