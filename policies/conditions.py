"""The declarative condition language of checks, and its three-valued evaluation.

A condition is data, never code::

    all: [COND, ...]        true when every part is true
    any: [COND, ...]        true when one part is true
    none: [COND, ...]       true when no part is true
    field: PATH             a matcher on one fact value, with exactly one operator:
      equals / not_equals / in / not_in / regex / exists / in_subnets / not_in_subnets /
      mask_any / gt / ge / lt / le
      missing: error | match | no_match     what an unknown (None) value means; default error
    context: NAME           the same matchers on a value of the local tailoring (lan_declared...)
    count: PATH             how many items of a collection satisfy ``where`` (all when absent),
      where: COND           compared with one of eq / ne / gt / ge / lt / le
    result_of: CHECK-ID     the underlying status of another check, compared with ``is: [fail, ...]``

Operands are literals, ``{context: NAME}`` (local tailoring: approved devices, the declared
independent LAN...) or ``{field: PATH}`` (another field of the same item). PATH is dotted and
relative to the current item (the facts at the top, the collection item inside ``count``);
``.`` is the item itself, for collections of plain values such as addresses.

Evaluation is Kleene three-valued: True, False or None (unknown). Unknown comes from a missing
fact whose matcher says ``missing: error``; it propagates so that a check that could not be
decided reports ``error``, never ``pass``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import facts as F

FIELD_OPS = ("equals", "not_equals", "in", "not_in", "regex", "exists", "in_subnets", "not_in_subnets",
             "mask_any", "gt", "ge", "lt", "le")
COUNT_OPS = ("eq", "ne", "gt", "ge", "lt", "le")
MISSING = ("error", "match", "no_match")


class ConditionError(ValueError):
    """A condition that does not parse; ``path`` is relative to the condition's root."""

    def __init__(self, path: tuple, message: str, key: bool = False):
        super().__init__(message)
        self.path = path
        self.key = key


@dataclass(frozen=True)
class Operand:
    """A literal, a context value or a sibling field."""

    literal: Any = None
    context: Optional[str] = None
    field: Optional[str] = None


@dataclass(frozen=True)
class Cond:
    """A parsed condition node."""

    kind: str  # all | any | none | field | count | result_of
    children: tuple["Cond", ...] = ()
    path: str = ""
    abs_path: str = ""
    op: str = ""
    operand: Operand = Operand()
    missing: str = "error"
    where: Optional["Cond"] = None
    check: str = ""
    statuses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scope:
    """What a path is resolved against while parsing: a dataclass type or a plain value type."""

    tp: Any
    abs_path: str


# ---------------------------------------------------------------- parsing


def parse(raw: Any, context_type: type, root_type: type = F.Facts) -> Cond:
    """Parse and type-check a raw condition; raises ConditionError with a path into ``raw``."""
    return _parse(raw, (), Scope(root_type, ""), context_type)


def _resolve(scope: Scope, dotted: str, where: tuple) -> tuple[Any, str]:
    if dotted == ".":
        return scope.tp, scope.abs_path
    tp = scope.tp
    for part in dotted.split("."):
        inner = F.field_type(tp, part) if isinstance(tp, type) else None
        if inner is None:
            name = getattr(tp, "__name__", str(tp))
            raise ConditionError(where, f"unknown fact field {part!r} in {dotted!r} (on {name})")
        tp = _strip_optional(inner)
    absolute = f"{scope.abs_path}.{dotted}" if scope.abs_path else dotted
    return tp, absolute


def _strip_optional(tp: Any) -> Any:
    import typing, types
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _operand(raw: Any, where: tuple, scope: Scope, context_type: type) -> Operand:
    if isinstance(raw, dict) and set(raw) == {"context"}:
        name = raw["context"]
        if not isinstance(name, str) or F.field_type(context_type, name) is None:
            raise ConditionError(where + ("context",), f"unknown context value {name!r}")
        return Operand(context=name)
    if isinstance(raw, dict) and set(raw) == {"field"}:
        _resolve(scope, raw["field"], where + ("field",))
        return Operand(field=raw["field"])
    if isinstance(raw, dict):
        raise ConditionError(where, "an operand is a value, {context: NAME} or {field: PATH}")
    return Operand(literal=tuple(raw) if isinstance(raw, list) else raw)


