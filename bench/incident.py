"""The incident report over a window of the journal, against reading and verifying the same
records in the same run.

    python -m bench incident [--n 20000] [--runs 5] [--dir /var/tmp]

A journal of --n records (file events, a violation and its clearing every 1,000, heartbeats) is
written once. Measured, median of --runs: ``bmnn_guard.agent.incident.build`` over the whole journal (it reads
the window, the state before it, verifies the journal and resolves the citations), and the
baseline: ``Journal.verify()`` plus reading every record as ``bmnn events --json`` does. Also
the size of the signed JSON. Writes bench/out/incident.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bmnn_guard.agent.journal import Journal


def _journal(path: Path, n: int) -> None:
    events = []
    for i in range(n):
        if i % 1000 == 0:
            events.append(dict(kind="violation", check_id="BMNN-DOC-001", severity="critical", message="doc",
                               evidence={"items": [{"fact": "documents.findings", "path": f"/media/u/{i}.docx",
                                                    "level": "mat", "on_removable": True}]}))
        elif i % 1000 == 500:
            events.append(dict(kind="cleared", check_id="BMNN-DOC-001", severity="critical", evidence={}))
        elif i % 60 == 0:
            events.append(dict(kind="heartbeat", evidence={"uptime_s": i}))
        else:
            events.append(dict(kind="file", message="closed", evidence={
                "event": "closed", "path": f"/srv/mat/f{i}.docx", "size": 1000 + i, "owner": "an", "sha256": f"{i:064x}"}))
    with Journal.open(path) as j:
        for k in range(0, n, 1000):
            j.append_many(events[k:k + 1000])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench incident")
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--dir", default="/var/tmp")
    a = ap.parse_args(argv)
    from bmnn_guard.agent import incident
    from bmnn_guard.agent.snapshot.manifest import canonical
    from bmnn_guard.policies.loader import load_bundle
    from bmnn_guard.scanner.sessions import Logins
    bundle = load_bundle()
    d = Path(tempfile.mkdtemp(prefix="bmnn-bench-incident-", dir=a.dir))
    try:
        path = d / "journal.db"
        _journal(path, a.n)
        now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
        report, base, size = [], [], 0
        for _ in range(a.runs):
            t = time.perf_counter()
            with Journal.open(path, readonly=True) as j:
                j.verify()
                rows = [r.to_dict() for r in j.records()]
                _ = [json.dumps(r, ensure_ascii=False) for r in rows]
            base.append(time.perf_counter() - t)
            t = time.perf_counter()
            doc = incident.build(str(path), incident.Window(), now=now, bundle=bundle, logins=Logins(()))
            size = len(canonical(doc))
            report.append(time.perf_counter() - t)
        out = {"machine": platform.node(), "cpus": os.cpu_count(), "records": a.n, "runs": a.runs,
               "report_s_median": round(statistics.median(report), 3), "baseline_s_median": round(statistics.median(base), 3),
               "ratio": round(statistics.median(report) / statistics.median(base), 2), "json_bytes": size}
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(json.dumps(out, indent=2))
    os.makedirs("bench/out", exist_ok=True)
    Path("bench/out/incident.json").write_text(json.dumps(out, indent=2) + "\n")
    return 0
