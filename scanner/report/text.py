"""Terminal report: rich tables grouped by area, status with colour and symbol, verdict line.

Every value that comes from the machine or the operator (host name, DMI strings, evidence, the
reasons that quote them, the inspector's name) is shown through ``textsafe.visible`` and then
rich's markup escape: a device string holding ESC or U+202E never reaches the terminal raw."""

from __future__ import annotations

from ..i18n import t
from ..textsafe import visible
from . import CATEGORY_ORDER, COLOURS, SYMBOLS, evidence_lines, primary_citation, shown

VERDICT_STYLE = {"NON_COMPLIANT": "bold white on red", "INCOMPLETE": "bold black on yellow",
                 "COMPLIANT_WITH_EXCEPTIONS": "bold black on cyan", "COMPLIANT": "bold white on green"}


def report(doc: dict, console, lang: str = "vi") -> None:
    """Print the checklist to a rich console."""
    from rich.markup import escape as _escape
    from rich.table import Table

    def escape(value) -> str:
        return _escape(visible(value))
    lk = "en" if lang == "en" else "vi"
    tg = doc["target"]
    console.print(f"[bold]{t('record.title', lang)}[/bold]")
    console.print(f"{t('record.hostname', lang)}: {escape(tg['hostname'] or '?')}   "
                  f"{t('record.vendor', lang)}: {escape(tg['dmi']['vendor'] or '?')} {escape(tg['dmi']['product'] or '')}   "
                  f"{t('record.serial', lang)}: {escape(tg['dmi']['serial'] or '?')}")
    console.print(f"{t('record.profile', lang)}: {escape(doc['profile']['id'])} — {escape(doc['profile']['title'][lk])}   "
                  f"{t('record.time', lang)}: {doc['started_at']}"
                  + (f"   {t('record.inspector', lang)}: {escape(doc['inspector'])}" if doc.get("inspector") else ""))
    rows = shown(doc)
    for cat in CATEGORY_ORDER:
        group = [r for r in rows if r["category"] == cat]
        if not group:
            continue
        wide = console.width >= 120  # narrow consoles get the citation under the title, not a column
        table = Table(title=t("category." + cat, lang), title_justify="left", expand=True, show_lines=True)
        table.add_column(t("scan.status", lang), no_wrap=True)
        table.add_column(t("policy.id", lang), no_wrap=True)
        if wide:
            table.add_column(t("policy.severity", lang), no_wrap=True)
        table.add_column(t("record.check", lang), ratio=3)
        table.add_column(t("record.evidence", lang), ratio=4)
        if wide:
            table.add_column(t("record.legal", lang), ratio=2)
        for r in group:
            st = r["status"]
            status = f"[{COLOURS[st]}]{SYMBOLS[st]} {t('status.' + st, lang)}[/]"
            detail = escape(r["reason"][lk])
            ev = evidence_lines(r)
            if ev and st in ("fail", "waived", "informational"):
                detail += "\n" + "\n".join("  • " + escape(e) for e in ev)
            if wide:
                table.add_row(status, escape(r["check_id"]), t("severity." + r["severity"], lang), escape(r["title"][lk]), detail,
                              escape(primary_citation(r, lang)))
            else:
                title = (f"{escape(r['title'][lk])}\n[dim]{t('severity.' + r['severity'], lang)} · "
                         f"{escape(primary_citation(r, lang))}[/dim]")
                table.add_row(status, escape(r["check_id"]), title, detail)
        console.print(table)
    hidden = sum(1 for r in doc["results"] if r["status"] == "not_selected")
    if hidden:
        console.print(f"[dim]{t('record.not_selected_hidden', lang, n=hidden)}[/dim]")
    counts = doc["summary"]["counts"]
    summary = ", ".join(f"{t('status.' + k, lang)}: {v}" for k, v in counts.items() if v and k != "not_selected")
    verdict = doc["summary"]["verdict"]
    console.print(f"{t('record.counts', lang)}: {summary}")
    console.print(f"[{VERDICT_STYLE[verdict]}] {t('scan.verdict', lang)}: {t('verdict.' + verdict, lang)} [/]")
