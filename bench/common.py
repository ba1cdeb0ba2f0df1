"""Timing helpers shared by the benchmarks: medians of repeated runs against a same-run baseline."""

from __future__ import annotations

import statistics
import subprocess
import time
from typing import Sequence


def time_command(argv: Sequence[str], runs: int, env=None, warmup: int = 1) -> list[float]:
    """Wall-clock seconds of ``runs`` executions of ``argv`` (after ``warmup`` untimed runs)."""
    for _ in range(warmup):
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        out.append(time.perf_counter() - t0)
    return out


def median_ms(samples: Sequence[float]) -> float:
    """Median in milliseconds."""
    return statistics.median(samples) * 1000


def row(name: str, samples: Sequence[float], baseline: Sequence[float] | None = None, target_ms: float | None = None) -> str:
    """One markdown table row: median, min, max, ratio to the baseline, target."""
    med = median_ms(samples)
    ratio = f"{med / median_ms(baseline):.1f}×" if baseline else "1.0×"
    target = f"≤ {target_ms:.0f} ms" if target_ms else ""
    ok = "" if target_ms is None else (" ✔" if med <= target_ms else " ✘")
    return f"| {name} | {med:.0f} | {min(samples) * 1000:.0f} | {max(samples) * 1000:.0f} | {ratio} | {target}{ok} |"
