"""The evaluator: a pure function of (facts, bundle, profile, tailoring, context, answers, now).

The daemon and ``bmnn scan`` both call ``evaluate``; nothing here reads the machine, the clock or
the network, so a rule behaves the same in a pre-deployment scan and at 3 a.m. in the daemon.

Status of one check, in the order decided:

1. not in the profile, or disabled in local tailoring            -> ``not_selected``
2. a domain it reads was not collected at all                     -> ``error``
   (``not_reviewed`` when only a step skipped on purpose is missing: ``--no-content``)
3. ``applies_to`` false                                            -> ``not_applicable``
4. ``fail_if`` true / false / undecidable (missing fact)           -> ``fail`` / ``pass`` / ``error``
   A collection error on a fact path the check reads turns ``pass`` and ``not_applicable`` into
   ``error``, never a ``fail``: a failure found in what could be read stands.
5. manual part (manual, or hybrid whose automated part passed):
   a manual check's ``applies_to`` false                           -> ``not_applicable``
   answered pass/fail/not_applicable, else                         -> ``not_reviewed``
6. effective severity ``info`` turns ``fail`` into                 -> ``informational``
7. a valid waiver in scope turns ``fail`` into                     -> ``waived``
   (``underlying_status`` keeps what it was; an expired waiver is not applied and says so)

Two things are said beside the status, never instead of it: the lawful exceptions a check honours
(a link declared as protected by a cơ yếu product), each with its declaration, which make a
compliant machine COMPLIANT_WITH_EXCEPTIONS; and, when no primary legal basis of the check is in
force on the day of ``now`` (or that is unknown), a note in the reason saying so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Collection, Mapping, Optional

from . import conditions as C
from . import facts as F
from .citation import in_force as source_in_force
from .citation import resolve
from .context import EvalContext
from .loader import Bundle, CompiledCheck
from .schema import SEVERITY_RANK, Tailoring, Waiver

STATUSES = ("pass", "fail", "error", "not_applicable", "not_selected", "not_reviewed", "waived", "informational")
VERDICTS = ("NON_COMPLIANT", "INCOMPLETE", "COMPLIANT_WITH_EXCEPTIONS", "COMPLIANT")
MAX_EVIDENCE = 50


@dataclass(frozen=True)
class Reason:
    """Why a result is what it is, in Vietnamese and English."""

    vi: str
    """Vietnamese text (the default language of every report)."""
    en: str
    """English text."""

    def get(self, lang: str) -> str:
        """The text in ``lang``."""
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True)
class Answer:
    """An inspector's answer to a manual item."""

    status: str
    """pass, fail or not_applicable."""
    note: Optional[str] = None
    """Free-text note for the record."""


@dataclass(frozen=True)
class WaiverInfo:
    """A waiver that matched this check and machine, applied or (when expired) not."""

    justification: str
    """Why the exception was granted."""
    issuer: str
    """Who granted it."""
    expires: str
    """Expiry date, ISO 8601."""
    expired: bool
    """True when it has expired and was therefore not applied."""
    reference: Optional[str] = None
    """Decision or letter number."""


@dataclass(frozen=True)
class ManualInfo:
    """The manual part of a check as put to the inspector."""

    question: Reason
    """The question."""
    answer: Optional[str] = None
    """pass, fail or not_applicable; None while unanswered."""
    note: Optional[str] = None
    """The inspector's note."""


@dataclass(frozen=True)
class LegalRefOut:
    """A resolved legal citation."""

    source: str
    """Catalog id of the text (vn.law.117-2025-qh15)."""
    article: str
    """Article number."""
    clause: Optional[str] = None
    """Clause number."""
    role: str = "primary"
    """primary, supporting or history."""
    point: Optional[str] = None
    """Point letter within the clause."""
    in_force: Optional[bool] = None
    """The text is in force on the day of the evaluation; None when the catalog cannot tell."""


@dataclass(frozen=True)
class ExceptionApplied:
    """A lawful exception honoured by a check, with the declaration that claims it."""

    kind: str
    """Kind of declaration (crypto: a link protected by a cơ yếu product)."""
    item: str
    """What on this machine falls under it (an interface name)."""
    name: str
    """The product or arrangement declared."""
    reference: str
    """The document behind the declaration."""
    supplied_by: Optional[str] = None
    """Who supplied the product."""
    legal_refs: tuple[LegalRefOut, ...] = ()
    """Provisions that make it an exception."""


