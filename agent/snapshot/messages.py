"""What the inspector's side says, in Vietnamese and English, whole sentences.

Every problem, warning and note of ``snapshot verify``, ``report fleet`` and ``bmnn keys`` is a
code with ``{named}`` placeholders: the catalog's key ``snapshot.msg.CODE`` (scanner/locale), so
that scripts match the code while people read the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def say(code: str, lang: str = "vi", **kw: Any) -> str:
    """The sentence for ``code`` in ``lang`` with its placeholders filled (a placeholder may be a
    ``Problem`` itself: a phrase that has both languages, such as "the review of DATE")."""
    from bmnn_guard.scanner.i18n import t
    return t(f"snapshot.msg.{code}", lang, **{k: v.get(lang) if isinstance(v, Problem) else v for k, v in kw.items()})


@dataclass(frozen=True)
class Problem:
    """One thing that does not match (or is worth saying), in both languages."""

    code: str
    """Stable identifier for scripts (``unknown_host``, ``rollback``...)."""
    vi: str
    """The sentence in Vietnamese."""
    en: str
    """The sentence in English."""

    @classmethod
    def of(cls, code: str, **kw: Any) -> "Problem":
        """The problem ``code`` with its placeholders filled in both languages."""
        return cls(code, say(code, "vi", **kw), say(code, "en", **kw))

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi
