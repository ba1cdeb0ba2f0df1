"""OCR of scanned stamps: a page with no stamp candidate (target ≥ 5 pages/s per core, i.e. ≤ 200 ms)
and a page with one (target ≤ 300 ms), against Tesseract over the whole page in the same run.

Pages are generated (tests/scanner/content/stamps.py): A4 at 200 and 300 dpi, PNG, JPEG and an
image-only PDF; "no candidate" pages still carry the round red seal and a blue signature, so the
red mask and its components are really computed. Each page is timed in one process with the
engine loaded (as a content worker holds it), one core, OMP_THREAD_LIMIT=1. Then the engines:
tesserocr (in process) against the tesseract program (one process per crop; pytesseract is a
wrapper around that same program), start-up and per crop; then the mask in Pillow against numpy
when numpy is installed; then the worker pool end to end.

    python -m bench ocr [--runs 7] [--whole-runs 3] [--write]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def _timed(fn, runs: int) -> tuple[float, float]:
    """(median wall ms, median CPU ms of this process and its children): CPU time is what "per
    core" means, and it moves less than wall time on a machine shared with other work."""
    wall, cpu = [], []
    for _ in range(runs):
        c0 = _cpu()
        t = time.perf_counter()
        _timed.last = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(_cpu() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def _cpu() -> float:
    import resource
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _pages():
    from tests.scanner.content import stamps as S
    out = []
    for dpi in (200, 300):
        stamped, plain = S.page("TỐI MẬT", dpi=dpi), S.page(None, dpi=dpi)
        png = S.encode(stamped, "PNG", dpi=dpi)  # what whole-page Tesseract reads, same pixels
        for fmt in ("PNG", "JPEG"):
            out.append((f"{dpi} dpi {fmt}", S.encode(plain, fmt, dpi=dpi), S.encode(stamped, fmt, dpi=dpi), fmt, png))
        out.append((f"{dpi} dpi image-only PDF", S.pdf_pages([plain], dpi), S.pdf_pages([stamped], dpi), "PDF", png))
    return out


def _read(data: bytes, fmt: str):
    from bmnn_guard.scanner.content import detect, ocr
    from bmnn_guard.scanner.content.limits import Limits
    r = ocr.Reader(Limits())
    if fmt == "PDF":
        import pypdfium2 as pdfium
        doc = pdfium.PdfDocument(data)
        segs: list = []
        page = doc[0]
        r.pdf_page(page, 0, segs)
        page.close()
        doc.close()
    else:
        segs = r.image_file(data)
    assert not r.problems(), r.problems()
    return detect.judge(segs)


def _whole_page(png: bytes, program: str) -> tuple[float, float, bool]:
    """Tesseract over the whole page, as the trial in issue 15 ran it: (wall s, CPU s, stamp found)."""
    from bmnn_guard.scanner.content import detect
    c0 = _cpu()
    t = time.perf_counter()
    p = subprocess.run([program, "stdin", "stdout", "-l", "vie", "--psm", "3"], input=png, capture_output=True,
                       env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    dt = time.perf_counter() - t
    v = detect.judge(detect.lines(p.stdout.decode("utf-8", "replace")))
    return dt, _cpu() - c0, v.verdict == "classified"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench ocr")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--whole-runs", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    a = ap.parse_args(argv)
    from PIL import Image
    from bmnn_guard.scanner.content import frames, images, ocr
    from bmnn_guard.scanner.content.limits import Limits
    program = shutil.which("tesseract")
    t = time.perf_counter()
    eng = ocr.engine()
    init_ms = (time.perf_counter() - t) * 1000
    if eng is None or program is None:
        print("OCR not installed: apt-get install tesseract-ocr tesseract-ocr-vie", file=sys.stderr)
        return 1
    load = os.getloadavg()[0]
    pages = _pages()
    rows = []
    for name, plain, stamped, fmt, png in pages:
        m_plain = _timed(lambda: _read(plain, fmt), a.runs)
        v_plain = _timed.last
        m_stamp = _timed(lambda: _read(stamped, fmt), a.runs)
        v_stamp = _timed.last
        whole = [_whole_page(png, program) for _ in range(a.whole_runs)]
        m_whole = (statistics.median(w[0] for w in whole) * 1000, statistics.median(w[1] for w in whole) * 1000)
        rows.append((name, m_plain, v_plain.verdict, m_stamp, f"{v_stamp.verdict} {v_stamp.level}", m_whole,
                     f"{sum(w[2] for w in whole)}/{len(whole)}"))
    # engines: start-up and one crop
    src = next(images.image_pages(pages[0][2], Limits()))
    low = src.low()
    (x0, y0, x1, y1), red = frames.candidates(low)[0]
    sx = src.size[0] / low.size[0]
    box = frames.examine(src.crop((int((x0 - 2) * sx), int((y0 - 2) * sx), int((x1 + 2) * sx), int((y1 + 2) * sx))), red)
    img = box.image()
    cli = ocr.Engine(eng.tessdata, program=program)
    m_crop_api = _timed(lambda: eng.read(img, ocr.PSM_LINE, 30), a.runs)
    txt_api = _timed.last
    m_crop_cli = _timed(lambda: cli.read(img, ocr.PSM_LINE, 30), a.runs)
    txt_cli = _timed.last
    m_version = _timed(lambda: subprocess.run([program, "--version"], capture_output=True), a.runs)
    # the mask: Pillow against numpy
    m_mask = _timed(lambda: frames.red_mask(low, reduced=True), a.runs * 3)[1]
    m_np = None
    try:
        import numpy as np

        def np_mask():
            arr = np.asarray(low).astype(np.int16)
            r, g, b = arr[..., 0], arr[..., 1], arr[..., 2]
            return Image.fromarray((((r > 110) & (r - g > 40) & (r - b > 35)) * 255).astype(np.uint8))
        m_np = _timed(np_mask, a.runs * 3)[1]
    except ImportError:
        pass
    m_cands = _timed(lambda: frames.candidates(low), a.runs)[1]
    pool = _pool(pages, a.runs)

    table = ["| page | no candidate (seal, signature): wall / CPU | pages/s per core (CPU) | page with a stamp: wall / CPU "
             "| Tesseract, whole page: wall / CPU | whole page ÷ ours, stamp page (CPU) | stamp found by whole-page OCR |",
             "|---|---|---|---|---|---|---|"]
    for name, (mpw, mpc), vp, (msw, msc), vs, (mww, mwc), found in rows:
        table.append(f"| {name} | {mpw:.0f} / {mpc:.0f} ms ({vp}) | {1000 / mpc:.1f} {'✔' if mpc <= 200 else '✘'} | "
                     f"{msw:.0f} / {msc:.0f} ms ({vs}) {'✔' if msc <= 300 else '✘'} | {mww:.0f} / {mwc:.0f} ms | "
                     f"{mwc / msc:.1f}× | {found} |")
    engines = [
        "| engine | start-up | one stamp crop (34 px letters, --psm 7): wall / CPU | read |", "|---|---|---|---|",
        f"| tesserocr {_version('tesserocr')} (in the worker, model loaded once) | {init_ms:.0f} ms once per worker | "
        f"{m_crop_api[0]:.1f} / {m_crop_api[1]:.1f} ms | {txt_api.strip()} |",
        f"| tesseract program (subprocess; pytesseract wraps the same) | {m_version[0]:.0f} / {m_version[1]:.0f} ms "
        f"(`--version`) | {m_crop_cli[0]:.0f} / {m_crop_cli[1]:.0f} ms per crop | {txt_cli.strip()} |",
    ]
    mask = (f"CPU time on a 200 dpi page reduced 4× ({low.size[0]}×{low.size[1]}): red mask in Pillow {m_mask:.2f} ms"
            + (f", in numpy {m_np:.2f} ms" if m_np is not None else " (numpy not installed)")
            + f"; all candidates (mask, components, frame tests, dark boxes top left) {m_cands:.1f} ms.")
    body = (f"Measured with `python -m bench ocr --runs {a.runs} --whole-runs {a.whole_runs}` on {platform.machine()}, "
            f"{os.cpu_count()} cores shared with other engineers (load average {load:.1f} at the start), Python "
            f"{platform.python_version()}, Tesseract {_tess_version(program)} with Debian's `vie` model, "
            f"OMP_THREAD_LIMIT=1. Medians; one core.\n\n" + "\n".join(table) + "\n\n" + "\n".join(engines)
            + f"\n\n{mask}\n\nWorker pool end to end (`run_scan`, 1 worker, {pool[1]} image files of the table, "
              f"engine start-up included): {pool[0]:.2f} s, {pool[1] / pool[0]:.1f} pages/s.\n")
    print(body)
    if a.write:
        path = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        old = path.read_text(encoding="utf-8")
        marker = "### Measured (bench ocr)"
        section = marker + "\n\n" + body
        if marker in old:
            new = re.sub(re.escape(marker) + r"\n.*?(?=\n## |\n### |\Z)", lambda _: section.rstrip("\n") + "\n", old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + section
        path.write_text(new, encoding="utf-8")
    return 0


def _pool(pages, runs: int) -> tuple[float, int]:
    from bmnn_guard.scanner.content.scan import run_scan
    with tempfile.TemporaryDirectory(prefix="bmnn-bench-ocr-") as tmp:
        n = 0
        for i, (name, plain, stamped, fmt, _) in enumerate(pages):
            ext = fmt.lower()
            for j, data in enumerate((plain, stamped)):
                Path(tmp, f"p{i}-{j}.{ext}").write_bytes(data)
                n += 1
        times = []
        for _ in range(max(1, runs // 2)):
            t = time.perf_counter()
            rep = run_scan([tmp], jobs=1)
            times.append(time.perf_counter() - t)
            assert not rep.facts.errors, rep.facts.errors
        return statistics.median(times), n


def _version(mod: str) -> str:
    try:
        from importlib.metadata import version
        return version(mod)
    except Exception:
        return "?"


def _tess_version(program: str) -> str:
    p = subprocess.run([program, "--version"], capture_output=True, text=True)
    m = re.search(r"tesseract\s+(\S+)", p.stdout + p.stderr)
    return m.group(1) if m else "?"
