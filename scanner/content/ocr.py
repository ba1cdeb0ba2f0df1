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
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time
import unicodedata
from typing import Callable, Optional

from . import detect, images
from .limits import Limits, Unreadable
from .segments import Segment

VERSION = 1
"""Changes whenever what this module reads can change; part of the detector version."""

RED_MIN_R, RED_MIN_RG, RED_MIN_RB = 120, 60, 50
LOW_RED = (110, 40, 35)
"""On the reduced page a thin red line is averaged with the paper around it: a laxer test there,
the full one on the crop."""
DARK_MAX = 140
"""Grey level below which a pixel is ink on a photocopy."""
TOP_LEFT = (0.60, 0.40)
"""The top-left block of a page (agency name, "Số:" line, stamps): fractions of width and height."""
PAGE_SHORT_MM = 210.0
"""Length of a page's short side (A4): turns a page's pixels into millimetres."""
STAMP_W_MM, STAMP_H_MM, STAMP_ASPECT = (12.0, 120.0), (4.0, 35.0), (1.8, 10.0)
MAX_CANDIDATES = 12
"""Boxes read per page at most (nearest the top-left block first)."""
MIN_SIDE = 64
"""Embedded pictures smaller than this on a side cannot hold a legible stamp: not read."""
LETTER_PX = 34
"""Height the text of a stamp (accents included) is scaled to for Tesseract: 32-36 read best in a
sweep over 48 generated stamps (levels, 200/300 dpi, rotated, blurred, JPEG, faded, photographed,
photocopied); 56 and more lose stacked diacritics."""
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


# ---------------------------------------------------------------- masks and components


_INK = re.compile(rb"[^\x00]+")


def _threshold(v: int):
    return [255 if i > v else 0 for i in range(256)]


_FULL = tuple(map(_threshold, (RED_MIN_R, RED_MIN_RG, RED_MIN_RB)))
_LOW = tuple(map(_threshold, LOW_RED))
_T_DARK = [255 if i < DARK_MAX else 0 for i in range(256)]


def red_mask(rgb, reduced: bool = False):
    """L image, 255 where the pixel is red ink (r > 120, r - g > 60, r - b > 50)."""
    from PIL import ImageChops
    t_r, t_rg, t_rb = _LOW if reduced else _FULL
    r, g, b = rgb.split()
    return ImageChops.darker(r.point(t_r), ImageChops.darker(ImageChops.subtract(r, g).point(t_rg),
                                                             ImageChops.subtract(r, b).point(t_rb)))


def dark_mask(img):
    """L image, 255 where the pixel is dark ink (any colour)."""
    return (img if img.mode == "L" else img.convert("L")).point(_T_DARK)


class Comp:
    """A connected component (8-connectivity) of a mask: its runs and bounding box."""

    __slots__ = ("runs", "x0", "y0", "x1", "y1", "pixels")

    def __init__(self):
        self.runs: list[tuple[int, int, int]] = []
        self.x0 = self.y0 = 1 << 30
        self.x1 = self.y1 = -1
        self.pixels = 0

    @property
    def w(self) -> int:
        return self.x1 - self.x0

    @property
    def h(self) -> int:
        return self.y1 - self.y0


def components(mask, min_pixels: int = 1) -> list[Comp]:
    """Connected components of the non-zero pixels of an L mask, labelled run by run (a page's
    mask is mostly empty: the work follows the ink, not the pixels)."""
    w, h = mask.size
    data = mask.tobytes()
    parent: list[int] = []

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    labelled: list[tuple[int, int, int, int]] = []
    prev: list[tuple[int, int, int]] = []
    for y in range(h):
        cur = []
        j = 0
        for m in _INK.finditer(data, y * w, (y + 1) * w):
            a, b = m.start() - y * w, m.end() - y * w
            while j < len(prev) and prev[j][1] < a:
                j += 1
            lab = -1
            k = j
            while k < len(prev) and prev[k][0] <= b:
                other = find(prev[k][2])
                if lab < 0:
                    lab = other
                elif other != lab:
                    parent[other] = lab
                k += 1
            if lab < 0:
                lab = len(parent)
                parent.append(lab)
            cur.append((a, b, lab))
            labelled.append((y, a, b, lab))
        prev = cur
    comps: dict[int, Comp] = {}
    for y, a, b, lab in labelled:
        c = comps.get(root := find(lab))
        if c is None:
            c = comps[root] = Comp()
        c.runs.append((y, a, b))
        c.pixels += b - a
        c.x0, c.x1 = min(c.x0, a), max(c.x1, b)
        c.y0, c.y1 = min(c.y0, y), max(c.y1, y + 1)
    return [c for c in comps.values() if c.pixels >= min_pixels]


