"""txt, csv, md and other plain text: UTF-8, UTF-16, NFD, or a guessed legacy encoding."""

from __future__ import annotations

from . import decode
from .detect import lines
from .segments import Segment


_MAX_LINE = 160 * 4  # bytes: a candidate line is at most MAX_CANDIDATE_CHARS characters
_MAX_INK = 48 * 3  # bytes that are not spaces: a mark line has at most ~48 visible characters
PLAIN_NEEDLES = tuple(n for n in decode.NEEDLES_UTF8 if n not in (b"&#", b"\\u78", b"\\'"))
"""The byte forms of Ậ a plain text can hold: character references and RTF escapes are not
decoded in plain text, so they cannot make a mark there (source code is full of ``\\'``)."""


def _short_line_with_needle(data: bytes) -> bool:
    """Some line both short enough to be a mark and holding a needle (else nothing can match)."""
    needles = PLAIN_NEEDLES
    for line in data.split(b"\n"):
        if len(line) <= _MAX_LINE and len(line) - line.count(b" ") <= _MAX_INK:
            for n in needles:
                if n in line:
                    return True
    return False


try:
    from ._fastplain import candidate as _c_candidate
except ImportError:  # built without a C compiler: the pure-Python path gives the same answers
    _c_candidate = None


def proven_clean(data: bytes) -> bool:
    """``proven_clean_py``, in C when the optional extension was built (it releases the GIL)."""
    if _c_candidate is None:
        return proven_clean_py(data)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1:1025:2].count(0) > 200):
        return False
    return not _c_candidate(data, PLAIN_NEEDLES, _MAX_LINE, _MAX_INK)


def proven_clean_py(data: bytes) -> bool:
    """True when ``plain_segments`` would find nothing: UTF-8 text (not UTF-16) in which no line
    is both short enough to be a mark and holds a byte form of the letter Ậ. Pure and cheap (C
    searches over the bytes): the scanning process uses it to skip the worker for most text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1:1025:2].count(0) > 200):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return not any(n in data for n in PLAIN_NEEDLES) or not _short_line_with_needle(data)


def plain_segments(data: bytes) -> tuple[str, list[Segment]]:
    """(encoding, one segment per line); no segments when no form of a mark can be present."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1:1025:2].count(0) > 200):
        text, enc = decode.decode_text_bytes(data)
        return enc, lines(text, enc)
    try:
        text = data.decode("utf-8")
        if not decode.may_hold_mark(data) or not _short_line_with_needle(data):
            return "utf-8", []
        return "utf-8", lines(text, "utf-8")
    except UnicodeDecodeError:
        pass
    text, enc = decode.decode_text_bytes(data)
    return enc, lines(text, enc, legacy=decode.legacy_view(data))
