"""`python -m bench usb`: USB plug-in -> BMNN-USB-001 violation journaled, against the uevent floor.

Runs tools/umockdev-hotplug.py (root, a private network namespace, Debian's python3 with
PyGObject and gir1.2-umockdev-1.0): the umockdev testbed adds the SanDisk stick N times and
removes it again while `bmnn agent run` watches. The floor is a bare pyudev monitor in another
process receiving the first uevent of the same plug-in, in the same run. Target (design.md):
plug -> violation journaled, p99 <= 100 ms; issue 11: p99 <= 20 ms.

"Journaled" is when a thread of the hotplug tool, watching the journal from before the plug-in,
sees the record. ``add_from_file`` returns only after the testbed added every device of the
fixture (12-16 ms for the stick's four), so the figure of earlier stops, which looked only after
it returned, could not be lower than that; it is printed beside.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return float("nan")
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench usb")
    ap.add_argument("--cycles", type=int, default=30, help="plug/unplug cycles")
    ap.add_argument("--fixture", default=str(ROOT / "tests/scanner/fixtures/umockdev/usb-storage-stick.umockdev"))
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (network namespace)", file=sys.stderr)
        return 1
    base = tempfile.mkdtemp(prefix="bmnn-bench-usb-")
    p = subprocess.run(["unshare", "-n", "umockdev-wrapper", "/usr/bin/python3", str(ROOT / "tools/umockdev-hotplug.py"),
                        "--python", sys.executable, "--base", base, "--fixture", args.fixture,
                        "--cycles", str(args.cycles)], capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        print(p.stderr[-3000:], file=sys.stderr)
        print(f"the daemon's state and stderr are kept in {base}", file=sys.stderr)
        return 1
    shutil.rmtree(base, ignore_errors=True)  # a run that worked leaves nothing behind
    r = json.loads(p.stdout.strip().splitlines()[-1])
    missed = sum(1 for x in r["plug_ms"] if x is None)
    f50, f99 = pct(r["floor_ms"], 50), pct(r["floor_ms"], 99)
    o50, o99 = pct(r["plug_ms"], 50), pct(r["plug_ms"], 99)
    w50, w99 = pct(r["plug_watched_ms"], 50), pct(r["plug_watched_ms"], 99)
    wmissed = sum(1 for x in r["plug_watched_ms"] if x is None)
    d50, d99 = pct(r["in_daemon_ms"], 50), pct(r["in_daemon_ms"], 99)
    u50, u99 = pct(r["unplug_ms"], 50), pct(r["unplug_ms"], 99)
    print(f"cycles={args.cycles} fixture={Path(args.fixture).name}")
    print("| what | p50 ms | p99 ms | over the floor (p50) | target |")
    print("|---|---|---|---|---|")
    print(f"| first uevent at a bare pyudev monitor (floor) | {f50:.1f} | {f99:.1f} | | |")
    print(f"| plug -> BMNN-USB-001 violation journaled, watched while the testbed adds the device | {w50:.1f} | "
          f"{w99:.1f} | +{w50 - f50:.1f} ms | p99 ≤ 100 ms {'✔' if w99 <= 100 and not wmissed else '✘'}; judged "
          f"from the uevent, p99 ≤ 20 ms (issue 11) {'✔' if w99 <= 20 and not wmissed else '✘'} |")
    print(f"| plug -> journaled, looked for only once the testbed has added every device (earlier figures) | "
          f"{o50:.1f} | {o99:.1f} | +{o50 - f50:.1f} ms | |")
    print(f"| of which in the daemon (uevent read -> journaled) | {d50:.1f} | {d99:.1f} | | |")
    print(f"| unplug -> cleared journaled | {u50:.1f} | {u99:.1f} | | |")
    pairs = [(d, m) for d, m in zip(r["in_daemon_ms"], r["uevent_to_journal_ms"]) if d is not None and m is not None]
    over = sum(1 for d, m in pairs if d > m + 5)
    print(f"evidence.latency_ms above the measured uevent -> journal time by more than 5 ms: {over} of {len(pairs)}")
    unplugs_missed = sum(1 for x in r["unplug_ms"] if x is None)
    if unplugs_missed:
        print(f"{unplugs_missed} unplug(s) not cleared within 10 s")
    if missed:
        print(f"{missed} plug-in(s) not journaled within 10 s")
    return 0
