"""Load, validate and cross-check the policy bundle and the local tailoring.

The bundle is three folders of YAML data: ``sources/`` (the legal catalog), ``checks/`` and
``profiles/``. Loading is strict (unknown keys are errors) and cross-checked (every legal
reference resolves, every check a profile names exists, ids are unique, every condition's field
paths exist in the fact model). Every problem is reported with file:line:col and a caret.

When running as root we refuse files that root does not own or that group/other can write: a
policy that anyone can edit would let anyone switch the checks off.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

import msgspec

from . import conditions as C
from .context import EvalContext
from .errors import PolicyError, Problem
from .citation import is_numeral, is_point_letter
from .context import DECLARATION_KINDS
from .schema import (Check, ChecksFile, NotCheckable, Profile, ProfilesFile, Requirement, LegalSource, SourcesFile,
                     Tailoring)
from . import trusted
from .yamlmarks import CONFIG_LIMITS, POLICY_LIMITS, Budget, Limits, Located, key_name, load_bytes

BUILTIN_DIR = Path(__file__).resolve().parent / "data"
CHECK_ID = re.compile(r"^BMNN-[A-Z]{2,4}-\d{3}$")
KINDS = {"sources": SourcesFile, "checks": ChecksFile, "profiles": ProfilesFile}


@dataclass(frozen=True)
class CompiledException:
    """A check's lawful-exception part with its item condition parsed."""

    declaration: str
    count: str
    key: str
    where: Optional[C.Cond]
    legal_refs: tuple


@dataclass(frozen=True)
class CompiledCheck:
    """A check with its conditions parsed and type-checked against the fact model."""

    spec: Check
    applies_to: Optional[C.Cond]
    fail_if: Optional[C.Cond]
    reads: frozenset[str]
    depends_on: frozenset[str]
    file: str
    exceptions: tuple[CompiledException, ...] = ()
    domains: frozenset[str] = frozenset()
    """Fact domains whose change can change this check's result: those its conditions and
    exceptions read, and those of the checks whose results it refers to (computed by the loader:
    the daemon re-judges a check only when one of these domains was re-read)."""


@dataclass(frozen=True)
class Bundle:
    """The validated rule set: legal sources, checks and profiles, with a content hash."""

    sources: dict[str, LegalSource]
    checks: dict[str, CompiledCheck]
    profiles: dict[str, Profile]
    sha256: str
    files: tuple[str, ...]
    default_profile: str = "secret-workstation"
    requirements: tuple[Requirement, ...] = ()
    """The requirement map (legal requirement -> checks), empty when the bundle has none."""
    not_checkable: tuple[NotCheckable, ...] = ()
    """Catalog entries no workstation can show evidence for, each with the reason."""


# ---------------------------------------------------------------- helpers


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.S)
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[\"?([^\]\"]+)\"?\]")


def msgspec_path(text: str) -> tuple[str, tuple]:
    """Split msgspec's "message - at `$.a[0].b`" into the message and a path tuple."""
    m = _AT.match(text)
    msg, raw = m.group("msg"), m.group("path") or "$"
    steps: list[Any] = []
    for s in _STEP.finditer(raw[1:]):
        steps.append(s.group(1) if s.group(1) else int(s.group(2)) if s.group(2) else s.group(3))
    return msg, tuple(steps)


def convert(doc: Located, typ: type) -> Any:
    """Validate ``doc.data`` against a msgspec type, turning errors into located Problems."""
    if doc.data is None:
        raise PolicyError(Problem(doc.file, 1, 1, "the file is empty", vi="tệp rỗng"))
    try:
        return msgspec.convert(doc.data, typ, strict=True)
    except msgspec.ValidationError as exc:
        msg, path = msgspec_path(str(exc))
        unknown = re.match(r"Object contains unknown field `([^`]*)`", msg)
        if unknown:
            name = unknown.group(1)
            valid = sorted(f.encode_name for f in msgspec.structs.fields(_struct_at(typ, path)) or ())
            hint = f"; valid keys here: {', '.join(valid)}" if valid else ""
            text = f"unknown key {key_name(name)}{hint}"
            raise PolicyError(doc.problem(path + (name,), text, key=True, redacted=text)) from None
        missing = re.match(r"Object missing required field `([^`]*)`", msg)
        if missing:
            text = f"missing required key {missing.group(1)!r}"  # a name from the schema, not the file
            raise PolicyError(doc.problem(path, text, redacted=text)) from None
        enum = re.match(r"Invalid enum value (.*)", msg)
        if enum and path:
            allowed = _literal_values(typ, path)
            hint = f"; expected one of: {', '.join(allowed)}" if allowed else ""
            raise PolicyError(doc.problem(path, f"invalid value {enum.group(1)}{hint}")) from None
        raise PolicyError(doc.problem(path, _friendly(msg))) from None


