"""docx, xlsx, pptx: zipfile + ElementTree, paragraphs with their runs joined, tables, text
boxes, headers and footers; run fonts decide legacy decoding, run formatting gives the hints."""

from __future__ import annotations

import re
from typing import Optional

from . import decode
from .limits import Limits, Unreadable, ZipReader, open_zip, parse_xml
from .segments import Segment

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
V = "{urn:schemas-microsoft-com:vml}"
_OFF = ("0", "false", "off", "none")
_LEGACY_FONT = (b'".Vn', b"'.Vn", b'"VNI-', b"'VNI-", b'"VNI ')


def is_red(hexcolor: Optional[str]) -> bool:
    """A colour that prints as red ink (FF0000, C00000, E31C23...)."""
    if not hexcolor:
        return False
    h = hexcolor.strip().lstrip("#")
    if len(h) == 8:  # ARGB
        h = h[2:]
    if len(h) != 6:
        return hexcolor.strip().lower() == "red"
    try:
        r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    except ValueError:
        return False
    return r >= 0x99 and g <= 0x60 and b <= 0x60 and r - max(g, b) >= 0x60


class _Run:
    __slots__ = ("text", "bold", "red", "framed", "font", "enc")

    def __init__(self, text, bold, red, framed, font, enc):
        self.text, self.bold, self.red, self.framed, self.font, self.enc = text, bold, red, framed, font, enc


def make_segment(runs: list, index: int, page: int, part: str, framed: bool, top=None) -> Optional[Segment]:
    """One segment from decoded runs (objects with text/bold/red/framed/font/enc)."""
    text = "".join(r.text for r in runs)
    if not text.strip():
        return None
    inked = [r for r in runs if r.text.strip()]
    enc = next((r.enc for r in inked if r.enc != "unicode"), "unicode")
    return Segment(text=text, index=index, page=page, part=part,
                   bold=all(r.bold for r in inked), red=all(r.red for r in inked),
                   framed=framed or all(r.framed for r in inked), top=top,
                   font=inked[0].font, encoding=enc)


# ---------------------------------------------------------------- docx


class _Docx:
    def __init__(self, default_font: Optional[str], style_fonts: dict[str, str]):
        self.default_font = default_font
        self.style_fonts = style_fonts
        self.out: list[Segment] = []

    def part(self, root, part: str) -> None:
        self._walk(root, part, False)

    def _walk(self, el, part: str, box_framed: bool) -> None:
        for c in el:
            tag = c.tag
            if tag == W + "p":
                self._para(c, part, box_framed)
            elif tag == MC + "Fallback" or tag == W + "del" or tag == W + "sectPr":
                continue
            elif tag == W + "txbxContent":
                self._walk(c, "textbox" if part == "body" else part, box_framed)
            else:
                self._walk(c, part, box_framed or _shape_framed(c))

    def _para(self, p, part: str, box_framed: bool) -> None:
        ppr = p.find(W + "pPr")
        framed = box_framed and part in ("textbox", "header")
        pfont = self.default_font
        if ppr is not None:
            if ppr.find(W + "pBdr") is not None:
                framed = True
            ps = ppr.find(W + "pStyle")
            if ps is not None:
                pfont = self.style_fonts.get(ps.get(W + "val", ""), pfont)
        runs: list[_Run] = []
        nested: list = []
        self._inline(p, runs, nested, pfont, part, framed)
        self._flush(runs, part, framed)
        for box, bf in nested:
            self._walk(box, "textbox" if part == "body" else part, bf)

    def _inline(self, el, runs, nested, pfont, part, framed, box_framed=False) -> None:
        for c in el:
            tag = c.tag
            if tag == W + "r":
                self._run(c, runs, nested, pfont, part, framed, box_framed)
            elif tag == W + "txbxContent":
                nested.append((c, box_framed))
            elif tag in (W + "pPr", W + "rPr", MC + "Fallback", W + "del", W + "moveFrom"):
                continue
            else:
                self._inline(c, runs, nested, pfont, part, framed, box_framed or _shape_framed(c))

    def _run(self, r, runs, nested, pfont, part, framed, box_framed) -> None:
        rpr = r.find(W + "rPr")
        bold = red = bdr = False
        font = pfont
        if rpr is not None:
            b = rpr.find(W + "b")
            bold = b is not None and b.get(W + "val", "true") not in _OFF
            col = rpr.find(W + "color")
            red = col is not None and is_red(col.get(W + "val"))
            bd = rpr.find(W + "bdr")
            bdr = bd is not None and bd.get(W + "val", "single") not in _OFF
            rf = rpr.find(W + "rFonts")
            if rf is not None:
                font = rf.get(W + "ascii") or rf.get(W + "hAnsi") or rf.get(W + "cs") or font
            rs = rpr.find(W + "rStyle")
            if rs is not None and rf is None:
                font = self.style_fonts.get(rs.get(W + "val", ""), font)
        buf: list[str] = []

        def push():
            if buf:
                text, enc = decode.decode_font_run("".join(buf), font)
                runs.append(_Run(text, bold, red, bdr, font, enc))
                buf.clear()

        for c in r:
            tag = c.tag
            if tag == W + "t":
                buf.append(c.text or "")
            elif tag == W + "tab":
                buf.append(" ")
            elif tag in (W + "br", W + "cr"):
                push()
                self._flush(runs, part, framed)
            elif tag != W + "rPr" and tag != W + "delText" and tag != W + "instrText":
                self._inline(c, runs, nested, pfont, part, framed, box_framed)
        push()

    def _flush(self, runs: list, part: str, framed: bool) -> None:
        seg = make_segment(runs, len(self.out), 0, part, framed)
        if seg is not None:
            self.out.append(seg)
        runs.clear()


