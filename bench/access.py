"""`python -m bench access`: what naming the acting process (fanotify) costs, against inotify in the same run.

    python -m bench access [--files 5000] [--live 20000] [--runs 5] [--build-files 3000]
                           [--dir /dev/shm] [--build-dir /var/tmp]

Needs root (fanotify). Each listener runs in its own process (bench/_access_consumer.py) and the
writers are started by the bench, so they are not the listener's children. Four measures, medians
of --runs, the modes interleaved in every run:

1. capacity: --files files are written in a marked folder (--dir: tmpfs by default, so that other
   users of a shared machine do not add their own events and disk waits) while the listener is stopped
   (SIGSTOP; the kernel queues the events), then it is resumed and timed until it has seen them
   all. Listeners: bare inotify (IN_CLOSE_WRITE: the floor), bare fanotify (filesystem mark, read,
   parse, close the fds), the access source (path filter, /proc identity, history), and inotify
   with the access source in the same process (the daemon's case: its inotify rate with fanotify on).
2. live: a writer creates --live files as fast as it can with no listener, with inotify, with the
   access source: the writer's files/s (the cost to the user's process) and how far behind the
   listener finished.
3. unrelated activity: a build-like job elsewhere on the same filesystem (--build-dir, a disk
   filesystem holding both the marked folder and the job; untar --build-files
   small files, read them all, delete them) with no listener and with the access source marking
   the marked folder (its filesystem mark sees the job's every open and close): the job's wall
   time, the source's CPU seconds and events dropped.
4. identity: of the access source's write events in (2), the share whose process was read alive.

Writes bench/out/access.json. The machine is shared: the figures are medians and ratios.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSUMER = ROOT / "bench" / "_access_consumer.py"

WRITER = r"""
import os, sys, time
d, n = sys.argv[1], int(sys.argv[2])
sys.stdin.readline()
t0 = time.monotonic()
for i in range(n):
    fd = os.open(f"{d}/f{i}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"x" * 100)
    os.close(fd)
print(t0, time.monotonic(), flush=True)
"""


class Consumer:
    def __init__(self, mode: str, d: str):
        self.p = subprocess.Popen([sys.executable, str(CONSUMER), mode, d], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, cwd=str(ROOT))
        line = self.p.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"{mode} listener did not start: {line!r}")

    def arm(self, pid: int, n: int) -> None:
        self.p.stdin.write(f"{pid} {n}\n")
        self.p.stdin.flush()
        assert self.p.stdout.readline().strip() == "armed"

    def result(self) -> dict:
        return json.loads(self.p.stdout.readline())

    def stop_counters(self) -> dict:
        self.p.stdin.write("stop\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self) -> None:
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def _clean(d: str) -> None:
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))


def _writer(d: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, d, str(n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def _go(w: subprocess.Popen) -> tuple[float, float]:
    w.stdin.write("go\n")
    w.stdin.flush()
    out = w.stdout.readline().split()
    w.wait()
    return float(out[0]), float(out[1])


def capacity(mode: str, d: str, n: int) -> dict:
    """Events per second a listener takes from a full queue."""
    _clean(d)
    c = Consumer(mode, d)
    try:
        w = _writer(d, n)
        c.arm(w.pid, n)
        os.kill(c.p.pid, signal.SIGSTOP)
        try:
            _go(w)
            time.sleep(0.2)  # the kernel has queued everything
        finally:
            resumed = time.monotonic()
            os.kill(c.p.pid, signal.SIGCONT)
        r = c.result()
    finally:
        c.close()
    span = (r["last"] - resumed) if r.get("last") is not None else float("nan")
    r["rate"] = r["n"] / span if span == span and span > 0 else float("nan")
    return r


def live(mode: str, d: str, n: int) -> dict:
    """A writer at full speed with (or without) a listener: its files/s and the listener's lag."""
    _clean(d)
    c = Consumer(mode, d) if mode != "none" else None
    try:
        w = _writer(d, n)
        if c is not None:
            c.arm(w.pid, n)
        t0, t1 = _go(w)
        r = c.result() if c is not None else {"n": n, "last": t1}
    finally:
        if c is not None:
            c.close()
    r["writer_rate"] = n / (t1 - t0)
    r["lag_s"] = (r["last"] - t1) if r.get("last") is not None else float("nan")
    return r


def _tarball(path: Path, files: int) -> None:
    with tarfile.open(path, "w") as tf:
        blob = b"int main(void) { return 0; }\n" * 140  # ~4 KiB
        for i in range(files):
            info = tarfile.TarInfo(f"src/d{i // 100:03d}/f{i:05d}.c")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))


def build(mode: str, marked: str, work: str, tarball: Path) -> dict:
    """The build-like job elsewhere on the filesystem, with no listener or the access source."""
    c = Consumer("access-idle", marked) if mode == "access" else None
    try:
        r0 = c.stop_counters() if c is not None else {}  # the counters before the job
        job = (f"tar -xf {tarball} -C {work} && find {work}/src -type f -exec cat {{}} + > /dev/null "
               f"&& rm -rf {work}/src")
        t0 = time.monotonic()
        subprocess.run(["sh", "-c", job], check=True)
        wall = time.monotonic() - t0
        r1 = c.stop_counters() if c is not None else {}
        r = {"cpu": r1["cpu"], **{k: r1[k] - r0[k] for k in ("events", "dropped", "kept")}} if c is not None else {}
    finally:
        if c is not None:
            c.close()
    r["wall_s"] = wall
    return r


