"""The unit the detector reads: one paragraph, table cell, text-box paragraph, header line or PDF
text line, already decoded to Unicode, with the formatting hints that make a stamp a stamp."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

PARTS = ("header", "body", "textbox", "annotation", "footer", "ocr")


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of text that keeps its structure; never leaves the worker process."""

    text: str
    """Decoded text (legacy runs already turned to Unicode by their font)."""
    index: int = 0
    """Position in reading order within the whole document (0 is the first segment)."""
    page: int = 0
    """Page, slide or sheet number, from 0; 0 when the format has no pages (docx body)."""
    part: str = "body"
    """One of PARTS: where the text sits."""
    bold: bool = False
    """Every non-space character is bold."""
    red: bool = False
    """Every non-space character is red ink."""
    framed: bool = False
    """The paragraph or its runs have a border, or the text box has a line."""
    top: Optional[bool] = None
    """Near the top of its page, when the format tells (PDF y position); None: judge by index."""
    font: Optional[str] = None
    """Font of the first run (the one that decided a legacy decoding)."""
    encoding: str = "unicode"
    """How the text was decoded: unicode, utf-8, utf-16, tcvn3, vni, cp1258, viscii, vn1, viqr."""
    legacy: Optional[str] = None
    """For text decoded from bytes of a guessed encoding: the cp1252 view of those bytes, so that
    the detector can try the other legacy decodings on a short segment."""
    double: bool = False
    """Two nested borders, the secrecy stamp's frame (seen in scanned pages by OCR)."""