def _shape_framed(el) -> bool:
    """A DrawingML shape with a visible outline, or a VML shape that is stroked."""
    tag = el.tag
    if tag.endswith("}wsp") or tag.endswith("}sp"):
        for sppr in el:
            if sppr.tag.endswith("}spPr"):
                ln = sppr.find(A + "ln")
                return ln is not None and ln.find(A + "noFill") is None and len(ln) > 0
    if tag.startswith(V) and tag in (V + "shape", V + "rect", V + "roundrect"):
        return el.get("stroked", "t") not in ("f", "false")
    return False


def _style_fonts(zr: ZipReader) -> tuple[Optional[str], dict[str, str]]:
    """Default font and style fonts, read only when styles.xml names a legacy font."""
    if "word/styles.xml" not in zr.infos:
        return None, {}
    data = zr.read_xml("word/styles.xml")
    if not any(m in data for m in _LEGACY_FONT):
        return None, {}
    root = parse_xml(data, "word/styles.xml")
    default = None
    rf = root.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
    if rf is not None:
        default = rf.get(W + "ascii") or rf.get(W + "hAnsi")
    fonts: dict[str, str] = {}
    based: dict[str, str] = {}
    for st in root.iter(W + "style"):
        sid = st.get(W + "styleId", "")
        f = st.find(f"{W}rPr/{W}rFonts")
        if f is not None and (f.get(W + "ascii") or f.get(W + "hAnsi")):
            fonts[sid] = f.get(W + "ascii") or f.get(W + "hAnsi")
        b = st.find(W + "basedOn")
        if b is not None:
            based[sid] = b.get(W + "val", "")
    for sid in list(based):
        seen, cur = 0, sid
        while cur not in fonts and cur in based and seen < 10:
            cur, seen = based[cur], seen + 1
        if cur in fonts:
            fonts[sid] = fonts[cur]
    if default:
        for sid in based:
            fonts.setdefault(sid, default)
    return default, fonts


def _numbered(names: list[str], prefix: str) -> list[str]:
    def num(n: str) -> int:
        m = re.search(r"(\d+)\.xml$", n)
        return int(m.group(1)) if m else 0
    return sorted((n for n in names if n.startswith(prefix) and n.endswith(".xml") and "/_rels/" not in n), key=num)


def docx_segments(zr: ZipReader, main: str = "word/document.xml") -> list[Segment]:
    """Headers, body (tables and text boxes in place), footers and footnotes of a docx."""
    names = zr.names()
    if main not in zr.infos:
        raise Unreadable(f"docx without its main part {main}")
    parts = [(n, "header") for n in _numbered(names, "word/header")]
    parts.append((main, "body"))
    parts += [(n, "footer") for n in _numbered(names, "word/footer")]
    parts += [(n, "footer") for n in ("word/footnotes.xml", "word/endnotes.xml") if n in zr.infos]
    blobs = [(n, p, zr.read_xml(n)) for n, p in parts]
    if not any(decode.may_hold_mark(b) for _, _, b in blobs):
        return []
    default, fonts = _style_fonts(zr)
    doc = _Docx(default, fonts)
    for name, part, data in blobs:
        doc.part(parse_xml(data, name), part)
    return doc.out


# ---------------------------------------------------------------- xlsx


def _xlsx_rich(si, out: list[Segment], page: int) -> None:
    runs = []
    for c in si:
        if c.tag == S + "t":
            runs.append(_Run(c.text or "", False, False, False, None, "unicode"))
        elif c.tag == S + "r":
            rpr = c.find(S + "rPr")
            font = bold = red = None
            if rpr is not None:
                f = rpr.find(S + "rFont")
                font = f.get("val") if f is not None else None
                bold = rpr.find(S + "b") is not None
                col = rpr.find(S + "color")
                red = col is not None and is_red(col.get("rgb"))
            t = c.find(S + "t")
            text, enc = decode.decode_font_run(t.text or "" if t is not None else "", font)
            runs.append(_Run(text, bool(bold), bool(red), False, font, enc))
    seg = make_segment(runs, len(out), page, "body", False)
    if seg is not None:
        out.append(seg)