def _literal_values(typ: Any, path: tuple) -> list[str]:
    """The allowed values of the Literal field at ``path``, for the error hint."""
    import typing
    index = bool(path) and isinstance(path[-1], int)  # an element of a list field
    if index:
        path = path[:-1]
    parent = _struct_at(typ, path[:-1])
    if parent is None:
        return []
    names = {f.encode_name: f.name for f in msgspec.structs.fields(parent)}
    tp = typing.get_type_hints(parent).get(names.get(path[-1], path[-1]))
    if index:
        tp = (typing.get_args(tp) or (None,))[0]
    for cand in (tp, *typing.get_args(tp)):
        if typing.get_origin(cand) is typing.Literal:
            return [str(a) for a in typing.get_args(cand)]
    return []


def _friendly(msg: str) -> str:
    msg = msg.replace("Expected `", "expected ").replace("`, got `", ", got ").replace("`", "")
    return msg


def _struct_at(typ: Any, path: tuple) -> Any:
    """The msgspec Struct type found at ``path`` inside ``typ`` (best effort, for hints)."""
    import typing
    tp = typ
    for step in path:
        tp = _unwrap(tp)
        if isinstance(step, int):
            args = typing.get_args(tp)
            tp = args[0] if args else None
        else:
            try:
                hints = typing.get_type_hints(tp)
            except Exception:
                return None
            names = {f.encode_name: f.name for f in msgspec.structs.fields(tp)}
            tp = hints.get(names.get(step, step))
        if tp is None:
            return None
    tp = _unwrap(tp)
    return tp if isinstance(tp, type) and issubclass(tp, msgspec.Struct) else None


def _unwrap(tp: Any) -> Any:
    import typing, types
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        structs = [a for a in typing.get_args(tp) if isinstance(a, type) and issubclass(a, msgspec.Struct)]
        return structs[0] if structs else tp
    return tp


# ---------------------------------------------------------------- bundle

BUNDLE_MAX_FILES = 256
"""Files per folder of a bundle."""
LOCAL_D_MAX_FILES = 128
"""Files in local.d."""
LOCAL_D = ("local tailoring (local.d)", "tùy chỉnh cục bộ (local.d)")


def _bundle_budget(path: str) -> Budget:
    """A whole bundle: 16 MiB and 200,000 values (the shipped one: 70 KB, 3,500 values)."""
    return Budget(path, 200_000, 16 << 20)


def _local_d_budget(path: str) -> Budget:
    """All of local.d: with the per-file limits this bounds a reload to well under a second."""
    return Budget(path, 40_000, 4 << 20)


def _read_docs(d: trusted.Directory, limits: Limits, what: tuple[str, str], budget: Budget, max_files: int,
               problems: list[Problem], raw: dict[str, bytes]) -> list[Located]:
    """Parse every YAML file of the checked folder ``d``; problems are collected, not raised
    (but a spent budget stops the folder: nothing more is parsed)."""
    docs = []
    for name in d.names((".yaml", ".yml"), max_files=max_files):
        try:
            f = trusted.read_at(d, name, max_bytes=limits.max_bytes, what=what)
            docs.append(load_bytes(f.data, f.path, limits, disclose=f.world_readable, budget=budget))
            raw[f.path] = f.data
        except FileNotFoundError:  # removed between listing and opening
            continue
        except PolicyError as exc:
            problems.extend(exc.problems)
            if budget.nodes_left <= 0 or budget.bytes_left < 0:
                break
    return docs


