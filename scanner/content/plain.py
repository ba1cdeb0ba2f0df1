"""txt, csv, md and other plain text: UTF-8, UTF-16, NFD, or a guessed legacy encoding."""

from __future__ import annotations

from . import decode
from .detect import lines
from .segments import Segment


_MAX_LINE = 160 * 4  # bytes: a candidate line is at most MAX_CANDIDATE_CHARS characters
_MAX_INK = 48 * 3  # bytes that are not spaces: a mark line has at most ~48 visible characters


def _short_line_with_needle(data: bytes) -> bool:
    """Some line both short enough to be a mark and holding a needle (else nothing can match)."""
    for line in data.split(b"\n"):
        if len(line) <= _MAX_LINE and len(line.replace(b" ", b"")) <= _MAX_INK:
            if any(n in line for n in decode.NEEDLES_UTF8):
                return True
    return False


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
