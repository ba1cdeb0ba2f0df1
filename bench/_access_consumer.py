"""The listening side of ``python -m bench access``, a process of its own: the writers the bench
starts must not be its children (the access source drops the daemon's own children's accesses).

    python bench/_access_consumer.py MODE DIR

MODE: inotify (bare inotify, IN_CLOSE_WRITE on DIR: the floor), fanotify (bare fanotify: a
filesystem mark, read, parse, close the fds), access (agent.sources.access.AccessSource on DIR),
both (inotify and AccessSource in one process, as in the daemon: counts inotify events).

Prints "ready" once listening. Then reads "PID N" from stdin: count N close-after-write events of
process PID (inotify modes: N events in DIR) and print one JSON line {"n", "first", "last", "cpu",
...}; "stop" prints the counters seen so far (for unrelated activity: nothing to count).
"""

import ctypes
import json
import os
import select
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bmnn_guard.agent import fanotify as fa  # noqa: E402

IN_CLOSE_WRITE = 0x08
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
INOTIFY_EVENT = struct.Struct("=iIII")


def cpu_seconds() -> float:
    """CPU time of this process and of its live children."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            kids = open(f"/proc/self/task/{tid}/children").read().split()
        except OSError:
            continue
        for k in kids:
            try:
                f = open(f"/proc/{k}/stat").read().rsplit(")", 1)[1].split()
                total += (int(f[11]) + int(f[12])) / tick
            except (OSError, IndexError, ValueError):
                pass
    return total


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.pid, self.want, self.n = None, 0, 0
        self.first = self.last = None
        self.done = threading.Event()
        self.cpu0 = cpu_seconds()

    def arm(self, pid: int, want: int) -> None:
        with self.lock:
            self.pid, self.want, self.n, self.first, self.last = pid, want, 0, None, None
            self.cpu0 = cpu_seconds()
            self.done.clear()
            if want == 0:
                self.done.set()

    def hit(self, k: int = 1) -> None:
        t = time.monotonic()
        with self.lock:
            if self.want == 0:
                return
            if self.first is None:
                self.first = t
            self.n += k
            self.last = t
            if self.n >= self.want:
                self.done.set()


def inotify_loop(d: str, c: Counter, stop: threading.Event) -> None:
    lib = ctypes.CDLL(None, use_errno=True)
    fd = lib.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
    if fd < 0 or lib.inotify_add_watch(fd, os.fsencode(d), IN_CLOSE_WRITE) < 0:
        raise OSError(ctypes.get_errno(), "inotify")
    while not stop.is_set():
        select.select([fd], [], [], 0.2)
        try:
            buf = os.read(fd, 1 << 16)
        except BlockingIOError:
            continue
        off, k = 0, 0
        while off + INOTIFY_EVENT.size <= len(buf):
            _wd, mask, _cookie, ln = INOTIFY_EVENT.unpack_from(buf, off)
            off += INOTIFY_EVENT.size + ln
            if mask & IN_CLOSE_WRITE:
                k += 1
        if k:
            c.hit(k)


def fanotify_loop(d: str, c: Counter, stop: threading.Event) -> None:
    g = fa.Group()
    g.mark(d, fa.FAN_MODIFY | fa.FAN_CLOSE_WRITE | fa.FAN_CLOSE_NOWRITE | fa.FAN_OPEN)
    print("ready", flush=True)
    while not stop.is_set():
        select.select([g.fd], [], [], 0.2)
        try:
            evs = g.read(4096)
        except BlockingIOError:
            continue
        k = sum(1 for e in evs if e.pid == c.pid and e.mask & fa.FAN_CLOSE_WRITE)
        fa.close_all(evs)
        if k:
            c.hit(k)


def main() -> int:
    mode, d = sys.argv[1], sys.argv[2]
    c = Counter()
    stop = threading.Event()
    src = None
    threads = []
    if mode in ("inotify", "both"):
        threads.append(threading.Thread(target=inotify_loop, args=(d, c, stop), daemon=True))
    if mode in ("access", "both", "access-idle"):
        from bmnn_guard.agent.sources.access import FileAccess, AccessSource
        counting = mode == "access"

        def emit(ev):
            if counting and isinstance(ev, FileAccess) and ev.pid == c.pid and ev.mask & fa.FAN_CLOSE_WRITE:
                c.hit()
        src = AccessSource([d])
        src.start(emit)
        if not src.available:
            print(json.dumps({"error": src.reason}), flush=True)
            return 1
    if mode == "fanotify":
        threads.append(threading.Thread(target=fanotify_loop, args=(d, c, stop), daemon=True))
    for t in threads:
        t.start()
    if mode != "fanotify":
        time.sleep(0.2)
        print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "stop":
            out = {"cpu": cpu_seconds() - c.cpu0}
            if src is not None:
                out.update(src.status())
            print(json.dumps(out), flush=True)
            c.arm(0, 0)
            continue
        pid, want = int(words[0]), int(words[1])
        before = dict(src.counts) if src is not None else {}
        c.arm(pid, want)
        print("armed", flush=True)
        c.done.wait(120)
        out = {"n": c.n, "first": c.first, "last": c.last, "cpu": cpu_seconds() - c.cpu0}
        if src is not None:
            out["counts"] = {k: v - before.get(k, 0) for k, v in src.counts.items()}
        print(json.dumps(out), flush=True)
    stop.set()
    if src is not None:
        src.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
