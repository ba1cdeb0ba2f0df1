"""The one exception type of the policy layer, and how its messages look.

Every problem in a policy file is reported the way USBGuard and compilers do: ``path:line:col:
message``, then the offending line and a caret under the bad spot, so that an administrator
editing ``/etc/bmnn/local.d`` at a console can fix it without reading our code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one policy file."""

    path: str
    """File the problem is in."""
    line: Optional[int]
    """1-based line, when known."""
    col: Optional[int]
    """1-based column, when known."""
    message: str
    """What is wrong and, where it helps, what to do."""
    source_line: Optional[str] = None
    """The text of the offending line, for the caret display."""

    def render(self) -> str:
        """``path:line:col: message`` plus the line and a caret."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        text = f"{where}: {self.message}"
        if self.source_line is not None and self.col is not None:
            text += f"\n    {self.source_line.rstrip()}\n    {' ' * (self.col - 1)}^"
        return text


class PolicyError(Exception):
    """The policy bundle or local tailoring cannot be used; carries every problem found."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one block each."""
        return "\n".join(p.render() for p in self.problems)
