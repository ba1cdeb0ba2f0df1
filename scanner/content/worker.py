"""Untrusted files are opened only in worker subprocesses with limits.

Each worker runs ``python -m bmnn_guard.scanner.content.worker`` under RLIMIT_AS (address space), RLIMIT_CPU
(re-armed before every file: used + limit), RLIMIT_CORE 0 and RLIMIT_FSIZE 0. Its stdin is a
``SOCK_SEQPACKET`` socket: one message per batch, a JSON list of (base name, hash wanted) with the
files' open descriptors attached (SCM_RIGHTS). The worker never opens a path: it reads the
descriptors the parent opened without following links and checked with ``fstat``, so nothing can
be swapped between the parent's check and the worker's read. It answers one JSON line per file on
stdout. (Measured against opening in the worker relative to a passed directory fd: see
docs/performance.md.) The parent kills a worker
whose current file passes the wall-time limit, names that file with the reason, and starts a new
worker for the rest of the batch. A crash (memory, CPU, a parser fault) is reported the same way.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Optional

from .limits import Limits

BATCH_FILES = 32
BATCH_BYTES = 16 * 1024 * 1024
MAX_MESSAGE = 1 << 17
RSS_POLL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _serve() -> None:
    import resource
    import socket

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
    from .analyse import analyse_fd
    sock = socket.socket(fileno=0)
    out = sys.stdout.buffer
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, MAX_MESSAGE, BATCH_FILES)
        if not msg:
            return
        items = json.loads(msg)
        if len(items) != len(fds):  # never happens with our parent; refuse rather than misattribute
            for fd in fds:
                os.close(fd)
            return
        for (name, need_hash), fd in zip(items, fds):
            used = resource.getrusage(resource.RUSAGE_SELF)
            cpu = int(used.ru_utime + used.ru_stime) + limits.cpu_seconds + 1
            hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
            if hard == resource.RLIM_INFINITY or cpu <= hard:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, hard))
            try:
                res = analyse_fd(fd, name, limits, need_hash)
            except MemoryError:
                res = {"error": f"memory limit exceeded ({limits.address_space // (1 << 20)} MiB address space)", "fatal": True}
            finally:
                os.close(fd)
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


@dataclass
class Job:
    """One file for a worker: its open descriptor (kept by the parent until the result arrives, so
    that a worker that dies can hand it to the next one) and what the worker needs besides."""

    key: Any
    """The caller's handle, given back to ``on_result``."""
    fd: int
    """Open, ``fstat``-checked regular file (``safeio.open_regular``): the worker reads only this."""
    name: str
    """The file's base name (its extension helps the format guess; never used to open anything)."""
    size: int
    need_hash: bool = True

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass


class _Worker:
    """A worker process; jobs go down a SOCK_SEQPACKET socket with their fds (SCM_RIGHTS)."""

    def __init__(self, limits: Limits):
        env = dict(os.environ)
        # the directory that holds the top package: one level per part of the module's name
        root = os.path.abspath(__file__)
        for _ in __name__.split("."):
            root = os.path.dirname(root)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.sock, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bmnn_guard.scanner.content.worker", json.dumps(asdict(limits))],
                stdin=child.fileno(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, close_fds=True)
        finally:
            child.close()
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.pending: deque[Job] = deque()
        self.buf = b""
        self.deadline = 0.0
        self.dying = False

    def send(self, jobs: list[Job], wall: float) -> None:
        self.pending.extend(jobs)
        self.deadline = time.monotonic() + wall
        msg = json.dumps([(j.name[-255:], j.need_hash) for j in jobs]).encode()
        try:
            socket.send_fds(self.sock, [msg], [j.fd for j in jobs])
        except OSError:
            pass  # the worker is gone: its stdout reaches EOF and the jobs are handed on

    def kill(self) -> Optional[int]:
        try:
            self.proc.kill()
        except ProcessLookupError:
            pass
        self.sock.close()
        return self.proc.wait()

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
        self.proc.stdout.close()


