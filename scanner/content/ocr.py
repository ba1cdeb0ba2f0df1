"""Secrecy stamps in scanned pages: find the stamp by its ink and frame, read only the stamp.

Tesseract over a whole A4 page costs seconds and tends to drop the red framed stamp
(``shared/markings.md``), so a page is read in two steps:

1. On the page reduced 4x, red ink (r > 120, r - g > 60, r - b > 50) is labelled into connected
   components; a component is a *candidate* when it is a hollow rectangle of a stamp's size and
   shape (wider than high, a border on every side). A photocopy has no red: in the top-left block,
   dark hollow rectangles are candidates too. Round seals, signatures, margin notes, red headings
   and letterheads are not rectangles and are never read. A page with no candidate costs the
   decoding and the mask only.
2. Each candidate is cropped at full resolution; its border components (one, or two for the
   secrecy stamp's double border) are counted and removed, the remaining ink is turned into dark
   letters on white, scaled, and read by Tesseract's Vietnamese model as one line (``--psm 7``).
   When it reads a level, the band above it is read too, for the "Số:" line.

Only inside such a box does the match tolerate Tesseract's confusion of stacked diacritics
("MÁT" for "MẬT", "TUYẾT" for "TUYỆT": one letter per word whose base letter is right); the
result goes to the ordinary detector as a segment with the red / framed / double-border / top
hints, so it is scored with the same reasons as a stamp in a docx. Everywhere else (the
letterhead "MẶT TRẬN TỔ QUỐC VIỆT NAM") accents are never folded.

No engine (neither tesserocr nor the ``tesseract`` program with the ``vie`` model): an image page
is listed as "not read: OCR not installed", never judged clean.

Pixels come from ``images.py``, the boxes from ``frames.py``; this module reads and judges them.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
import unicodedata
from typing import Callable, Optional

from . import detect, frames, images
from .magic import image_format
from .limits import Limits, Unreadable
from .segments import Segment

VERSION = 1
"""Changes whenever what this module reads can change; part of the detector version."""

MIN_SIDE = 64
"""Embedded pictures smaller than this on a side cannot hold a legible stamp: not read."""
RETRY_PX = 52
"""A second reading at this height when the first read neither a level nor a mark."""
PSM_LINE = 7

LEVEL_TEXT = {"mat": "MẬT", "toi_mat": "TỐI MẬT", "tuyet_mat": "TUYỆT MẬT"}
MARK_TEXT = {"khan": "KHẨN", "thuong_khan": "THƯỢNG KHẨN", "hoa_toc": "HỎA TỐC", "giai_mat": "GIẢI MẬT"}
_SO = re.compile(r"^\W*S[ỐÔÓÒỒOốôóoồ0-9][\s.]*[:;.,]", re.IGNORECASE)
_TESSDATA = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
             "/usr/share/tessdata", "/usr/local/share/tessdata")
NOT_INSTALLED = "OCR not installed (Debian packages tesseract-ocr and tesseract-ocr-vie)"


# ---------------------------------------------------------------- the engine


class Engine:
    """Tesseract with the Vietnamese model: tesserocr in this process when it is installed (the
    model loads once per worker), else the ``tesseract`` program, one process per read."""

    def __init__(self, tessdata: str, api=None, program: Optional[str] = None):
        self.tessdata, self._api, self._program = tessdata, api, program
        self.name = "tesserocr" if api is not None else "tesseract"

    def read(self, img, psm: int, timeout: float) -> str:
        """Text of an L image (dark text on white); raises TimeoutError past ``timeout`` seconds."""
        if timeout <= 0:
            raise TimeoutError
        if self._api is not None:
            api = self._api
            api.SetPageSegMode(psm)
            api.SetImageBytes(img.tobytes(), img.width, img.height, 1, img.width)
            api.SetSourceResolution(300)
            start = time.monotonic()
            if not api.Recognize(timeout=max(1, int(timeout * 1000))):
                if time.monotonic() - start >= 0.9 * timeout:
                    raise TimeoutError
                return ""  # nothing recognisable (Tesseract gives up on some images)
            return api.GetUTF8Text()
        import io
        import subprocess
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        try:
            p = subprocess.run([self._program, "stdin", "stdout", "--tessdata-dir", self.tessdata, "-l", "vie",
                                "--psm", str(psm), "--dpi", "300"], input=buf.getvalue(), capture_output=True,
                               timeout=timeout, env=_env(), close_fds=True)
        except subprocess.TimeoutExpired:
            raise TimeoutError from None
        except OSError as exc:
            raise Unreadable(f"tesseract cannot run: {exc.strerror}") from None
        return p.stdout.decode("utf-8", "replace")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "HOME")}
    env["OMP_THREAD_LIMIT"] = "1"  # one core per worker; OpenMP threads only fight each other here
    return env


def tessdata_dir() -> Optional[str]:
    """The directory holding vie.traineddata: $TESSDATA_PREFIX when set (as Tesseract does), else
    Debian's."""
    env = os.environ.get("TESSDATA_PREFIX")
    for d in ([env] if env else _TESSDATA):
        if os.path.isfile(os.path.join(d, "vie.traineddata")):
            return d
    return None