def _coverage(intervals: list[tuple[int, int]], lo: int, hi: int) -> float:
    """Fraction of [lo, hi) covered by the union of intervals."""
    if hi <= lo:
        return 0.0
    covered, end = 0, lo
    for a, b in sorted(intervals):
        a, b = max(a, end), min(b, hi)
        if b > a:
            covered += b - a
            end = b
    return covered / (hi - lo)


def framelike(c: Comp) -> bool:
    """A hollow rectangle: borders along all four sides, little ink inside the outline itself."""
    w, h = c.w, c.h
    if w < 6 or h < 3 or c.pixels > 0.6 * w * h:
        return False
    band = max(1, round(h * 0.3))
    side = max(1, round(min(w * 0.15, h * 0.5)))
    top = [(a, b) for y, a, b in c.runs if y < c.y0 + band]
    bottom = [(a, b) for y, a, b in c.runs if y >= c.y1 - band]
    left_rows = {y for y, a, b in c.runs if a < c.x0 + side}
    right_rows = {y for y, a, b in c.runs if b > c.x1 - side}
    return (_coverage(top, c.x0, c.x1) >= 0.7 and _coverage(bottom, c.x0, c.x1) >= 0.7
            and len(left_rows) >= 0.6 * h and len(right_rows) >= 0.6 * h)


MAX_TILT = 20.0
"""Degrees a stamp may be turned by the hand that stamped it and still be read."""


def tilt(c: Comp) -> float:
    """Angle of a component's long axis in degrees, counter-clockwise as seen (second moments of
    its pixels, summed run by run)."""
    n = sx = sy = sxx = syy = sxy = 0.0
    for y, a, b in c.runs:
        k = b - a
        s1 = (a + b - 1) * k / 2
        s2 = ((b - 1) * b * (2 * b - 1) - (a - 1) * a * (2 * a - 1)) / 6
        n += k
        sx += s1
        sy += y * k
        sxx += s2
        syy += y * y * k
        sxy += y * s1
    if n == 0:
        return 0.0
    mx, my = sx / n, sy / n
    mu20, mu02, mu11 = sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my
    return -math.degrees(0.5 * math.atan2(2 * mu11, mu20 - mu02))


def _upright_comp(c: Comp, angle: float) -> Optional[Comp]:
    """The component drawn alone and turned by ``-angle``: its largest part, or None."""
    from PIL import Image, ImageDraw
    img = Image.new("L", (c.w + 2, c.h + 2), 0)
    draw = ImageDraw.Draw(img)
    for y, a, b in c.runs:
        draw.line((a - c.x0 + 1, y - c.y0 + 1, b - c.x0, y - c.y0 + 1), fill=255)
    turned = img.rotate(-angle, resample=Image.BILINEAR, expand=True).point(_threshold(96))
    parts = components(turned, 4)
    return max(parts, key=lambda p: p.pixels) if parts else None


def _is_stamp_frame(c: Comp, page_w: int, page_h: int) -> bool:
    if _stamp_sized(c, page_w, page_h) and framelike(c):
        return True
    if c.pixels < 30 or c.w < 1.2 * c.h:
        return False
    angle = tilt(c)
    if not 1.5 <= abs(angle) <= MAX_TILT:
        return False
    u = _upright_comp(c, angle)
    return u is not None and _stamp_sized(u, page_w, page_h) and framelike(u)


def _stamp_sized(c: Comp, page_w: int, page_h: int) -> bool:
    """Of a stamp's size and shape: on a page (A4-shaped picture), in millimetres; on any other
    picture (a stamp or part of a page cut out, a photo), a tenth of it across at least."""
    if c.h <= 0 or not (STAMP_ASPECT[0] <= c.w / c.h <= STAMP_ASPECT[1]):
        return False
    long, short = max(page_w, page_h), min(page_w, page_h)
    if not 1.25 <= long / short <= 1.6:
        return c.w >= 0.1 * page_w and c.h >= 6
    mm = PAGE_SHORT_MM / short
    return STAMP_W_MM[0] <= c.w * mm <= STAMP_W_MM[1] and STAMP_H_MM[0] <= c.h * mm <= STAMP_H_MM[1]


