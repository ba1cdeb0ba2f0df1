"""The tool's message catalog as this layer sees it: a lookup handed in from above.

``policies`` imports nothing of ours, so the words it renders with (citation.WORDS and KIND) are
built in; ``scanner.i18n`` hands its catalog in here when it loads (``use``), and citations then
take the catalog's ``citation.*`` texts. This module imports nothing, so handing it in is free.
"""

from __future__ import annotations

from typing import Callable, Optional

_LOOKUP: Optional[Callable[[str, str], Optional[str]]] = None
_USERS: list[Callable[[], None]] = []


def use(lookup: Optional[Callable[[str, str], Optional[str]]]) -> None:
    """Take words from ``lookup(key, lang)`` from now on (None: the built-in words)."""
    global _LOOKUP
    _LOOKUP = lookup
    for forget in _USERS:
        forget()


def lookup(key: str, lang: str) -> Optional[str]:
    """The catalog's text of ``key`` in ``lang``; None when none was handed in or it lacks the key."""
    return _LOOKUP(key, lang) if _LOOKUP is not None else None


def on_change(forget: Callable[[], None]) -> None:
    """``forget`` (a cache's clear) runs whenever another catalog is handed in."""
    _USERS.append(forget)