@dataclass(frozen=True)
class CheckResult:
    """The judgement of one check on one machine."""

    check_id: str
    """Immutable id (BMNN-NET-001)."""
    check_version: int
    """Version of the check definition."""
    status: str
    """One of STATUSES."""
    underlying_status: str
    """The status before waivers and the info downgrade."""
    severity: str
    """Effective severity (after profile and tailoring overrides)."""
    category: str
    """Area of the checklist."""
    mode: str
    """automated, manual or hybrid."""
    reason: Reason
    """Why, in both languages."""
    evidence: tuple[Mapping[str, Any], ...] = ()
    """Metadata of the items that made it fail (never document content)."""
    legal_refs: tuple[LegalRefOut, ...] = ()
    """Provisions the check serves."""
    waiver: Optional[WaiverInfo] = None
    """The waiver that matched, if any."""
    manual: Optional[ManualInfo] = None
    """The manual part, if any."""
    severity_justification: Optional[str] = None
    """Why the severity was overridden locally."""
    exceptions: tuple[ExceptionApplied, ...] = ()
    """Lawful exceptions honoured (shown with their declaration, never counted as a violation)."""
    basis_in_force: Optional[bool] = True
    """Some primary legal basis is in force on the day: False when none is, None when that is unknown."""


@dataclass(frozen=True)
class Summary:
    """Counts per status and the verdict."""

    counts: Mapping[str, int]
    """Number of results per status."""
    verdict: str
    """One of VERDICTS."""
    threshold: str
    """Severity from which a fail makes the machine non-compliant."""


@dataclass(frozen=True)
class Evaluation:
    """All results of one evaluation."""

    profile_id: str
    """Profile evaluated."""
    profile_version: int
    """Its version."""
    policy_sha256: str
    """Hash of the policy bundle."""
    results: tuple[CheckResult, ...]
    """One result per check of the bundle, in id order."""
    summary: Summary
    """Counts and verdict."""


# ---------------------------------------------------------------- helpers


def _r(vi: str, en: str) -> Reason:
    return Reason(vi, en)


SKIPPABLE_DOMAINS = frozenset({"documents"})
"""Domains a scan may leave out on purpose (``--no-content``): a check that reads only such a
domain and others that were collected is ``not_reviewed`` (the verdict is incomplete), never an
``error`` of the machine."""


def _not_collected(facts: F.Facts, reads: frozenset[str]) -> Optional[tuple[str, Reason]]:
    """(status, reason) when a domain the check reads was not collected at all: ``not_reviewed``
    when only skippable domains are missing (the step was not run), else ``error``."""
    missing = sorted({p.split(".")[0] for p in reads} - set(facts.collected))
    if not missing:
        return None
    joined = ", ".join(missing)
    if set(missing) <= SKIPPABLE_DOMAINS:
        return "not_reviewed", _r("Chưa quét nội dung tài liệu (bỏ tùy chọn --no-content để quét)",
                                  "Documents were not scanned (remove --no-content)")
    if "documents" in missing:
        return "error", _r(f"Chưa thu thập dữ liệu: {joined} (chưa quét nội dung tài liệu; bỏ tùy chọn --no-content)",
                           f"Not collected: {joined} (documents were not scanned; remove --no-content)")
    return "error", _r(f"Chưa thu thập dữ liệu: {joined}", f"Not collected: {joined}")


def _collection_problem(facts: F.Facts, reads: frozenset[str]) -> Optional[Reason]:
    """A reason when a collection error touches a fact path the check reads.

    An error on ``devices.block`` (the list may be incomplete) touches every check reading the
    list or its fields; an error on ``devices.block.fs_type`` only the checks reading fs_type.
    """
    errs = []
    for dom in sorted({p.split(".")[0] for p in reads}):
        for err in getattr(facts, dom).errors:
            if err.affects is None or any(p == err.affects or p.startswith(err.affects + ".") for p in reads):
                errs.append(f"{err.source}: {err.message}")
    if errs:
        text = "; ".join(errs[:5]) + (f" (+{len(errs) - 5})" if len(errs) > 5 else "")
        return _r(f"Không đọc được nguồn dữ liệu: {text}", f"Could not read: {text}")
    return None