def xlsx_segments(zr: ZipReader) -> list[Segment]:
    """Shared strings (rich-text runs with their fonts) and inline strings of every sheet."""
    names = zr.names()
    blobs = []
    if "xl/sharedStrings.xml" in zr.infos:
        blobs.append(("xl/sharedStrings.xml", zr.read_xml("xl/sharedStrings.xml")))
    blobs += [(n, zr.read_xml(n)) for n in _numbered(names, "xl/worksheets/sheet")]
    if not any(decode.may_hold_mark(b) for _, b in blobs):
        return []
    out: list[Segment] = []
    for page, (name, data) in enumerate(blobs):
        if name.startswith("xl/worksheets/") and b"<is>" not in data and b":is>" not in data:
            continue
        root = parse_xml(data, name)
        for si in root.iter(S + "si") if name.endswith("sharedStrings.xml") else root.iter(S + "is"):
            _xlsx_rich(si, out, page)
    return out


# ---------------------------------------------------------------- pptx


def _a_paragraphs(root, page: int, out: list[Segment], part: str = "body") -> None:
    """DrawingML text: every a:p of every shape, with the shape outline as the frame."""
    def walk(el, framed: bool):
        for c in el:
            if c.tag == A + "p":
                runs = []
                for r in c:
                    if r.tag in (A + "r", A + "fld"):
                        rpr = r.find(A + "rPr")
                        bold = red = False
                        font = None
                        if rpr is not None:
                            bold = rpr.get("b") in ("1", "true")
                            clr = rpr.find(f"{A}solidFill/{A}srgbClr")
                            red = clr is not None and is_red(clr.get("val"))
                            lat = rpr.find(A + "latin")
                            font = lat.get("typeface") if lat is not None else None
                        t = r.find(A + "t")
                        text, enc = decode.decode_font_run(t.text or "" if t is not None else "", font)
                        runs.append(_Run(text, bold, red, False, font, enc))
                    elif r.tag == A + "br":
                        seg = make_segment(runs, len(out), page, part, framed)
                        if seg is not None:
                            out.append(seg)
                        runs = []
                seg = make_segment(runs, len(out), page, part, framed)
                if seg is not None:
                    out.append(seg)
            else:
                walk(c, framed or _shape_framed(c))
    walk(root, False)


def pptx_segments(zr: ZipReader) -> list[Segment]:
    """Every slide's shapes, one page per slide."""
    slides = _numbered(zr.names(), "ppt/slides/slide")
    blobs = [(n, zr.read_xml(n)) for n in slides]
    if not any(decode.may_hold_mark(b) for _, b in blobs):
        return []
    out: list[Segment] = []
    for page, (name, data) in enumerate(blobs):
        _a_paragraphs(parse_xml(data, name), page, out)
    return out


def ooxml_segments(data: bytes, limits: Limits, ocr=None) -> tuple[str, list[Segment]]:
    """(kind, segments) of an OOXML container; with ``ocr`` (a callable giving the file's
    ``ocr.Reader``) its pictures too."""
    zr = open_zip(data, limits)
    main = _main_part(zr)
    if main.startswith("word/") or "word/document.xml" in zr.infos:
        kind, segs = "docx", docx_segments(zr, main if main.startswith("word/") else "word/document.xml")
    elif main.startswith("xl/") or "xl/workbook.xml" in zr.infos:
        kind, segs = "xlsx", xlsx_segments(zr)
    elif main.startswith("ppt/") or "ppt/presentation.xml" in zr.infos:
        kind, segs = "pptx", pptx_segments(zr)
    else:
        from .containers import classify
        classify(zr.names(), zr)  # raises: a package, an archive of documents, or a zip holding none
        raise Unreadable("zip container of an unknown kind")
    if ocr is not None:  # OCR hook: pictures under word/media/, xl/media/, ppt/media/
        from .magic import media_names
        pictures = media_names(zr.names())
        if pictures:
            ocr().embedded(zr, pictures, segs)
    return kind, segs


def _main_part(zr: ZipReader) -> str:
    """The main document part named by the package relationships (``_rels/.rels``), which Word
    follows: a docx need not keep its body in ``word/document.xml``. "" when there is none."""
    if "_rels/.rels" not in zr.infos:
        return ""
    root = parse_xml(zr.read_xml("_rels/.rels"), "_rels/.rels")
    for rel in root:
        if rel.get("Type", "").endswith("/officeDocument"):
            target = rel.get("Target", "").lstrip("/")
            if target in zr.infos:
                return target
    return ""