def candidates(low) -> list[tuple[tuple[int, int, int, int], bool]]:
    """Boxes worth reading on a reduced page, ((x0, y0, x1, y1) in reduced pixels, red?), nearest
    the top-left corner first. Red framed boxes anywhere; dark framed boxes in the top-left block."""
    W, H = low.size
    out: list[tuple[tuple[int, int, int, int], bool]] = []
    if low.mode == "RGB":
        red = red_mask(low, reduced=True)
        if red.getbbox() is not None:
            for c in sorted(components(red, 8), key=lambda c: -c.w * c.h):
                box = (c.x0, c.y0, c.x1, c.y1)
                if not any(_overlap(box, b) for b, _ in out) and _is_stamp_frame(c, W, H):
                    out.append((box, True))  # the largest first: an inner border is not a second stamp
    bw, bh = round(W * TOP_LEFT[0]), round(H * TOP_LEFT[1])
    dark = dark_mask(low.crop((0, 0, bw, bh)))
    for c in sorted(components(dark, 8), key=lambda c: -c.w * c.h):
        box = (c.x0, c.y0, c.x1, c.y1)
        if not any(_overlap(box, b) for b, _ in out) and _is_stamp_frame(c, W, H):
            out.append((box, False))
    out.sort(key=lambda item: (not item[1], item[0][1] + item[0][0]))
    return out[:MAX_CANDIDATES]


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# ---------------------------------------------------------------- one box at full resolution


