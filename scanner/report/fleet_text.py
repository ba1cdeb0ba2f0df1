"""Fleet review in the terminal: invalid snapshots first, then machines worst first.

Each machine row names its host, the snapshot file and when the snapshot was made (local time),
so that two machines with the same host name (every fresh install is "debian") stay apart. Check
ids and serials are typed back, so they are listed whole, one per line; the monitoring figures
share one column so that the headers fit an 80-column terminal instead of being cut.
"""

from __future__ import annotations

import os
from typing import Optional

from ..i18n import t
from ..localtime import short, zone
from ..textsafe import visible


def _machine_cell(m: dict, tz, lang: str) -> str:
    return "\n".join([visible(m["hostname"] or "?"), visible(os.path.basename(m["path"])),
                      short(m["created_at"], tz, lang) if m.get("created_at") else "?"])


def report(machines: list[dict], console, lang: str = "vi", timezone: Optional[str] = None) -> None:
    """Print the fleet review to a rich console; times in ``timezone`` (default Asia/Ho_Chi_Minh)."""
    from rich.markup import escape
    from rich.table import Table
    tz = zone(timezone, lang)
    bad = [m for m in machines if not m["valid"]]
    console.print(f"[bold]{t('fleet.title', lang)}[/bold] — {t('fleet.count', lang, n=len(machines), bad=len(bad))}")
    if bad:
        table = Table(title=t("fleet.invalid", lang), title_style="bold red", title_justify="left", show_lines=True)
        table.add_column(t("fleet.snapshot", lang), overflow="fold")
        table.add_column("", overflow="fold")
        for m in bad:
            table.add_row(escape(_machine_cell(m, tz, lang)), escape("\n".join(visible(p) for p in m["problems"])))
        console.print(table)
    good = [m for m in machines if m["valid"]]
    if not good:
        return
    rows = []
    for m in good:
        verdict = t("verdict." + m["verdict"], lang) if m["verdict"] else "?"
        watch = t("fleet.watch_lines", lang, network=m["network_events"], gaps=m["gaps"],
                  downtime=f"{m['downtime_hours']:.1f}".replace(".", "," if lang != "en" else "."),
                  age="?" if m["age_days"] is None else f"{m['age_days']:.0f}")
        rows.append((m, verdict, watch))
    widths = _widths(console.width, good, rows)
    table = Table(show_lines=True)
    for key, width in zip(("fleet.snapshot", "fleet.verdict", "fleet.violations", "fleet.devices", "fleet.watch"), widths):
        table.add_column(t(key, lang), width=width, overflow="fold")
    for m, verdict, watch in rows:
        style = {"NON_COMPLIANT": "red", "INCOMPLETE": "yellow", "COMPLIANT": "green"}.get(m["verdict"], "cyan")
        table.add_row(escape(_machine_cell(m, tz, lang)), f"[{style}]{escape(verdict)}[/]",
                      escape("\n".join(visible(v["check_id"]) for v in m["violations"]) or "—"),
                      escape("\n".join(visible(d) for d in m["unapproved_devices"]) or "—"), watch)
    console.print(table)


def _widths(total: int, machines: list[dict], rows: list[tuple]) -> list[Optional[int]]:
    """Column widths: check ids, verdict words and monitoring lines whole; the rest of the width to
    the file names and device serials, which fold. None (rich decides) on a very narrow console."""
    ids = max((len(v["check_id"]) for m in machines for v in m["violations"]), default=4)
    verdict = min(14, max(9, *(len(w) for _, v, _ in rows for w in v.split())))
    watch = max((len(line) for _, _, w in rows for line in w.splitlines()), default=8)
    rest = total - (3 * 5 + 1) - ids - verdict - watch
    if rest < 26:
        return [None] * 5
    machine = max(16, rest * 3 // 5)
    return [machine, verdict, ids, rest - machine, watch]