def read_bundle(root: Optional[os.PathLike] = None, *, enforce_permissions: Optional[bool] = None
                ) -> tuple[dict[str, list[Located]], str, tuple[str, ...]]:
    """The parsed files of each kind of the bundle under ``root``, its content hash and its files.

    Every file is read once through the trusted reader (StrictModes as root, no links, bounded)
    and parsed under ``POLICY_LIMITS``; the hash is over the very bytes that were parsed.
    """
    base = Path(root) if root is not None else BUILTIN_DIR
    try:
        top = trusted.open_dir(str(base), what=trusted.POLICY_DIR, enforce=enforce_permissions)
    except FileNotFoundError:
        raise PolicyError(Problem(str(base), None, None, "policy directory not found",
                                  vi="không tìm thấy thư mục chính sách")) from None
    problems: list[Problem] = []
    raw: dict[str, bytes] = {}
    docs: dict[str, list[Located]] = {}
    budget = _bundle_budget(str(base))
    with top:
        for kind in KINDS:
            try:
                sub = top.subdir(kind, trusted.POLICY_DIR)
            except FileNotFoundError:
                raise PolicyError(Problem(str(base / kind), None, None, f"missing the {kind}/ folder of the policy bundle",
                                          vi=f"thiếu thư mục {kind}/ của bộ chính sách")) from None
            with sub:
                docs[kind] = _read_docs(sub, POLICY_LIMITS, trusted.POLICY_FILE, budget, BUNDLE_MAX_FILES, problems, raw)
    if problems:
        raise PolicyError(problems)
    digest = hashlib.sha256()
    for name in sorted(raw):
        digest.update(os.path.relpath(name, top.path).encode() + b"\0")
        digest.update(raw[name] + b"\0")
    return docs, digest.hexdigest(), tuple(d.file for k in KINDS for d in docs[k])


def load_bundle(root: Optional[os.PathLike] = None, *, enforce_permissions: Optional[bool] = None) -> Bundle:
    """Load the bundle under ``root`` (the shipped one by default) and cross-check it."""
    docs, sha256, files = read_bundle(root, enforce_permissions=enforce_permissions)
    return build_bundle(docs, sha256, files)


def build_bundle(docs: dict[str, list[Located]], sha256: str = "", files: tuple[str, ...] = (), *,
                 require_map: bool = True) -> Bundle:
    """Validate parsed documents of each kind and cross-check them into a Bundle. The requirement
    map, when the sources carry one, must cover the catalog and the checks (``require_map=False``
    judges a single check file against the catalog alone)."""
    problems: list[Problem] = []
    sources: dict[str, LegalSource] = {}
    located_sources: list[tuple[LegalSource, Located, int]] = []
    maps: list[tuple[SourcesFile, Located]] = []
    checks: dict[str, tuple[Check, Located, int]] = {}
    profiles: dict[str, tuple[Profile, Located, int]] = {}
    for kind, typ in KINDS.items():
        for doc in docs.get(kind, []):
            try:
                parsed = convert(doc, typ)
            except PolicyError as exc:
                problems.extend(exc.problems)
                continue
            if kind == "sources" and (parsed.requirements or parsed.not_checkable):
                maps.append((parsed, doc))
            items = getattr(parsed, kind)
            for i, item in enumerate(items):
                table = {"sources": sources, "checks": checks, "profiles": profiles}[kind]
                if item.id in table:
                    problems.append(doc.problem((kind, i, "id"), f"duplicate id {item.id!r}"))
                    continue
                table[item.id] = item if kind == "sources" else (item, doc, i)
                if kind == "sources":
                    located_sources.append((item, doc, i))
    for src, doc, i in located_sources:
        problems.extend(source_problems(src, doc, ("sources", i), sources))
    for cid, (chk, doc, i) in checks.items():
        problems.extend(_check_refs(chk, doc, i, sources))
    compiled: dict[str, CompiledCheck] = {}
    for cid, (chk, doc, i) in checks.items():
        try:
            compiled[cid] = compile_check(chk, doc, ("checks", i))
        except PolicyError as exc:
            problems.extend(exc.problems)
    for cid, cc in compiled.items():
        chk, doc, i = checks[cid]
        for dep in cc.depends_on:
            if dep not in checks:
                problems.append(doc.problem(("checks", i), f"condition refers to unknown check {dep!r}"))
    problems.extend(_cycles(compiled, checks))
    if not problems:
        compiled = _with_domains(compiled)
    for pid, (prof, doc, i) in profiles.items():
        for j, entry in enumerate(prof.checks):
            ref = entry if isinstance(entry, str) else entry.id
            if ref not in checks:
                problems.append(doc.problem(("profiles", i, "checks", j), f"profile {pid!r} names unknown check {ref!r}"))
    requirements: list[Requirement] = []
    not_checkable: list[NotCheckable] = []
    for parsed, doc in maps:
        requirements.extend(parsed.requirements)
        not_checkable.extend(parsed.not_checkable)
    if maps and require_map:
        problems.extend(map_problems(maps, sources, checks))
    if problems:
        raise PolicyError(problems)
    return Bundle(sources=sources, checks=compiled, profiles={k: v[0] for k, v in profiles.items()},
                  sha256=sha256, files=files, requirements=tuple(requirements), not_checkable=tuple(not_checkable))


