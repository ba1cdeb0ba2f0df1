"""Document content scan throughput: ``python -m bench content [--docs N] [--runs R] [--write]``.

Generates a mixed corpus (docx, xlsx, pptx, odt, pdf, html, rtf, txt; ~8 % stamped) and a
plain-text corpus, scans them through the real worker pool, and compares the plain-text scan
with ``rg`` searching the same marks in the same files in the same run. Prints medians; with
``--write`` replaces the "Document content scan" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scanner.content.scan import run_scan

PROSE = ("Căn cứ Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, cơ quan báo cáo kết quả thực hiện công tác "
         "bảo vệ bí mật nhà nước, việc quản lý mật khẩu, thiết bị lưu trữ và mạng máy tính trong năm.")
STAMPS = ["MẬT", "TỐI MẬT", "TUYỆT MẬT"]


def _doc_paras(rng: random.Random, stamped: bool) -> list:
    paras = ["BỘ CÔNG AN", "Số: %d/BC" % rng.randint(1, 999)]
    if stamped:
        paras.append({"runs": [{"text": rng.choice(STAMPS), "bold": True, "color": "FF0000"}], "border": True})
    paras += ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    paras += [PROSE] * rng.randint(5, 40)
    return paras


def make_corpus(root: Path, n: int, seed: int = 7) -> dict[str, int]:
    """n mixed documents under root; returns counts per kind."""
    from tests.scanner.content import corpus as C

    rng = random.Random(seed)
    mix = [("docx", 40), ("xlsx", 10), ("pptx", 5), ("odt", 10), ("pdf", 5), ("html", 10), ("rtf", 5), ("txt", 15)]
    kinds = [k for k, w in mix for _ in range(w)]
    counts: dict[str, int] = {}
    for i in range(n):
        kind = kinds[i % len(kinds)]
        stamped = rng.random() < 0.08
        d = root / f"d{i // 500:03d}"
        d.mkdir(parents=True, exist_ok=True)
        paras = _doc_paras(rng, stamped)
        texts = [p if isinstance(p, str) else p["runs"][0]["text"] for p in paras]
        if kind == "docx":
            data = C.docx(paras)
        elif kind == "xlsx":
            data = C.xlsx(texts)
        elif kind == "pptx":
            data = C.pptx([[(t, {}) for t in texts[:8]]])
        elif kind == "odt":
            data = C.odt(texts)
        elif kind == "pdf":
            data = C.pdf([[(t[:90], {}) for t in texts[:30]]])
        elif kind == "html":
            data = C.html("".join(f"<p>{t}</p>" for t in texts))
        elif kind == "rtf":
            data = C.rtf("".join(C.rtf_escape(t) + "\\par\n" for t in texts))
        else:
            data = "\n".join(texts).encode()
        (d / f"f{i:05d}.{kind}").write_bytes(data)
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def make_text_corpus(root: Path, n: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    for i in range(n):
        d = root / f"t{i // 500:03d}"
        d.mkdir(parents=True, exist_ok=True)
        lines = ["Số: %d/BC" % i] + ([rng.choice(STAMPS)] if rng.random() < 0.08 else []) + [PROSE] * rng.randint(20, 200)
        (d / f"t{i:05d}.txt").write_text("\n".join(lines), encoding="utf-8")


def _du(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _time_scan(root: Path, jobs: int, runs: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        rep = run_scan([str(root)], jobs=jobs)
        times.append(time.perf_counter() - t)
        found = sum(f.verdict == "classified" for f in rep.facts.findings)
        assert not rep.facts.errors, rep.facts.errors[:3]
    return statistics.median(times), found


def _time_rg(root: Path, jobs: int, runs: int) -> float:
    rg = shutil.which("rg")
    if not rg:
        return float("nan")
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([rg, "-j", str(jobs), "-c", "--no-messages", "-e", "MẬT", "-e", "TỐI MẬT", "-e", "TUYỆT MẬT", str(root)],
                       stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def _peak_rss(root: Path, cores: int) -> tuple[float, float]:
    """(scanning parent, largest worker) peak RSS in MiB, from a fresh process scanning ``root``.
    The parent's figure is VmHWM: ru_maxrss survives fork+exec and would report this benchmark's
    own peak (the corpus generation), not the scan's."""
    code = ("import json, resource, sys; from scanner.content.scan import run_scan; "
            "run_scan([sys.argv[1]], jobs=int(sys.argv[2])); "
            "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]; "
            "print(json.dumps([int(hwm), "
            "resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    p = subprocess.run([sys.executable, "-c", code, str(root), str(cores)], capture_output=True, text=True,
                       cwd=str(Path(__file__).resolve().parents[1]), check=True)
    me, kids = json.loads(p.stdout.strip().splitlines()[-1])
    return me / 1024, kids / 1024


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench content")
    ap.add_argument("--docs", type=int, default=5000)
    ap.add_argument("--text-files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    a = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bmnn-bench-") as tmp:
        mixed, office, text = Path(tmp, "mixed"), Path(tmp, "office"), Path(tmp, "text")
        t = time.perf_counter()
        counts = make_corpus(mixed, a.docs)
        office_n = 1000
        make_corpus_office(office, office_n)
        make_text_corpus(text, a.text_files)
        gen = time.perf_counter() - t
        mixed_mb, office_mb, text_mb = _du(mixed) / 1e6, _du(office) / 1e6, _du(text) / 1e6
        m_all, found = _time_scan(mixed, cores, a.runs)
        m_off1, _ = _time_scan(office, 1, a.runs)
        m_txt, _ = _time_scan(text, cores, a.runs)
        m_rg = _time_rg(text, cores, a.runs)
        rss_self, rss_child = _peak_rss(mixed, cores)
    rows = [
        ("mixed corpus", f"{a.docs} files, {mixed_mb:.1f} MB ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))}), {found} stamped found",
         f"{m_all:.2f} s", f"{a.docs / m_all:,.0f} files/s on {cores} cores = {a.docs / m_all / cores:,.0f} /s per core, {mixed_mb / m_all:.1f} MB/s"),
        ("office documents, 1 worker", f"{office_n} docx/xlsx/pptx/odt, {office_mb:.1f} MB", f"{m_off1:.2f} s",
         f"{office_n / m_off1:,.0f} documents/s per core (target ≥ 300)"),
        ("plain text", f"{a.text_files} UTF-8 files, {text_mb:.1f} MB", f"{m_txt:.2f} s", f"{text_mb / m_txt:.1f} MB/s"),
        ("rg, same text files", f"rg -j {cores} -c -e MẬT -e 'TỐI MẬT' -e 'TUYỆT MẬT'", f"{m_rg:.3f} s",
         f"ours / rg = {m_txt / m_rg:.1f}× (target ≤ 3×)"),
    ]
    table = "| run | corpus | median of %d | rate |\n|---|---|---|---|\n" % a.runs + \
            "\n".join(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows)
    body = (f"Measured with `python -m bench content` on {platform.machine()}, {cores} cores, Python "
            f"{platform.python_version()}; corpus generated in {gen:.1f} s (not timed). Peak RSS of one scan of the "
            f"mixed corpus in a fresh process: largest worker {rss_child:.0f} MiB, scanning parent {rss_self:.0f} MiB "
            f"(target ≤ 300 MB; the parent also kills any worker whose resident memory passes 300 MiB).\n\n{table}\n")
    print(body)
    if a.write:
        path = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        old = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
        section = "## Document content scan\n\n" + body
        if "## Document content scan" in old:
            new = re.sub(r"## Document content scan\n.*?(?=\n## |\Z)", lambda _: section.rstrip("\n") + "\n", old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + section
        path.write_text(new, encoding="utf-8")
    return 0


def make_corpus_office(root: Path, n: int) -> None:
    """Office documents only (docx, xlsx, pptx, odt), for the per-core target."""
    from tests.scanner.content import corpus as C

    rng = random.Random(3)
    for i in range(n):
        d = root / f"o{i // 500:03d}"
        d.mkdir(parents=True, exist_ok=True)
        stamped = rng.random() < 0.08
        paras = _doc_paras(rng, stamped)
        texts = [p if isinstance(p, str) else p["runs"][0]["text"] for p in paras]
        kind = ("docx", "docx", "xlsx", "pptx", "odt")[i % 5]
        data = {"docx": lambda: C.docx(paras), "xlsx": lambda: C.xlsx(texts),
                "pptx": lambda: C.pptx([[(t, {}) for t in texts[:8]]]), "odt": lambda: C.odt(texts)}[kind]()
        (d / f"o{i:05d}.{kind}").write_bytes(data)
