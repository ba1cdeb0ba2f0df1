"""Plain-text content scan against ``rg`` doing the same search: ``python -m bench plaintext
[--files N] [--runs R] [--write]``.

The corpus holds Vietnamese reports in every encoding of shared/markings.md (UTF-8 NFC, NFD and
Unikey composite, UTF-16 with a BOM, CRLF, TCVN3, VNI, VIQR, Windows-1258, VISCII, VN1), ~8 %
stamped (upper or lower case, framed or letter-spaced), and the "not a mark" lines of
markings.md. ``rg`` gets one regex that matches a whole line holding a mark in any of those byte
forms, with frame characters and spaces around and between the letters (it transcodes UTF-16
with a BOM itself), so both programs look for the same thing; ours also decides the level and the
score, and reads every file once through the same open-by-descriptor path as any scan.

Medians of ``--runs`` runs, in the same run: our scan with the C pre-filter, the same scan with
the pure-Python pre-filter, and ``rg -j <cores>``. ``--write`` replaces the "Plain text against
rg" section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
import unicodedata
from pathlib import Path

from bmnn_guard.scanner.content import decode, plain
from bmnn_guard.scanner.content.scan import run_scan
from tests.scanner.content.corpus import to_cp1258
from tests.scanner.content.forms import LEGACY_FORMS, LEVELS, NOT_MARKS, unicode_forms

PROSE = ("Căn cứ Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, cơ quan báo cáo kết quả thực hiện công tác "
         "bảo vệ bí mật nhà nước, việc quản lý mật khẩu, thiết bị lưu trữ và mạng máy tính trong năm.")
HEAD = ["ỦY BAN NHÂN DÂN TỈNH", "SỞ NỘI VỤ", "Số: {n}/BC-SNV", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO", "Kết quả công tác bảo vệ bí mật nhà nước"]
MIX = [("utf-8", 800), ("nfd", 40), ("composite", 20), ("utf-16", 40), ("crlf", 20), ("tcvn3", 30),
       ("vni", 20), ("cp1258", 10), ("viqr", 10), ("viscii", 5), ("vn1", 5)]
FRAMES = ("{}", "{}", "[ {} ]", "“{}”", "═══ {} ═══", "{}")


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
                   if c.isascii())


def _table_encoder(mapping: dict[int, int]):
    inverse = {chr(u): bytes([b]) for b, u in mapping.items() if b >= 0x80}

    def enc(text: str) -> bytes:
        return b"".join(inverse.get(c) or _ascii(c).encode() for c in unicodedata.normalize("NFC", text))
    return enc


_ENCODERS = {"tcvn3": _table_encoder(decode._TCVN3_MAP), "viscii": _table_encoder(decode._VISCII_MAP),
             "vn1": _table_encoder(decode._VN1_MAP), "cp1258": to_cp1258,
             "vni": lambda t: _ascii(t).encode(), "viqr": lambda t: _ascii(t).encode()}


def _stamp_text(rng: random.Random, level: str, enc: str) -> str:
    forms = unicode_forms(level)
    if enc == "nfd":
        form = forms["nfd"]
    elif enc == "composite":
        form = forms["composite"]
    else:
        form = rng.choice([level, level, level, forms["lower"], " ".join(level)])
    return rng.choice(FRAMES).format(form)


def make_file(rng: random.Random, n: int, enc: str) -> tuple[bytes, bool]:
    """One report in ``enc``; (bytes, stamped)."""
    stamped = rng.random() < 0.08
    head = [h.format(n=n) for h in HEAD]
    body = [PROSE] * rng.randint(20, 200)
    if rng.random() < 0.3:
        body.insert(rng.randrange(len(body)), rng.choice(NOT_MARKS))
    if enc in LEGACY_FORMS:
        upper, lower = LEGACY_FORMS[enc]
        lines = [_ENCODERS[enc](t) for t in head]
        if stamped:
            lines.insert(3, rng.choice(upper + lower))
        lines += [_ENCODERS[enc](t) for t in body]
        return b"\n".join(lines) + b"\n", stamped
    level = rng.choice(LEVELS)
    lines = head[:3] + ([_stamp_text(rng, level, enc)] if stamped else []) + head[3:] + body
    text = "\n".join(lines) + "\n"
    if enc == "nfd":
        text = unicodedata.normalize("NFD", text)
    if enc == "utf-16":
        return b"\xff\xfe" + text.encode("utf-16-le"), stamped
    if enc == "crlf":
        return text.replace("\n", "\r\n").encode(), stamped
    return text.encode(), stamped


def make_corpus(root: Path, n: int, seed: int = 15) -> dict[str, int]:
    rng = random.Random(seed)
    kinds = [k for k, w in MIX for _ in range(w)]
    rng.shuffle(kinds)
    counts: dict[str, int] = {}
    for i in range(n):
        enc = kinds[i % len(kinds)]
        data, _ = make_file(rng, i, enc)
        d = root / f"p{i // 500:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"r{i:05d}.txt").write_bytes(data)
        counts[enc] = counts.get(enc, 0) + 1
    return counts


# ---------------------------------------------------------------- the same search for rg

def _hex(b: bytes) -> str:
    return "".join(chr(c) if (c < 0x80 and (chr(c).isalnum())) else f"\\x{c:02X}" for c in b)


def _spaced(units: list[bytes]) -> str:
    """Letters with optional spaces between them (letter-spaced stamps)."""
    return r"[ \t]*".join(_hex(u) for u in units)


def _utf8_units(text: str) -> list[bytes]:
    units: list[str] = []
    for c in text:
        if units and unicodedata.combining(c):
            units[-1] += c
        elif c != " ":
            units.append(c)
    return [u.encode() for u in units]


def rg_pattern() -> str:
    """One byte regex: a whole line that is a mark in any form of markings.md, framed or not."""
    alts: list[str] = []
    for level in LEVELS:
        for form in set(unicode_forms(level).values()) | {level.lower()}:
            alts.append(_spaced(_utf8_units(form)))
        for lv in (level, level.lower(), level.title()):
            alts.append(_spaced(_utf8_units("Độ mật:")) + r"[ \t]*" + _spaced(_utf8_units(lv)))
    for upper, lower in LEGACY_FORMS.values():
        for form in upper + lower:
            alts.append(r"[ \t]*".join(_hex(w) for w in form.split(b" ")))
    frame = r"(?:[\t \x22'*#=~+|<>\[\](){}_-]|\xE2[\x80-\x9F][\x80-\xBF]|\xC2[\xA0-\xBF])*"
    return "(?-u)^" + frame + "(?:" + "|".join(sorted(set(alts))) + ")" + frame + "$"


# ---------------------------------------------------------------- timing

def _scan(root: Path, jobs: int) -> tuple[float, float, int]:
    """(wall s, CPU s of this process and its workers, files classified or for review)."""
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    rep = run_scan([str(root)], jobs=jobs)
    wall = time.perf_counter() - t
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(b, f) - getattr(a, f) for a, b in ((r0, r1), (c0, c1)) for f in ("ru_utime", "ru_stime"))
    assert not rep.facts.errors, rep.facts.errors[:3]
    return wall, cpu, sum(f.verdict in ("classified", "review") for f in rep.facts.findings)


def _rg(rg: str, root: Path, jobs: int, pattern: str) -> tuple[float, float, int]:
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run([rg, "-j", str(jobs), "-l", "--crlf", "--no-messages", "-e", pattern, str(root)],
                       stdout=subprocess.PIPE, check=False)
    wall = time.perf_counter() - t
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, len(p.stdout.splitlines())


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench plaintext")
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--write", action="store_true", help="update docs/performance.md")
    a = ap.parse_args(argv)
    rg = shutil.which("rg")
    if not rg:
        print("rg (ripgrep) is not installed: apt-get install ripgrep")
        return 1
    cores = os.cpu_count() or 1
    pattern = rg_pattern()
    with tempfile.TemporaryDirectory(prefix="bmnn-bench-plain-") as tmp:
        root = Path(tmp, "text")
        counts = make_corpus(root, a.files)
        mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        _scan(root, cores)  # warm the page cache and the imports
        c_fast = plain._c_utf8, plain._c_legacy
        runs: dict[str, list[tuple[float, float, int]]] = {"c": [], "py": [], "rg": []}
        for _ in range(a.runs):  # interleaved, so that a change of load hits all three alike
            plain._c_utf8, plain._c_legacy = c_fast
            runs["c"].append(_scan(root, cores))
            plain._c_utf8 = plain._c_legacy = None
            runs["py"].append(_scan(root, cores))
            plain._c_utf8, plain._c_legacy = c_fast
            runs["rg"].append(_rg(rg, root, cores, pattern))
    med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v), v[-1][2]) for k, v in runs.items()}
    rg_wall = med["rg"][0]

    def row(name: str, key: str, what: str) -> str:
        wall, cpu, found = med[key]
        return (f"| {name} | {wall:.3f} s | {cpu:.3f} s | {a.files / wall:,.0f} files/s, {mb / wall:.0f} MB/s | "
                f"{wall / rg_wall:.1f}× | {found} {what} |")
    table = "\n".join([
        f"| run | wall, median of {a.runs} | CPU (all processes) | rate | × rg | files found |",
        "|---|---|---|---|---|---|",
        row("`bmnn` content scan, C pre-filter" + ("" if c_fast[0] else " (NOT built)"), "c", "classified or review"),
        row("`bmnn` content scan, pure-Python pre-filter", "py", "classified or review"),
        row(f"`rg -j {cores} -l --crlf -e <pattern>`", "rg", "with a matching line"),
    ])
    body = (f"Measured with `python -m bench plaintext --files {a.files} --runs {a.runs}` on {platform.machine()}, "
            f"{cores} cores, Python {platform.python_version()}, {shutil.which('rg') and subprocess.run([rg, '--version'], capture_output=True, text=True).stdout.split()[1]} rg; "
            f"**machine shared with other engineers** (load average {os.getloadavg()[0]:.1f} at the end). "
            f"Corpus: {a.files} files, {mb:.1f} MB ({', '.join(f'{k} {v}' for k, v in counts.items())}); "
            f"runs interleaved.\n\n{table}\n")
    print(body)
    print(f"rg pattern ({len(pattern)} characters): {pattern[:200]}...")
    if a.write:
        path = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
        old = path.read_text(encoding="utf-8")
        marker = "### Plain text against rg (measured)\n\n"
        if marker in old:
            new = re.sub(re.escape(marker) + r".*?(?=\n## |\n### |\Z)", lambda _: marker + body, old, flags=re.S)
        else:
            new = old.rstrip("\n") + "\n\n" + marker + body
        path.write_text(new, encoding="utf-8")
    return 0
