"""The one exception type of the policy layer, and how its messages look.

Every problem in a policy file is reported the way USBGuard and compilers do: ``path:line:col:
message``, then the offending line and a caret under the bad spot, so that an administrator
editing ``/etc/bmnn/local.d`` at a console can fix it without reading our code.

A message may quote a value from the file (``invalid value 'netwrok'``). That is fine at the
console for a file everyone may read, and nowhere else: the daemon journals, sends to the SIEM
and answers over its socket only the *redacted* form (file:line:col, what is wrong, key names),
and a file that is private or was refused is always shown redacted. So the contents of a file a
careless administrator linked or copied into ``local.d`` (``/etc/shadow``) never travel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"")


def scrub(text: str) -> str:
    """``text`` with every quoted value replaced by ``…`` (the default redaction)."""
    return _QUOTED.sub("…", text)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one policy or configuration file."""

    path: str
    """File the problem is in."""
    line: Optional[int]
    """1-based line, when known."""
    col: Optional[int]
    """1-based column, when known."""
    message: str
    """What is wrong and, where it helps, what to do (English; may quote values of the file)."""
    source_line: Optional[str] = None
    """The text of the offending line, for the caret display (only for files everyone may read)."""
    redacted: Optional[str] = None
    """``message`` with nothing from the file but key names (default: quoted values scrubbed)."""
    private: bool = False
    """The file is not readable by everyone, or was refused: always render redacted."""
    vi: Optional[str] = None
    """Vietnamese wording, for messages that quote nothing from the file."""

    def text(self, lang: str = "en", *, redact: bool = False) -> str:
        """The message alone, in ``lang`` when a translation exists, redacted when asked or private."""
        if lang == "vi" and self.vi:
            return self.vi
        if redact or self.private:
            return self.redacted if self.redacted is not None else scrub(self.message)
        return self.message

    def where(self) -> str:
        """``path:line:col`` (as much of it as is known)."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        return where

    def render(self, lang: str = "en", *, redact: bool = False) -> str:
        """``path:line:col: message`` plus the line and a caret (never when redacted)."""
        text = f"{self.where()}: {self.text(lang, redact=redact)}"
        if not (redact or self.private) and self.source_line is not None and self.col is not None:
            text += f"\n    {self.source_line.rstrip()}\n    {' ' * (self.col - 1)}^"
        return text


class PolicyError(Exception):
    """The policy bundle or local tailoring cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.render())

    def render(self, lang: str = "en", *, redact: bool = False) -> str:
        """All problems, one block each."""
        return "\n".join(p.render(lang, redact=redact) for p in self.problems)

    def redacted(self, lang: str = "en") -> str:
        """What the daemon may journal: every problem as file:line:col and what is wrong, no content."""
        return self.render(lang, redact=True)
