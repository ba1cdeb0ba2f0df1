"""Journal throughput and verify time, against plain SQLite in the same run.

    python -m bench journal [--n 100000] [--single 3000] [--runs 3] [--dir /var/tmp]

Measures, median of --runs:
  * durable single appends (one transaction + fsync each, what the daemon does per event) vs a
    plain INSERT + COMMIT in the same WAL/synchronous=FULL database shape;
  * batched appends (append_many, 100 records per transaction) of --n records vs plain batched
    INSERTs;
  * verify() of --n records with MACs and chain-only, vs a plain SELECT of every row.
Writes bench/out/journal.json. Runs on a real disk (--dir), never tmpfs, so fsync costs count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bmnn_guard.agent.journal import Journal

EVIDENCE = {"fact": "devices.usb", "vendor_id": "0781", "product_id": "5567", "serial": "4C530001230101117035",
            "product": "Cruzer Blade", "interfaces": ["08"]}


def _plain(path: Path) -> sqlite3.Connection:
    c = sqlite3.connect(str(path), isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("CREATE TABLE r (seq INTEGER PRIMARY KEY, time TEXT, host TEXT, kind TEXT, check_id TEXT, "
              "severity TEXT, evidence TEXT, message TEXT, prev_hash TEXT, hash TEXT, mac TEXT)")
    return c


def _row(i: int) -> tuple:
    return (i, "2026-11-23T10:00:00.000000Z", "ws-01", "violation", "BMNN-USB-001", "critical",
            json.dumps(EVIDENCE), "USB storage not approved", "0" * 64, "1" * 64, "2" * 64)


def run_once(d: Path, n: int, single: int) -> dict[str, float]:
    out: dict[str, float] = {}
    # durable single appends
    j = Journal.open(d / "single.db")
    t = time.perf_counter()
    for _ in range(single):
        j.append("violation", check_id="BMNN-USB-001", severity="critical", evidence=EVIDENCE,
                 message="USB storage not approved")
    out["single_append_per_s"] = single / (time.perf_counter() - t)
    j.close()
    c = _plain(d / "plain-single.db")
    t = time.perf_counter()
    for i in range(1, single + 1):
        c.execute("BEGIN")
        c.execute("INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?,?,?)", _row(i))
        c.execute("COMMIT")
    out["plain_single_insert_per_s"] = single / (time.perf_counter() - t)
    c.close()
    # batched appends
    j = Journal.open(d / "batch.db")
    batch = [dict(kind="violation", check_id="BMNN-USB-001", severity="critical", evidence=EVIDENCE,
                  message="USB storage not approved")] * 100
    t = time.perf_counter()
    for _ in range(n // 100):
        j.append_many(batch)
    out["batch_append_per_s"] = n / (time.perf_counter() - t)
    c = _plain(d / "plain-batch.db")
    t = time.perf_counter()
    for b in range(n // 100):
        c.execute("BEGIN")
        c.executemany("INSERT INTO r VALUES (?,?,?,?,?,?,?,?,?,?,?)", [_row(b * 100 + k + 1) for k in range(100)])
        c.execute("COMMIT")
    out["plain_batch_insert_per_s"] = n / (time.perf_counter() - t)
    # verify
    t = time.perf_counter()
    res = j.verify()
    out["verify_mac_s"] = time.perf_counter() - t
    assert res.ok and res.count == n and res.mac_checked, res
    t = time.perf_counter()
    res = j.verify(use_key_file=False)
    out["verify_chain_s"] = time.perf_counter() - t
    assert res.ok
    t = time.perf_counter()
    rows = 0
    for _ in c.execute("SELECT * FROM r ORDER BY seq"):
        rows += 1
    out["plain_select_all_s"] = time.perf_counter() - t
    assert rows == n
    c.close()
    j.close()
    out["journal_mib"] = (d / "batch.db").stat().st_size / 2**20
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench journal")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--single", type=int, default=3000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dir", default="/var/tmp")
    a = ap.parse_args(argv)
    runs = []
    for i in range(a.runs):
        d = Path(tempfile.mkdtemp(prefix="bmnn-bench-", dir=a.dir))
        try:
            runs.append(run_once(d, a.n, a.single))
        finally:
            shutil.rmtree(d, ignore_errors=True)
        print(f"run {i + 1}: " + ", ".join(f"{k}={v:,.3f}" for k, v in runs[-1].items()))
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    ratios = {
        "single_vs_plain": med["single_append_per_s"] / med["plain_single_insert_per_s"],
        "batch_vs_plain": med["batch_append_per_s"] / med["plain_batch_insert_per_s"],
        "verify_mac_vs_select": med["verify_mac_s"] / med["plain_select_all_s"],
    }
    print(f"\nmedian of {a.runs} runs, n={a.n:,}, single={a.single:,}, dir={a.dir}")
    print(f"  durable single append     {med['single_append_per_s']:>10,.0f} /s   plain INSERT+COMMIT "
          f"{med['plain_single_insert_per_s']:>10,.0f} /s   ratio {ratios['single_vs_plain']:.2f}")
    print(f"  batched append (100/txn)  {med['batch_append_per_s']:>10,.0f} /s   plain batched INSERT "
          f"{med['plain_batch_insert_per_s']:>9,.0f} /s   ratio {ratios['batch_vs_plain']:.2f}")
    print(f"  verify {a.n:,} with MAC     {med['verify_mac_s']:>10.3f} s    chain only {med['verify_chain_s']:.3f} s"
          f"   plain SELECT all {med['plain_select_all_s']:.3f} s")
    print(f"  journal size              {med['journal_mib']:>10.1f} MiB")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "journal.json").write_text(json.dumps({"median": med, "ratios": ratios, "runs": runs, "args": vars(a),
                                                  "python": platform.python_version(),
                                                  "sqlite": sqlite3.sqlite_version, "cpus": os.cpu_count()},
                                                 indent=2))
    return 0
