"""What `bmnn policy list|show|explain` print: plain data for --json, rich text for people."""

from __future__ import annotations

from typing import Any

from policies.citation import resolve
from policies.loader import Bundle

from .i18n import t


def profiles_of(bundle: Bundle, cid: str) -> list[str]:
    """Profiles that select check ``cid``."""
    out = []
    for pid, prof in sorted(bundle.profiles.items()):
        if any((e if isinstance(e, str) else e.id) == cid for e in prof.checks):
            out.append(pid)
    return out


def citations(bundle: Bundle, cid: str, lang: str) -> list[dict[str, Any]]:
    """Each legal reference of a check, resolved, with its text."""
    out = []
    for ref in bundle.checks[cid].spec.legal_refs:
        c = resolve(bundle.sources, ref.source, ref.article, ref.clause, lang)
        out.append({"source": ref.source, "article": ref.article, "clause": ref.clause, "role": ref.role,
                    "citation": c.label, "text": c.text, "verified": c.verified, "in_force": c.in_force})
    return out


def check_summary(bundle: Bundle, cid: str, lang: str) -> dict[str, Any]:
    """One line of `policy list`."""
    spec = bundle.checks[cid].spec
    return {"id": cid, "version": spec.version, "severity": spec.severity, "category": spec.category,
            "mode": spec.mode, "title": spec.title.get(lang), "profiles": profiles_of(bundle, cid)}


def check_detail(bundle: Bundle, cid: str, lang: str) -> dict[str, Any]:
    """Everything `policy show` prints."""
    spec = bundle.checks[cid].spec
    d = check_summary(bundle, cid, lang)
    d.update({
        "description": spec.description.get(lang), "rationale": spec.rationale.get(lang),
        "remediation": spec.remediation.get(lang), "legal_refs": citations(bundle, cid, lang),
        "applies_to": spec.applies_to, "fail_if": spec.fail_if, "evidence": spec.evidence,
        "question": spec.manual.question.get(lang) if spec.manual else None, "file": bundle.checks[cid].file,
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


def print_detail(console, d: dict, lang: str, explain: bool = False) -> None:
    """One check; with ``explain`` the legal texts come first and in full."""
    from rich.markup import escape
    console.print(f"[bold]{d['id']}[/bold] v{d['version']} — {escape(d['title'])}")
    console.print(f"{t('policy.severity', lang)}: {t('severity.' + d['severity'], lang)}   "
                  f"{t('policy.category', lang)}: {t('category.' + d['category'], lang)}   "
                  f"{t('policy.mode', lang)}: {t('mode.' + d['mode'], lang)}")
    console.print(f"{t('policy.profiles', lang)}: {', '.join(d['profiles']) or '—'}")
    console.print()
    console.print(f"[bold]{t('policy.legal', lang)}[/bold]")
    for ref in d["legal_refs"]:
        flag = "" if ref["verified"] else f" [yellow]({t('legal.unverified', lang)})[/yellow]"
        console.print(f"  • {escape(ref['citation'])}{flag}")
        if explain and ref["text"]:
            console.print(f"    [italic]“{escape(ref['text'])}”[/italic]")
    for key in ("description", "rationale", "remediation"):
        console.print()
        console.print(f"[bold]{t('policy.' + key, lang)}[/bold]")
        console.print(f"  {escape(d[key])}")
    if d.get("question"):
        console.print()
        console.print(f"[bold]{t('policy.question', lang)}[/bold]")
        console.print(f"  {escape(d['question'])}")
