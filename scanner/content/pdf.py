"""PDF: text lines in reading order and annotation contents, with pypdfium2.

Never greps raw bytes: content streams are compressed and fonts re-encode text. Legacy-font
PDFs extract as ``MËT``/``MAÄT``; the detector tries the legacy decodings on such short lines.
A page with images and no text layer goes to OCR (``ocr.Reader.pdf_page``) while it is open.
"""

from __future__ import annotations

import ctypes
from typing import Optional

from .limits import Limits, Unreadable
from .segments import Segment

MAX_LINE = 160


MAX_ANNOTATIONS = 500
"""Annotations read per page; past it the file is "not fully read"."""


def _annotations(c, page_raw, pno: int, out: list[Segment], problems: list[str]) -> None:
    n = c.FPDFPage_GetAnnotCount(page_raw)
    if n > MAX_ANNOTATIONS:
        problems.append(f"PDF page {pno + 1} has {n} annotations: only {MAX_ANNOTATIONS} read, not fully read")
    for i in range(min(n, MAX_ANNOTATIONS)):
        annot = c.FPDFPage_GetAnnot(page_raw, i)
        if not annot:
            continue
        try:
            size = c.FPDFAnnot_GetStringValue(annot, b"Contents", None, 0)
            if size > 1 << 20:
                problems.append(f"PDF page {pno + 1}: an annotation larger than 1 MiB not read, not fully read")
                continue
            if size <= 2:
                continue
            buf = ctypes.create_string_buffer(size)
            c.FPDFAnnot_GetStringValue(annot, b"Contents", ctypes.cast(buf, ctypes.POINTER(c.FPDF_WCHAR)), size)
            text = buf.raw[: size - 2].decode("utf-16-le", errors="replace")
            subtype = c.FPDFAnnot_GetSubtype(annot)
            red = False
            r, g, b, a = (ctypes.c_uint() for _ in range(4))
            if c.FPDFAnnot_GetColor(annot, c.FPDFANNOT_COLORTYPE_Color, r, g, b, a):
                red = r.value >= 0x99 and g.value <= 0x60 and b.value <= 0x60
            for line in text.splitlines():
                if line.strip():
                    out.append(Segment(line, index=len(out), page=pno, part="annotation",
                                       red=red, framed=subtype == c.FPDF_ANNOT_STAMP))
        finally:
            c.FPDFPage_CloseAnnot(annot)


def _has_images(c, page_raw) -> bool:
    """An image among the page's objects; a page of more than 10,000 objects and no text counts
    as one (it is then "not readable", never clean)."""
    n = c.FPDFPage_CountObjects(page_raw)
    for i in range(min(n, 10000)):
        obj = c.FPDFPage_GetObject(page_raw, i)
        if c.FPDFPageObj_GetType(obj) == c.FPDF_PAGEOBJ_IMAGE:
            return True
    return n > 10000


def pdf_segments(data: bytes, limits: Limits, problems: Optional[list[str]] = None,
                 ocr=None) -> tuple[list[Segment], list[int]]:
    """(segments, pages that have images but no text layer); what a limit cut goes to ``problems``.
    With ``ocr`` (a callable giving the file's ``ocr.Reader``) image pages are read by it instead,
    and it lists the ones it could not read."""
    problems = problems if problems is not None else []
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        msg = str(exc)
        if "password" in msg.lower():
            raise Unreadable("encrypted PDF (password required)") from None
        raise Unreadable(f"damaged PDF: {msg}") from None
    out: list[Segment] = []
    image_only: list[int] = []
    try:
        npages = len(doc)
        if npages > limits.max_pages:
            raise Unreadable(f"PDF has {npages} pages (limit {limits.max_pages})")
        for pno in range(npages):
            page = doc[pno]
            try:
                height = page.get_height() or 1.0
                tp = page.get_textpage()
                try:
                    nchars = tp.count_chars()
                    text = tp.get_text_range() if nchars > 0 else ""
                    if not text.strip():
                        if _has_images(c, page.raw):
                            if ocr is not None:
                                ocr().pdf_page(page, pno, out)
                            else:
                                image_only.append(pno)
                    else:
                        _lines(c, tp, text, pno, height, out)
                finally:
                    tp.close()
                _annotations(c, page.raw, pno, out, problems)
            finally:
                page.close()
    finally:
        doc.close()
    return out, image_only


def _lines(c, tp, text: str, pno: int, height: float, out: list[Segment]) -> None:
    pos = 0
    raw = tp.raw
    for line in text.split("\n"):
        start = pos
        pos += len(line) + 1
        line = line.rstrip("\r")
        if not line.strip():
            continue
        bold = red = False
        top = None
        if len(line) <= MAX_LINE:
            idx = start + (len(line) - len(line.lstrip()))
            r, g, b, a = (ctypes.c_uint() for _ in range(4))
            if c.FPDFText_GetFillColor(raw, idx, r, g, b, a):
                red = r.value >= 0x99 and g.value <= 0x60 and b.value <= 0x60
            bold = c.FPDFText_GetFontWeight(raw, idx) >= 600
            left, right, bottom, topv = (ctypes.c_double() for _ in range(4))
            if c.FPDFText_GetCharBox(raw, idx, left, right, bottom, topv):
                top = pno == 0 and topv.value >= height * 0.7
        out.append(Segment(line, index=len(out), page=pno, bold=bold, red=red, top=top))