def _check_refs(chk: Check, doc: Located, i: int, sources: dict[str, LegalSource]) -> list[Problem]:
    out = []
    if not CHECK_ID.match(chk.id):
        out.append(doc.problem(("checks", i, "id"), f"check id {chk.id!r} must look like BMNN-NET-001"))
    if not chk.legal_refs:
        out.append(doc.problem(("checks", i, "legal_refs"), "a check must cite at least one legal provision"))
    for j, ref in enumerate(chk.legal_refs):
        out.extend(ref_problems(ref, sources, doc, ("checks", i, "legal_refs", j)))
    if chk.mode in ("manual", "hybrid") and chk.manual is None:
        out.append(doc.problem(("checks", i), f"a {chk.mode} check needs a 'manual' part with the inspector's question"))
    if chk.mode in ("automated", "hybrid") and chk.fail_if is None:
        out.append(doc.problem(("checks", i), f"an {chk.mode} check needs a 'fail_if' condition"))
    for dom in chk.evidence:
        if dom.split(".")[0] not in ("network", "devices", "software", "storage", "folders", "documents", "agent", "host"):
            out.append(doc.problem(("checks", i, "evidence", dom), f"evidence names unknown fact path {dom!r}", key=True))
    out.extend(_enforce_problems(chk, doc, i))
    for j, exc in enumerate(chk.exceptions):
        for k, ref in enumerate(exc.legal_refs):
            out.extend(ref_problems(ref, sources, doc, ("checks", i, "exceptions", j, "legal_refs", k)))
        if exc.declaration not in DECLARATION_KINDS:  # the schema's Literal already says so; kept in step
            out.append(doc.problem(("checks", i, "exceptions", j, "declaration"), f"unknown declaration {exc.declaration!r}"))
    return out


def ref_problems(ref: Any, sources: dict[str, LegalSource], doc: Located, path: tuple) -> list[Problem]:
    """Problems with one legal reference: unknown source, article, clause or point."""
    src = sources.get(ref.source)
    if src is None:
        return [doc.problem(path + ("source",), f"unknown legal source {ref.source!r}")]
    art = next((a for a in src.articles if a.number == ref.article), None)
    if art is None:
        return [doc.problem(path + ("article",), f"{ref.source} has no article {ref.article!r} in the catalog")]
    point = getattr(ref, "point", None)
    if point is not None and ref.clause is None:
        return [doc.problem(path + ("point",), "a point is cited within a clause: add the clause")]
    if ref.clause is not None:
        cl = next((c for c in art.clauses if c.number == ref.clause), None)
        if cl is None:
            return [doc.problem(path + ("clause",), f"{ref.source} article {ref.article} has no clause {ref.clause!r} in the catalog")]
        if point is not None and not any(p.number == point for p in cl.points):
            return [doc.problem(path + ("point",), f"{ref.source} article {ref.article} clause {ref.clause} has no point {point!r} in the catalog")]
    return []


# ---------------------------------------------------------------- the legal catalog


def _norm(text: str) -> str:
    """Whitespace-normalised text, for comparing a catalog text with the words read."""
    return " ".join(text.split())


