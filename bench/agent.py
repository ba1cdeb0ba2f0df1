"""`python -m bench agent`: the daemon's figures as the agent issue asks for them, in one run.

USB plug-in over 200 plug/unplug cycles (`bench usb`), then network changes, a burst of 10,000
file creations and 60 s of idle (`bench watch`). Each part prints its own table with its
same-run baseline. Arguments: --cycles, --runs, --files, --idle (defaults as above).
"""

from __future__ import annotations

import argparse

from . import usb, watch


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench agent")
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--files", type=int, default=10000)
    ap.add_argument("--idle", type=float, default=60.0)
    a = ap.parse_args(argv)
    rc = usb.main(["--cycles", str(a.cycles)])
    print()
    return rc or watch.main(["--runs", str(a.runs), "--files", str(a.files), "--idle", str(a.idle)])