def _evidence(check: CompiledCheck, trace: C.Trace, facts: F.Facts) -> tuple[dict, ...]:
    """Rows of the fields ``evidence`` names: for a list of facts (devices.usb), the items that made
    the check fail; for a single fact (agent), that fact itself, on a pass as on a failure, so that
    a pass can say how it was established."""
    out: list[dict] = []
    for dom, fields in check.spec.evidence.items():
        single = C.get_path(facts, dom)
        if dataclasses.is_dataclass(single):
            row = {"fact": dom}
            for f in fields:
                value = C.get_path(single, f)
                row[f] = list(value) if isinstance(value, tuple) else value
            out.append(row)
            continue
        seen = set()
        for item in trace.witnesses.get(dom, []):
            if id(item) in seen:
                continue
            seen.add(id(item))
            row = {"fact": dom}
            for f in fields:
                value = C.get_path(item, f)
                row[f] = list(value) if isinstance(value, tuple) else value
            out.append(row)
            if len(out) >= MAX_EVIDENCE:
                return tuple(out)
    return tuple(out)


def _fail_reason(check: CompiledCheck, evidence: tuple[dict, ...]) -> Reason:
    labels = []
    for row in evidence[:5]:
        # what names the item (a path, a name, a serial); a flag alone reads as Python ("mat True")
        vals = [str(v) for k, v in row.items() if k != "fact" and not isinstance(v, bool) and v not in (None, [], "")]
        labels.append(" ".join(vals[:2]) if vals else row["fact"])
    items = ", ".join(labels) + (" …" if len(evidence) > 5 else "")
    msgs = check.spec.messages
    if msgs is not None:
        return _r(msgs.fail.vi.format(count=len(evidence), items=items), msgs.fail.en.format(count=len(evidence), items=items))
    suffix = f": {items}" if items else ""
    return _r(f"Vi phạm{suffix}", f"Failed{suffix}")


def _pass_reason(check: CompiledCheck) -> Reason:
    msgs = check.spec.messages
    if msgs is not None:
        return _r(msgs.passed.vi, msgs.passed.en)
    return _r("Đạt", "Passed")


def _waiver_for(check_id: str, waivers: list[Waiver], host: F.HostFacts) -> Optional[Waiver]:
    for w in waivers:
        if w.check != check_id:
            continue
        scope = w.scope
        if scope.dmi_serial is not None and scope.dmi_serial != host.dmi_serial:
            continue
        if scope.machine_id is not None and scope.machine_id != host.machine_id:
            continue
        if scope.hostname is not None and scope.hostname != host.hostname:
            continue
        return w
    return None


# ---------------------------------------------------------------- evaluation