def _entry_problems(entry: Any, doc: Located, path: tuple, what: str) -> list[Problem]:
    """``verified`` is evidence, not a default: a verified entry carries what was read, and the
    words it shows as the law's are among the words read."""
    out = []
    for k, r in enumerate(entry.read):
        rp = path + ("read", k)
        for name in ("title", "number", "quote"):
            if not getattr(r, name).strip():
                out.append(doc.problem(rp + (name,), f"a reading needs its {name}"))
        if not ((r.url or "").strip() or (r.gazette or "").strip()):
            out.append(doc.problem(rp, "a reading needs the URL or the gazette reference of what was read"))
    if entry.status != "verified":
        return out
    at = path + ("status",)
    if not entry.read:
        out.append(doc.problem(at, f"{what} is marked verified but says nothing of what was read: add 'read:' "
                                   "(title, number, url or gazette, read_on, quote) or mark it unverified"))
        return out
    text = getattr(entry, "text", None)
    if text is not None:
        wanted = _norm(text.vi)
        if not any(wanted in _norm(r.quote) for r in entry.read):
            out.append(doc.problem(at, f"{what} is marked verified but its Vietnamese text is not among the words read "
                                       "(quote): show the words read, or mark it unverified"))
    return out


def source_problems(src: LegalSource, doc: Located, path: tuple, sources: dict[str, LegalSource]) -> list[Problem]:
    """Problems with one catalog text: verification without evidence, dates, numbering, references."""
    out = _entry_problems(src, doc, path, f"source {src.id}")
    if src.effective_from and src.effective_to and src.effective_to < src.effective_from:
        out.append(doc.problem(path + ("effective_to",), "effective_to is before effective_from"))
    for key in ("repealed_by", "replaces"):
        for k, other in enumerate(getattr(src, key)):
            if other not in sources:
                out.append(doc.problem(path + (key, k), f"unknown legal source {other!r}"))
    for j, art in enumerate(src.articles):
        ap = path + ("articles", j)
        out.extend(_entry_problems(art, doc, ap, f"{src.id} article {art.number!r}"))
        out.extend(_numbering(art, doc, ap, "article", allow_empty=True))
        for k, cl in enumerate(art.clauses):
            cp = ap + ("clauses", k)
            out.extend(_entry_problems(cl, doc, cp, f"{src.id} article {art.number} clause {cl.number!r}"))
            out.extend(_numbering(cl, doc, cp, "clause"))
            for m, pt in enumerate(cl.points):
                pp = cp + ("points", m)
                out.extend(_entry_problems(pt, doc, pp, f"{src.id} article {art.number} clause {cl.number} point {pt.number!r}"))
                if not is_point_letter(pt.number):
                    out.append(doc.problem(pp + ("number",), f"a point is a letter (a, b, đ), not {pt.number!r}"))
    return out


def _numbering(entry: Any, doc: Located, path: tuple, what: str, allow_empty: bool = False) -> list[Problem]:
    """A provision without a readable number is a key with a caption, and cannot be verified."""
    if is_numeral(entry.number) or (allow_empty and entry.number == ""):
        return []
    out = []
    if entry.caption is None:
        out.append(doc.problem(path + ("number",), f"{what} {entry.number!r} is not a number: give it a caption "
                                                   "that names the provision in citations"))
    if entry.status == "verified":
        out.append(doc.problem(path + ("status",), f"{what} {entry.number!r} has no readable number, so it cannot be "
                                                   "verified: mark it unverified"))
    return out


def catalog_entries(sources: dict[str, LegalSource]) -> list[tuple[str, str, Optional[str], Optional[str]]]:
    """Every citable leaf of the catalog as (source, article, clause, point): a point, else a clause,
    else an article, else (for a text cataloged without articles) the text itself as ("id", "")."""
    out = []
    for sid, src in sources.items():
        if not src.articles:
            out.append((sid, "", None, None))
        for art in src.articles:
            if not art.clauses:
                out.append((sid, art.number, None, None))
            for cl in art.clauses:
                if not cl.points:
                    out.append((sid, art.number, cl.number, None))
                for pt in cl.points:
                    out.append((sid, art.number, cl.number, pt.number))
    return out


def _covers(ref: Any, entry: tuple) -> bool:
    """A reference covers a leaf when it names it or one of its ancestors."""
    sid, art, cl, pt = entry
    if ref.source != sid or ref.article != art:
        return False
    if ref.clause is None:
        return True
    if ref.clause != cl:
        return False
    return getattr(ref, "point", None) in (None, pt)


