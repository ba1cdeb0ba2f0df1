"""What `bmnn policy list|show|explain|coverage` print: plain data for --json, rich text for people.

Citations come from ``bmnn_guard.policies.citation`` already carrying what is doubtful about them ("chưa
xác minh", "chưa rõ còn hiệu lực") once; nothing here adds a second marker. "In force" is asked
for the day the command runs (the CLI passes it: the policy layer never reads the clock).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from bmnn_guard.policies.citation import resolve
from bmnn_guard.policies.loader import Bundle, _covers, catalog_entries

from .i18n import t


def profiles_of(bundle: Bundle, cid: str) -> list[str]:
    """Profiles that select check ``cid``."""
    out = []
    for pid, prof in sorted(bundle.profiles.items()):
        if any((e if isinstance(e, str) else e.id) == cid for e in prof.checks):
            out.append(pid)
    return out


def _reading(r) -> dict[str, Any]:
    return {"title": r.title, "number": r.number, "url": r.url, "gazette": r.gazette, "read_on": r.read_on.isoformat(),
            "locator": r.locator, "quote": r.quote}


def citation(bundle: Bundle, ref, lang: str, day: Optional[dt.date] = None) -> dict[str, Any]:
    """One legal reference, resolved, with its text, its status and what was read for it."""
    point = getattr(ref, "point", None)
    c = resolve(bundle.sources, ref.source, ref.article, ref.clause, lang, point=point, day=day)
    return {"source": ref.source, "article": ref.article, "clause": ref.clause, "point": point,
            "role": getattr(ref, "role", "primary"), "citation": c.label, "short": c.short, "text": c.text,
            "verified": c.verified, "in_force": c.in_force, "note": c.note,
            "read": [_reading(r) for r in c.readings]}


def ref_document(bundle: Bundle, ref, day: Optional[dt.date] = None, in_force: Optional[bool] = None) -> dict[str, Any]:
    """A legal reference as the scan document carries it: both languages, marks said once.
    ``in_force`` (from the evaluation) wins over recomputing it for ``day``."""
    point = getattr(ref, "point", None)
    vi = resolve(bundle.sources, ref.source, ref.article, ref.clause, "vi", point=point, day=day)
    en = resolve(bundle.sources, ref.source, ref.article, ref.clause, "en", point=point, day=day)
    return {"source": ref.source, "article": ref.article, "clause": ref.clause, "point": point,
            "role": getattr(ref, "role", "primary"), "verified": vi.verified,
            "in_force": in_force if in_force is not None or day is None else vi.in_force,
            "citation": {"vi": vi.label, "en": en.label}, "short": {"vi": vi.short, "en": en.short}}


def citations(bundle: Bundle, cid: str, lang: str, day: Optional[dt.date] = None) -> list[dict[str, Any]]:
    """Each legal reference of a check, resolved, with its text."""
    return [citation(bundle, ref, lang, day) for ref in bundle.checks[cid].spec.legal_refs]


def check_summary(bundle: Bundle, cid: str, lang: str) -> dict[str, Any]:
    """One line of `policy list`."""
    spec = bundle.checks[cid].spec
    return {"id": cid, "version": spec.version, "severity": spec.severity, "category": spec.category,
            "mode": spec.mode, "title": spec.title.get(lang), "profiles": profiles_of(bundle, cid)}


def check_detail(bundle: Bundle, cid: str, lang: str, day: Optional[dt.date] = None) -> dict[str, Any]:
    """Everything `policy show` prints."""
    spec = bundle.checks[cid].spec
    d = check_summary(bundle, cid, lang)
    d.update({
        "description": spec.description.get(lang), "rationale": spec.rationale.get(lang),
        "remediation": spec.remediation.get(lang), "legal_refs": citations(bundle, cid, lang, day),
        "exceptions": [{"declaration": e.declaration, "legal_refs": [citation(bundle, r, lang, day) for r in e.legal_refs]}
                       for e in spec.exceptions],
        "applies_to": spec.applies_to, "fail_if": spec.fail_if, "evidence": spec.evidence,
        "question": spec.manual.question.get(lang) if spec.manual else None, "file": bundle.checks[cid].file,
        "requirements": [q.id for q in bundle.requirements if cid in q.checks],
    })
    return d


def print_list(console, rows: list[dict], lang: str) -> None:
    """A table of checks."""
    from rich.table import Table
    table = Table(show_lines=False)
    for key in ("policy.id", "policy.severity", "policy.category", "policy.mode", "policy.title"):
        table.add_column(t(key, lang))
    for r in rows:
        table.add_row(r["id"], t(f"severity.{r['severity']}", lang), t(f"category.{r['category']}", lang),
                      t(f"mode.{r['mode']}", lang), r["title"])
    console.print(table)


def _print_ref(console, ref: dict, lang: str, explain: bool, indent: str = "  ") -> None:
    from rich.markup import escape
    style = "" if ref["verified"] else "yellow"
    line = escape(ref["citation"])
    console.print(f"{indent}• " + (f"[{style}]{line}[/{style}]" if style else line))
    if not explain:
        return
    if ref["text"]:
        console.print(f"{indent}  [italic]“{escape(ref['text'])}”[/italic]")
    if ref.get("note"):
        console.print(f"{indent}  [dim]{escape(ref['note'])}[/dim]")
    for r in ref.get("read", []):
        where = r["url"] or r["gazette"]
        day = dt.date.fromisoformat(r["read_on"])
        date = day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")
        console.print(f"{indent}  [dim]" + escape(t("legal.read", lang, title=r["title"], date=date, where=where))
                      + "[/dim]")


def print_detail(console, d: dict, lang: str, explain: bool = False) -> None:
    """One check; with ``explain`` the legal texts come first and in full, with what was read."""
    from rich.markup import escape
    console.print(f"[bold]{d['id']}[/bold] v{d['version']} — {escape(d['title'])}")
    console.print(f"{t('policy.severity', lang)}: {t('severity.' + d['severity'], lang)}   "
                  f"{t('policy.category', lang)}: {t('category.' + d['category'], lang)}   "
                  f"{t('policy.mode', lang)}: {t('mode.' + d['mode'], lang)}")
    console.print(f"{t('policy.profiles', lang)}: {', '.join(d['profiles']) or '—'}")
    if d.get("requirements"):
        console.print(f"{t('policy.requirements', lang)}: {', '.join(d['requirements'])}")
    console.print()
    console.print(f"[bold]{t('policy.legal', lang)}[/bold]")
    for ref in d["legal_refs"]:
        _print_ref(console, ref, lang, explain)
    for exc in d.get("exceptions", []):
        console.print()
        console.print(f"[bold]{t('policy.exception.' + exc['declaration'], lang)}[/bold]")
        for ref in exc["legal_refs"]:
            _print_ref(console, ref, lang, explain)
    for key in ("description", "rationale", "remediation"):
        console.print()
        console.print(f"[bold]{t('policy.' + key, lang)}[/bold]")
        console.print(f"  {escape(d[key])}")
    if d.get("question"):
        console.print()
        console.print(f"[bold]{t('policy.question', lang)}[/bold]")
        console.print(f"  {escape(d['question'])}")


# ---------------------------------------------------------------- coverage


def coverage(bundle: Bundle, day: Optional[dt.date] = None) -> dict[str, Any]:
    """The requirement map in both languages: each requirement with its provisions and checks, the
    entries no workstation can check and why, and what (if anything) the map leaves out."""
    def both(ref) -> dict[str, Any]:
        return ref_document(bundle, ref, day)

    reqs = [{"id": q.id, "title": {"vi": q.title.vi, "en": q.title.en},
             "note": {"vi": q.note.vi, "en": q.note.en} if q.note else None,
             "legal_refs": [both(r) for r in q.legal_refs], "checks": list(q.checks)} for q in bundle.requirements]
    nots = [dict(both(n), reason={"vi": n.reason.vi, "en": n.reason.en}) for n in bundle.not_checkable]
    mapped = [r for q in bundle.requirements for r in q.legal_refs] + list(bundle.not_checkable)
    entries = catalog_entries(bundle.sources)
    unmapped = [e for e in entries if not any(_covers(r, e) for r in mapped)]
    served = {c for q in bundle.requirements for c in q.checks}
    return {"requirements": reqs, "not_checkable": nots,
            "unmapped": [{"source": s, "article": a, "clause": c, "point": p} for s, a, c, p in unmapped],
            "unserved_checks": sorted(set(bundle.checks) - served),
            "summary": {"requirements": len(reqs), "checks": len(bundle.checks), "checks_mapped": len(served & set(bundle.checks)),
                        "entries": len(entries), "entries_unmapped": len(unmapped), "not_checkable": len(nots)}}


def print_coverage(console, cov: dict, lang: str) -> None:
    """The requirement map as tables, in ``lang``."""
    from rich.markup import escape
    from rich.table import Table
    lk = "en" if lang == "en" else "vi"
    console.print(f"[bold]{t('coverage.title', lang)}[/bold]")
    table = Table(show_lines=True, expand=True)
    table.add_column(t("coverage.requirement", lang), ratio=4)
    table.add_column(t("policy.legal", lang), ratio=4)
    table.add_column(t("coverage.checks", lang), ratio=2)
    for q in cov["requirements"]:
        title = f"[bold]{q['id']}[/bold] {escape(q['title'][lk])}"
        if q.get("note"):
            title += f"\n[dim]{escape(q['note'][lk])}[/dim]"
        refs = "\n".join(f"• {escape(r['short'][lk])}" for r in q["legal_refs"])
        table.add_row(title, refs, "\n".join(q["checks"]))
    console.print(table)
    console.print()
    console.print(f"[bold]{t('coverage.not_checkable', lang)}[/bold]")
    nt = Table(show_lines=True, expand=True)
    nt.add_column(t("policy.legal", lang), ratio=3)
    nt.add_column(t("coverage.reason", lang), ratio=5)
    for n in cov["not_checkable"]:
        nt.add_row(escape(n["short"][lk]), escape(n["reason"][lk]))
    console.print(nt)
    s = cov["summary"]
    console.print(t("coverage.summary", lang, requirements=s["requirements"], mapped=s["checks_mapped"], checks=s["checks"],
                    entries=s["entries"], not_checkable=s["not_checkable"], unmapped=s["entries_unmapped"]))
    for e in cov["unmapped"]:
        console.print(f"[red]{escape(t('coverage.unmapped', lang, entry=' '.join(str(v) for v in e.values() if v)))}[/red]")
