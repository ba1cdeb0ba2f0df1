"""Fleet review as one self-contained, printable HTML page (A4 landscape)."""

import datetime as dt

from ..i18n import t as translate


def report(machines: list[dict], lang: str = "vi") -> str:
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("scanner.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("fleet.html.j2").render(
        machines=machines, bad=[m for m in machines if not m["valid"]], good=[m for m in machines if m["valid"]],
        lang=lang, generated=dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        t=lambda key, **kw: translate(key, lang, **kw))
