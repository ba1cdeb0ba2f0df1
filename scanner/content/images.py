"""Raster pages from untrusted bytes: image files (PNG, JPEG, TIFF with its pages, BMP, GIF, WebP) and
image-only PDF pages, each as a ``Raster`` that gives a small copy for the red-ink mask and full
resolution only for the regions asked for.

Why two resolutions: the mask needs a page reduced 4x (a JPEG decodes straight to that size with
libjpeg's DCT scaling, a PDF page renders straight to it), and only a stamp candidate is worth
full-resolution pixels. The declared size of every page is checked against
``Limits.max_image_pixels`` *before* any pixel is decoded (decompression bombs), and the EXIF
orientation of a phone photo is applied before anything looks at the page.

Pillow and pypdfium2 are imported only when a page is read: the daemon imports neither.
"""

from __future__ import annotations

import io
from typing import Iterator, Optional

from .limits import Limits, Unreadable
from .magic import image_format

REDUCE = 4
"""Full resolution / mask resolution of a page scanned at 200 dpi or more: about 50 dpi, where a
stamp's frame is still a closed line. Smaller images are reduced less (``reduction``)."""


def reduction(size: tuple[int, int]) -> int:
    """How many times a picture of ``size`` is reduced for the mask: 4 for an A4 page of 1,200
    pixels or more across, 2 down to 600, 1 below (a picture of the stamp alone)."""
    short = min(size)
    return REDUCE if short >= 1200 else 2 if short >= 600 else 1
_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE",
              6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
"""EXIF orientation -> the Pillow transpose that shows the picture upright (as ImageOps.exif_transpose)."""
_SWAPS = (5, 6, 7, 8)
PDF_MIN_DPI, PDF_MAX_DPI = 150, 300
"""Full resolution of a rendered PDF page: the embedded scan's own, within these bounds."""


class Raster:
    """One page of pixels, upright. ``size`` is the full resolution; ``low()`` is the page reduced
    ``reduce`` times (RGB, or L for a grey or bilevel scan); ``crop(box)`` is a region at full
    resolution (RGB)."""

    size: tuple[int, int]
    reduce: int = REDUCE
    """``low()`` is ``size`` divided by this (about)."""
    grey: bool = False
    """The page holds no colour at all (bilevel or greyscale scan): no red ink to look for."""

    def low(self):
        raise NotImplementedError

    def crop(self, box: tuple[int, int, int, int]):
        raise NotImplementedError


