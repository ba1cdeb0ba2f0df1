"""txt, csv, md and other plain text: UTF-8, UTF-16, NFD, or a guessed legacy encoding."""

from __future__ import annotations

from . import decode
from .detect import lines
from .segments import Segment


_MAX_LINE = 160 * 4  # bytes: a candidate line is at most MAX_CANDIDATE_CHARS characters
_MAX_INK = 48 * 3  # bytes that are not spaces: a mark line has at most ~48 visible characters


def _short_line_with_needle(data: bytes) -> bool:
    """Some line both short enough to be a mark and holding a needle (else nothing can match).

    Visits only the lines that hold a needle, once per needle, in C-level searches."""
    find, rfind, end = data.find, data.rfind, len(data)
    for n in decode.NEEDLES_UTF8:
        pos = find(n)
        while pos >= 0:
            s = rfind(b"\n", 0, pos) + 1
            e = find(b"\n", pos)
            if e < 0:
                e = end
            if e - s <= _MAX_LINE and (e - s) - data.count(b" ", s, e) <= _MAX_INK:
                return True
            pos = find(n, e)
    return False


def proven_clean(data: bytes) -> bool:
    """True when ``plain_segments`` would find nothing: UTF-8 text (not UTF-16) in which no line
    is both short enough to be a mark and holds a byte form of the letter Ậ. Pure and cheap (C
    searches over the bytes): the scanning process uses it to skip the worker for most text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1::2][:512].count(0) > 200):
        return False
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False
    return not decode.may_hold_mark(data) or not _short_line_with_needle(data)


def plain_segments(data: bytes) -> tuple[str, list[Segment]]:
    """(encoding, one segment per line); no segments when no form of a mark can be present."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1::2][:512].count(0) > 200):
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
