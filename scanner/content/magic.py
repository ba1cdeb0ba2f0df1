"""Which bytes are a picture, and which members of an office file hold pictures: the cheap
questions asked of every file, kept apart from the decoders so that a worker imports Pillow and
the OCR code only for files that have a picture."""

from __future__ import annotations

from typing import Optional

MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpeg", b"II*\x00": "tiff", b"MM\x00*": "tiff",
         b"GIF87a": "gif", b"GIF89a": "gif"}
_BMP_DIB = {12, 16, 40, 52, 56, 64, 108, 124}
"""Sizes of the BMP info headers: "BM" alone starts too many text files ("BMNN ...")."""


def image_format(data: bytes) -> Optional[str]:
    """png / jpeg / tiff / bmp / gif / webp by magic bytes, else None."""
    for magic, name in MAGIC.items():
        if data.startswith(magic):
            return name
    if data.startswith(b"BM") and len(data) >= 18 and int.from_bytes(data[14:18], "little") in _BMP_DIB:
        return "bmp"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"  # what chat applications save photos as
    return None


def media_names(names: list[str]) -> list[str]:
    """Zip members that hold an office file's pictures (docx/xlsx/pptx ``media/``, ODF
    ``Pictures/``), in a stable order."""
    return sorted(n for n in names if ("/media/" in n and n.split("/", 1)[0] in ("word", "xl", "ppt"))
                  or n.startswith("Pictures/"))
