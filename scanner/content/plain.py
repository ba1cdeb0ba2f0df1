"""txt, csv, md and other plain text: UTF-8, UTF-16, NFD, or a guessed legacy encoding.

The pre-filter here counts the lines that could be a mark *before* any segment is built: a mark
is a whole line whose key (``detect.key``) is a level, so it has at most
``detect.MAX_CANDIDATE_CHARS`` characters, few letters, and one of the forms of the letter Ậ.
A file with no such line is clean without decoding it into segments; a file with a few is judged
in full. The test is conservative by construction (every set below is a superset of what the
detector could use), and ``tests/scanner/content/test_plain_prefilter.py`` checks it against the
full detector and the C version (``_fastplain.c``) against this reference.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Optional

from . import decode
from .detect import MAX_CANDIDATE_CHARS, lines
from .segments import Segment

MAX_INK = 24
"""Characters a mark line may hold that are not spaces, punctuation, frame characters, combining
marks or zero-width characters (bytes 0x80-0xBF of legacy text do not count either). A mark's key
(``detect.key``) has at most 13 such characters (``ĐỘMẬTTUYỆTMẬT``); a legacy form spends up
to two on one letter (VNI ``ÑOÄ MAÄT: TUYEÄT MAÄT`` has 17), hence 24 with a margin. A line
about a secret ("Kết quả công tác bảo vệ bí mật nhà nước", 31) is not a candidate."""
MAX_LEGACY_BYTES = 4 * MAX_CANDIDATE_CHARS
"""Bytes of a legacy line that decodes to at most MAX_CANDIDATE_CHARS characters."""

NEEDLE_CHARS = "\u1eac\u1ead\u0302\u0323\xcb\xeb\xc4\xe4\u2021\u2020\xa7\x86\x87\xf2"
"""Characters without which no decoding of a line holds Ậ: the letter itself (NFC), the two
combining marks of every decomposed or composite form (NFD, Unikey, ``Ạ`` + U+0302), and, for
legacy text shown through cp1252, TCVN3/VN1 ``Ë`` (0xCB), VNI ``Ä``/``ä``, VISCII ``‡``/``§``
(0x87, 0xA7), VN1 ``†`` (0x86), cp1258's combining dot below ``ò`` (0xF2), the C1 controls a
Latin-1 view gives for 0x86/0x87; and VIQR's ``A^.`` (``_NEEDLE_RE``)."""
_NOT_INK = ((0x00, 0x20), (0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7F), (0x80, 0xBF),
            (0x300, 0x36F), (0x1680, 0x1680), (0x180E, 0x180E), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF),
            (0x2000, 0x206F), (0x20AC, 0x20AC), (0x20D0, 0x20FF), (0x2122, 0x2122), (0x2500, 0x25FF), (0x3000, 0x303F), (0xFE00, 0xFE0F),
            (0xFE20, 0xFE2F), (0xFEFF, 0xFEFF))
"""Code points that are not ink: controls, spaces, ASCII punctuation, Latin-1 punctuation (NBSP,
soft hyphen, guillemets), combining marks, general punctuation (quotes, dashes, bullets,
zero-width and exotic spaces), box drawing and geometric shapes, CJK brackets, variation
selectors, BOM (and cp1252's € and ™, whose bytes are letters in VN1): a superset of what
``detect.key`` and ``decode.normalize`` drop."""
_NEEDLE_RE = re.compile("[" + "".join(f"\\u{ord(c):04x}" for c in NEEDLE_CHARS) + "]|[Aa]\\^\\.")
_NOT_INK_RE = re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _NOT_INK) + "]")

LEGACY_NEEDLES = b"\xcb\xc4\xe4\xf2\x87\xa7\x86\xb4"
"""Bytes without which no legacy decoding of a line holds Ậ: TCVN3 ậ and VN1 ậ (0xCB), VNI's
dot-and-circumflex mark (0xC4, 0xE4), cp1258's combining dot below (0xF2), VISCII Ậ ậ (0x87,
0xA7), VN1 Ậ (0x86) and its combining dot below (0xB4); and VIQR ``A^.``."""
_LEGACY_NEEDLE_RE = re.compile(b"[" + b"".join(b"\\x%02x" % b for b in LEGACY_NEEDLES) + b"]|[Aa]\\^\\.")
_LEGACY_BAD_RE = re.compile(rb"[\x00-\x08\x0e-\x1f]")
"""Control bytes (NUL: UTF-16; VISCII and VN1 map some controls to letters, which would change
where lines end): such a file is not pre-filtered."""
_LEGACY_LINE_RE = re.compile(rb"[\n\r\v\f]")

