"""Framed ink on a scanned page: where a stamp can be, found without reading anything.

Red ink (or dark ink, for a photocopy) is labelled into connected components run by run (a page's
mask is mostly empty: the work follows the ink, not the pixels); a component is a stamp
candidate when it is a hollow rectangle of a stamp's size and shape, stood up first when a hand
turned it. ``examine`` then looks at one candidate at full resolution: it counts the borders (the
secrecy stamp has two) and keeps the letters inside the innermost one, dark on white, for
Tesseract. Pillow is imported inside the functions: the daemon never imports this module's
dependencies.

The labelling is done in C when ``_fastimage`` is built (setup.py, optional): in pure Python it
was ~35 ms of the ~170 ms of CPU a 300 dpi page costs, and the target is 5 pages a second.
``components_py`` stays as the fallback and the reference the C version is tested against.
"""

from __future__ import annotations

import math
import re
from typing import Optional

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
LETTER_PX = 34
"""Height the text of a stamp (accents included) is scaled to for Tesseract: 32-36 read best in a
sweep over 48 generated stamps (levels, 200/300 dpi, rotated, blurred, JPEG, faded, photographed,
photocopied); 56 and more lose stacked diacritics."""

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


try:
    from ._fastimage import components as _c_components
except ImportError:  # not built (no C compiler where it was installed): the Python version
    _c_components = None


def components(mask, min_pixels: int = 1) -> list[Comp]:
    """Connected components of the non-zero pixels of an L mask, labelled run by run (a page's
    mask is mostly empty: the work follows the ink, not the pixels); in the order their first run
    is met, those of ``min_pixels`` pixels or more."""
    if _c_components is None:
        return components_py(mask, min_pixels)
    w, h = mask.size
    out = []
    for runs, x0, y0, x1, y1, pixels in _c_components(mask.tobytes(), w, h, min_pixels):
        c = Comp.__new__(Comp)
        c.runs, c.x0, c.y0, c.x1, c.y1, c.pixels = runs, x0, y0, x1, y1, pixels
        out.append(c)
    return out


def components_py(mask, min_pixels: int = 1) -> list[Comp]:
    """``components`` in pure Python: the fallback, and the reference of ``_fastimage.components``."""
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
