"""Safe YAML loading that remembers where every value came from.

PyYAML's node tree carries line and column marks; plain ``safe_load`` throws them away. We
compose the node tree ourselves, build plain Python values from it, and keep a map from the path
of each value (``("checks", 3, "severity")``) to its position, so that schema and cross-reference
errors found later can still point at the exact spot. Duplicate keys, which PyYAML silently
accepts, are errors here: in a policy file the second one would quietly win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import PolicyError, Problem

Path = tuple[Any, ...]


@dataclass
class Located:
    """A YAML document as plain data plus the position of every value and key."""

    file: str
    data: Any
    lines: list[str]
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def problem(self, path: Path, message: str, *, key: bool = False) -> Problem:
        """A Problem pointing at ``path`` (its key when ``key``), or at the nearest parent known."""
        table = self.keys if key else self.values
        probe = tuple(path)
        pos = table.get(probe)
        while pos is None and probe:
            probe = probe[:-1]
            pos = self.values.get(probe)
        if pos is None:
            return Problem(self.file, None, None, message)
        line, col = pos
        src = self.lines[line - 1] if 0 < line <= len(self.lines) else None
        return Problem(self.file, line, col, message, src)


class _Constructor(yaml.constructor.SafeConstructor):
    pass


# libyaml's composer is ~10x faster and keeps the same node marks; pure Python where it is missing.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_text(text: str, file: str) -> Located:
    """Parse ``text`` (named ``file`` in messages) into a Located document."""
    lines = text.splitlines()
    try:
        node = yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = f"YAML syntax error: {exc.problem or exc.context}"
        if mark is None:
            raise PolicyError(Problem(file, None, None, msg)) from None
        line = mark.line + 1
        src = lines[mark.line] if mark.line < len(lines) else None
        raise PolicyError(Problem(file, line, mark.column + 1, msg, src)) from None
    except yaml.YAMLError as exc:
        raise PolicyError(Problem(file, None, None, f"YAML error: {exc}")) from None
    doc = Located(file=file, data=None, lines=lines)
    if node is None:
        return doc
    constructor = _Constructor()
    problems: list[Problem] = []
    doc.data = _build(node, (), doc, constructor, problems)
    if problems:
        raise PolicyError(problems)
    return doc


def load_file(path: str) -> Located:
    """Read and parse a YAML file; unreadable or non-UTF-8 files are PolicyErrors naming the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise PolicyError(Problem(path, None, None, f"cannot read: {exc.strerror}")) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise PolicyError(Problem(path, line, None, "not valid UTF-8 text")) from None
    return load_text(text, path)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _build(node: yaml.Node, path: Path, doc: Located, ctor: _Constructor, problems: list[Problem]) -> Any:
    doc.values[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        ctor.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), doc, ctor, problems)
            if not isinstance(key, (str, int)):
                problems.append(doc.problem(path + ("<key>",), "mapping keys must be plain strings"))
                continue
            if key in out:
                doc.keys[path + (key,)] = _mark(key_node)
                problems.append(doc.problem(path + (key,), f"duplicate key {key!r}", key=True))
                continue
            doc.keys[path + (key,)] = _mark(key_node)
            out[key] = _build(value_node, path + (key,), doc, ctor, problems)
        doc.values.pop(path + ("<key>",), None)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), doc, ctor, problems) for i, item in enumerate(node.value)]
    try:
        return ctor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(doc.problem(path, f"bad value: {exc.problem}"))
        return None