def evaluate(facts: F.Facts, bundle: Bundle, *, profile: Optional[str] = None,
             tailoring: Optional[Tailoring] = None, context: Optional[EvalContext] = None,
             answers: Optional[Mapping[str, Answer]] = None, now: dt.datetime,
             only: Optional[Collection[str]] = None) -> Evaluation:
    """Judge ``facts`` with every check of ``bundle`` under ``profile`` and the local tailoring.
    ``only``: judge just these checks (the daemon re-judges the checks whose domains were
    re-read); the results and the summary then cover those alone."""
    tailoring = tailoring or Tailoring()
    context = context or EvalContext()
    answers = answers or {}
    profile_id = profile or tailoring.profile or bundle.default_profile
    prof = bundle.profiles.get(profile_id)
    if prof is None:
        raise KeyError(f"unknown profile {profile_id!r}")
    selected = {(e if isinstance(e, str) else e.id): (None if isinstance(e, str) else e.severity) for e in prof.checks}
    disabled = {d.check: d.reason for d in tailoring.disable}
    sev_over = {s.check: s for s in tailoring.severity}
    citations = {c.check: c.legal_refs for c in tailoring.citations}
    day = now.date()
    force = _ForcePerSource(bundle, day)

    raw: dict[str, tuple[str, Reason, tuple, Optional[ManualInfo]]] = {}

    def underlying(cid: str) -> Optional[str]:
        if cid not in bundle.checks:
            return None
        if cid not in raw:
            raw[cid] = _judge(bundle.checks[cid], facts, context, answers, underlying)
        return raw[cid][0]

    results = []
    for cid in sorted(bundle.checks if only is None else set(only) & set(bundle.checks)):
        check = bundle.checks[cid]
        spec = check.spec
        severity = spec.severity
        justification = None
        if selected.get(cid):
            severity = selected[cid]
        if cid in sev_over:
            severity, justification = sev_over[cid].severity, sev_over[cid].justification
        refs, basis = _refs_for(bundle, citations.get(cid, spec.legal_refs), day, force)
        common = dict(check_id=cid, check_version=spec.version, severity=severity, category=spec.category,
                      mode=spec.mode, legal_refs=refs, severity_justification=justification, basis_in_force=basis)
        if cid not in selected:
            reason = _r(f"Không thuộc hồ sơ {profile_id}", f"Not part of profile {profile_id}")
            results.append(CheckResult(status="not_selected", underlying_status="not_selected", reason=reason, **common))
            continue
        if cid in disabled:
            reason = _r(f"Tắt theo cấu hình địa phương: {disabled[cid]}", f"Disabled by local tailoring: {disabled[cid]}")
            results.append(CheckResult(status="not_selected", underlying_status="not_selected", reason=reason, **common))
            continue
        underlying(cid)
        status, reason, evidence, manual = raw[cid]
        exceptions = ()
        if status in ("pass", "fail") and check.exceptions:
            exceptions = _exceptions(check, facts, context, bundle, day)
            if exceptions:
                reason = _with_exceptions(reason, exceptions)
        if basis is not True and status not in ("not_applicable",):
            reason = _with_basis(reason, bundle, refs, basis, day)
        final = status
        if status == "fail" and severity == "info":
            final = "informational"
        waiver_info = None
        w = _waiver_for(cid, tailoring.waivers, facts.host)
        if w is not None:
            expired = now.date() > w.expires
            waiver_info = WaiverInfo(w.justification, w.issuer, w.expires.isoformat(), expired, w.reference)
            if expired:
                reason = _r(reason.vi + f" (miễn trừ đã hết hạn ngày {w.expires.isoformat()}, không áp dụng)",
                            reason.en + f" (waiver expired on {w.expires.isoformat()}, not applied)")
            elif final == "fail":
                final = "waived"
                reason = _r(reason.vi + f" (được miễn trừ bởi {w.issuer} đến {w.expires.isoformat()})",
                            reason.en + f" (waived by {w.issuer} until {w.expires.isoformat()})")
        results.append(CheckResult(status=final, underlying_status=status, reason=reason, evidence=evidence,
                                   waiver=waiver_info, manual=manual, exceptions=exceptions, **common))
    return Evaluation(profile_id=prof.id, profile_version=prof.version, policy_sha256=bundle.sha256,
                      results=tuple(results), summary=summarize(results, prof.threshold))


def _judge(check: CompiledCheck, facts: F.Facts, ctx: EvalContext, answers: Mapping[str, Answer], underlying):
    """Underlying status of one check, before selection, severity and waivers."""
    spec = check.spec
    manual = None
    if spec.manual is not None:
        ans = answers.get(spec.id)
        manual = ManualInfo(Reason(spec.manual.question.vi, spec.manual.question.en),
                            ans.status if ans else None, ans.note if ans else None)
    status, reason, evidence = "pass", _pass_reason(check), ()
    if spec.mode == "manual" and check.applies_to is not None:
        # a manual item that concerns only some machines (a Mật meeting room) asks only there
        applies = C.evaluate(check.applies_to, facts, ctx, underlying, C.Trace())
        if applies is False:
            return "not_applicable", _r("Không áp dụng cho máy này", "Does not apply to this machine"), (), manual
    if spec.mode in ("automated", "hybrid"):
        absent = _not_collected(facts, check.reads)
        if absent is not None:
            return absent[0], absent[1], (), manual
        # A failure found in what could be read stands; a pass or n/a built on facts that could
        # not all be read is an error ("could not check" is never pass).
        problem = _collection_problem(facts, check.reads)
        trace = C.Trace()
        if check.applies_to is not None:
            applies = C.evaluate(check.applies_to, facts, ctx, underlying, trace)
            if problem is not None and applies is not True:
                return "error", problem, (), manual
            if applies is None:
                return "error", _missing_reason(trace), (), manual
            if applies is False:
                return "not_applicable", _r("Không áp dụng cho máy này", "Does not apply to this machine"), (), manual
        trace = C.Trace()
        verdict = C.evaluate(check.fail_if, facts, ctx, underlying, trace)
        if verdict:
            evidence = _evidence(check, trace, facts)
            reason = _fail_reason(check, evidence)
            if problem is not None:
                reason = _r(reason.vi + f" ({problem.vi})", reason.en + f" ({problem.en})")
            return "fail", reason, evidence, manual
        if problem is not None:
            return "error", problem, (), manual
        if verdict is None:
            return "error", _missing_reason(trace), (), manual
        evidence = _evidence(check, C.Trace(), facts)  # a pass keeps what a single fact says
    if spec.mode in ("manual", "hybrid"):
        if manual.answer is None:
            return "not_reviewed", _r("Chờ cán bộ kiểm tra trả lời", "Awaiting the inspector's answer"), evidence, manual
        note = f": {manual.note}" if manual.note else ""
        if manual.answer == "fail":
            return "fail", _r(f"Cán bộ kiểm tra xác nhận không đạt{note}", f"Inspector answered fail{note}"), evidence, manual
        if manual.answer == "not_applicable":
            return "not_applicable", _r(f"Cán bộ kiểm tra xác nhận không áp dụng{note}", f"Inspector answered not applicable{note}"), evidence, manual
        return "pass", _r(f"Cán bộ kiểm tra xác nhận đạt{note}", f"Inspector answered pass{note}"), evidence, manual
    return status, reason, evidence, manual