def med(xs) -> float:
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else float("nan")


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench access")
    ap.add_argument("--files", type=int, default=5000, help="files queued for the capacity measure")
    ap.add_argument("--live", type=int, default=20000, help="files written in the live measure")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build-files", type=int, default=3000, help="files of the unrelated build-like job")
    ap.add_argument("--dir", default="/dev/shm", help="the marked folder of the capacity and live measures")
    ap.add_argument("--build-dir", default="/var/tmp", help="one filesystem holding a marked folder and the unrelated job")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (fanotify)", file=sys.stderr)
        return 1
    base = tempfile.mkdtemp(prefix="bmnn-bench-access-", dir=args.dir)
    bbase = tempfile.mkdtemp(prefix="bmnn-bench-access-", dir=args.build_dir)
    marked, bmarked, work = os.path.join(base, "marked"), os.path.join(bbase, "marked"), os.path.join(bbase, "build")
    for d in (marked, bmarked, work):
        os.mkdir(d)
    tarball = Path(bbase) / "job.tar"
    _tarball(tarball, args.build_files)
    cap_modes = ("inotify", "fanotify", "access", "both")
    live_modes = ("none", "inotify", "access")
    res: dict = {"capacity": {m: [] for m in cap_modes}, "live": {m: [] for m in live_modes},
                 "build": {m: [] for m in ("none", "access")}}
    try:
        for run in range(args.runs):
            order = cap_modes if run % 2 == 0 else tuple(reversed(cap_modes))
            for m in order:
                res["capacity"][m].append(capacity(m, marked, args.files))
            for m in (live_modes if run % 2 == 0 else tuple(reversed(live_modes))):
                res["live"][m].append(live(m, marked, args.live))
            for m in (("none", "access") if run % 2 == 0 else ("access", "none")):
                res["build"][m].append(build(m, bmarked, work, tarball))
            print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(bbase, ignore_errors=True)

    cap = {m: med(r["rate"] for r in rs) for m, rs in res["capacity"].items()}
    cpu = {m: med(r["cpu"] / r["n"] * 1e6 for r in rs if r["n"]) for m, rs in res["capacity"].items()}
    print(f"files={args.files} (capacity), {args.live} (live), build job {args.build_files} files, runs={args.runs}, "
          f"{os.cpu_count()} CPUs, kernel {platform.release()}, shared machine")
    print("\n| listener | events/s from a full queue (median, wall) | CPU µs per event (median) | vs inotify (CPU) | seen |")
    print("|---|---|---|---|---|")
    names = {"inotify": "bare inotify, IN_CLOSE_WRITE (floor)", "fanotify": "bare fanotify: read, parse, close fds",
             "access": "access source (path filter, /proc identity, history)",
             "both": "inotify with the access source in the same process"}
    for m in cap_modes:
        seen = med(r["n"] for r in res["capacity"][m])
        print(f"| {names[m]} | {cap[m]:,.0f} | {cpu[m]:.1f} | {cpu[m] / cpu['inotify']:.0f}× | {seen:.0f}/{args.files} |")
    acc = res["capacity"]["access"]
    per_file = med(r["counts"]["events"] / args.files for r in acc if r.get("counts"))
    print(f"\naccess source: {per_file:.2f} kernel events per file written "
          f"(open, modify, close-write merged while queued)")
    lv = {m: med(r["writer_rate"] for r in rs) for m, rs in res["live"].items()}
    print("\n| live writer | files/s (median) | vs no listener | listener done after the writer |")
    print("|---|---|---|---|")
    for m in live_modes:
        lag = med(r["lag_s"] for r in res["live"][m]) if m != "none" else 0.0
        print(f"| {m} | {lv[m]:,.0f} | {lv[m] / lv['none']:.2f}× | {lag * 1000:.0f} ms |")
    alive = [r["counts"]["kept"] - r["counts"]["exited"] for r in res["live"]["access"] if r.get("counts")]
    kept = [r["counts"]["kept"] for r in res["live"]["access"] if r.get("counts")]
    if kept:
        share = med(a / k for a, k in zip(alive, kept) if k)
        print(f"\nidentity read from the live process: {share * 100:.0f} % of the access source's events in the live run")
    bw = {m: med(r["wall_s"] for r in rs) for m, rs in res["build"].items()}
    bcpu = med(r.get("cpu", float("nan")) for r in res["build"]["access"])
    drop = med(r.get("dropped", float("nan")) for r in res["build"]["access"])
    print("\n| unrelated build-like job on the same filesystem | wall s (median) | vs no listener |")
    print("|---|---|---|")
    print(f"| no listener | {bw['none']:.2f} | 1.00× |")
    print(f"| access source marking the marked folder | {bw['access']:.2f} | {bw['access'] / bw['none']:.2f}× |")
    per = med(r["cpu"] / r["dropped"] * 1e6 for r in res["build"]["access"] if r.get("dropped"))
    print(f"\naccess source during the job: {bcpu:.2f} CPU s, {drop:,.0f} events dropped outside the marked folder "
          f"({per:.1f} CPU µs each, median)")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "access.json").write_text(json.dumps({"args": vars(args), "results": res}, indent=1, default=str))
    return 0