def run(jobs_in: Iterable[Optional[Job]], on_result: Callable[[Job, dict[str, Any]], None],
        jobs: Optional[int] = None, limits: Optional[Limits] = None) -> None:
    """Analyse ``Job`` items in up to ``jobs`` workers; ``on_result(job, result)`` for each, in the
    parent, in completion order, after which the job's fd is closed. Every job gets exactly one
    result.

    ``jobs_in`` is consumed lazily and may do work of its own between jobs (the scan opens files
    and decides most of them itself); it may yield None to say "no job yet", which sends a partial
    batch so that workers are not left idle while it works. No more than a batch per worker is
    open at a time, and no worker starts before there is a job for it."""
    limits = limits or Limits()
    jobs = max(1, jobs or os.cpu_count() or 1)
    source = iter(jobs_in)
    retry: deque[Job] = deque()
    exhausted = False
    sel = selectors.DefaultSelector()
    workers: list[_Worker] = []

    def take() -> Optional[Job]:
        """The next job; None when there is none now (or none left: see ``exhausted``)."""
        nonlocal exhausted
        if retry:
            return retry.popleft()
        if exhausted:
            return None
        try:
            return next(source)
        except StopIteration:
            exhausted = True
            return None

    def batch() -> list[Job]:
        out, size = [], 0
        while len(out) < BATCH_FILES and size < BATCH_BYTES:
            j = take()
            if j is None:
                break
            out.append(j)
            size += j.size
        return out

    def deliver(job: Job, res: dict) -> None:
        try:
            on_result(job, res)
        finally:
            job.close()

    def drop(w: _Worker, how: str = "close") -> Optional[int]:
        sel.unregister(w.proc.stdout)
        workers.remove(w)
        if how == "kill":
            code = w.kill()
            w.proc.stdout.close()
            return code
        w.close()
        return w.proc.returncode

    def fail(w: _Worker, killed_for: Optional[str]) -> None:
        if killed_for or w.proc.poll() is None:
            code = drop(w, "kill")
        else:
            code = w.proc.returncode
            drop(w, "kill")
        if w.pending and not w.dying:
            deliver(w.pending.popleft(), {"error": _death_reason(code, killed_for, limits)})
        for j in reversed(w.pending):
            retry.appendleft(j)
        w.pending.clear()

    def pull() -> None:
        """Let the source work while every worker is busy: keep up to a batch of jobs ready."""
        nonlocal exhausted
        try:
            j = next(source)
        except StopIteration:
            exhausted = True
            return
        if j is not None:
            retry.append(j)

    def dispatch() -> None:
        """Give a batch to every idle worker, starting workers up to ``jobs`` while there is work."""
        for w in [w for w in workers if not w.pending and not w.dying]:
            b = batch()
            if not b:
                return
            w.send(b, limits.wall_seconds)
        while len(workers) < jobs:
            b = batch()
            if not b:
                return
            w = _Worker(limits)
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            workers.append(w)
            w.send(b, limits.wall_seconds)

    next_rss = 0.0
    try:
        while True:
            dispatch()
            busy = [w for w in workers if w.pending]
            if not busy:
                if exhausted and not retry:
                    break
                continue  # the source is still working: ask it again
            now = time.monotonic()
            working = not exhausted and len(retry) < BATCH_FILES
            if working:
                pull()
            wait = 0.0 if working else min(RSS_POLL_S, max(0.0, min(w.deadline for w in busy) - now))
            for key, _ in sel.select(wait):
                w: _Worker = key.data
                if w not in workers:
                    continue
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
                    deliver(w.pending.popleft(), res)
                    w.deadline = time.monotonic() + limits.wall_seconds
                if not w.pending and (w.dying or w.proc.poll() is not None):
                    drop(w, "kill")
            now = time.monotonic()
            for w in [w for w in workers if w.pending and w.deadline <= now]:
                fail(w, "time")
            if now >= next_rss:
                next_rss = now + RSS_POLL_S
                for w in [w for w in workers if w.pending and _rss(w.proc.pid) > limits.max_rss]:
                    fail(w, "memory")
    finally:
        for w in list(workers):  # idle now (or abandoned): killed, not waited for one by one
            for j in w.pending:
                j.close()
            drop(w, "kill")
        for j in retry:
            j.close()
        sel.close()


if __name__ == "__main__":
    _serve()
