"""txt, csv, md and other plain text: UTF-8, UTF-16, NFD, or a guessed legacy encoding."""

from __future__ import annotations

from . import decode
from .detect import lines
from .segments import Segment


def plain_segments(data: bytes) -> tuple[str, list[Segment]]:
    """(encoding, one segment per line); no segments when no form of a mark can be present."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1::2][:512].count(0) > 200):
        text, enc = decode.decode_text_bytes(data)
        return enc, lines(text, enc)
    try:
        text = data.decode("utf-8")
        if not decode.may_hold_mark(data):
            return "utf-8", []
        return "utf-8", lines(text, "utf-8")
    except UnicodeDecodeError:
        pass
    text, enc = decode.decode_text_bytes(data)
    return enc, lines(text, enc, legacy=decode.legacy_view(data))
