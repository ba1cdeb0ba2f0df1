"""The one YAML loader: hard limits, and the position of every value.

Every YAML input of bmnn-guard (policy bundle, ``local.d``, ``agent.yaml``, manual answers, the
approved-device registry) is parsed here, so every one gets the same limits. They are enforced
while composing, from libyaml's event stream, before the value the event stands for is built:

* the file size is capped before parsing (the caller reads at most ``max_bytes + 1`` bytes);
* nesting depth, nodes, aliases and the size of one scalar are counted event by event;
* every alias adds the full size of what it points to (nodes and scalar text), so a
  billion-laughs bomb of any fan-out, merge keys (``<<``) included, stops at the alias that
  crosses ``max_expanded`` instead of expanding to gigabytes in ``msgspec.convert`` later;
* a stream holds one document: the second ``---`` is an error, not a fresh budget.

An alias shares the Python value of its anchor instead of copying it, and positions below an alias
are found through the anchor (``Located.aliases``), so expansion costs nothing until the schema
converts the data, and by then its size is known to be bounded.

Duplicate keys, which PyYAML silently accepts, are errors here: in a policy file the second one
would quietly win. Tags other than the plain YAML types are refused (no ``!!python/...``, no
``!!set``): configuration is data.

Positions: ``Located.values`` and ``Located.keys`` map the path of each value (``("checks", 3,
"severity")``) to its 1-based line and column, so schema and cross-reference errors found later
still point at the exact spot. A problem shows the offending line with a caret only when the file
may be read by everyone (``disclose``): an error never copies a line of a private file, or of a
file that was refused, into a terminal, the journal or a SIEM.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from typing import Any, Optional

import yaml
from yaml import events as E

from .errors import PolicyError, Problem

Path = tuple[Any, ...]

try:  # libyaml's parser: ~10x faster than PyYAML's own, same marks
    from yaml._yaml import CParser as _Parser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _Parser = None


@dataclass(frozen=True)
class Limits:
    """Hard limits of one YAML file. Past any of them the file is refused with file:line:col."""

    max_bytes: int = 1 << 20
    """File size (the reader stops one byte past it)."""
    max_depth: int = 64
    """Nesting of mappings and sequences, flow and block alike."""
    max_nodes: int = 20_000
    """Scalars, mappings and sequences as written (the largest shipped file has about 1,000)."""
    max_aliases: int = 1_000
    """``*alias`` references."""
    max_expanded: int = 100_000
    """Values once every alias and merge key is expanded (what the schema check walks)."""
    max_scalar: int = 256 << 10
    """Characters in one scalar."""
    max_expanded_text: int = 8 << 20
    """Characters of scalar text once aliases are expanded."""
    max_typed_scalar: int = 256
    """Characters of a scalar that resolves to a number, date, boolean or null (sexagesimal
    integers such as ``1:2:3:...`` cost quadratic time to convert)."""


CONFIG_LIMITS = Limits()
"""local.d, agent.yaml, manual answers, the device registry."""
POLICY_LIMITS = Limits(max_bytes=4 << 20, max_nodes=30_000, max_scalar=1 << 20)
"""Files of a policy bundle (the legal catalog quotes article texts)."""


class Budget:
    """What the files of one folder may use together: per-file limits alone would let 1,000 files
    of 20,000 values each stall a reload for minutes."""

    def __init__(self, folder: str, max_nodes: int, max_bytes: int):
        self.folder = folder
        """Named in the error."""
        self.max_nodes, self.max_bytes = max_nodes, max_bytes
        self.nodes_left, self.bytes_left = max_nodes, max_bytes

    def take_bytes(self, n: int, file: str) -> None:
        """Account for a file of ``n`` bytes before it is parsed."""
        self.bytes_left -= n
        if self.bytes_left < 0:
            msg = f"the files of {self.folder} hold more than {self.max_bytes} bytes together; refused"
            raise PolicyError(Problem(file, None, None, msg, redacted=msg,
                                      vi=f"các tệp trong {self.folder} tổng cộng lớn hơn {self.max_bytes} byte; bị từ chối"))

_MERGE = "tag:yaml.org,2002:merge"
_STR = "tag:yaml.org,2002:str"
_INT, _BOOL, _NULL = "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_SCALAR_TAGS = {"tag:yaml.org,2002:" + t for t in ("null", "bool", "int", "float", "str", "timestamp", "binary")}
_MAP_TAGS = {None, "!", "tag:yaml.org,2002:map"}
_SEQ_TAGS = {None, "!", "tag:yaml.org,2002:seq"}
_KEYLIKE = re.compile(r"^[\w.@/+-]{1,64}$")


def key_name(key: Any) -> str:
    """A key as it may appear in any message: quoted when it looks like a name, else ``…``.

    A key is content of the file too (a line of /etc/shadow read as YAML is one long key), so only
    short name-like keys are ever repeated back.
    """
    text = str(key)
    return repr(text) if _KEYLIKE.match(text) else "…"


class _MergeKey:
    """The ``<<`` key while its mapping is being built."""


MERGE = _MergeKey()


@dataclass
class Located:
    """A YAML document as plain data plus the position of every value and key."""

    file: str
    data: Any
    text: str = ""
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)
    aliases: dict[Path, Path] = field(default_factory=dict)
    """Path of an alias (or of a key taken in by a merge) -> path of what it stands for."""
    disclose: bool = True
    """The file may be read by everyone: problems may quote its lines (caret display)."""
    _starts: Optional[array] = None

    def line(self, n: int) -> Optional[str]:
        """Line ``n`` (1-based) of the text, or None. Line starts are indexed on first use (only
        error messages need them), 8 bytes a line rather than a string per line."""
        if self._starts is None:
            self._starts = array("q", [0])
            self._starts.extend(m.end() for m in re.finditer("\n", self.text))
        if not 0 < n <= len(self._starts):
            return None
        start = self._starts[n - 1]
        end = self._starts[n] - 1 if n < len(self._starts) else len(self.text)
        return self.text[start:end]

    def position(self, path: Path, *, key: bool = False) -> Optional[tuple[int, int]]:
        """Where ``path`` (its key when ``key``) was written, looking through aliases and merges."""
        table = self.keys if key else self.values
        probe = tuple(path)
        for _ in range(256):  # alias hops; a cycle cannot be composed, this only bounds the walk
            pos = table.get(probe)
            if pos is not None:
                return pos
            for n in range(len(probe), 0, -1):
                target = self.aliases.get(probe[:n])
                if target is not None:
                    probe = target + probe[n:]
                    break
            else:
                return None
        return None

    def problem(self, path: Path, message: str, *, key: bool = False, redacted: Optional[str] = None,
                vi: Optional[str] = None) -> Problem:
        """A Problem pointing at ``path`` (its key when ``key``), or at the nearest parent known."""
        probe = tuple(path)
        pos = self.position(probe, key=key)
        while pos is None and probe:
            probe = probe[:-1]
            pos = self.position(probe)
        return self.problem_at(pos, message, redacted=redacted, vi=vi)

    def problem_at(self, pos: Optional[tuple[int, int]], message: str, *, redacted: Optional[str] = None,
                   vi: Optional[str] = None) -> Problem:
        """A Problem at a (line, col) position of this file."""
        if pos is None:
            return Problem(self.file, None, None, message, redacted=redacted, private=not self.disclose, vi=vi)
        line, col = pos
        src = None
        candidate = self.line(line) if self.disclose else None
        if candidate is not None:
            candidate = candidate.rstrip("\r")
            # only a line that prints as it is: no controls, ESC or bidi overrides reach a terminal
            if 0 < len(candidate) <= 400 and col <= len(candidate) + 1 and candidate.replace("\t", " ").isprintable():
                src = candidate
        return Problem(self.file, line, col, message, src, redacted=redacted, private=not self.disclose, vi=vi)


def _fatal(doc: Located, mark: Any, en: str, vi: str) -> PolicyError:
    pos = (mark.line + 1, mark.column + 1) if mark is not None else None
    return PolicyError(doc.problem_at(pos, en, redacted=en, vi=vi))


@dataclass
class _Anchor:
    value: Any
    path: Path
    weight: int
    text: int


_OPEN = _Anchor(None, (), 0, 0)


class _Frame:
    __slots__ = ("value", "path", "anchor", "w0", "t0", "mark", "key", "key_mark", "skip", "merge", "is_map")

    def __init__(self, value: Any, path: Path, anchor: Optional[str], w0: int, t0: int, mark: Any):
        self.value = value
        self.path = path
        self.anchor = anchor
        self.w0, self.t0 = w0, t0
        self.mark = mark
        self.is_map = isinstance(value, dict)
        self.key: Any = None
        self.key_mark: Any = None
        self.skip = False
        self.merge: Optional[tuple[Any, Path, Any]] = None


class _Builder:
    """Plain Python values from libyaml events, counting everything against the limits."""

    def __init__(self, doc: Located, limits: Limits, budget: Optional[Budget] = None):
        self.doc, self.lim, self.budget = doc, limits, budget
        self.max_nodes = min(limits.max_nodes, budget.nodes_left) if budget is not None else limits.max_nodes
        self.nodes = self.aliases = self.expanded = self.text = 0
        self.anchors: dict[str, _Anchor] = {}
        self.stack: list[_Frame] = []
        self.problems: list[Problem] = []
        self.resolver = yaml.resolver.Resolver()
        self.ctor = yaml.constructor.SafeConstructor()
        self._resolved: dict[str, str] = {}
        self.done = False

    # ---------------------------------------------------------------- counting

    def _count(self, mark: Any, weight: int, text: int) -> None:
        self.expanded += weight
        self.text += text
        lim = self.lim
        if self.expanded > lim.max_expanded:
            raise _fatal(self.doc, mark, f"aliases and merge keys expand to more than {lim.max_expanded} values "
                         "(an alias bomb?); the file is refused",
                         f"bí danh (alias) và khóa gộp (<<) mở rộng thành hơn {lim.max_expanded} giá trị "
                         "(bom bí danh?); tệp bị từ chối")
        if self.text > lim.max_expanded_text:
            raise _fatal(self.doc, mark, f"aliases expand to more than {lim.max_expanded_text} characters of text; "
                         "the file is refused",
                         f"bí danh mở rộng thành hơn {lim.max_expanded_text} ký tự; tệp bị từ chối")

    def _node(self, mark: Any) -> None:
        self.nodes += 1
        if self.nodes <= self.max_nodes:
            return
        if self.max_nodes < self.lim.max_nodes:
            b = self.budget
            raise _fatal(self.doc, mark, f"the files of {b.folder} hold more than {b.max_nodes} values together; "
                         "refused", f"các tệp trong {b.folder} tổng cộng có hơn {b.max_nodes} giá trị; bị từ chối")
        raise _fatal(self.doc, mark, f"more than {self.lim.max_nodes} values in one file; the file is refused",
                     f"hơn {self.lim.max_nodes} giá trị trong một tệp; tệp bị từ chối")

    # ---------------------------------------------------------------- paths

    def _child_path(self) -> Path:
        if not self.stack:
            return ()
        top = self.stack[-1]
        if not top.is_map:
            return top.path + (len(top.value),)
        if top.key_mark is None:  # this child is a key
            return top.path + ("<key>",)
        if top.key is MERGE:
            return top.path + ("<<",)
        return top.path + (top.key,)

    # ---------------------------------------------------------------- events

    def feed(self, ev: Any) -> None:
        """Take one event (anything but stream and document events)."""
        handler = self._dispatch.get(type(ev))
        if handler is not None:
            handler(self, ev)

    def _scalar(self, ev: E.ScalarEvent) -> None:
        mark = ev.start_mark
        self.nodes += 1
        value = ev.value
        n = len(value)
        if self.nodes > self.max_nodes:
            self.nodes -= 1
            self._node(mark)
        if n > self.lim.max_scalar:
            raise _fatal(self.doc, mark, f"a value longer than {self.lim.max_scalar} characters; the file is refused",
                         f"một giá trị dài hơn {self.lim.max_scalar} ký tự; tệp bị từ chối")
        self.expanded += 1
        self.text += n
        if self.expanded > self.lim.max_expanded or self.text > self.lim.max_expanded_text:
            self._count(mark, 0, 0)
        path = self._child_path()
        tag = ev.tag
        if tag is None or tag == "!":
            implicit = ev.implicit
            if not implicit[0]:  # quoted, or a block scalar: a string
                tag = self.resolver.resolve(yaml.ScalarNode, value, implicit) if not implicit[1] else _STR
            elif n <= 32:
                tag = self._resolved.get(value)
                if tag is None:
                    tag = self.resolver.resolve(yaml.ScalarNode, value, implicit)
                    if len(self._resolved) < 4096:
                        self._resolved[value] = tag
            else:
                tag = self.resolver.resolve(yaml.ScalarNode, value, implicit)
        if tag == _STR:
            built: Any = value
        elif tag == _MERGE and self.stack and self.stack[-1].is_map and self.stack[-1].key_mark is None:
            built = MERGE
        else:
            built = self._typed(tag, value, ev, path)
        self._place(built, path, mark, ev.anchor, _Anchor(built, path, 1, n) if ev.anchor is not None else None)

    def _typed(self, tag: str, value: str, ev: E.ScalarEvent, path: Path) -> Any:
        pos = (ev.start_mark.line + 1, ev.start_mark.column + 1)
        if tag not in _SCALAR_TAGS:
            self.problems.append(self.doc.problem_at(pos, f"unsupported tag {key_name(tag)}: configuration holds "
                                                          "plain strings, numbers, booleans, lists and mappings"))
            return None
        if len(value) > self.lim.max_typed_scalar:
            self.problems.append(self.doc.problem_at(
                pos, f"a number, date or boolean longer than {self.lim.max_typed_scalar} characters",
                vi=f"một số, ngày hoặc giá trị đúng/sai dài hơn {self.lim.max_typed_scalar} ký tự"))
            return None
        if tag == _INT and value.isdigit() and (len(value) == 1 or value[0] != "0"):  # the common case, fast
            return int(value)
        if tag == _BOOL:
            return self.ctor.bool_values[value.lower()]
        if tag == _NULL:
            return None
        node = yaml.ScalarNode(tag, value, ev.start_mark, ev.end_mark, ev.style)
        try:
            return self.ctor.yaml_constructors[tag](self.ctor, node)
        except (yaml.constructor.ConstructorError, ValueError, OverflowError, TypeError) as exc:
            self.problems.append(self.doc.problem_at(pos, f"bad value: {getattr(exc, 'problem', None) or exc}"))
            return None

    def _alias(self, ev: E.AliasEvent) -> None:
        mark = ev.start_mark
        self.aliases += 1
        if self.aliases > self.lim.max_aliases:
            raise _fatal(self.doc, mark, f"more than {self.lim.max_aliases} aliases in one file; the file is refused",
                         f"hơn {self.lim.max_aliases} bí danh (alias) trong một tệp; tệp bị từ chối")
        anchor = self.anchors.get(ev.anchor)
        if anchor is None:
            raise _fatal(self.doc, mark, f"alias {key_name(ev.anchor)} has no anchor (&name) before it",
                         f"bí danh {key_name(ev.anchor)} không có neo (&tên) đứng trước")
        if anchor is _OPEN:
            raise _fatal(self.doc, mark, "an alias refers to a value that contains it (a recursive structure)",
                         "bí danh trỏ tới chính giá trị chứa nó (cấu trúc đệ quy)")
        path = self._child_path()
        self._count(mark, anchor.weight, anchor.text)
        self.doc.aliases[path] = anchor.path
        self._place(anchor.value, path, mark, None, None)

    def _start(self, ev: Any) -> None:
        mark = ev.start_mark
        self._node(mark)
        if len(self.stack) >= self.lim.max_depth:
            raise _fatal(self.doc, mark, f"nested deeper than {self.lim.max_depth} levels; the file is refused",
                         f"lồng sâu hơn {self.lim.max_depth} cấp; tệp bị từ chối")
        is_map = isinstance(ev, E.MappingStartEvent)
        if ev.tag not in (_MAP_TAGS if is_map else _SEQ_TAGS):
            self.problems.append(self.doc.problem_at((mark.line + 1, mark.column + 1),
                                                     f"unsupported tag {key_name(ev.tag)}"))
        path = self._child_path()
        self._count(mark, 1, 0)
        if ev.anchor is not None:
            self._define(ev.anchor, mark, _OPEN)
        self.stack.append(_Frame({} if is_map else [], path, ev.anchor, self.expanded, self.text, mark))

    def _end(self, ev: Any) -> None:
        f = self.stack.pop()
        if f.is_map and f.merge is not None:
            self._merge(f)
        anchor = _Anchor(f.value, f.path, self.expanded - f.w0 + 1, self.text - f.t0) if f.anchor else None
        if f.anchor:
            self.anchors[f.anchor] = anchor
        self._place(f.value, f.path, f.mark, None, None)

    def _define(self, name: str, mark: Any, anchor: _Anchor) -> None:
        if name in self.anchors:
            raise _fatal(self.doc, mark, f"anchor {key_name(name)} is defined twice",
                         f"neo {key_name(name)} được định nghĩa hai lần")
        self.anchors[name] = anchor

    # ---------------------------------------------------------------- placing values

    def _place(self, value: Any, path: Path, mark: Any, anchor: Optional[str], scalar_anchor: Optional[_Anchor]) -> None:
        """Put a finished value into its parent (or make it the document)."""
        if anchor is not None:
            self._define(anchor, mark, scalar_anchor)
        pos = (mark.line + 1, mark.column + 1)
        if not self.stack:
            self.doc.values[()] = pos
            self.doc.data = value
            self.done = True
            return
        top = self.stack[-1]
        if not top.is_map:
            self.doc.values[path] = pos
            top.value.append(value)
            return
        if top.key_mark is None:  # a key
            top.key_mark = pos
            top.skip = False
            top.key = value
            if value is MERGE:
                if top.merge is not None:
                    self.problems.append(self.doc.problem_at(pos, "duplicate key '<<'", redacted="duplicate key '<<'"))
                    top.skip = True
                return
            if isinstance(value, bool):
                self.problems.append(self.doc.problem_at(pos, "this key reads as true/false (yes, no, on, off): "
                                                              "put it in quotes"))
                top.skip = True
                return
            if not isinstance(value, (str, int)):
                self.problems.append(self.doc.problem_at(pos, "mapping keys must be plain strings"))
                top.skip = True
                return
            kpath = top.path + (value,)
            if value in top.value:
                msg = f"duplicate key {key_name(value)}"
                self.doc.keys[kpath] = pos
                self.problems.append(self.doc.problem_at(pos, msg, redacted=msg))
                top.skip = True
                return
            self.doc.keys[kpath] = pos
            return
        # a value
        key, top.key, top.key_mark = top.key, None, None
        if top.skip:
            return
        self.doc.values[path] = pos
        if key is MERGE:
            top.merge = (value, path, mark)
        else:
            top.value[key] = value

    def _merge(self, f: _Frame) -> None:
        """Apply ``<<: *base`` / ``<<: [*a, *b]``: explicit keys win, then earlier sources."""
        value, path, mark = f.merge
        sources = [(value, path)] if isinstance(value, dict) else (
            [(v, path + (i,)) for i, v in enumerate(value)] if isinstance(value, list) else None)
        if sources is None or not all(isinstance(v, dict) for v, _ in sources):
            self.problems.append(self.doc.problem_at((mark.line + 1, mark.column + 1),
                                                     "a merge key (<<) takes a mapping or a list of mappings"))
            return
        merged: dict[Any, Any] = {}
        for src, spath in reversed(sources):
            for k, v in src.items():
                merged[k] = v
                self.doc.aliases[f.path + (k,)] = spath + (k,)
        for k in f.value:
            self.doc.aliases.pop(f.path + (k,), None)
        merged.update(f.value)
        f.value.clear()
        f.value.update(merged)


_Builder._dispatch = {E.ScalarEvent: _Builder._scalar, E.AliasEvent: _Builder._alias,
                      E.MappingStartEvent: _Builder._start, E.SequenceStartEvent: _Builder._start,
                      E.MappingEndEvent: _Builder._end, E.SequenceEndEvent: _Builder._end}


def _offset_pos(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of a byte offset."""
    offset = max(0, min(offset, len(raw)))
    start = raw.rfind(b"\n", 0, offset) + 1
    return raw.count(b"\n", 0, offset) + 1, len(raw[start:offset].decode("utf-8", "replace")) + 1


