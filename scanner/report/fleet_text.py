"""Fleet review in the terminal: invalid snapshots first, then machines worst first.

Files that are no snapshot are listed with the invalid ones and counted; warnings of valid
snapshots (an unverified co-signature, an older format, no journal record since the last review)
follow the table. Each machine row names its host, the snapshot file and when the snapshot was made (local time),
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
from .layout import fitted_table


def _machine_cell(m: dict, tz, lang: str) -> str:
    if m.get("kind") == "not_snapshot":
        return "\n".join([visible(os.path.basename(m["path"])), t("fleet.not_snapshot", lang)])
    return "\n".join([visible(m["hostname"] or "?"), visible(os.path.basename(m["path"])),
                      short(m["created_at"], tz, lang) if m.get("created_at") else "?"])


def report(machines: list[dict], console, lang: str = "vi", timezone: Optional[str] = None) -> None:
    """Print the fleet review to a rich console; times in ``timezone`` (default Asia/Ho_Chi_Minh)."""
    from rich.markup import escape
    tz = zone(timezone, lang)
    bad = [m for m in machines if not m["valid"]]
    other = sum(1 for m in machines if m.get("kind") == "not_snapshot")
    console.print(f"[bold]{t('fleet.title', lang)}[/bold] — {t('fleet.count', lang, n=len(machines), bad=len(bad), other=other)}")
    if not machines:
        console.print(t("fleet.empty", lang))
    if bad:
        rows = [[escape(_machine_cell(m, tz, lang)), escape("\n".join(visible(p) for p in m["problems"]))] for m in bad]
        console.print(fitted_table(console, [t("fleet.snapshot", lang), ""], rows, [16, None], show_lines=True,
                                   title=t("fleet.invalid", lang), title_style="bold red", title_justify="left"))
    good = [m for m in machines if m["valid"]]
    if not good:
        return
    rows = []
    for m in good:
        verdict = t("verdict." + m["verdict"], lang) if m["verdict"] else "?"
        style = {"NON_COMPLIANT": "red", "INCOMPLETE": "yellow", "COMPLIANT": "green"}.get(m["verdict"], "cyan")
        watch = t("fleet.watch_lines", lang, network=m["network_events"], gaps=m["gaps"],
                  downtime=f"{m['downtime_hours']:.1f}".replace(".", "," if lang != "en" else "."),
                  age="?" if m["age_days"] is None else f"{m['age_days']:.0f}")
        rows.append([escape(_machine_cell(m, tz, lang)), f"[{style}]{escape(verdict)}[/]",
                     escape("\n".join(visible(v["check_id"]) for v in m["violations"]) or "—"),
                     escape("\n".join(visible(d) for d in m["unapproved_devices"]) or "—"), escape(watch)])
    ids = max((len(v["check_id"]) for m in good for v in m["violations"]), default=1)
    watch_width = max(len(line) for r in rows for line in r[4].splitlines())
    headers = [t(k, lang) for k in ("fleet.snapshot", "fleet.verdict", "fleet.violations", "fleet.devices", "fleet.watch")]
    console.print(fitted_table(console, headers, rows, [16, 9, ids, None, watch_width], show_lines=True))
    warned = [m for m in good if m.get("warnings")]
    if warned:
        rows = [[escape(_machine_cell(m, tz, lang)), escape("\n".join(visible(w) for w in m["warnings"]))] for m in warned]
        console.print(fitted_table(console, [t("fleet.snapshot", lang), ""], rows, [16, None], show_lines=True,
                                   title=t("fleet.warnings", lang), title_style="bold yellow", title_justify="left"))
