"""A sink catching up after an outage, against a plain read of the journal table in the same run.

    python -m bench delivery [--n 20000] [--runs 5] [--dir /var/tmp]

A journal of --n file events (the evidence a marked folder writes) is made once. Then, median of
--runs, each from a fresh cursor at seq 0 (what a sink sees when its receiver comes back after an
outage, or after a restart):

  * baseline: a plain ``SELECT * FROM records ORDER BY seq`` of every row (sqlite3, no parsing);
  * ``Journal.records()``: the same rows as Record objects (evidence JSON parsed);
  * the ECS file sink catching up through its ``SinkReader`` (own read-only connection, ECS
    formatting, one write per line, cursor saved with fsync);
  * the syslog sink over TCP (RFC 6587 framing) to a receiver in another process that reads and
    counts the frames.

Target (issue 11 item 7): catch-up ≥ 5,000 records/s. Runs on a real disk (--dir), not tmpfs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bmnn_guard.agent.delivery import Cursor, CursorStore
from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.sinks import SinkContext, SinkRunner
from bmnn_guard.agent.sinks import ecs, syslog

RECEIVER = r"""
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(4)
print(srv.getsockname()[1], flush=True)
while True:
    c, _ = srv.accept()
    while c.recv(1 << 20):
        pass
    c.close()
"""


def _make_journal(path: Path, n: int) -> None:
    with Journal.open(path) as j:
        for i in range(0, n, 1000):
            j.append_many([{"kind": "file", "evidence": {"folder": "/srv/bmnn/mat", "path": f"/srv/bmnn/mat/d{k}.odt",
                                                        "op": "created", "size": 18234 + k, "inode": 90000 + k,
                                                        "sha256": f"{k:064x}", "uid": 1000},
                             "message": f"created /srv/bmnn/mat/d{k}.odt"} for k in range(i, min(n, i + 1000))])


def _plain_read(path: Path) -> float:
    c = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    t = time.perf_counter()
    cur = c.execute("SELECT seq, time, host, kind, check_id, severity, evidence, message, prev_hash, hash, mac "
                    "FROM records ORDER BY seq")
    rows = 0
    while True:
        chunk = cur.fetchmany(2000)
        if not chunk:
            break
        rows += len(chunk)
    dt = time.perf_counter() - t
    c.close()
    return rows / dt


def _records_read(path: Path) -> float:
    with Journal.open(path, readonly=True) as j:
        t = time.perf_counter()
        rows = sum(1 for _ in j.records())
        return rows / (time.perf_counter() - t)


def _catch_up(path: Path, n: int, work: Path, make_sink) -> float:
    cursors = work / "cursors"
    shutil.rmtree(cursors, ignore_errors=True)
    sink = make_sink()
    CursorStore(cursors).save(sink.name, Cursor(0, ""))  # the receiver was down since seq 0
    runner = SinkRunner([sink], path, cursors)
    t = time.perf_counter()
    runner.start()
    runner.appended(n)
    if not runner.drain(600):
        raise SystemExit(f"{sink.name}: did not catch up within 600 s: {runner.health()}")
    dt = time.perf_counter() - t
    runner.stop()
    return n / dt


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench delivery")
    ap.add_argument("--n", type=int, default=20000, help="records in the journal")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/var/tmp", help="where the journal is made (a real disk, not tmpfs)")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bmnn-bench-delivery-", dir=a.dir))
    recv = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        port = int(recv.stdout.readline())
        path = work / "journal.db"
        _make_journal(path, a.n)
        ctx = SinkContext(host_name="ws-01", labels={"agency": "Sở X"})
        ecs_path = work / "events.ndjson"

        def ecs_sink():
            if ecs_path.exists():
                ecs_path.unlink()
            return ecs.Sink(ecs_path, ctx)

        def tcp_sink():
            return syslog.Sink(f"tcp://127.0.0.1:{port}", ctx)

        res: dict[str, list[float]] = {"plain": [], "records": [], "ecs": [], "syslog": []}
        for _ in range(a.runs):  # interleaved: the machine's load hits every variant alike
            res["plain"].append(_plain_read(path))
            res["records"].append(_records_read(path))
            res["ecs"].append(_catch_up(path, a.n, work, ecs_sink))
            res["syslog"].append(_catch_up(path, a.n, work, tcp_sink))
        lines = sum(1 for _ in open(ecs_path, encoding="utf-8"))
        assert lines == a.n, f"ECS file has {lines} lines, expected {a.n}"
    finally:
        recv.kill()
        recv.wait()
        shutil.rmtree(work, ignore_errors=True)
    med = {k: statistics.median(v) for k, v in res.items()}
    base = med["plain"]
    print(f"n={a.n} records, runs={a.runs} (median), dir={a.dir}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs (shared machine)")
    print("| what | records/s (median) | min | max | of the plain read | target |")
    print("|---|---|---|---|---|---|")
    names = {"plain": "plain SELECT of the journal table (baseline)", "records": "Journal.records() (Record objects)",
             "ecs": "ECS file sink catching up (cursor, fsync per save)",
             "syslog": "syslog TCP sink catching up (octet-counted, another process reads)"}
    for k in ("plain", "records", "ecs", "syslog"):
        target = "" if k in ("plain", "records") else ("≥ 5,000/s " + ("✔" if med[k] >= 5000 else "✘"))
        print(f"| {names[k]} | {med[k]:,.0f} | {min(res[k]):,.0f} | {max(res[k]):,.0f} | {med[k] / base:.3f} | {target} |")
    return 0