class Box:
    """What a candidate turned out to be at full resolution: how many borders, and its letters
    (dark on white, cropped to the text)."""

    __slots__ = ("borders", "letters", "red")

    def __init__(self, borders: int, letters, red: bool):
        self.borders, self.letters, self.red = borders, letters, red

    def image(self, height: int = LETTER_PX):
        """The letters scaled to ``height`` pixels with a white margin, as Tesseract reads best."""
        from PIL import Image
        text = self.letters
        if abs(height / text.height - 1) > 0.1:
            text = text.resize((max(1, round(text.width * height / text.height)), height), Image.LANCZOS)
        pad = max(8, height // 2)
        out = Image.new("L", (text.width + 2 * pad, text.height + 2 * pad), 255)
        out.paste(text, (pad, pad))
        return out


def _double_in_rows(f: Comp) -> bool:
    """One border component that is really two lines run together at a corner: in the middle rows
    each side is crossed twice."""
    mid0, mid1 = f.y0 + f.h // 4, f.y1 - f.h // 4
    cx = (f.x0 + f.x1) / 2
    rows: dict[int, list[int]] = {}
    for y, a, b in f.runs:
        if mid0 <= y < mid1:
            side = rows.setdefault(y, [0, 0])
            side[0 if b <= cx else 1] += 1
    if not rows:
        return False
    both = sum(1 for left, right in rows.values() if left >= 2 and right >= 2)
    return both >= 0.6 * len(rows)


def _interior(mask, inner: Comp, merged_double: bool):
    """The letters inside the innermost border, as a mask: every ink pixel between the border's
    left and right lines, row by row (letters that touch the border stay: an accent reaching the
    top line, the dot of Ậ touching the bottom one), minus what is left of the lines themselves."""
    from PIL import Image, ImageChops, ImageDraw
    rows: dict[int, list[tuple[int, int]]] = {}
    for y, a, b in inner.runs:
        rows.setdefault(y, []).append((a, b))
    gap = max(2, inner.h // 6)
    spans = Image.new("L", mask.size, 0)
    draw = ImageDraw.Draw(spans)
    for y, runs in rows.items():
        runs.sort()
        if len(runs) < 2:
            continue
        left, right = runs[0], runs[-1]
        if merged_double and len(runs) >= 4:  # the inner line of each side, when it is close by
            if runs[1][0] - left[1] <= gap:
                left = runs[1]
            if right[0] - runs[-2][1] <= gap:
                right = runs[-2]
        if right[0] - left[1] > 1:
            draw.line((left[1], y, right[0] - 1, y), fill=255)
    keep = ImageChops.darker(spans, mask)
    noise = max(4, inner.h * inner.h // 400)
    out = Image.new("L", mask.size, 0)
    draw = ImageDraw.Draw(out)
    kept = 0
    longest = 0.22 * inner.w  # no letter of a stamp has a stroke this long: a slanted border line
    for c in components(keep, noise):
        edge = c.y1 <= inner.y0 + 0.15 * inner.h or c.y0 >= inner.y1 - 0.15 * inner.h
        if ((c.h >= 0.75 * inner.h and c.w <= 0.06 * inner.w) or (c.w >= 0.4 * inner.w and c.h <= 0.15 * inner.h)
                or (edge and c.w >= 4 * c.h)):
            continue  # a piece of a border line
        for y, a, b in c.runs:
            if b - a < longest:
                draw.line((a, y, b - 1, y), fill=255)
        kept += 1
    return out if kept else None


def examine(crop, red: bool) -> Optional[Box]:
    """Borders counted and removed, the letters left as dark on white (L), or None when the crop
    holds no framed text."""
    from PIL import Image, ImageChops, ImageFilter, ImageOps
    mask = red_mask(crop) if red else dark_mask(crop)
    comps = components(mask, 4)
    if not comps:
        return None
    outer = max(comps, key=lambda c: c.w * c.h)
    angle = tilt(outer) if outer.w >= 1.2 * outer.h else 0.0
    if 1.0 <= abs(angle) <= MAX_TILT:  # turned by hand or on a skewed scan: stand it up first
        crop = crop.rotate(-angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
        mask = red_mask(crop) if red else dark_mask(crop)
        comps = components(mask, 4)
        if not comps:
            return None
        outer = max(comps, key=lambda c: c.w * c.h)
    if outer.w < 0.5 * crop.width or not framelike(outer):
        return None
    frames = [c for c in comps if c.w >= 0.8 * outer.w and c.h >= 0.6 * outer.h
              and c.x0 >= outer.x0 - 2 and c.x1 <= outer.x1 + 2 and framelike(c)]
    borders = len(frames)
    if borders == 1 and _double_in_rows(outer):
        borders = 2
    inner = min(frames, key=lambda c: c.w * c.h)
    keep = _interior(mask, inner, merged_double=borders == 2 and len(frames) == 1)
    if keep is None:
        return None
    keep = keep.filter(ImageFilter.MaxFilter(3))
    if red:
        r, g, _ = crop.split()
        ink = ImageChops.subtract(r, g)
    else:
        ink = ImageOps.invert(crop.convert("L"))
    lo, hi = ink.getextrema()
    if hi > lo:
        ink = ink.point(lambda v, lo=lo, hi=hi: max(0, min(255, (v - lo) * 255 // (hi - lo))))
    text = ImageOps.invert(ImageChops.darker(ink, keep))
    return Box(borders, text.crop(keep.getbbox()), red)


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
    for (x0, y0, x1, y1), red in candidates(low):
        m = 2
        box = (max(0, int((x0 - m) * sx)), max(0, int((y0 - m) * sy)),
               min(fw, int((x1 + m) * sx)), min(fh, int((y1 + m) * sy)))
        found = examine(src.crop(box), red)
        if found is None or (not red and found.borders < 2):
            continue  # a dark box is a stamp only with a double border (tables, text boxes have one)
        level, mark, tolerated = reading(eng.read(found.image(), PSM_LINE, deadline - time.monotonic()))
        if level is None and mark is None:
            level, mark, tolerated = reading(eng.read(found.image(RETRY_PX), PSM_LINE, deadline - time.monotonic()))
        if level is None and mark is None:
            continue
        cx, cy = (x0 + x1) / 2 / W, (y0 + y1) / 2 / H
        top = first and cx < TOP_LEFT[0] and cy < TOP_LEFT[1]
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
    ink = dark_mask(grey).resize((1, grey.height), Image.BOX).tobytes()  # ink per row
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
    scale = LETTER_PX * 1.6 / max(1, line.height)
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
                if candidates(src.low()):
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
            fmt = images.image_format(data)
            if fmt is None:
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


def media_names(names: list[str]) -> list[str]:
    """Zip members that hold an office file's pictures, in a stable order."""
    return sorted(n for n in names if ("/media/" in n and n.split("/", 1)[0] in ("word", "xl", "ppt"))
                  or n.startswith("Pictures/"))
