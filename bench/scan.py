"""`python -m bench scan`: a full scan without document content, and `bmnn --help`.

Both as a user runs them (a new process each time), median of N runs, against `python -c pass`
measured in the same run on the same machine. Targets (design.md): scan ≤ 2 s, --help ≤ 250 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile

from .common import median_ms, row, time_command


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench scan")
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args(argv)
    py = sys.executable
    cfg = tempfile.mkdtemp(prefix="bmnn-bench-")
    env = dict(os.environ, BMNN_CONFIG_DIR=cfg)
    bmnn = [py, "-m", "bmnn_guard.cli"] if not os.path.exists(os.path.join(os.path.dirname(py), "bmnn")) else [os.path.join(os.path.dirname(py), "bmnn")]
    base = time_command([py, "-c", "pass"], args.runs, env)
    help_ = time_command([*bmnn, "--help"], args.runs, env)
    scan = time_command([*bmnn, "scan", "--no-content", "--format", "json", "--no-input", "-o", os.devnull], args.runs, env)
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}, runs={args.runs}")
    print("| what | median ms | min ms | max ms | × python -c pass | target |")
    print("|---|---|---|---|---|---|")
    print(row("python -c pass (baseline)", base))
    print(row("bmnn --help", help_, base, 250))
    print(row("bmnn scan --format json (no content)", scan, base, 2000))
    return 0 if median_ms(help_) <= 250 and median_ms(scan) <= 2000 else 1
