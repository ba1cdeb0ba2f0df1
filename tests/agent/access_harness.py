"""Run an AccessSource in its own process (so that the processes a test starts are not its children,
which it would drop as the daemon's own) and talk JSON lines over stdin/stdout.

    python access_harness.py '{"marked": [...], "media": [...], ...AccessSource options}'

stdout: {"type": "ready", "status": {...}} first, then {"type": "access", ...} for each FileAccess,
{"type": "gap", ...} for each AccessGap, and {"type": "reply", "id": N, "result": ...} per request.
stdin requests: {"id": N, "op": OP, ...} with OP one of status, lookup, attribution, copy,
recent, wait_drained, fsids, own_read (this process reads a file), child_read (a child of this process
reads it), set_media, set_marked, quit.
"""

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, _ROOT)
try:  # the venv's editable install maps the namespace to the checkout
    import bmnn_guard.agent  # noqa: E402,F401
except ImportError:  # another interpreter (Debian's, as nobody): the namespace through a link
    import tempfile
    _ns = tempfile.mkdtemp(prefix="bmnn-ns-")
    os.symlink(_ROOT, os.path.join(_ns, "bmnn_guard"))
    sys.path.insert(0, _ns)

from bmnn_guard.agent.sources.access import AccessGap, AccessSource  # noqa: E402

_out = threading.Lock()


def send(obj) -> None:
    line = json.dumps(obj, ensure_ascii=False, default=str)
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def emit(ev) -> None:
    if isinstance(ev, AccessGap):
        send({"type": "gap", **asdict(ev)})
    else:
        send({"type": "access", **asdict(ev)})


def main() -> int:
    opts = json.loads(sys.argv[1])
    marked, media = opts.pop("marked", []), opts.pop("media", [])
    src = AccessSource(marked, media, **opts)
    src.start(emit)
    send({"type": "ready", "pid": os.getpid(), "status": src.status()})
    for line in sys.stdin:
        req = json.loads(line)
        op, rid = req.pop("op"), req.pop("id", None)
        result = None
        if op == "quit":
            break
        if op == "status":
            result = src.status()
        elif op == "lookup":
            a = src.lookup(req.get("path"), req.get("dev"), req.get("inode"), kinds=req.get("kinds", ["write"]),
                           within=req.get("within", 30.0), pid=req.get("pid"))
            result = None if a is None else asdict(a)
        elif op == "recent":
            result = [asdict(a) for a in src.history.recent(req.get("path"), req.get("dev"), req.get("inode"))]
        elif op == "attribution":
            result = src.attribution(req["path"], req.get("dev"), req.get("inode"), kinds=req.get("kinds", ["write"]),
                                     within=req.get("within", 30.0))
        elif op == "copy":
            c = src.copy_source(req["dst"], req.get("dst_dev"), req.get("dst_inode"), req["src"], req.get("src_dev"),
                                req.get("src_inode"), within=req.get("within", 30.0))
            result = {"writer": c.writer and asdict(c.writer), "reader": c.reader and asdict(c.reader),
                      "same_process": c.same_process, "evidence": c.evidence()}
        elif op == "wait_drained":
            result = src.wait_drained(time.monotonic(), req.get("timeout", 10.0))
        elif op == "own_read":
            with open(req["path"], "rb") as fh:
                fh.read()
            result = True
        elif op == "child_read":
            child = subprocess.Popen(["cat", req["path"]], stdout=subprocess.DEVNULL)
            child.wait()
            result = child.pid
        elif op == "fsids":  # the filesystem uid/gid of every thread: all back to 0 after a switch
            result = []
            for tid in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{tid}/status") as fh:
                    st = dict(ln.split(":", 1) for ln in fh if ":" in ln)
                result.append((int(st["Uid"].split()[3]), int(st["Gid"].split()[3])))
        elif op == "set_media":
            src.set_media(req["paths"])
            result = src.status()
        elif op == "set_marked":
            src.set_marked(req["paths"])
            result = src.status()
        send({"type": "reply", "id": rid, "result": result})
    src.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())


class Client:
    """The test's side: start the harness (``prefix`` wraps the command, e.g. unshare or setpriv),
    collect what it emits, send requests."""

    def __init__(self, opts: dict, prefix=(), python: str = sys.executable, timeout: float = 30.0):
        self.proc = subprocess.Popen([*prefix, python, os.path.abspath(__file__), json.dumps(opts)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.events: list[dict] = []
        self.replies: dict[int, object] = {}
        self._cond = threading.Condition()
        self._next = 0
        self.ready = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        with self._cond:
            self._cond.wait_for(lambda: self.ready is not None or self.proc.poll() is not None, timeout)
        if self.ready is None:
            raise RuntimeError(f"harness did not start: {self.proc.stderr.read() if self.proc.poll() is not None else ''}")
        self.pid = self.ready["pid"]

    def _read(self) -> None:
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._cond:
                if msg["type"] == "ready":
                    self.ready = msg
                elif msg["type"] == "reply":
                    self.replies[msg["id"]] = msg["result"]
                else:
                    self.events.append(msg)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def request(self, op: str, timeout: float = 30.0, **kw):
        with self._cond:
            self._next += 1
            rid = self._next
        self.proc.stdin.write(json.dumps({"id": rid, "op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        with self._cond:
            if not self._cond.wait_for(lambda: rid in self.replies or self.proc.poll() is not None, timeout):
                raise TimeoutError(f"no reply to {op}")
            if rid not in self.replies:
                raise RuntimeError(f"harness exited: {self.proc.stderr.read()}")
            return self.replies.pop(rid)

    def wait_for(self, pred, timeout: float = 30.0) -> list[dict]:
        """Events matching ``pred`` once at least one arrived (or [] after ``timeout``)."""
        with self._cond:
            self._cond.wait_for(lambda: any(pred(e) for e in self.events), timeout)
            return [e for e in self.events if pred(e)]

    def close(self) -> str:
        try:
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read()
