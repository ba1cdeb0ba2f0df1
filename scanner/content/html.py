"""HTML: block elements are segments; ``<font face=".VnTime">`` and CSS ``font-family`` decide
legacy decoding; bold, red and borders from tags and inline styles."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Optional

from . import decode
from .ooxml import _Run, is_red, make_segment
from .segments import Segment

_BLOCK = {"p", "div", "br", "td", "th", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "section", "header", "footer", "blockquote", "pre", "title", "ul", "ol", "hr", "article", "center"}
_VOID = {"br", "img", "meta", "hr", "input", "link", "area", "base", "col", "embed", "source", "wbr"}
_SKIP = {"script", "style", "template", "noscript"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", re.IGNORECASE)
_NAMED_RED = {"red", "crimson", "darkred", "firebrick"}


def _css(style: str) -> dict[str, str]:
    out = {}
    for decl in style.split(";"):
        if ":" in decl:
            k, v = decl.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


def _red(value: Optional[str]) -> bool:
    if not value:
        return False
    v = value.strip().lower()
    if v in _NAMED_RED:
        return True
    m = re.match(r"rgb\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)", v)
    if m:
        return is_red("%02x%02x%02x" % tuple(min(255, int(x)) for x in m.groups()))
    if re.fullmatch(r"#[0-9a-f]{3}", v):
        v = "#" + "".join(ch * 2 for ch in v[1:])
    return is_red(v)


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[Segment] = []
        self.runs: list[_Run] = []
        self.stack: list[tuple[str, dict]] = []
        self.skip = 0
        self.framed = False

    def _fmt(self) -> dict:
        return self.stack[-1][1] if self.stack else {"bold": False, "red": False, "font": None, "framed": False}

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag in _SKIP:
            self.skip += 1
        if tag in _BLOCK:
            self.flush()
        if tag in _VOID:
            return
        f = dict(self._fmt())
        css = _css(a.get("style", ""))
        if tag in ("b", "strong") or css.get("font-weight", "") in ("bold", "bolder", "700", "800", "900"):
            f["bold"] = True
        if _red(a.get("color")) or _red(css.get("color")):
            f["red"] = True
        face = a.get("face") or css.get("font-family")
        if face:
            f["font"] = face.split(",")[0].strip().strip("'\"")
        if "border" in css or any(k.startswith("border") and k.endswith("style") for k in css) or tag == "fieldset":
            if css.get("border", "") not in ("none", "0"):
                f["framed"] = True
        self.stack.append((tag, f))

    def handle_endtag(self, tag):
        if tag in _SKIP and self.skip:
            self.skip -= 1
        if tag in _BLOCK:
            self.flush()
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.skip or not data:
            return
        f = self._fmt()
        text, enc = decode.decode_font_run(data.replace("\n", " "), f["font"])
        self.runs.append(_Run(text, f["bold"], f["red"], f["framed"], f["font"], enc))

    def flush(self):
        seg = make_segment(self.runs, len(self.out), 0, "body", False)
        if seg is not None:
            self.out.append(seg)
        self.runs = []


def html_text(data: bytes) -> tuple[str, str]:
    """Decoded page and its encoding: BOM, meta charset, UTF-8, else a guessed legacy encoding."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return decode.decode_text_bytes(data)
    m = _CHARSET.search(data[:4096])
    if m:
        cs = m.group(1).decode("ascii").lower()
        try:
            return data.decode(cs), cs
        except (LookupError, UnicodeDecodeError):
            pass
    return decode.decode_text_bytes(data)


def _needle_entities() -> re.Pattern:
    """Character references that can produce a needle character: numeric ones (checked by value)
    and every HTML5 named entity whose text holds one (``&Euml;`` is TCVN3's Ë, ``&Hat;`` VIQR's ^)."""
    from html.entities import html5
    chars = set("".join(n.decode() for n in decode.NEEDLES_UTF8 if n.isascii() is False)) | {"^"}
    names = sorted({k.rstrip(";") for k, v in html5.items() if any(c in v for c in chars)}, key=len, reverse=True)
    return re.compile(rb"&#[xX]?[0-9a-fA-F]+|&(?:" + b"|".join(re.escape(n.encode()) for n in names) + rb")")


_NEEDLE_REF = _needle_entities()
_HTML_NEEDLES = tuple(n for n in decode.NEEDLES_UTF8 if n not in (b"&#", b"\\u78", b"\\'")) + (
    "\u0323".encode(), "\u0302".encode(), b"A^", b"a^")
"""The byte forms of Ậ that can stand in a page as such (references are checked by value; RTF
escapes mean nothing in HTML), and the pieces of the decomposed and VIQR forms, which markup may
split (``A<b>\u0323</b>\u0302``)."""
_NEEDLE_CODES = {ord(c) for n in decode.NEEDLES_UTF8 for c in n.decode() if not c.isascii()} | {ord("^")}
_UTF8_NAMES = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}

try:
    from ._fastplain import valid as _valid_utf8
except ImportError:
    def _valid_utf8(data: bytes) -> bool:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True


def proven_clean(data: bytes) -> bool:
    """True when ``html_segments`` can find no mark: a UTF-8 page (no BOM, no other declared
    charset) with no byte form of the letter Ậ and no character reference that makes one. Used
    by the scanning process to skip the worker for most pages (documentation trees hold
    thousands); anything else goes to the full parser."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return False
    m = _CHARSET.search(data[:4096])
    if m and m.group(1).lower() not in _UTF8_NAMES:
        return False
    if any(n in data for n in _HTML_NEEDLES) or not _valid_utf8(data):
        return False
    for ref in _NEEDLE_REF.finditer(data):
        r = ref.group(0)
        if not r.startswith(b"&#"):
            return False
        try:
            code = int(r[3:], 16) if r[2:3] in (b"x", b"X") else int(r[2:])
        except ValueError:
            return False
        if code in _NEEDLE_CODES:
            return False
    return True


def html_segments(data: bytes) -> tuple[str, list[Segment]]:
    """(encoding, segments) of an HTML page."""
    text, enc = html_text(data)
    if enc == "utf-8" and not decode.may_hold_mark(data) and "&" not in text:
        return enc, []
    p = _Parser()
    p.feed(text)
    p.close()
    p.flush()
    if enc not in ("utf-8", "utf-16"):
        p.out = [Segment(s.text, s.index, s.page, s.part, s.bold, s.red, s.framed, s.top, s.font,
                         enc if s.encoding == "unicode" else s.encoding) for s in p.out]
    return enc, p.out