_MARK_BASES = frozenset("AEIMOTUYDĐ")
"""Base letters of the mark words (MẬT, TỐI, TUYỆT, ĐỘ; D for VIQR's DD)."""


def _mark_letter(s: str) -> bool:
    """``s`` decomposed and upper-cased is only base letters of the mark words and combining marks."""
    return bool(s) and all(ch in _MARK_BASES or unicodedata.combining(ch) for ch in unicodedata.normalize("NFD", s).upper())


def _not_ink(s: str) -> bool:
    return all(unicodedata.combining(ch) or any(lo <= ord(ch) <= hi for lo, hi in _NOT_INK) for ch in s)


def _legacy_readings(view: str) -> list[str]:
    """What one character of a cp1252 view becomes in each legacy decoding (VNI's marks after an A)."""
    return [decode.DECODERS[name](view) for name in ("tcvn3", "viscii", "vn1", "cp1258", "vni")] + [decode.vni("A" + view)]


def _views() -> dict[str, int]:
    """Each character a legacy byte shows as (cp1252, or Latin-1 where cp1252 has no character)."""
    out: dict[str, int] = {}
    for b in range(0x80, 0x100):
        out.setdefault(decode._CP1252[b], b)
        out.setdefault(chr(b), b)
    return out


def _allowed_chars() -> frozenset[str]:
    """Characters the ink of a mark line can hold, in its Unicode reading or in a legacy decoding
    of its cp1252 view (``detect.candidates``): every other letter rules the line out."""
    views = _views()
    out = {chr(c) for c in range(0x2000) if _mark_letter(chr(c))
           or (chr(c) in views and any(_mark_letter(r) for r in _legacy_readings(chr(c))))}
    out |= {v for v in views if any(_mark_letter(r) for r in _legacy_readings(v))}
    out.add("\uff1a")  # the full-width colon of the field form "Độ mật："
    out = {c for c in out if not _not_ink(c)}
    assert all(ord(c) < 0x2000 for c in out - {"\uff1a"}), "the C bitmap covers U+0000-U+1FFF"
    return frozenset(out)


def _legacy_classes() -> bytes:
    """Per byte of legacy text: 0 not ink (in some decoding), 1 a letter of a mark (in some), 2 neither."""
    out = bytearray(256)
    for b in range(256):
        if b < 0x80:
            c = chr(b)
            out[b] = 0 if _not_ink(c) else 1 if c.upper() in _MARK_BASES else 2
            continue
        views = {decode._CP1252[b], chr(b)}
        readings = [r for v in views for r in _legacy_readings(v)]
        if any(_not_ink(r) for v in views for r in _legacy_readings(v)[:-1]):
            out[b] = 0
        elif any(_mark_letter(r) for r in readings):
            out[b] = 1
        else:
            out[b] = 2
    return bytes(out)


