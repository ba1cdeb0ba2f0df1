"""The fanotify reader in a process of its own, so that who-did-it works on the journal's filesystem.

A filesystem mark makes the kernel open every accessed file *for the listener*, the journal's
own files too, and the listener closes each descriptor after reading its path. POSIX record locks
belong to a process and a file: closing any descriptor of a file drops every lock the process
holds on it. With the listener inside the daemon that close dropped the locks SQLite holds on
journal.db and its WAL index, its other connections then trampled the index (SIGBUS, a corrupt
journal), and the in-process source had to leave the journal's filesystem unmarked — on a
typical machine the root filesystem, where the marked folders are.

Here the listener is a child process (``python -m bmnn_guard.agent.sources.access_process FD``):
the descriptors the kernel opens are the child's, and closing them touches no lock of the
daemon's. The child runs an ``AccessSource`` (the same reader: pidfds, identities, losses) with
the daemon's pid as "our own", and streams what it reads over a socketpair as JSON lines; the
daemon side (``AccessProcess``, an ``AccessSource`` whose reader is the child) keeps the history
the lookups read, so an attribution costs no round trip. Asked once per batch of file events,
``wait_drained`` is one: the child answers after its reader has read past the time asked, and
its answer comes behind every access it sent before, on the same stream.

The child ends when the daemon closes its end (or dies: end of file); the daemon sees the child
end as the reader dying (``alive()`` false, a ``gap``), never silently.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import fields
from typing import Any, Callable, Iterable, Optional, Sequence

from .access import KINDS, AccessGap, AccessHistory, AccessSource, Emitted, FileAccess, _real

FIELDS = tuple(f.name for f in fields(FileAccess))
START_TIMEOUT_S = 20.0
"""How long the daemon waits for the child to say whether fanotify is in use (a Python start)."""
STATUS_TIMEOUT_S = 1.0
MAX_LINE = 64 << 20
"""A line from the child is a batch of at most a read()'s events; anything longer is a bug."""


class AccessProcessError(RuntimeError):
    """The reader process could not be started or spoke out of turn."""


