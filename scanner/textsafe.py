"""Make text from the machine safe to print: no forged lines, no terminal control, no reordering.

File names, device strings, log messages and journal evidence come from users who may be hostile.
Printed raw, a newline in a file name forges a line of ``bmnn events`` output, an ESC sequence
moves the cursor or rewrites the screen, and a right-to-left override (U+202E) makes
``txt.exe`` read as ``exe.txt``. Every text output (reports, events, content, status, wall and
desktop alerts, journald) passes such values through ``visible``: each dangerous character is
replaced by a visible escape (``\\n``, ``\\x1b``, ``\\u202e``); everything else, Vietnamese
included, is left as it is. Undecodable bytes of a file name (``os.fsdecode``'s surrogate escapes)
are shown as ``\\xNN`` instead of crashing the encoder.

HTML, CSV, ECS JSON and syslog have escaping of their own; this is for plain text.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}

# C0 controls, DEL, C1 controls; bidirectional embeddings, overrides and isolates, marks;
# line and paragraph separators (they end a line in many terminals and viewers); BOM/zero-width
# no-break space; surrogates (undecodable bytes of file names under surrogateescape).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff"
                     "\ud800-\udfff\\\\]")
_UNSAFE_KEEP_NL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                             "\u2066-\u2069\ufeff\ud800-\udfff]")


def _escape(m: re.Match) -> str:
    c = m.group(0)
    if c in _NAMED:
        return _NAMED[c]
    o = ord(c)
    if 0xDC80 <= o <= 0xDCFF:  # surrogateescape: the original byte
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x100:
        return f"\\x{o:02x}"
    return f"\\u{o:04x}"


def visible(value: object) -> str:
    """``value`` as one line of safe text: controls, ESC, bidi controls and backslashes escaped.

    The backslash itself is doubled so that an escape in the output always means a character that
    was there, never one a user typed to look like an escape.
    """
    return _UNSAFE.sub(_escape, value if isinstance(value, str) else str(value))


def visible_lines(value: object) -> str:
    """Like ``visible`` but keeps newlines and tabs (for multi-line text the program itself wrote,
    such as a report body), still escaping ESC, other controls and bidi controls."""
    return _UNSAFE_KEEP_NL.sub(_escape, value if isinstance(value, str) else str(value))


def is_visible(value: str) -> bool:
    """True when ``visible`` would leave ``value`` unchanged."""
    return _UNSAFE.search(value) is None
