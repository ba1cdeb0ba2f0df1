"""`python -m bench record`: what printing the inspection record as PDF costs, and the choice of
renderer (headless Chromium, the one used, against WeasyPrint, measured when a Python with it is
given).

Rows, medians of N runs, each a new process as a user runs it:
- Chromium printing an empty page (the floor: browser start and PDF writer), the baseline;
- Chromium printing the record (scanner.report.pdf, the docfixture document, 5 A4 pages);
- WeasyPrint printing the same HTML, import included (``--weasyprint /path/to/python``);
- `bmnn scan --format html -o` and `--format pdf -o` end to end (the scan is in both).
Peak RSS is the largest single process (Chromium runs several).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time

from .common import median_ms, row, time_command

_CHILD_RENDER = r"""
import sys
sys.path.insert(0, sys.argv[1])
from bmnn_guard.scanner.report import pdf
html = open(sys.argv[2], encoding="utf-8").read()
open(sys.argv[3], "wb").write(pdf.render(html))
"""

_WEASY = r"""
import resource, sys, weasyprint
weasyprint.HTML(filename=sys.argv[1]).write_pdf(sys.argv[2])
"""


_PEAK = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
         "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def _peak_mib(argv, env=None) -> float:
    """Largest resident set of any process ``argv`` ran (a fresh parent, so earlier runs don't count)."""
    out = subprocess.run([sys.executable, "-c", _PEAK, *argv], capture_output=True, text=True, env=env).stdout
    return int(out.strip() or 0) / 1024


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench record")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--weasyprint", metavar="PYTHON", default=None, help="a Python that has weasyprint installed")
    args = ap.parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    from bmnn_guard.scanner.report import html as html_report
    from bmnn_guard.scanner.report import pdf
    from tests.scanner.docfixture import make_document
    if pdf.chromium() is None:
        print("Chromium not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="bmnn-bench-record-")
    page, blank = os.path.join(tmp, "record.html"), os.path.join(tmp, "blank.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(html_report.report(make_document(), "vi"))
    with open(blank, "w", encoding="utf-8") as fh:
        fh.write("<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>")
    py = sys.executable
    render = [py, "-c", _CHILD_RENDER, root]
    base = time_command([*render, blank, os.path.join(tmp, "blank.pdf")], args.runs)
    rec = time_command([*render, page, os.path.join(tmp, "record.pdf")], args.runs)
    rec_rss = _peak_mib([*render, page, os.path.join(tmp, "record.pdf")])
    rows = [row("Chromium, empty page (baseline)", base), row("Chromium, the record (5 A4 pages)", rec, base)]
    notes = [f"Chromium largest process {rec_rss:.0f} MiB"]
    if args.weasyprint:
        weasy = time_command([args.weasyprint, "-c", _WEASY, page, os.path.join(tmp, "weasy.pdf")], args.runs)
        rows.append(row("WeasyPrint, the record (import included)", weasy, base))
        t0 = time.perf_counter()
        subprocess.run([args.weasyprint, "-c", "import weasyprint"], check=True)
        notes.append(f"WeasyPrint import alone {1000 * (time.perf_counter() - t0):.0f} ms, "
                     f"process {_peak_mib([args.weasyprint, '-c', _WEASY, page, os.path.join(tmp, 'w.pdf')]):.0f} MiB")
    cfg = tempfile.mkdtemp(prefix="bmnn-bench-record-cfg-")
    env = dict(os.environ, BMNN_CONFIG_DIR=cfg, BMNN_STATE_DIR=os.path.join(cfg, "state"), PYTHONPATH=root)
    scan = [py, os.path.join(root, "cli.py"), "scan", "--no-content", "--no-input", "-o"]
    html_scan = time_command([*scan, os.path.join(tmp, "s.html"), "--format", "html"], args.runs, env)
    pdf_scan = time_command([*scan, os.path.join(tmp, "s.pdf"), "--format", "pdf"], args.runs, env)
    rows += [row("bmnn scan --format html -o", html_scan, base), row("bmnn scan --format pdf -o", pdf_scan, base)]
    print(f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpu (shared), Python {platform.python_version()}, "
          f"runs={args.runs}")
    print("| what | median ms | min ms | max ms | × empty page | target |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    for n in notes:
        print(f"- {n}")
    print(f"- the PDF adds {median_ms(pdf_scan) - median_ms(html_scan):.0f} ms to a scan")
    return 0