def _send(sock: socket.socket, lock: threading.Lock, msg: dict[str, Any]) -> None:
    data = (json.dumps(msg, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8", "surrogateescape")
    with lock:
        sock.sendall(data)


def _lines(sock: socket.socket) -> Iterable[dict[str, Any]]:
    """JSON objects, one a line, until end of file."""
    buf = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return
        buf += chunk
        while True:
            nl = buf.find(b"\n")
            if nl < 0:
                if len(buf) > MAX_LINE:
                    raise AccessProcessError("a line from the access reader is too long")
                break
            line, buf = buf[:nl], buf[nl + 1:]
            if line:
                yield json.loads(line.decode("utf-8", "surrogateescape"))


# ---------------------------------------------------------------- the child


class _NoHistory(AccessHistory):
    """The child keeps no history: the daemon's side does, from what the child sends."""

    def add_many(self, items) -> None:
        pass


class _ChildSource(AccessSource):
    """The reader as it runs in the child: every access read goes to the daemon in one line a batch."""

    def __init__(self, *args: Any, send: Callable[[dict[str, Any]], None], **kw: Any):
        super().__init__(*args, **kw)
        self._out = send
        self._told_overflow: Optional[float] = None

    def _handle(self, events, t, emit):  # noqa: D401 - AccessSource's hook
        batch: list[Any] = []
        try:
            super()._handle(events, t, batch.append)
        finally:
            msg: dict[str, Any] = {}
            accesses = [[getattr(a, f) for f in FIELDS] for a in batch if isinstance(a, FileAccess)]
            if accesses:
                msg["a"] = accesses
            if self.last_overflow != self._told_overflow:
                msg["o"] = self._told_overflow = self.last_overflow
            if msg:
                self._out(msg)


def child_main(fd: int) -> int:
    # systemd's stop signals the whole cgroup, a terminal's Ctrl-C the whole process group: the
    # reader must not end before the daemon (a spurious "reader died" gap at every stop). It ends
    # when the daemon closes its end, or dies.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    lock = threading.Lock()
    send = lambda msg: _send(sock, lock, msg)  # noqa: E731
    lines = _lines(sock)
    hello = next(lines)
    src = _ChildSource(hello.get("marked") or (), hello.get("media") or (), mask=int(hello["mask"]),
                       emit_kinds=KINDS, history=_NoHistory(), own_pid=int(hello["own_pid"]),
                       pidfd=bool(hello.get("pidfd", True)), send=send)

    def emit(item: Emitted) -> None:  # accesses go out through _handle, one line a batch: only gaps come here
        if isinstance(item, AccessGap):
            send({"g": [item.reason, item.lost, item.time]})

    src.start(emit)
    send({"ready": {"available": src.available, "reason": src.reason, "unmarked": src.unmarked,
                    "pid": os.getpid()}})
    dead = threading.Event()

    def watch_reader() -> None:  # the reader thread died: say so once, and end
        while not dead.is_set():
            if src.available and not src.alive():
                try:
                    send({"dead": src.error or "the reader stopped"})
                except OSError:
                    pass
                return
            dead.wait(0.5)

    threading.Thread(target=watch_reader, name="bmnn-access-watch", daemon=True).start()
    try:
        for msg in lines:
            op = msg.get("op")
            if op == "drain":
                ok = src.wait_drained(float(msg["t"]), float(msg.get("timeout", 1.0)))
                send({"d": msg["id"], "ok": ok})
            elif op in ("marked", "media"):
                (src.set_marked if op == "marked" else src.set_media)(msg.get("paths") or ())
                send({"u": src.unmarked})
            elif op == "status":
                send({"s": msg["id"], "status": src.status()})
    except (OSError, ValueError):
        pass
    finally:
        dead.set()
        src.stop()
    return 0


# ---------------------------------------------------------------- the daemon's side


class AccessProcess(AccessSource):
    """An ``AccessSource`` whose fanotify reader is a child process; lookups are local."""

    def __init__(self, marked: Iterable[str] = (), media: Iterable[str] = (), *,
                 emit_kinds: Sequence[str] = KINDS, python: str = sys.executable, **kw: Any):
        super().__init__(marked, media, emit_kinds=emit_kinds, **kw)
        self.python = python
        self.proc: Optional[subprocess.Popen] = None
        self._sock: Optional[socket.socket] = None
        self._send_lock = threading.Lock()
        self._cond = threading.Condition()
        self._ready: Optional[dict[str, Any]] = None
        self._asked = 0
        self._answers: dict[int, Any] = {}
        self._waiting: set[int] = set()  # questions still waited for (a late answer is not kept)
        self._last_status: dict[str, Any] = {}
        self._child_error: Optional[str] = None

    def _opened(self) -> bool:
        return self._ready is not None and bool(self._ready.get("available"))

    def start(self, emit: Callable[[Emitted], None]) -> None:
        """Start the child and wait until it says whether fanotify is in use. Never raises because
        the child cannot start: ``available``/``reason`` say why, as for fanotify itself."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(
                [self.python, "-m", "bmnn_guard.agent.sources.access_process", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        except OSError as exc:
            ours.close()
            self.available, self.reason = False, f"the access reader process could not start: {exc}"
            return
        finally:
            theirs.close()
        self._sock = ours
        _send(ours, self._send_lock, {"marked": list(self._marked), "media": list(self._media), "mask": self.mask,
                                      "own_pid": self._self_pid, "pidfd": self._want_pidfd})
        self._thread = threading.Thread(target=self._guarded_read, args=(emit,), name="bmnn-access-in", daemon=True)
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self._ready is not None or self._child_error is not None, START_TIMEOUT_S)
            ready = self._ready
        if ready is None:
            self.available, self.reason = False, f"the access reader process did not start: {self._child_error or 'no answer'}"
            self.stop()
            return
        self.available, self.reason = bool(ready.get("available")), ready.get("reason")
        self.unmarked = dict(ready.get("unmarked") or {})
        if not self.available:  # nothing to read: the child need not stay
            self.stop()

    def _guarded_read(self, emit: Callable[[Emitted], None]) -> None:
        try:
            self._read(emit)
            if not self._stopping:
                code = self.proc.wait(5) if self.proc is not None else None
                self._child_error = self._child_error or f"the access reader process ended (exit {code})"
        except Exception as exc:
            self._child_error = f"{type(exc).__name__}: {exc}"
        finally:
            with self._cond:
                self._cond.notify_all()
            with self._drained:
                self._drained.notify_all()
        if not self._stopping and self.available:
            self.error = self._child_error
            emit(AccessGap(f"fanotify reader died: {self.error}", 1, self.clock()))

    def _read(self, emit: Callable[[Emitted], None]) -> None:
        kinds = self.emit_kinds
        assert self._sock is not None
        for msg in _lines(self._sock):
            if "a" in msg:
                out = [FileAccess(*row) for row in msg["a"]]
                self.history.add_many(out)  # counted by the child (its status: "kept")
                for a in out:
                    if a.kind in kinds:
                        emit(a)
            if "o" in msg:
                self.last_overflow = msg["o"]
            if "g" in msg:
                reason, lost, t = msg["g"]
                emit(AccessGap(reason, lost, t))
            if "d" in msg or "s" in msg:
                with self._cond:
                    n = msg.get("d", msg.get("s"))
                    if n in self._waiting:  # an answer after its question timed out is dropped
                        self._answers[n] = msg
                        self._cond.notify_all()
            if "u" in msg:
                self.unmarked = dict(msg["u"] or {})
            if "ready" in msg:
                with self._cond:
                    self._ready = msg["ready"]
                    self._cond.notify_all()
            if "dead" in msg:
                self._child_error = f"fanotify reader died: {msg['dead']}"
                return

    def _ask(self, msg: dict[str, Any], timeout: float) -> Optional[dict[str, Any]]:
        if self._sock is None:
            return None
        with self._cond:
            self._asked += 1
            n = self._asked
            self._waiting.add(n)
        try:
            try:
                _send(self._sock, self._send_lock, {**msg, "id": n})
            except OSError:
                return None
            with self._cond:
                self._cond.wait_for(lambda: n in self._answers or not self.alive(), timeout)
                return self._answers.pop(n, None)
        finally:
            with self._cond:
                self._waiting.discard(n)

    def stop(self, timeout: float = 2.0) -> None:
        self._stopping = True
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        super().stop(0)

    def alive(self) -> bool:
        if not self.available:
            return self.error is None
        return (self.proc is not None and self.proc.poll() is None and self._thread is not None
                and self._thread.is_alive() and self._child_error is None)

    def set_marked(self, paths: Iterable[str]) -> None:
        self._marked = tuple(_real(paths))
        self._tell("marked", self._marked)

    def set_media(self, paths: Iterable[str]) -> None:
        self._media = tuple(_real(paths))
        self._tell("media", self._media)

    def _tell(self, op: str, paths: Sequence[str]) -> None:
        if self._sock is None or not self.available:
            return
        try:
            _send(self._sock, self._send_lock, {"op": op, "paths": list(paths)})
        except OSError:
            pass  # the reader is gone: alive() says so

    def wait_drained(self, t: float, timeout: float) -> bool:
        if not self.available:
            return True
        got = self._ask({"op": "drain", "t": t, "timeout": timeout}, timeout + 0.05)
        return bool(got and got.get("ok"))

    def status(self) -> dict[str, Any]:
        got = self._ask({"op": "status"}, STATUS_TIMEOUT_S) if self.available and self.alive() else None
        if got and isinstance(got.get("status"), dict):
            self._last_status = got["status"]
        st = dict(self._last_status)
        st.update({"available": self.available, "reason": self.reason, "alive": self.alive(),
                   "error": self.error, "unmarked": dict(self.unmarked), "history": len(self.history),
                   "evicted": self.history.evicted, "process": self.proc.pid if self.proc is not None else None})
        return st


if __name__ == "__main__":
    sys.exit(child_main(int(sys.argv[1])))
