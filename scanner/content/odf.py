"""OpenDocument (odt, ods, odp): content.xml paragraphs with their automatic styles, text boxes
in place, headers and footers from styles.xml."""

from __future__ import annotations

from typing import Optional

from . import decode
from .limits import Limits, Unreadable, ZipReader, open_zip, parse_xml
from .ooxml import _Run, is_red, make_segment
from .segments import Segment

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"
DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"


class _Style:
    __slots__ = ("bold", "red", "framed", "font")

    def __init__(self, bold=None, red=None, framed=False, font=None):
        self.bold, self.red, self.framed, self.font = bold, red, framed, font


def _styles(root, into: dict[str, _Style]) -> None:
    fonts = {}
    for ff in root.iter(STYLE + "font-face"):
        fonts[ff.get(STYLE + "name", "")] = (ff.get(SVG + "font-family") or ff.get(STYLE + "name") or "").strip("'\"")
    for st in root.iter(STYLE + "style"):
        s = _Style()
        tp = st.find(STYLE + "text-properties")
        if tp is not None:
            w = tp.get(FO + "font-weight")
            s.bold = w is not None and (w == "bold" or (w.isdigit() and int(w) >= 600))
            s.red = is_red(tp.get(FO + "color"))
            fname = tp.get(STYLE + "font-name")
            s.font = fonts.get(fname, fname) if fname else None
        pp = st.find(STYLE + "paragraph-properties")
        if pp is not None:
            border = pp.get(FO + "border") or pp.get(FO + "border-top")
            s.framed = bool(border) and border != "none"
        into[st.get(STYLE + "name", "")] = s


class _Odf:
    def __init__(self, styles: dict[str, _Style]):
        self.styles = styles
        self.out: list[Segment] = []
        self.page = 0

    def walk(self, el, part: str) -> None:
        for c in el:
            tag = c.tag
            if tag in (TEXT + "p", TEXT + "h"):
                self.para(c, part)
            elif tag == DRAW + "page":
                self.walk(c, part)
                self.page += 1
            elif tag in (OFFICE + "annotation", TEXT + "tracked-changes", OFFICE + "forms"):
                continue
            elif tag == DRAW + "text-box":
                self.walk(c, "textbox" if part == "body" else part)
            else:
                self.walk(c, part)

    def para(self, p, part: str) -> None:
        ps = self.styles.get(p.get(TEXT + "style-name", ""), _Style())
        runs: list[_Run] = []
        nested: list = []
        self._inline(p, ps, runs, nested, part, ps.framed)
        self._flush(runs, part, ps.framed)
        for box in nested:
            self.walk(box, "textbox" if part == "body" else part)

    def _text(self, text: Optional[str], st: _Style, runs: list) -> None:
        if text:
            t, enc = decode.decode_font_run(text, st.font)
            runs.append(_Run(t, bool(st.bold), bool(st.red), False, st.font, enc))

    def _inline(self, el, st: _Style, runs, nested, part, framed) -> None:
        self._text(el.text, st, runs)
        for c in el:
            tag = c.tag
            if tag == TEXT + "span" or tag == TEXT + "a":
                cs = self.styles.get(c.get(TEXT + "style-name", ""))
                merged = st if cs is None else _Style(cs.bold if cs.bold is not None else st.bold,
                                                      cs.red or st.red, st.framed, cs.font or st.font)
                self._inline(c, merged, runs, nested, part, framed)
            elif tag == TEXT + "s":
                self._text(" " * min(int(c.get(TEXT + "c", "1") or 1), 100), st, runs)
            elif tag == TEXT + "tab":
                self._text(" ", st, runs)
            elif tag == TEXT + "line-break":
                self._flush(runs, part, framed)
            elif tag == DRAW + "text-box":
                nested.append(c)
            elif tag in (OFFICE + "annotation", TEXT + "note"):
                pass
            else:
                self._inline(c, st, runs, nested, part, framed)
            self._text(c.tail, st, runs)

    def _flush(self, runs, part, framed) -> None:
        seg = make_segment(runs, len(self.out), self.page, part, framed)
        if seg is not None:
            self.out.append(seg)
        runs.clear()


def odf_segments(data: bytes, limits: Limits, ocr=None) -> tuple[str, list[Segment]]:
    """(kind, segments) of an OpenDocument container; with ``ocr`` (a callable giving the file's
    ``ocr.Reader``) the pictures under Pictures/ too."""
    zr = open_zip(data, limits)
    kind, segs = _odf_text(zr)
    if ocr is not None:  # OCR hook
        from .magic import media_names
        pictures = media_names(zr.names())
        if pictures:
            ocr().embedded(zr, pictures, segs)
    return kind, segs


def _odf_text(zr: ZipReader) -> tuple[str, list[Segment]]:
    mime = zr.read("mimetype").decode("ascii", "replace").strip() if "mimetype" in zr.infos else ""
    kind = {"text": "odt", "spreadsheet": "ods", "presentation": "odp"}.get(mime.rsplit(".", 1)[-1], "odf")
    if "content.xml" not in zr.infos:
        raise Unreadable("OpenDocument without content.xml")
    content = zr.read_xml("content.xml")
    styles_xml = zr.read_xml("styles.xml") if "styles.xml" in zr.infos else b""
    if not (decode.may_hold_mark(content) or decode.may_hold_mark(styles_xml)):
        return kind, []
    styles: dict[str, _Style] = {}
    sroot = parse_xml(styles_xml, "styles.xml") if styles_xml else None
    if sroot is not None:
        _styles(sroot, styles)
    croot = parse_xml(content, "content.xml")
    _styles(croot, styles)
    doc = _Odf(styles)
    if sroot is not None:
        for hdr in sroot.iter(STYLE + "header"):
            doc.walk(hdr, "header")
    body = croot.find(OFFICE + "body")
    if body is not None:
        doc.page = 0
        doc.walk(body, "body")
    if sroot is not None:
        for ftr in sroot.iter(STYLE + "footer"):
            doc.walk(ftr, "footer")
    return kind, doc.out