def map_problems(maps: list, sources: dict[str, LegalSource], checks: dict) -> list[Problem]:
    """The requirement map is complete and points at things that exist: every requirement's checks
    exist and its references resolve; every check serves a requirement; every catalog entry is
    mapped or marked not checkable, with a reason."""
    out: list[Problem] = []
    seen_ids: set[str] = set()
    served: set[str] = set()
    mapped: list[Any] = []
    first_doc = maps[0][1]
    for parsed, doc in maps:
        for i, req in enumerate(parsed.requirements):
            rp = ("requirements", i)
            if req.id in seen_ids:
                out.append(doc.problem(rp + ("id",), f"duplicate requirement id {req.id!r}"))
            seen_ids.add(req.id)
            if not req.checks:
                out.append(doc.problem(rp + ("checks",), f"requirement {req.id} names no check: list the checks "
                                                         "that serve it, or mark its provisions not checkable"))
            for j, cid in enumerate(req.checks):
                if cid not in checks:
                    out.append(doc.problem(rp + ("checks", j), f"requirement {req.id} names unknown check {cid!r}"))
                served.add(cid)
            if not req.legal_refs:
                out.append(doc.problem(rp + ("legal_refs",), f"requirement {req.id} cites no provision"))
            for j, ref in enumerate(req.legal_refs):
                out.extend(ref_problems(ref, sources, doc, rp + ("legal_refs", j)))
                mapped.append(ref)
        for i, nc in enumerate(parsed.not_checkable):
            np_ = ("not_checkable", i)
            probs = ref_problems(nc, sources, doc, np_)
            if nc.article == "" and nc.clause is None and nc.source in sources and not sources[nc.source].articles:
                probs = []  # a text cataloged without articles is marked as a whole
            out.extend(probs)
            if not nc.reason.vi.strip() or not nc.reason.en.strip():
                out.append(doc.problem(np_ + ("reason",), "say why it cannot be checked on a workstation, in vi and en"))
            mapped.append(nc)
    for cid in sorted(set(checks) - served):
        chk, cdoc, i = checks[cid]
        out.append(cdoc.problem(("checks", i, "id"), f"check {cid} serves no requirement of the requirement map"))
    for entry in catalog_entries(sources):
        if not any(_covers(ref, entry) for ref in mapped):
            sid, art, cl, pt = entry
            name = sid + (f" article {art!r}" if art else "") + (f" clause {cl!r}" if cl else "") + (f" point {pt!r}" if pt else "")
            out.append(first_doc.problem(("requirements",), f"catalog entry {name} is neither mapped to a requirement "
                                                            "nor marked not_checkable with a reason"))
    return out


def compile_check(chk: Check, doc: Located, path: tuple) -> CompiledCheck:
    """Parse a check's conditions against the fact model and the context."""
    conds = {}
    for name in ("applies_to", "fail_if"):
        raw = getattr(chk, name)
        if raw is None:
            conds[name] = None
            continue
        try:
            conds[name] = C.parse(raw, EvalContext)
        except C.ConditionError as exc:
            raise PolicyError(doc.problem(path + (name,) + exc.path, str(exc), key=exc.key)) from None
    for dom, fields in chk.evidence.items():
        try:
            tp, _ = C._resolve(C.Scope(__import__("bmnn_guard.policies.facts", fromlist=["Facts"]).Facts, ""), dom, ())
            elem = C.F.element_type(tp) or tp
            for j, f in enumerate(fields):
                C._resolve(C.Scope(elem, dom), f, (dom, j))
        except C.ConditionError as exc:
            raise PolicyError(doc.problem(path + ("evidence",) + exc.path, str(exc))) from None
    reads = C.paths_read(conds["applies_to"]) | C.paths_read(conds["fail_if"])
    deps = C.checks_referenced(conds["applies_to"]) | C.checks_referenced(conds["fail_if"])
    exceptions = tuple(_compile_exception(e, doc, path + ("exceptions", j)) for j, e in enumerate(chk.exceptions))
    return CompiledCheck(spec=chk, applies_to=conds["applies_to"], fail_if=conds["fail_if"],
                         reads=frozenset(reads), depends_on=frozenset(deps), file=doc.file, exceptions=exceptions)