_ENGINE: object = ...


def engine() -> Optional[Engine]:
    """The engine of this process (made once), or None when OCR is not installed."""
    global _ENGINE
    if _ENGINE is ...:
        _ENGINE = _make_engine()
    return _ENGINE  # type: ignore[return-value]


def _make_engine() -> Optional[Engine]:
    import shutil
    data = tessdata_dir()
    if data is None:
        return None
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        import tesserocr
        api = tesserocr.PyTessBaseAPI(path=data.rstrip("/") + "/", lang="vie", psm=tesserocr.PSM.SINGLE_LINE)
        return Engine(data, api=api)
    except (ImportError, RuntimeError, OSError):
        pass
    program = shutil.which("tesseract")
    return Engine(data, program=program) if program else None


# ---------------------------------------------------------------- matching


def _fold(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)[0]
    return "D" if base in "Đđ" else base.upper()


def _letters(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFC", text).upper() if c.isalpha())


def tolerant(text: str, target: str) -> bool:
    """``text`` reads ``target`` but for one letter per word whose accents are wrong (same base
    letter: MÁT, MẠT, MẶT, MAT for MẬT; TUYẾT, TÔI) or a vowel read twice with two accents
    (TUYẾỆT, TỔỐI: Tesseract splitting a stacked diacritic). Only for text inside a stamp's frame."""
    got = _letters(text)
    pos = 0
    for word in target.split():
        n = len(word)
        piece = got[pos:pos + n]
        if _word_close(piece, word):
            pos += n
            continue
        piece = got[pos:pos + n + 1]
        if len(piece) == n + 1 and _doubled(piece, word):
            pos += n + 1
            continue
        return False
    return pos == len(got)


def _word_close(got: str, want: str) -> bool:
    if len(got) != len(want):
        return False
    wrong = 0
    for a, b in zip(got, want):
        if a != b:
            if _fold(a) != _fold(b):
                return False
            wrong += 1
    return wrong <= 1


def _doubled(got: str, want: str) -> bool:
    """``got`` is ``want`` with one accented vowel written twice (same base letter), one of the two
    copies being the right one."""
    for i in range(len(want)):
        if _fold(want[i]) in "AEIOUY" and got[:i] == want[:i] and got[i + 2:] == want[i + 1:]:
            pair = got[i:i + 2]
            if _fold(pair[0]) == _fold(pair[1]) == _fold(want[i]) and want[i] in pair:
                return True
    return False


def reading(text: str) -> tuple[Optional[str], Optional[str], bool]:
    """(level, mark, tolerated) of the text read in a stamp's frame."""
    k = detect.key(text)
    lvl = detect.LEVEL_KEYS.get(k)
    if lvl:
        return lvl, None, False
    mark = detect.MARK_KEYS.get(k)
    if mark:
        return None, mark, False
    for lvl, target in LEVEL_TEXT.items():
        if tolerant(text, target):
            return lvl, None, True
    for mark, target in MARK_TEXT.items():
        if tolerant(text, target):
            return None, mark, True
    return None, None, False


# ---------------------------------------------------------------- one page


def read_page(src: images.Raster, pno: int, eng: Engine, deadline: float, first: Optional[bool] = None) -> list[Segment]:
    """Segments of one page: for every framed box read, its text (a level or mark in its canonical
    form), preceded by the "Số:" line above it when one is read there. ``first``: the page opens a
    document (default: page 0), so a stamp in its top-left block is where a stamp belongs."""
    first = pno == 0 if first is None else first
    low = src.low()
    W, H = low.size
    fw, fh = src.size
    sx, sy = fw / W, fh / H
    out: list[Segment] = []
    for (x0, y0, x1, y1), red in frames.candidates(low):
        m = 2
        box = (max(0, int((x0 - m) * sx)), max(0, int((y0 - m) * sy)),
               min(fw, int((x1 + m) * sx)), min(fh, int((y1 + m) * sy)))
        found = frames.examine(src.crop(box), red)
        if found is None or (not red and found.borders < 2):
            continue  # a dark box is a stamp only with a double border (tables, text boxes have one)
        level, mark, tolerated = reading(eng.read(found.image(), PSM_LINE, deadline - time.monotonic()))
        if level is None and mark is None:
            level, mark, tolerated = reading(eng.read(found.image(RETRY_PX), PSM_LINE, deadline - time.monotonic()))
        if level is None and mark is None:
            continue
        cx, cy = (x0 + x1) / 2 / W, (y0 + y1) / 2 / H
        top = first and cx < frames.TOP_LEFT[0] and cy < frames.TOP_LEFT[1]
        if level is not None:
            so = _so_line(src, box, eng, deadline)
            if so:
                out.append(Segment(so, index=len(out), page=pno, part="ocr", top=top, encoding="ocr"))
        canonical = LEVEL_TEXT[level] if level else MARK_TEXT[mark]
        out.append(Segment(canonical, index=len(out), page=pno, part="ocr", red=found.red, framed=True,
                           double=found.borders >= 2, top=top, encoding="ocr-tolerant" if tolerated else "ocr"))
    return out


def _so_line(src: images.Raster, box, eng: Engine, deadline: float) -> Optional[str]:
    """The "Số:" line, if it is the text line just above a stamp: the lowest line of ink in the band
    above the box, read as one line."""
    from PIL import Image
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    band = (max(0, x0 - w // 2), max(0, y0 - 2 * h), min(src.size[0], x1 + w // 2), max(0, y0))
    if band[3] - band[1] < h // 2:
        return None
    grey = src.crop(band).convert("L")
    ink = frames.dark_mask(grey).resize((1, grey.height), Image.BOX).tobytes()  # ink per row
    rows = [v > 2 for v in ink]
    bottom = next((y for y in range(len(rows) - 1, -1, -1) if rows[y]), None)
    if bottom is None:
        return None
    top, gap = bottom, 0
    for y in range(bottom, -1, -1):  # up to the first gap taller than an accent's
        if rows[y]:
            top, gap = y, 0
        else:
            gap += 1
            if gap > max(3, (bottom - top) // 3):
                break
    pad = max(4, (bottom - top) // 3)
    line = grey.crop((0, max(0, top - pad), grey.width, min(grey.height, bottom + 1 + pad)))
    scale = frames.LETTER_PX * 1.6 / max(1, line.height)
    if abs(scale - 1) > 0.1:
        line = line.resize((max(1, round(line.width * scale)), max(1, round(line.height * scale))), Image.LANCZOS)
    text = eng.read(line, PSM_LINE, deadline - time.monotonic()).strip()
    m = _SO.match(text)
    return "Số:" + text[m.end():] if m else None


# ---------------------------------------------------------------- one file


class Reader:
    """The image pages of one file: read within the page limits, and every page not read listed
    with its reason (such a file is "not readable", never clean)."""

    def __init__(self, limits: Limits, get_engine: Callable[[], Optional[Engine]] = engine):
        self.limits = limits
        self._get_engine = get_engine
        self.pages = 0
        self.pictures = 0
        self.unread: dict[str, list[str]] = {}

    def _miss(self, what: str, reason: str) -> None:
        self.unread.setdefault(reason, []).append(what)

    def problems(self) -> list[str]:
        """One line per reason: which pages or pictures were not read, and why."""
        out = []
        for reason, what in self.unread.items():
            shown = ", ".join(what[:10]) + (", ..." if len(what) > 10 else "")
            out.append(f"{shown} not read: {reason}")
        return out

    def _page(self, make: Callable[[], images.Raster], what: str, pno: int, out: list[Segment],
              need_candidate: bool = False, first: Optional[bool] = None) -> None:
        lim = self.limits
        if self.pages >= lim.max_ocr_pages:
            self._miss(what, f"more than {lim.max_ocr_pages} image pages in one file")
            return
        self.pages += 1
        eng = self._get_engine()
        if eng is None and not need_candidate:
            self._miss(what, NOT_INSTALLED)
            return
        start = time.monotonic()
        try:
            src = make()
            if eng is None:
                if frames.candidates(src.low()):
                    self._miss(what, NOT_INSTALLED)
                return
            segs = read_page(src, pno, eng, start + lim.ocr_page_seconds, first)
        except Unreadable as exc:
            self._miss(what, str(exc))
            return
        except TimeoutError:
            self._miss(what, f"OCR time limit per page exceeded ({lim.ocr_page_seconds:g} s)")
            return
        base = len(out)
        out.extend(dataclasses.replace(s, index=base + i) for i, s in enumerate(segs))

    def image_file(self, data: bytes) -> list[Segment]:
        """Segments of an image file, every page of a TIFF included (up to the page limit)."""
        out: list[Segment] = []
        pages = images.image_pages(data, self.limits)
        pno = 0
        while True:
            if self.pages >= self.limits.max_ocr_pages:
                if images.more_pages(data, pno):
                    self._miss(f"page {pno + 1} and after", f"more than {self.limits.max_ocr_pages} image pages in one file")
                break
            try:
                src = next(pages)
            except StopIteration:
                break
            except Unreadable as exc:
                self._miss(f"page {pno + 1}", str(exc))
                break
            self._page(lambda src=src: src, f"page {pno + 1}", pno, out)
            pno += 1
        return out

    def pdf_page(self, page, pno: int, out: list[Segment]) -> None:
        """An open pypdfium2 page that has images and no text layer."""
        self._page(lambda: images.pdf_page_raster(page, self.limits), f"PDF page {pno + 1}", pno, out)

    def embedded(self, zr, names: list[str], out: list[Segment]) -> None:
        """Pictures inside an office file (docx/xlsx/pptx ``media/``, ODF ``Pictures/``). A picture
        with no stamp candidate is not a problem even without OCR: most are logos and photos."""
        for name in names:
            info = zr.infos[name]
            if info.file_size < 64 or info.is_dir():
                continue
            data = zr.read(name)
            if image_format(data) is None:
                continue
            try:
                src = next(images.image_pages(data, self.limits), None)  # its first frame is the picture
            except Unreadable as exc:
                self._miss(f"picture {name}", str(exc))
                continue
            if src is not None and min(src.size) >= MIN_SIDE:
                # each picture is its own page (a pasted scan opens its own document): two scans of
                # different levels in one file are not a list of levels
                self._page(lambda src=src: src, f"picture {name}", self.pictures, out,
                           need_candidate=True, first=True)
                self.pictures += 1