class PilRaster(Raster):
    """A frame of an image file decoded with Pillow."""

    def __init__(self, data: bytes, fmt: str, frame: int, limits: Limits, exif: bool = True):
        self._data, self._fmt, self._frame, self._limits = data, fmt, frame, limits
        im = self._open()
        w, h = im.size
        self.orientation = _orientation(im) if exif else 1  # PDF viewers ignore EXIF: so do we there
        self.size = (h, w) if self.orientation in _SWAPS else (w, h)
        self.reduce = reduction(self.size)
        self.grey = im.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")
        self._full = None

    def _open(self):
        from PIL import Image
        im = Image.open(io.BytesIO(self._data), formats=[self._fmt.upper()])
        if self._frame:
            im.seek(self._frame)
        _check_pixels(im.size, self._limits)
        return im

    def _upright(self, im):
        from PIL import Image
        name = _TRANSPOSE.get(self.orientation)
        return im.transpose(getattr(Image.Transpose, name)) if name else im

    def _mode(self, im):
        if self.grey:
            return im.convert("L") if im.mode != "L" else im
        return im.convert("RGB") if im.mode != "RGB" else im

    def low(self):
        if self._fmt == "jpeg" and self._full is None:
            im = self._open()
            w = im.width
            k = self.reduce
            im.draft("L" if self.grey else "RGB", (max(1, im.width // k), max(1, im.height // k)))
            im = self._mode(_load(im))
            done = max(1, round(w / im.width))  # libjpeg scales by 1/2, 1/4 or 1/8; asked for at most 1/k
            if done < k:
                im = im.reduce(max(1, k // done))
            return self._upright(im)
        return self._upright(_reduce(self._decoded(), "L" if self.grey else "RGB", self.reduce))

    def _decoded(self):
        """The page as decoded, in its own mode and orientation: a full-size copy (converted to RGB,
        turned upright) would double the memory of a large scan; only small images are made from it."""
        if self._full is None:
            im = _load(self._open())
            if im.mode in ("1", "P", "PA") or im.mode.startswith("I;"):  # modes reduce() does not take
                im = im.convert("L" if self.grey else "RGB")
            self._full = im
        return self._full

    def crop(self, box):
        raw = self._decoded()
        return self._upright(raw.crop(raw_box(box, raw.size, self.orientation))).convert("RGB")


def _reduce(im, mode: str, k: int):
    """``im`` reduced ``k`` times, in ``mode``. Other modes are converted strip by strip: Pillow
    converts RGBA to premultiplied RGBa before reducing, a full-size copy of a large scan."""
    from PIL import Image
    if im.mode == mode:
        return im.reduce(k) if k > 1 else im
    w, h = im.size
    out = Image.new(mode, (max(1, w // k), max(1, h // k)))
    step = k * 128
    for y in range(0, max(1, (h // k) * k), step):
        strip = im.crop((0, y, max(1, (w // k) * k), min(h, y + step))).convert(mode)
        out.paste(strip.reduce(k) if k > 1 else strip, (0, y // k))
    return out


def raw_box(box: tuple[int, int, int, int], raw_size: tuple[int, int], orientation: int) -> tuple[int, int, int, int]:
    """The box of the stored (not yet turned) image that shows as ``box`` once EXIF ``orientation``
    is applied."""
    x0, y0, x1, y1 = box
    w, h = raw_size
    return {
        2: (w - x1, y0, w - x0, y1),
        3: (w - x1, h - y1, w - x0, h - y0),
        4: (x0, h - y1, x1, h - y0),
        5: (y0, x0, y1, x1),
        6: (y0, h - x1, y1, h - x0),
        7: (w - y1, h - x1, w - y0, h - x0),
        8: (w - y1, x0, w - y0, x1),
    }.get(orientation, box)


def _load(im):
    try:
        im.load()
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise Unreadable(f"damaged image: {exc}") from None
    return im


def _orientation(im) -> int:
    """EXIF orientation from the header only: Pillow's getexif() on a PNG whose eXIf chunk is not
    before the pixels decodes the whole image to find it (an eXIf chunk after IDAT is ignored)."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1
    try:
        v = im.getexif().get(0x0112)
    except Exception:  # a damaged EXIF block is no orientation, not an unreadable page
        return 1
    return v if isinstance(v, int) and 1 <= v <= 8 else 1


def _check_pixels(size: tuple[int, int], limits: Limits) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise Unreadable("image with no pixels")
    if w * h > limits.max_image_pixels:
        raise Unreadable(f"image declares {w}x{h} pixels (limit {limits.max_image_pixels}): "
                         "decompression bomb guard, not decoded")


def image_pages(data: bytes, limits: Limits) -> Iterator[Raster]:
    """The pages of an image file, in order (TIFF and GIF may hold many); checks each page's
    declared size before decoding it. Raises Unreadable for a file Pillow cannot open."""
    from PIL import Image
    Image.MAX_IMAGE_PIXELS = None  # our own guard, with our own message, runs before every decode
    fmt = image_format(data)
    if fmt is None:
        raise Unreadable("not an image format we read")
    try:
        im = Image.open(io.BytesIO(data), formats=[fmt.upper()])
        frames = getattr(im, "n_frames", 1) if fmt in ("tiff", "gif") else 1
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise Unreadable(f"damaged image: {exc}") from None
    if fmt == "gif":
        frames = 1  # animation frames are not pages
    for frame in range(frames):
        try:
            yield PilRaster(data, fmt, frame, limits)
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise Unreadable(f"damaged image page {frame + 1}: {exc}") from None


def more_pages(data: bytes, n: int) -> bool:
    """Whether an image file has more than ``n`` pages (without decoding any)."""
    from PIL import Image
    try:
        im = Image.open(io.BytesIO(data))
        im.seek(n)
        return True
    except (EOFError, OSError, ValueError, SyntaxError):
        return False


def pdf_page_raster(page, limits: Limits) -> Raster:
    """The raster of an image-only PDF page. The usual scan, one upright JPEG covering the page and
    nothing else, is decoded straight from its JPEG bytes (libjpeg's scaling gives the reduced page
    at a quarter of the cost of rendering); anything else is rendered by pdfium."""
    jpeg = _sole_jpeg(page)
    if jpeg is not None:
        try:
            return PilRaster(jpeg, "jpeg", 0, limits, exif=False)
        except (OSError, ValueError, SyntaxError):
            pass  # pdfium may still draw what Pillow cannot decode
    return PdfRaster(page, limits)


def _sole_jpeg(page) -> Optional[bytes]:
    import ctypes
    import pypdfium2.raw as c
    raw = page.raw
    if page.get_rotation() or c.FPDFPage_CountObjects(raw) != 1 or c.FPDFPage_GetAnnotCount(raw):
        return None
    obj = c.FPDFPage_GetObject(raw, 0)
    if c.FPDFPageObj_GetType(obj) != c.FPDF_PAGEOBJ_IMAGE or c.FPDFImageObj_GetImageFilterCount(obj) != 1:
        return None
    name = ctypes.create_string_buffer(32)
    if c.FPDFImageObj_GetImageFilter(obj, 0, name, 32) <= 0 or name.value != b"DCTDecode":
        return None
    m = c.FS_MATRIX()
    if not c.FPDFPageObj_GetMatrix(obj, m) or m.b or m.c or m.a <= 0 or m.d <= 0:
        return None
    l, b, r, t = (ctypes.c_float() for _ in range(4))
    wpt, hpt = page.get_size()
    if not c.FPDFPageObj_GetBounds(obj, l, b, r, t) or (r.value - l.value) < 0.95 * wpt or (t.value - b.value) < 0.95 * hpt:
        return None
    meta = c.FPDF_IMAGEOBJ_METADATA()
    if not c.FPDFImageObj_GetImageMetadata(obj, raw, meta) or meta.colorspace not in (
            c.FPDF_COLORSPACE_DEVICEGRAY, c.FPDF_COLORSPACE_DEVICERGB, c.FPDF_COLORSPACE_ICCBASED):
        return None
    size = c.FPDFImageObj_GetImageDataRaw(obj, None, 0)
    if size <= 0 or size > 64 << 20:
        return None
    buf = ctypes.create_string_buffer(size)
    c.FPDFImageObj_GetImageDataRaw(obj, buf, size)
    data = buf.raw
    return data if image_format(data) == "jpeg" else None


class PdfRaster(Raster):
    """An open pypdfium2 page with no text layer, rendered at the resolution of its scan."""

    def __init__(self, page, limits: Limits):
        import pypdfium2.raw as c
        import ctypes
        self._page = page
        wpt, hpt = page.get_size()
        if wpt <= 0 or hpt <= 0:
            raise Unreadable("PDF page with no size")
        dpi = 0.0
        pixels = 0
        raw = page.raw
        for i in range(min(c.FPDFPage_CountObjects(raw), 10000)):
            obj = c.FPDFPage_GetObject(raw, i)
            if c.FPDFPageObj_GetType(obj) != c.FPDF_PAGEOBJ_IMAGE:
                continue
            iw, ih = ctypes.c_uint(), ctypes.c_uint()
            if not c.FPDFImageObj_GetImagePixelSize(obj, iw, ih):
                continue
            pixels += iw.value * ih.value
            l, b, r, t = (ctypes.c_float() for _ in range(4))
            if c.FPDFPageObj_GetBounds(obj, l, b, r, t) and r.value - l.value > 1:
                dpi = max(dpi, iw.value / ((r.value - l.value) / 72.0))
        if pixels > limits.max_image_pixels:
            raise Unreadable(f"PDF page images declare {pixels} pixels (limit {limits.max_image_pixels}): "
                             "decompression bomb guard, not decoded")
        dpi = min(PDF_MAX_DPI, max(PDF_MIN_DPI, dpi or 200.0))
        self._scale = dpi / 72.0
        self._pt = (wpt, hpt)
        self.size = (max(1, round(wpt * self._scale)), max(1, round(hpt * self._scale)))
        self.reduce = reduction(self.size)
        _check_pixels(self.size, limits)

    def low(self):
        return self._page.render(scale=self._scale / self.reduce).to_pil().convert("RGB")

    def crop(self, box):
        x0, y0, x1, y1 = box
        s = self._scale
        wpt, hpt = self._pt
        # pypdfium2's crop is what to cut off each side, in points: (left, bottom, right, top)
        cut = (x0 / s, max(0.0, hpt - y1 / s), max(0.0, wpt - x1 / s), y0 / s)
        return self._page.render(scale=s, crop=cut).to_pil().convert("RGB")
