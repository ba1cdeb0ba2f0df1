"""Fleet review as one self-contained, printable HTML page (A4 landscape).

Each machine shows its host name, snapshot file, when it was made (local time) and its whole
machine id: identifiers an inspector compares by hand are never cut.
"""

import datetime as dt
import os
from typing import Optional

from ..i18n import t as translate
from ..localtime import datetime_words, short, zone
from ..textsafe import visible_lines


def report(machines: list[dict], lang: str = "vi", timezone: Optional[str] = None,
           now: Optional[dt.datetime] = None) -> str:
    import jinja2
    tz = zone(timezone, lang)
    env = jinja2.Environment(loader=jinja2.PackageLoader("bmnn_guard.scanner.report", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             finalize=lambda v: visible_lines(v) if isinstance(v, str) else v)
    generated = (now or dt.datetime.now(dt.timezone.utc)).astimezone(tz)
    return env.get_template("fleet.html.j2").render(
        machines=machines, bad=[m for m in machines if not m["valid"]], good=[m for m in machines if m["valid"]],
        lang=lang, generated=datetime_words(generated, lang), basename=os.path.basename,
        made=lambda m: short(m["created_at"], tz, lang) if m.get("created_at") else "?",
        t=lambda key, **kw: translate(key, lang, **kw))