ENFORCE_NEEDS = {"usb_deauthorize": ("devices.usb", "sys_path"), "link_down": ("network.interfaces", "name")}
"""Each enforcement acts on one kind of evidence item and needs one of its fields."""


def _enforce_problems(chk: Check, doc: Located, i: int) -> list[Problem]:
    """An ``enforce:`` entry needs the evidence it acts on (the device's sys_path, the link's name)."""
    out = []
    for j, what in enumerate(chk.enforce):
        dom, needed = ENFORCE_NEEDS[what]
        if needed not in chk.evidence.get(dom, ()):
            out.append(doc.problem(("checks", i, "enforce", j),
                                   f"enforce {what!r} acts on {dom} items: the check's evidence must list "
                                   f"{dom}: [{needed}, ...]"))
    if chk.enforce and chk.mode == "manual":
        out.append(doc.problem(("checks", i, "enforce"), "a manual check cannot be enforced by the daemon"))
    return out


def _with_domains(compiled: dict[str, CompiledCheck]) -> dict[str, CompiledCheck]:
    """Each check with the fact domains it depends on, through the checks it refers to."""
    own = {cid: {p.split(".")[0] for p in cc.reads} | {e.count.split(".")[0] for e in cc.exceptions}
           for cid, cc in compiled.items()}
    done: dict[str, frozenset[str]] = {}

    def domains(cid: str) -> frozenset[str]:
        if cid not in done:  # acyclic: _cycles refused the bundle otherwise
            out = set(own.get(cid, ()))
            for dep in compiled[cid].depends_on if cid in compiled else ():
                out |= domains(dep)
            done[cid] = frozenset(out)
        return done[cid]

    return {cid: replace(cc, domains=domains(cid)) for cid, cc in compiled.items()}


def _compile_exception(exc: Any, doc: Located, path: tuple) -> CompiledException:
    """An exception part: ``count`` is a collection of the facts, ``key`` a field of its items."""
    from . import facts as F
    try:
        tp, absolute = C._resolve(C.Scope(F.Facts, ""), exc.count, ("count",))
        elem = F.element_type(tp)
        if elem is None:
            raise C.ConditionError(("count",), f"{exc.count!r} is not a collection")
        C._resolve(C.Scope(elem, absolute), exc.key, ("key",))
        try:
            where = C.parse(exc.where, EvalContext, elem) if exc.where is not None else None
        except C.ConditionError as err:
            raise C.ConditionError(("where",) + err.path, str(err), err.key) from None
    except C.ConditionError as err:
        raise PolicyError(doc.problem(path + err.path, str(err), key=err.key)) from None
    return CompiledException(exc.declaration, exc.count, exc.key, where, tuple(exc.legal_refs))


def _cycles(compiled: dict[str, CompiledCheck], checks: dict) -> list[Problem]:
    out = []
    state: dict[str, int] = {}

    def visit(cid: str, stack: list[str]) -> None:
        if state.get(cid) == 2 or cid not in compiled:
            return
        if state.get(cid) == 1:
            chk, doc, i = checks[cid]
            out.append(doc.problem(("checks", i), "checks refer to each other in a cycle: " + " -> ".join(stack + [cid])))
            return
        state[cid] = 1
        for dep in sorted(compiled[cid].depends_on):
            visit(dep, stack + [cid])
        state[cid] = 2

    for cid in sorted(compiled):
        visit(cid, [])
    return out


# ---------------------------------------------------------------- tailoring


@dataclass(frozen=True)
class LoadedTailoring:
    """Local tailoring merged from every file of local.d, in name order."""

    tailoring: Tailoring
    files: tuple[str, ...] = ()


def load_tailoring(directory: Optional[os.PathLike], bundle: Bundle, *, enforce_permissions: Optional[bool] = None) -> LoadedTailoring:
    """Read local.d/*.yaml (missing directory = no tailoring), merge and cross-check against the bundle.

    Read through the trusted reader (StrictModes as root, no links, bounded) under
    ``CONFIG_LIMITS``, at most ``LOCAL_D_MAX_FILES`` files and ``_local_d_budget`` together.
    """
    if directory is None:
        return LoadedTailoring(Tailoring())
    try:
        d = trusted.open_dir(str(directory), what=LOCAL_D, enforce=enforce_permissions)
    except FileNotFoundError:
        return LoadedTailoring(Tailoring())
    problems: list[Problem] = []
    with d:
        docs = _read_docs(d, CONFIG_LIMITS, LOCAL_D, _local_d_budget(d.path), LOCAL_D_MAX_FILES,
                          problems, {})
    return _merge_tailoring(docs, bundle, problems, tuple(doc.file for doc in docs))