class _ForcePerSource(dict):
    """Whether each source is in force on one day, computed on first use."""

    def __init__(self, bundle: Bundle, day: dt.date):
        super().__init__()
        self.bundle, self.day = bundle, day

    def __missing__(self, sid: str) -> Optional[bool]:
        value = self[sid] = source_in_force(self.bundle.sources[sid], self.day)
        return value


def _refs_out(bundle: Bundle, refs, day: dt.date, force: Optional[Mapping[str, Optional[bool]]] = None
              ) -> tuple[LegalRefOut, ...]:
    """References as cited, each with whether its text is in force on ``day`` (``force``: the
    answer per source, computed once per evaluation)."""
    if force is None:
        force = {r.source: source_in_force(bundle.sources[r.source], day) for r in refs}
    return tuple(LegalRefOut(r.source, r.article, r.clause, r.role, r.point, force[r.source]) for r in refs)


class _RefsCache:
    """``_refs_out`` and ``_basis_in_force`` of each check, memoised for one bundle and one day:
    the daemon re-evaluates on every event, and these change only with the policy or the day.
    A new bundle or day empties it, so it never keeps an old policy alive."""

    def __init__(self):
        self.bundle: Optional[Bundle] = None
        self.day: Optional[dt.date] = None
        self.entries: dict[int, tuple[Any, Any, dt.date, tuple[LegalRefOut, ...], Optional[bool]]] = {}

    def get(self, bundle: Bundle, refs, day: dt.date, force) -> tuple[tuple[LegalRefOut, ...], Optional[bool]]:
        if bundle is not self.bundle or day != self.day:
            self.entries = {}
            self.bundle, self.day = bundle, day
        entries = self.entries
        hit = entries.get(id(refs))
        # every part of the key is checked again: evaluations in two threads may race on a reset
        if hit is not None and hit[0] is refs and hit[1] is bundle and hit[2] == day:
            return hit[3], hit[4]
        out = _refs_out(bundle, refs, day, force)
        basis = _basis_in_force(out)
        entries[id(refs)] = (refs, bundle, day, out, basis)
        return out, basis


_REFS = _RefsCache()


def _refs_for(bundle: Bundle, refs, day: dt.date, force) -> tuple[tuple[LegalRefOut, ...], Optional[bool]]:
    """References of a check with their force on ``day``, and whether a primary one is in force."""
    return _REFS.get(bundle, refs, day, force)


def _basis_in_force(refs: tuple[LegalRefOut, ...]) -> Optional[bool]:
    """True when some primary reference is in force; False when every one is known not to be;
    None when none is known to be in force and some are unknown. A check with no primary
    reference is judged on all of its references."""
    primary = [r for r in refs if r.role == "primary"] or list(refs)
    states = {r.in_force for r in primary}
    if True in states:
        return True
    return None if None in states else False


