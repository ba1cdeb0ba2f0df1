"""`python -m bench files`: file events in a marked folder per second, against the bare inotify rate.

In the same run, in alternating blocks, a writer process creates N small files (create, write,
close: three events each) in a folder, and we time how long it takes until every event is seen:

* baseline: a bare inotify reader (one ``inotify_init1`` descriptor, ``read`` in a loop, events
  counted and thrown away) — the floor no user-space monitor can beat;
* ours: the real daemon (``python -m bmnn_guard.agent``) with the folder marked and content scanning on,
  until every event is a ``file`` record in the journal (durable, chained, hashed content).

Rates are events per second from the writer's start to the last event seen; "lost" counts
events that never arrived. Target (issue 11): ≥ 10,000 file events/s sustained, nothing lost.
No root needed. The machine may be shared: compare the ratio, not the absolute figures.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import os
import select
import shutil
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
IN_MODIFY, IN_CLOSE_WRITE, IN_CREATE = 0x2, 0x8, 0x100
WRITER = ("import sys\nd, n = sys.argv[1], int(sys.argv[2])\n"
          "for i in range(n):\n    with open(f'{d}/f{i}.txt', 'wb') as fh:\n        fh.write(b'%099d\\n' % i)\n")
"""Each file's 100 bytes differ (its number), as the files of a real folder do: identical files
share one entry of the copy index and would hide a cost that grows with the folder."""


def _writer(folder: str, n: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, folder, str(n)])


def bare_inotify(folder: str, n: int, timeout: float = 120.0) -> tuple[float, int]:
    """(seconds until 3n events were read, events read) for a bare inotify reader."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0 or libc.inotify_add_watch(fd, os.fsencode(folder), IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE) < 0:
        raise OSError(ctypes.get_errno(), "inotify")
    want, seen = 3 * n, 0
    try:
        t0 = time.monotonic()
        w = _writer(folder, n)
        last = t0
        while seen < want and time.monotonic() - t0 < timeout:
            r, _, _ = select.select([fd], [], [], 1.0)
            if not r:
                continue
            try:
                buf = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            i = 0
            while i < len(buf):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", buf, i)
                i += 16 + length
                seen += 1
            last = time.monotonic()
        w.wait()
        return last - t0, seen
    finally:
        os.close(fd)


