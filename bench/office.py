"""Office documents per core: ``python -m bench office [--docs N] [--runs R] [--against DIR]...``.

One worker (``jobs=1``) scans the office corpus of ``bench content`` (docx, xlsx, pptx, odt,
~8 % stamped). "Per core" is read from CPU time (the scanning process and its worker together),
beside the wall time: on a machine shared by several engineers a single worker gets a fraction of
a core, and wall time then measures the load, not the code. ``--against DIR`` times another
checkout of the project (``git archive <commit> | tar -x -C DIR``) on the same corpus in the same
run, interleaved, so that two builds can be compared under the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_PROBE = (
    "import json, resource, sys, time\n"
    "from bmnn_guard.scanner.content.scan import run_scan\n"
    "r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "t = time.perf_counter(); rep = run_scan([sys.argv[1]], jobs=1); wall = time.perf_counter() - t\n"
    "r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "cpu = lambda a, b: b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime\n"
    "print(json.dumps([wall, cpu(r0, r1), cpu(c0, c1), len(rep.facts.findings), len(rep.facts.errors)]))\n"
)


def _run(tree: Path, corpus: Path) -> list[float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    p = subprocess.run([sys.executable, "-c", _PROBE, str(corpus)], cwd=str(tree), env=env,
                       capture_output=True, text=True, check=True)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    from bench.content import make_corpus_office

    ap = argparse.ArgumentParser(prog="python -m bench office")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--against", action="append", default=[], help="another checkout to time in the same run")
    a = ap.parse_args(argv)
    here = Path(__file__).resolve().parents[1]
    trees = [("this tree", here)] + [(str(d), Path(d).resolve()) for d in a.against]
    with tempfile.TemporaryDirectory(prefix="bmnn-bench-office-") as tmp:
        corpus = Path(tmp, "office")
        make_corpus_office(corpus, a.docs)
        samples: dict[str, list[list[float]]] = {name: [] for name, _ in trees}
        for name, tree in trees:  # warm-up: page cache, .pyc
            _run(tree, corpus)
        for _ in range(a.runs):
            for name, tree in trees:
                samples[name].append(_run(tree, corpus))
    print(f"{a.docs} office documents, 1 worker, median of {a.runs} (machine shared: load average "
          f"{os.getloadavg()[0]:.1f} at the end)\n")
    print("| build | wall | CPU, scanning process | CPU, worker | documents/s per core (CPU) | documents/s (wall) | findings |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in trees:
        s = samples[name]
        wall, me, kid = (statistics.median(x[k] for x in s) for k in range(3))
        print(f"| {name} | {wall:.2f} s | {me:.2f} s | {kid:.2f} s | {a.docs / (me + kid):,.0f} | "
              f"{a.docs / wall:,.0f} | {int(s[-1][3])} ({int(s[-1][4])} errors) |")
    return 0