def _parse(raw: Any, where: tuple, scope: Scope, ctx: type) -> Cond:
    if not isinstance(raw, dict) or not raw:
        raise ConditionError(where, "a condition is a mapping: all/any/none, field, count or result_of")
    for combinator in ("all", "any", "none"):
        if combinator in raw:
            extra = set(raw) - {combinator}
            if extra:
                raise ConditionError(where + (sorted(extra)[0],), f"unexpected key {sorted(extra)[0]!r} beside {combinator!r}", key=True)
            items = raw[combinator]
            if not isinstance(items, list) or not items:
                raise ConditionError(where + (combinator,), f"{combinator!r} takes a non-empty list of conditions")
            kids = tuple(_parse(c, where + (combinator, i), scope, ctx) for i, c in enumerate(items))
            return Cond(kind=combinator, children=kids)
    if "field" in raw:
        allowed = {"field", "missing", *FIELD_OPS}
        _no_extra(raw, allowed, where)
        ops = [k for k in raw if k in FIELD_OPS]
        if len(ops) != 1:
            raise ConditionError(where, f"a field matcher takes exactly one operator of {', '.join(FIELD_OPS)}")
        op = ops[0]
        path = raw["field"]
        if not isinstance(path, str):
            raise ConditionError(where + ("field",), "field takes a dotted path")
        _, absolute = _resolve(scope, path, where + ("field",))
        missing = raw.get("missing", "error")
        if missing not in MISSING:
            raise ConditionError(where + ("missing",), f"missing must be one of {', '.join(MISSING)}")
        operand = _operand(raw[op], where + (op,), scope, ctx)
        if op == "regex" and operand.literal is not None:
            try:
                re.compile(operand.literal)
            except (re.error, TypeError) as exc:
                raise ConditionError(where + (op,), f"bad regular expression: {exc}") from None
        if op in ("in_subnets", "not_in_subnets") and operand.literal is not None:
            for i, net in enumerate(operand.literal):
                try:
                    ipaddress.ip_network(net, strict=False)
                except ValueError:
                    raise ConditionError(where + (op, i), f"not a subnet: {net!r}") from None
        if op == "exists" and not isinstance(operand.literal, bool):
            raise ConditionError(where + (op,), "exists takes true or false")
        return Cond(kind="field", path=path, abs_path=absolute, op=op, operand=operand, missing=missing)
    if "context" in raw:
        _no_extra(raw, {"context", *FIELD_OPS}, where)
        ops = [k for k in raw if k in FIELD_OPS]
        if len(ops) != 1:
            raise ConditionError(where, f"a context matcher takes exactly one operator of {', '.join(FIELD_OPS)}")
        name = raw["context"]
        if not isinstance(name, str) or F.field_type(ctx, name) is None:
            raise ConditionError(where + ("context",), f"unknown context value {name!r}")
        return Cond(kind="context", path=name, op=ops[0], operand=_operand(raw[ops[0]], where + (ops[0],), scope, ctx))
    if "count" in raw:
        _no_extra(raw, {"count", "where", *COUNT_OPS}, where)
        ops = [k for k in raw if k in COUNT_OPS]
        if len(ops) != 1:
            raise ConditionError(where, f"a count takes exactly one comparison of {', '.join(COUNT_OPS)}")
        tp, absolute = _resolve(scope, raw["count"], where + ("count",))
        elem = F.element_type(tp)
        if elem is None:
            raise ConditionError(where + ("count",), f"{raw['count']!r} is not a collection")
        limit = raw[ops[0]]
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise ConditionError(where + (ops[0],), "a count is compared with a whole number")
        sub = None
        if "where" in raw:
            sub = _parse(raw["where"], where + ("where",), Scope(elem, absolute), ctx)
        return Cond(kind="count", path=raw["count"], abs_path=absolute, op=ops[0],
                    operand=Operand(literal=limit), where=sub)
    if "result_of" in raw:
        _no_extra(raw, {"result_of", "is"}, where)
        statuses = raw.get("is", ["fail"])
        if isinstance(statuses, str):
            statuses = [statuses]
        return Cond(kind="result_of", check=str(raw["result_of"]), statuses=tuple(statuses))
    key = sorted(raw)[0]
    raise ConditionError(where + (key,), f"unknown condition key {key!r}", key=True)


def _no_extra(raw: dict, allowed: set, where: tuple) -> None:
    for k in raw:
        if k not in allowed:
            raise ConditionError(where + (k,), f"unexpected key {k!r}", key=True)


def paths_read(cond: Optional[Cond]) -> set[str]:
    """Absolute fact paths a condition reads (for collection-error propagation)."""
    out: set[str] = set()
    if cond is None:
        return out
    if cond.kind in ("field", "count"):
        out.add(cond.abs_path)
    for c in cond.children:
        out |= paths_read(c)
    if cond.where is not None:
        out |= paths_read(cond.where)
    return out