class Daemon:
    """The real daemon watching ``base/mat`` with content scanning on."""

    def __init__(self, base: str, *, content: bool = True, sinks: bool = True, who: bool = True,
                 mat: Optional[str] = None):
        self.base = base
        self.mat = mat or f"{base}/mat"
        for d in ("etc/local.d", "state", "run", "log"):
            os.makedirs(f"{base}/{d}", exist_ok=True)
        os.makedirs(self.mat, exist_ok=True)
        Path(f"{base}/etc/local.d/10-bench.yaml").write_text(f"marked_folders: [{{path: {self.mat}}}]\n")
        cfg = f"content: {{enabled: {'true' if content else 'false'}}}\nwho_did_it: {'true' if who else 'false'}\n"
        if not sinks:
            cfg += "sinks: {journald: {enabled: false}, ecs: {enabled: false}, alert: {enabled: false}}\n"
        Path(f"{base}/etc/agent.yaml").write_text(cfg)
        env = dict(os.environ, BMNN_CONFIG_DIR=f"{base}/etc", BMNN_STATE_DIR=f"{base}/state",
                   BMNN_RUNTIME_DIR=f"{base}/run", BMNN_LOG_DIR=f"{base}/log", PYTHONPATH=str(ROOT))
        env.pop("NOTIFY_SOCKET", None)
        self.p = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                  stderr=open(f"{base}/daemon.err", "w"))
        self.db = f"{base}/state/journal.db"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.count("kind='agent_start'"):
            time.sleep(0.05)
        time.sleep(2.0)  # the start-up read and resynchronisation are done

    def _row(self, sql: str, *args) -> Optional[tuple]:
        """One row of a read-only query (None while the journal cannot be read yet)."""
        try:
            conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
            try:
                return conn.execute(sql, args).fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            return None

    def count(self, where: str) -> int:
        return (self._row(f"SELECT count(*) FROM records WHERE {where}") or (0,))[0]

    def head(self) -> int:
        return (self._row("SELECT coalesce(max(seq), 0) FROM records") or (0,))[0]

    def burst(self, folder: str, n: int, timeout: float = 180.0) -> tuple[float, int]:
        """(seconds until 3n file records were journaled, records journaled).

        Counted incrementally, over the records after the last one looked at (a seq range on the
        primary key): a count over the whole journal with ``json_extract`` took 77 ms at 30,000
        records, every 20 ms, and so ate most of a core the daemon needs on a 2-core machine."""
        like = f"kind='file' AND json_extract(evidence, '$.path') LIKE '{folder}/%'"
        seen = self.head()
        want = 3 * n
        t0 = time.monotonic()
        w = _writer(folder, n)
        got, grew = 0, t0
        while time.monotonic() - t0 < timeout:
            # the head and the new file records of the folder, from one snapshot of the rows after ``seen``
            row = self._row(f"SELECT coalesce(max(seq), ?), coalesce(sum({like}), 0) FROM records WHERE seq > ?",
                            seen, seen)
            if row is not None:
                seen, new = row
                if new:
                    got, grew = got + new, time.monotonic()
            if got >= want or time.monotonic() - grew > 10.0:
                break
            time.sleep(0.02)
        w.wait()
        return grew - t0, got

    def stop(self) -> None:
        self.p.terminate()
        self.p.wait(30)


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench files")
    ap.add_argument("--files", type=int, default=10000, help="files per burst (3 events each)")
    ap.add_argument("--blocks", type=int, default=3, help="alternating baseline/ours blocks")
    ap.add_argument("--no-content", action="store_true", help="content scanning off (to see its share)")
    ap.add_argument("--no-sinks", action="store_true", help="journald, ECS and alert sinks off (to see their share)")
    ap.add_argument("--no-who", action="store_true", help="who-did-it (fanotify) off (to see its share)")
    ap.add_argument("--folders", metavar="DIR",
                    help="where the marked folder and the floor's folder are made (default: beside the state "
                         "directory, under $TMPDIR); e.g. /dev/shm, where creating a file costs the writer "
                         "~25 µs and not the ~1 ms of this VM's ext4, so that the writer does not set the pace")
    args = ap.parse_args(argv)
    base = tempfile.mkdtemp(prefix="bmnn-bench-files-")
    folders = tempfile.mkdtemp(prefix="bmnn-bench-files-", dir=args.folders) if args.folders else base
    bare_rates, our_rates, lost = [], [], 0
    d = Daemon(base, content=not args.no_content, sinks=not args.no_sinks, who=not args.no_who, mat=f"{folders}/mat")
    try:
        for b in range(args.blocks):
            plain = f"{folders}/plain{b}"
            os.makedirs(plain)
            s, seen = bare_inotify(plain, args.files)
            bare_rates.append(seen / s if s else 0)
            folder = f"{d.mat}/burst{b}"
            os.makedirs(folder)
            time.sleep(1.0)  # the new folder is watched
            s, got = d.burst(folder, args.files)
            our_rates.append(got / s if s else 0)
            lost += 3 * args.files - got
        gaps = d.count("kind='gap'")
    finally:
        d.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(folders, ignore_errors=True)
    bm, om = statistics.median(bare_rates), statistics.median(our_rates)
    print(f"files={args.files} per burst ({3 * args.files} events), blocks={args.blocks}, content scanning "
          f"{'off' if args.no_content else 'on'}, sinks {'off' if args.no_sinks else 'on'}, who-did-it "
          f"{'off' if args.no_who else 'on'}, folders under {args.folders or os.path.dirname(base)}")
    print("| what | median events/s | runs | ratio to the floor | target |")
    print("|---|---|---|---|---|")
    print(f"| bare inotify reader (floor) | {bm:,.0f} | {', '.join(f'{x:,.0f}' for x in bare_rates)} | 1.00 | |")
    print(f"| daemon: file events journaled | {om:,.0f} | {', '.join(f'{x:,.0f}' for x in our_rates)} | "
          f"{om / bm if bm else 0:.2f} | ≥ 10,000/s {'✔' if om >= 10000 and not lost else '✘'} |")
    print(f"events lost: {lost}; gap records: {gaps}")
    return 0