def _merge_tailoring(docs: list[Located], bundle: Bundle, problems: list[Problem], files: tuple[str, ...]) -> LoadedTailoring:
    """Validate each parsed local.d file and merge them in name order."""
    merged: dict[str, Any] = {}
    parts = []
    for doc in docs:
        if doc.data is None:
            continue
        try:
            part = convert(doc, Tailoring)
        except PolicyError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(_tailoring_problems(part, doc, bundle))
        parts.append(part)
    if problems:
        raise PolicyError(problems)
    for part in parts:
        for f in msgspec.structs.fields(Tailoring):
            value = getattr(part, f.name)
            if isinstance(value, list):
                merged.setdefault(f.name, []).extend(value)
            elif isinstance(value, dict):
                merged.setdefault(f.name, {}).update(value)
            elif isinstance(value, msgspec.Struct) and merged.get(f.name) is not None:
                # record: {place: ...} in one file and record: {number: ...} in another both count
                changes = {k: getattr(value, k) for k in value.__struct_fields__ if getattr(value, k) is not None}
                merged[f.name] = msgspec.structs.replace(merged[f.name], **changes)
            elif value is not None:
                merged[f.name] = value
    return LoadedTailoring(Tailoring(**merged), files)


RECORD_NUMBER_FIELDS = ("seq", "year")


def record_number_problem(pattern: str) -> Optional[str]:
    """Why a record number pattern (``record.number``) is unusable, or None."""
    import string
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        return f"not a record number pattern ({exc}); write e.g. \"{{seq}}/BB-CNTT\""
    for name in names:
        if name not in RECORD_NUMBER_FIELDS:
            return f"unknown field {{{name}}} in the record number; use {{seq}} (number of the year) and {{year}}"
    return None


def _tailoring_problems(t: Tailoring, doc: Located, bundle: Bundle) -> list[Problem]:
    out = []
    if t.profile is not None and t.profile not in bundle.profiles:
        out.append(doc.problem(("profile",), f"unknown profile {t.profile!r}; known: {', '.join(sorted(bundle.profiles))}"))
    for key in ("disable", "severity", "waivers", "actions", "citations"):
        for i, entry in enumerate(getattr(t, key)):
            if entry.check not in bundle.checks:
                out.append(doc.problem((key, i, "check"), f"unknown check {entry.check!r}"))
    for i, entry in enumerate(t.citations):
        for j, ref in enumerate(entry.legal_refs):
            out.extend(ref_problems(ref, bundle.sources, doc, ("citations", i, "legal_refs", j)))
    if t.independent_lan is not None:
        import ipaddress
        for i, net in enumerate(t.independent_lan.subnets):
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                out.append(doc.problem(("independent_lan", "subnets", i), f"not a subnet: {net!r}"))
    if t.record is not None and t.record.number is not None:
        problem = record_number_problem(t.record.number)
        if problem:
            out.append(doc.problem(("record", "number"), problem))
    for i, c in enumerate(t.crypto_products):
        for key in ("name", "reference"):
            if not getattr(c, key).strip():
                out.append(doc.problem(("crypto_products", i, key), f"a cơ yếu product needs its {key}: the record "
                                                                   "shows the declaration as the exception's basis"))
        for j, iface in enumerate(c.interfaces):
            if not iface.strip() or "/" in iface:
                out.append(doc.problem(("crypto_products", i, "interfaces", j), f"not an interface name: {iface!r}"))
    for i, w in enumerate(t.waivers):
        if not w.justification.strip():
            out.append(doc.problem(("waivers", i, "justification"), "a waiver needs a justification"))
    for i, s in enumerate(t.severity):
        if not s.justification.strip():
            out.append(doc.problem(("severity", i, "justification"), "a severity override needs a justification"))
    return out