def checks_referenced(cond: Optional[Cond]) -> set[str]:
    """Ids named by ``result_of`` anywhere in the condition."""
    if cond is None:
        return set()
    out = {cond.check} if cond.kind == "result_of" else set()
    for c in cond.children:
        out |= checks_referenced(c)
    if cond.where is not None:
        out |= checks_referenced(cond.where)
    return out


# ---------------------------------------------------------------- evaluation


@dataclass
class Trace:
    """What an evaluation saw: the items that made counts true, and the facts that were missing."""

    witnesses: dict[str, list[Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def get_path(obj: Any, dotted: str) -> Any:
    """Follow a dotted path through dataclasses; None when a step is None."""
    if dotted == ".":
        return obj
    for part in dotted.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


def evaluate(cond: Cond, item: Any, ctx: Any, results: Callable[[str], Optional[str]], trace: Trace) -> Optional[bool]:
    """Three-valued truth of ``cond`` on ``item``; ``results`` gives other checks' underlying statuses."""
    kind = cond.kind
    if kind in ("all", "any", "none"):
        values = [evaluate(c, item, ctx, results, trace) for c in cond.children]
        if kind == "all":
            if False in values:
                return False
            return None if None in values else True
        anyv = True if True in values else (None if None in values else False)
        if kind == "any":
            return anyv
        return None if anyv is None else not anyv
    if kind == "field":
        return _match_field(cond, item, ctx, trace)
    if kind == "context":
        return _match_field(cond, ctx, ctx, trace)
    if kind == "count":
        coll = get_path(item, cond.path)
        if coll is None:
            trace.missing.append(cond.abs_path)
            return None
        sure = unsure = 0
        hits = []
        for element in coll:
            v = True if cond.where is None else evaluate(cond.where, element, ctx, results, trace)
            if v is True:
                sure += 1
                hits.append(element)
            elif v is None:
                unsure += 1
        lo = _compare(sure, cond.op, cond.operand.literal)
        hi = _compare(sure + unsure, cond.op, cond.operand.literal)
        if hits:
            trace.witnesses.setdefault(cond.abs_path, []).extend(hits)
        return lo if lo == hi else None
    if kind == "result_of":
        status = results(cond.check)
        if status is None or status == "error":
            return None
        return status in cond.statuses
    raise AssertionError(kind)


def _compare(n: int, op: str, limit: int) -> bool:
    return {"eq": n == limit, "ne": n != limit, "gt": n > limit, "ge": n >= limit,
            "lt": n < limit, "le": n <= limit}[op]


def _operand_value(cond: Cond, item: Any, ctx: Any) -> Any:
    o = cond.operand
    if o.context is not None:
        return getattr(ctx, o.context)
    if o.field is not None:
        return get_path(item, o.field)
    return o.literal


def _in_subnets(value: Any, nets: Any) -> bool:
    try:
        addr = ipaddress.ip_interface(value).ip
    except ValueError:
        return False
    for net in nets or ():
        try:
            if addr in ipaddress.ip_network(net, strict=False):
                return True
        except ValueError:
            continue
    return False


def _match_field(cond: Cond, item: Any, ctx: Any, trace: Trace) -> Optional[bool]:
    value = get_path(item, cond.path)
    if cond.op == "exists":
        present = value is not None and value != ()
        return present if cond.operand.literal else not present
    if value is None:
        if cond.missing == "match":
            return True
        if cond.missing == "no_match":
            return False
        trace.missing.append(cond.abs_path)
        return None
    ref = _operand_value(cond, item, ctx)
    op = cond.op
    if op == "equals":
        return value == ref
    if op == "not_equals":
        return value != ref
    if op in ("in", "not_in"):
        inside = value in (ref or ())
        if isinstance(value, str) and ref:
            inside = inside or value.lower() in {str(r).lower() for r in ref}
        return inside if op == "in" else not inside
    if op == "regex":
        return re.search(ref, str(value)) is not None
    if op == "in_subnets":
        return _in_subnets(value, ref)
    if op == "not_in_subnets":
        return not _in_subnets(value, ref)
    if op == "mask_any":
        return bool(int(value) & int(ref))
    try:
        return {"gt": value > ref, "ge": value >= ref, "lt": value < ref, "le": value <= ref}[op]
    except TypeError:
        trace.missing.append(cond.abs_path)
        return None