ALLOWED_CHARS = _allowed_chars()
_ALLOWED_BITMAP = bytes(sum(1 << k for k in range(8) if chr(8 * i + k) in ALLOWED_CHARS) for i in range(0x2000 // 8))
LEGACY_CLASSES = _legacy_classes()
_LEGACY_INK_RE = re.compile(b"[" + b"".join(b"\\x%02x" % b for b in range(256) if LEGACY_CLASSES[b]) + b"]")
_LEGACY_FOREIGN_RE = re.compile(b"[" + b"".join(b"\\x%02x" % b for b in range(256) if LEGACY_CLASSES[b] == 2) + b"]")

try:
    from ._fastplain import legacy_candidates as _c_legacy, utf8_candidates as _c_utf8
except ImportError:  # built without a C compiler: the pure-Python path gives the same answers
    _c_utf8 = _c_legacy = None


def count_text(text: str, limit: int) -> int:
    """Lines of ``text`` (as ``str.splitlines`` splits) that could be a mark, counted up to
    ``limit + 1``. The reference of ``_fastplain.utf8_candidates``."""
    if not _NEEDLE_RE.search(text):
        return 0
    n = 0
    for line in text.splitlines():
        if len(line) <= MAX_CANDIDATE_CHARS and _NEEDLE_RE.search(line):
            ink = _NOT_INK_RE.sub("", line)
            if len(ink) > MAX_INK or not ALLOWED_CHARS.issuperset(ink):
                continue
            n += 1
            if n > limit:
                break
    return n


def count_utf8_py(data: bytes, limit: int) -> int:
    """``count_text`` of UTF-8 bytes; -1 when they are not strict UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return -1
    return count_text(text, limit)


def count_legacy_py(data: bytes, limit: int) -> int:
    """Lines of 8-bit legacy text that could be a mark in any legacy decoding, up to ``limit + 1``;
    -1 when the file holds control bytes (see ``_LEGACY_BAD_RE``). The reference of
    ``_fastplain.legacy_candidates``."""
    if _LEGACY_BAD_RE.search(data):
        return -1
    if not _LEGACY_NEEDLE_RE.search(data):
        return 0
    n = 0
    for line in _LEGACY_LINE_RE.split(data):
        if len(line) <= MAX_LEGACY_BYTES and _LEGACY_NEEDLE_RE.search(line) \
                and len(_LEGACY_INK_RE.findall(line)) <= MAX_INK and not _LEGACY_FOREIGN_RE.search(line):
            n += 1
            if n > limit:
                break
    return n


def count_utf8(data: bytes, limit: int) -> int:
    """``count_utf8_py``, in C when the optional extension was built (it releases the GIL)."""
    if _c_utf8 is None:
        return count_utf8_py(data, limit)
    return _c_utf8(data, MAX_CANDIDATE_CHARS, MAX_INK, limit, _ALLOWED_BITMAP)


def count_legacy(data: bytes, limit: int) -> int:
    """``count_legacy_py``, in C when the optional extension was built."""
    if _c_legacy is None:
        return count_legacy_py(data, limit)
    return _c_legacy(data, MAX_LEGACY_BYTES, MAX_INK, limit, LEGACY_CLASSES)


def _utf16(data: bytes) -> bool:
    return data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1:1025:2].count(0) > 200)


def candidate_lines(data: bytes, limit: int = 0) -> Optional[int]:
    """How many lines of a plain-text file could be a mark, counted up to ``limit + 1``, in the
    encoding ``plain_segments`` will read it in; None when this cannot be told without reading
    the file in full (legacy text with control bytes, UTF-16 guessed from its zeros).
    0 means clean: ``plain_segments`` would find no mark."""
    if _utf16(data):
        text, _ = decode.decode_text_bytes(data)
        return count_text(text, limit)
    n = count_utf8(data, limit)
    if n >= 0:
        return n
    if data.startswith(b"\xef\xbb\xbf"):  # a BOM, then bytes that are not UTF-8: read with replacement
        text, _ = decode.decode_text_bytes(data)
        return count_text(text, limit)
    n = count_legacy(data, limit)
    return None if n < 0 else n


def proven_clean(data: bytes) -> bool:
    """True when ``plain_segments`` would find nothing (no line of the file can be a mark)."""
    return candidate_lines(data, 0) == 0


def plain_segments(data: bytes, prefilter: bool = True) -> tuple[str, list[Segment]]:
    """(encoding, one segment per line); no segments for UTF-8 text in which no line can be a mark
    (``prefilter=False``: always every line, which tests compare the pre-filter with)."""
    if _utf16(data):
        text, enc = decode.decode_text_bytes(data)
        return enc, lines(text, enc)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", lines(text, "utf-8") if not prefilter or count_utf8(data, 0) else []
    text, enc = decode.decode_text_bytes(data)
    return enc, lines(text, enc, legacy=decode.legacy_view(data))