def _with_basis(reason: Reason, bundle: Bundle, refs, basis: Optional[bool], day: dt.date) -> Reason:
    """The reason, saying that the check's primary basis is not (known to be) in force on ``day``."""
    primary = [r for r in refs if r.role == "primary"] or list(refs)
    names = {lang: "; ".join(resolve(bundle.sources, r.source, r.article, r.clause, lang, point=r.point).plain_short
                             for r in primary) for lang in ("vi", "en")}
    d_vi, d_en = day.strftime("%d/%m/%Y"), day.isoformat()
    if basis is False:
        return _r(reason.vi + f" (căn cứ chính không còn hoặc chưa có hiệu lực vào ngày {d_vi}: {names['vi']})",
                  reason.en + f" (the primary basis is not in force on {d_en}: {names['en']})")
    return _r(reason.vi + f" (chưa xác định được căn cứ chính còn hiệu lực vào ngày {d_vi}: {names['vi']})",
              reason.en + f" (it is not known whether the primary basis is in force on {d_en}: {names['en']})")


def _exceptions(check: CompiledCheck, facts: F.Facts, ctx: EvalContext, bundle: Bundle,
                day: dt.date) -> tuple[ExceptionApplied, ...]:
    """Items of the facts that a declared lawful exception covers, each with its declaration."""
    out: list[ExceptionApplied] = []
    seen: set[tuple[str, str]] = set()
    for exc in check.exceptions:
        declared = {d.key: d for d in ctx.declarations if d.kind == exc.declaration}
        if not declared:
            continue
        refs = _refs_out(bundle, exc.legal_refs, day)
        for item in C.get_path(facts, exc.count) or ():
            key = C.get_path(item, exc.key)
            if key not in declared or (exc.declaration, key) in seen:
                continue
            if exc.where is not None and C.evaluate(exc.where, item, ctx, lambda _cid: None, C.Trace()) is not True:
                continue
            seen.add((exc.declaration, key))
            d = declared[key]
            out.append(ExceptionApplied(d.kind, key, d.name, d.reference, d.supplied_by, refs))
    return tuple(out)


EXCEPTION_WORDS = {
    "crypto": Reason("{reason}. Ngoại lệ theo pháp luật về cơ yếu, theo khai báo của cơ quan: {items}",
                     "{reason}. Cryptography-law exception, as declared by the agency: {items}"),
}
_SUPPLIED = Reason("do {who} cung cấp", "supplied by {who}")


def _with_exceptions(reason: Reason, exceptions: tuple[ExceptionApplied, ...]) -> Reason:
    """The reason, naming each lawful exception with its declaration."""
    out = reason
    for kind in dict.fromkeys(e.kind for e in exceptions):
        words = {}
        for lang in ("vi", "en"):
            items = []
            for e in exceptions:
                if e.kind != kind:
                    continue
                ref = e.reference + (", " + _SUPPLIED.get(lang).format(who=e.supplied_by) if e.supplied_by else "")
                items.append(f"{e.item}: {e.name} ({ref})")
            words[lang] = EXCEPTION_WORDS[kind].get(lang).format(reason=out.get(lang), items="; ".join(items))
        out = _r(words["vi"], words["en"])
    return out


def _missing_reason(trace: C.Trace) -> Reason:
    paths = ", ".join(sorted(set(trace.missing))[:5]) or "?"
    return _r(f"Không xác định được: thiếu dữ liệu {paths}", f"Could not decide: missing facts {paths}")


def summarize(results, threshold: str) -> Summary:
    """Counts and verdict; see the truth table in docs/policies.md."""
    counts = {s: 0 for s in STATUSES}
    for r in results:
        counts[r.status] += 1
    rank = SEVERITY_RANK[threshold]
    blocking = any(r.status == "fail" and SEVERITY_RANK[r.severity] >= rank for r in results)
    excepted = any(getattr(r, "exceptions", ()) for r in results)
    if blocking:
        verdict = "NON_COMPLIANT"
    elif counts["error"] or counts["not_reviewed"]:
        verdict = "INCOMPLETE"
    elif counts["waived"] or counts["fail"] or excepted:
        verdict = "COMPLIANT_WITH_EXCEPTIONS"
    else:
        verdict = "COMPLIANT"
    return Summary(counts=counts, verdict=verdict, threshold=threshold)
