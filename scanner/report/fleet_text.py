"""Fleet review in the terminal: invalid snapshots first, then machines worst first.

A snapshot comes from another machine: its host name, problems, check ids and device strings
are shown through ``textsafe.visible`` (controls, ESC, bidi overrides escaped) before rich's
markup escape."""

from ..i18n import t
from ..textsafe import visible


def report(machines: list[dict], console, lang: str = "vi") -> None:
    from rich.markup import escape as _escape
    from rich.table import Table

    def escape(value) -> str:
        return _escape(visible(value))

    bad = [m for m in machines if not m["valid"]]
    console.print(f"[bold]{t('fleet.title', lang)}[/bold] — {t('fleet.count', lang, n=len(machines), bad=len(bad))}")
    if bad:
        table = Table(title=t("fleet.invalid", lang), title_style="bold red", title_justify="left", show_lines=True)
        table.add_column(t("fleet.machine", lang))
        table.add_column("")
        for m in bad:
            table.add_row(escape(m["hostname"] or "?") + "\n" + escape(m["path"]),
                          "\n".join(escape(p) for p in m["problems"]))
        console.print(table)
    table = Table(show_lines=True)
    for key in ("fleet.machine", "fleet.verdict", "fleet.violations", "fleet.devices", "fleet.network", "fleet.gaps",
                "fleet.downtime", "fleet.age"):
        table.add_column(t(key, lang))
    for m in machines:
        if not m["valid"]:
            continue
        verdict = t("verdict." + m["verdict"], lang) if m["verdict"] else "?"
        style = {"NON_COMPLIANT": "red", "INCOMPLETE": "yellow", "COMPLIANT": "green"}.get(m["verdict"], "cyan")
        table.add_row(escape(m["hostname"] or "?"), f"[{style}]{verdict}[/]",
                      escape(", ".join(v["check_id"] for v in m["violations"]) or "—"),
                      escape(", ".join(m["unapproved_devices"]) or "—"), str(m["network_events"]), str(m["gaps"]),
                      f"{m['downtime_hours']:.1f}", "?" if m["age_days"] is None else f"{m['age_days']:.0f}")
    console.print(table)
