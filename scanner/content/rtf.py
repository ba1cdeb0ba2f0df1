"""RTF: a small tokenizer. ``\\'cb`` bytes are decoded by the current font (``.Vn*`` TCVN3,
``VNI-*`` VNI, ``\\fcharset163`` Windows-1258, else the document code page); ``\\uN`` is Unicode.
Paragraphs, lines and cells are segments; headers and footers keep their part."""

from __future__ import annotations

import re

from . import decode
from .ooxml import _Run, make_segment
from .segments import Segment

_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\([^a-zA-Z])|([{}])|([^\\{}\r\n]+)|[\r\n]+")
_SKIP_DEST = {b"stylesheet", b"info", b"pict", b"object", b"themedata", b"colorschememapping", b"datastore",
              b"latentstyles", b"listtable", b"listoverridetable", b"rsidtbl", b"generator", b"xmlnstbl",
              b"mmathPr", b"fldinst", b"bkmkstart", b"bkmkend", b"filetbl", b"revtbl", b"listtext",
              b"pgdsctbl", b"pntext", b"pntxta", b"pntxtb", b"footnote", b"annotation", b"atnid", b"atnauthor"}
_BREAKS = {b"par", b"line", b"cell", b"row", b"sect", b"page", b"nestcell"}
_PARTS = {b"header": "header", b"headerl": "header", b"headerr": "header", b"headerf": "header",
          b"footer": "footer", b"footerl": "footer", b"footerr": "footer", b"footerf": "footer"}
_BORDERS = {b"box", b"brdrt", b"brdrb", b"brdrl", b"brdrr", b"chbrdr"}
_CHARSET_CP = {163: "cp1258", 0: "cp1252", 1: None}


class _State:
    __slots__ = ("font", "bold", "color", "framed", "skip", "uc", "part", "dest")

    def __init__(self):
        self.font, self.bold, self.color, self.framed = None, False, 0, False
        self.skip, self.uc, self.part, self.dest = False, 1, "body", None

    def copy(self):
        s = _State()
        for k in self.__slots__:
            setattr(s, k, getattr(self, k))
        return s


def rtf_segments(data: bytes) -> list[Segment]:
    """Segments of an RTF document."""
    if not data.lstrip().startswith(b"{\\rtf"):
        return []
    fonts: dict[int, tuple[str, int | None]] = {}
    colors: list[tuple[int, int, int]] = []
    cur_color = [0, 0, 0]
    ansicpg = "cp1252"
    st = _State()
    stack: list[_State] = []
    out: list[Segment] = []
    runs: list[_Run] = []
    pending = bytearray()
    font_name = bytearray()
    font_no = [None, None]  # number, charset
    skip_chars = 0
    par_framed = False
    deff = [None]

    def flush_bytes():
        if not pending:
            return
        fno = st.font if st.font is not None else deff[0]
        name, charset = fonts.get(fno, ("", None)) if fno is not None else ("", None)
        view = decode.legacy_view(bytes(pending))
        enc_font = decode.font_encoding(name)
        if enc_font:
            text, enc = decode.decode_font_run(view, name)
        elif charset == 163 or (charset is None and ansicpg == "cp1258"):
            text, enc = decode.cp1258(view), "cp1258"
        else:
            text, enc = view, "unicode" if pending.isascii() else "cp1252"
        add_text(text, enc, name)
        pending.clear()

    def add_text(text, enc, name=None):
        c = colors[st.color] if 0 < st.color < len(colors) else (0, 0, 0)
        red = c[0] >= 0x99 and c[1] <= 0x60 and c[2] <= 0x60
        runs.append(_Run(text, st.bold, red, st.framed, name, enc))

    def flush_para():
        flush_bytes()
        seg = make_segment(runs, len(out), 0, st.part, par_framed)
        if seg is not None:
            out.append(seg)
        runs.clear()

    group_start = False
    for m in _TOKEN.finditer(data):
        word, param, hexb, sym, brace, text = m.groups()
        if brace == b"{":
            flush_bytes()
            stack.append(st)
            st = st.copy()
            group_start = True
            continue
        if brace == b"}":
            flush_bytes()
            if st.dest == "fonttbl-entry" and font_no[0] is not None:
                fonts[font_no[0]] = (font_name.decode("latin-1").strip().rstrip(";").strip(), font_no[1])
                font_name.clear()
                font_no[:] = [None, None]
            if st.part != "body" and stack and stack[-1].part == "body":
                flush_para()
            st = stack.pop() if stack else _State()
            group_start = False
            continue
        first, group_start = group_start, False
        if word is not None:
            n = int(param) if param is not None else None
            if first and (word in _SKIP_DEST):
                st.skip = True
                continue
            if word == b"fonttbl":
                st.dest, st.skip = "fonttbl", True
                continue
            if word == b"colortbl":
                st.dest, st.skip = "colortbl", True
                continue
            if st.dest in ("fonttbl", "fonttbl-entry"):
                if word == b"f":
                    st.dest, font_no[0] = "fonttbl-entry", n
                elif word == b"fcharset":
                    font_no[1] = n
                continue
            if st.dest == "colortbl":
                if word in (b"red", b"green", b"blue"):
                    cur_color[(b"red", b"green", b"blue").index(word)] = n or 0
                continue
            if st.skip:
                continue
            if word in _PARTS and first:
                flush_para()
                st.part = _PARTS[word]
            elif word == b"deff":
                deff[0] = n
            elif word == b"ansicpg" and n:
                ansicpg = f"cp{n}"
            elif word == b"f":
                flush_bytes()
                st.font = n
            elif word == b"b":
                flush_bytes()
                st.bold = n != 0
            elif word == b"cf":
                flush_bytes()
                st.color = n or 0
            elif word == b"plain":
                flush_bytes()
                st.bold, st.color, st.framed = False, 0, False
            elif word == b"pard":
                par_framed = False
            elif word in _BORDERS:
                par_framed = True
            elif word == b"uc":
                st.uc = n or 0
            elif word == b"u" and n is not None:
                flush_bytes()
                add_text(chr(n % 65536) if n >= -32768 else "?", "unicode")
                skip_chars = st.uc
            elif word in _BREAKS:
                flush_para()
            elif word == b"tab":
                pending.extend(b" ")
            continue
        if sym is not None:
            if sym == b"*" and first:
                st.skip = True
            elif not st.skip and sym in (b"\\", b"{", b"}"):
                pending.extend(sym)
            elif not st.skip and sym == b"~":
                pending.extend(b" ")
            continue
        if hexb is not None:
            if skip_chars:
                skip_chars -= 1
                continue
            if st.dest == "fonttbl-entry":
                font_name.append(int(hexb, 16))
            elif not st.skip:
                pending.append(int(hexb, 16))
            continue
        if text is not None:
            if skip_chars:
                k = min(skip_chars, len(text))
                text, skip_chars = text[k:], skip_chars - k
            if st.dest == "fonttbl-entry":
                font_name.extend(text)
            elif st.dest == "colortbl":
                for _ in range(text.count(b";")):
                    colors.append(tuple(cur_color))
                    cur_color[:] = [0, 0, 0]
            elif not st.skip:
                pending.extend(text)
    flush_para()
    return out
