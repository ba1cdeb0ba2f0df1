"""Terminal report: rich tables grouped by area, status with colour and symbol, verdict line.

Check ids are typed back (``bmnn policy explain ID``), so their column keeps the longest id's
width while any other column can give (``layout.fitted_table``); evidence values (serials, paths,
hashes) fold inside their column: nothing is cut at the terminal's edge. Every string from the machine passes through ``textsafe.visible`` before rich
sees it, and through ``escape`` so that a ``[red]`` in a device name is text, not markup.
"""

from __future__ import annotations

from ..i18n import t
from ..localtime import datetime_words, local, zone_label
from ..textsafe import visible
from . import CATEGORY_ORDER, COLOURS, SYMBOLS, doc_zone, evidence_lines, primary_citation, shown
from .layout import fitted_table, natural_width

VERDICT_STYLE = {"NON_COMPLIANT": "bold white on red", "INCOMPLETE": "bold black on yellow",
                 "COMPLIANT_WITH_EXCEPTIONS": "bold black on cyan", "COMPLIANT": "bold white on green"}


def report(doc: dict, console, lang: str = "vi") -> None:
    """Print the checklist to a rich console."""
    from rich.markup import escape

    def safe(value) -> str:
        return escape(visible(value))

    lk = "en" if lang == "en" else "vi"
    tg = doc["target"]
    tz = doc_zone(doc, lang)
    started = local(doc["started_at"], tz)
    console.print(f"[bold]{t('record.title', lang)}[/bold]")
    console.print(f"{t('record.hostname', lang)}: {safe(tg['hostname'] or '?')}   "
                  f"{t('record.vendor', lang)}: {safe(tg['dmi']['vendor'] or '?')} {safe(tg['dmi']['product'] or '')}   "
                  f"{t('record.serial', lang)}: {safe(tg['dmi']['serial'] or '?')}")
    console.print(f"{t('record.profile', lang)}: {safe(doc['profile']['id'])} — {safe(doc['profile']['title'][lk])}")
    console.print(f"{t('record.time', lang)}: {datetime_words(started, lang)} ({zone_label(tz, started)})"
                  + (f"   {t('record.inspector', lang)}: {safe(doc['inspector'])}" if doc.get("inspector") else ""))
    rows = shown(doc)
    id_width = max((len(r["check_id"]) for r in rows), default=12)
    wide = console.width >= 120  # narrow consoles get the citation under the title, not a column
    headers = [t("scan.status", lang), t("policy.id", lang)] + ([t("policy.severity", lang)] if wide else []) + \
        [t("record.check", lang), t("record.evidence", lang)] + ([t("record.legal", lang)] if wide else [])
    for cat in CATEGORY_ORDER:
        group = [r for r in rows if r["category"] == cat]
        if not group:
            continue
        cells = []
        for r in group:
            st = r["status"]
            status = f"[{COLOURS[st]}]{SYMBOLS[st]} {t('status.' + st, lang)}[/]"
            detail = safe(r["reason"][lk])
            ev = evidence_lines(r, 5, lang, tz)
            if ev and st in ("fail", "waived", "informational", "error", "pass"):  # a pass has evidence only when a check says how it knows (AGT-001)
                detail += "\n" + "\n".join("  • " + safe(e) for e in ev)
            if wide:
                cells.append([status, r["check_id"], t("severity." + r["severity"], lang), safe(r["title"][lk]), detail,
                              safe(primary_citation(r, lang))])
            else:
                title = (f"{safe(r['title'][lk])}\n[dim]{t('severity.' + r['severity'], lang)} · "
                         f"{safe(primary_citation(r, lang))}[/dim]")
                cells.append([status, r["check_id"], title, detail])
        status_width = max(natural_width(c[0]) for c in cells)
        minimums = [status_width, id_width] + [None] * (len(headers) - 2)
        console.print(fitted_table(console, headers, cells, minimums, title=t("category." + cat, lang),
                                   title_justify="left", show_lines=True))
    hidden = sum(1 for r in doc["results"] if r["status"] == "not_selected")
    if hidden:
        console.print(f"[dim]{t('record.not_selected_hidden', lang, n=hidden)}[/dim]")
    counts = doc["summary"]["counts"]
    summary = ", ".join(f"{t('status.' + k, lang)}: {v}" for k, v in counts.items() if v and k != "not_selected")
    verdict = doc["summary"]["verdict"]
    console.print(f"{t('record.counts', lang)}: {summary}")
    console.print(f"[{VERDICT_STYLE[verdict]}] {t('scan.verdict', lang)}: {t('verdict.' + verdict, lang)} [/]")
