"""`python -m bench snapshot`: export and verify a snapshot whose journal holds 100,000 records.

Target (issue 6): export ≤ 1 s with 100,000 journal records. Baseline measured in the same run:
reading the same 100,000 rows with plain sqlite3 and writing them as JSON lines (the floor any
export has to pay).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import statistics
import tempfile
import time


def main(argv) -> int:
    from bmnn_guard.agent import keys
    from bmnn_guard.agent.journal import Journal
    from bmnn_guard.agent.snapshot.export import export
    from bmnn_guard.agent.snapshot.registry import Change, Registry, entry_for
    from bmnn_guard.agent.snapshot.verify import verify

    ap = argparse.ArgumentParser(prog="python -m bench snapshot")
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    base = tempfile.mkdtemp(prefix="bmnn-bench-snap-")
    cfg, state = os.path.join(base, "etc"), os.path.join(base, "state")
    os.makedirs(cfg), os.makedirs(state)
    keys.generate(cfg)
    pem = open(os.path.join(cfg, keys.PUBLIC), "rb").read()
    entry = entry_for(pem, role="host", now=dt.datetime.now().astimezone(), label="bench")
    registry = Registry()
    registry.apply([Change("add", entry.fingerprint, entry)])
    jpath = os.path.join(state, "journal.db")
    t0 = time.perf_counter()
    with Journal.open(jpath) as j:
        batch = [{"kind": "heartbeat", "evidence": {"uptime": i}} for i in range(1000)]
        for _ in range(args.records // 1000):
            j.append_many(batch)
    fill = time.perf_counter() - t0

    def baseline():
        conn = sqlite3.connect(f"file:{jpath}?mode=ro", uri=True)
        out = [json.dumps(dict(zip(("seq", "time", "kind", "evidence", "hash"), row)))
               for row in conn.execute("SELECT seq, time, kind, evidence, hash FROM records ORDER BY seq")]
        conn.close()
        return "\n".join(out)

    base_t, exp_t, ver_t = [], [], []
    for i in range(args.runs):
        t0 = time.perf_counter(); baseline(); base_t.append(time.perf_counter() - t0)
        snap = os.path.join(base, f"s{i}.bmnnsnap")
        t0 = time.perf_counter()
        export(out_path=snap, key_dir=cfg, journal_path=jpath, state_dir=state, config_dir=cfg,
               scan_doc=None, scan_html=None, since=1)
        exp_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        rep = verify(snap, registry=registry)
        ver_t.append(time.perf_counter() - t0)
        assert rep.ok, rep.problems
    med = lambda xs: statistics.median(xs) * 1000
    print(f"records={args.records} runs={args.runs} (journal filled in {fill:.1f} s)")
    print("| what | median ms | × baseline | target |")
    print("|---|---|---|---|")
    print(f"| sqlite read + JSON lines (baseline) | {med(base_t):.0f} | 1.0× | |")
    print(f"| snapshot export (journal verify + excerpt + sign) | {med(exp_t):.0f} | {med(exp_t) / med(base_t):.1f}× | ≤ 1000 ms {'✔' if med(exp_t) <= 1000 else '✘'} |")
    print(f"| snapshot verify (signature + members + chain) | {med(ver_t):.0f} | {med(ver_t) / med(base_t):.1f}× | |")
    return 0