def load_bytes(raw: bytes, file: str, limits: Limits = CONFIG_LIMITS, *, disclose: bool = True,
               budget: Optional[Budget] = None) -> Located:
    """Parse the bytes of a file (named ``file`` in messages) under ``limits``.

    ``raw`` may hold one byte more than ``limits.max_bytes`` (that is how a bounded reader says
    "larger"). ``disclose``: the file may be read by everyone, so errors may quote its lines.
    ``budget``: shared by the files of one folder (bytes and values), spent by this one.
    """
    doc = Located(file=file, data=None, disclose=disclose)
    if len(raw) > limits.max_bytes:
        pos = _offset_pos(raw, limits.max_bytes)
        msg = f"the file is larger than {limits.max_bytes} bytes; it is refused"
        raise PolicyError(doc.problem_at(pos, msg, redacted=msg,
                                         vi=f"tệp lớn hơn {limits.max_bytes} byte; tệp bị từ chối"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        msg = "not UTF-8 text: save the file as UTF-8"
        raise PolicyError(doc.problem_at(_offset_pos(raw, exc.start), msg, redacted=msg,
                                         vi="không phải văn bản UTF-8: hãy lưu tệp dưới dạng UTF-8")) from None
    doc.text = text
    if budget is not None:
        budget.take_bytes(len(raw), file)
    return _parse(doc, text, raw, limits, budget)


def load_text(text: str, file: str, limits: Limits = CONFIG_LIMITS, *, disclose: bool = True) -> Located:
    """Parse ``text`` (named ``file`` in messages) under ``limits``."""
    return load_bytes(text.encode("utf-8", "surrogatepass"), file, limits, disclose=disclose)


def _parse(doc: Located, text: str, raw: bytes, limits: Limits, budget: Optional[Budget]) -> Located:
    builder = _Builder(doc, limits, budget)
    # libyaml reads the bytes themselves (already known to be UTF-8): no second copy of the text
    parser = _Parser(raw) if _Parser is not None else yaml.SafeLoader(text)
    try:
        dispatch, next_event = _Builder._dispatch, parser.get_event
        while True:
            ev = next_event()
            handler = dispatch.get(type(ev))
            if handler is not None:
                handler(builder, ev)
            elif ev is None or isinstance(ev, E.StreamEndEvent):
                break
            elif isinstance(ev, E.DocumentStartEvent) and builder.done:
                raise _fatal(doc, ev.start_mark, "more than one YAML document in the file (a second '---')",
                             "tệp có hơn một tài liệu YAML (dấu '---' thứ hai)")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = f"YAML syntax error: {exc.problem or exc.context}"
        pos = (mark.line + 1, mark.column + 1) if mark is not None else None
        raise PolicyError(doc.problem_at(pos, msg)) from None
    except yaml.reader.ReaderError as exc:
        msg = f"YAML syntax error: {exc.reason}"
        raise PolicyError(doc.problem_at(_offset_pos(raw, exc.position), msg, redacted=msg)) from None
    except yaml.YAMLError as exc:
        raise PolicyError(Problem(doc.file, None, None, f"YAML error: {exc}", private=not doc.disclose)) from None
    finally:
        if budget is not None:
            budget.nodes_left -= builder.nodes
        dispose = getattr(parser, "dispose", None)
        if dispose is not None:
            dispose()
    if builder.problems:
        raise PolicyError(builder.problems)
    return doc


def load_file(path: str, limits: Optional[Limits] = None, *, enforce: Optional[bool] = None,
              what: Optional[tuple[str, str]] = None, folder: Optional[tuple[str, str]] = None) -> Located:
    """Read a file through the trusted reader (no links, bounded, StrictModes when root) and parse it.

    ``what``/``folder`` name the file and its folder in refusals (English, Vietnamese).
    Raises FileNotFoundError when it does not exist, PolicyError for everything else.
    """
    from . import trusted
    lim = limits or CONFIG_LIMITS
    f = trusted.read_file(path, max_bytes=lim.max_bytes, enforce=enforce, what=what or trusted.CONFIG_FILE,
                          folder=folder or trusted.CONFIG_DIR)
    return load_bytes(f.data, path, lim, disclose=f.world_readable)
