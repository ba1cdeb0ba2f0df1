"""HTML report: the printable A4 inspection record (biên bản kiểm tra), self-contained.

No external fonts, scripts or stylesheets: the file is carried on air-gapped machines and printed
from any browser. Jinja2 autoescaping keeps device strings (a USB product name is attacker-chosen)
from injecting markup.
"""

from __future__ import annotations

from ..i18n import t as translate
from . import SYMBOLS, evidence_lines, shown


def report(doc: dict, lang: str = "vi") -> str:
    """The record as one HTML document."""
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("scanner.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    tpl = env.get_template("record.html.j2")
    return tpl.render(doc=doc, lang=lang, lk="en" if lang == "en" else "vi", rows=shown(doc),
                      hidden=sum(1 for r in doc["results"] if r["status"] == "not_selected"),
                      symbols=SYMBOLS, evidence=lambda r: evidence_lines(r, 10),
                      t=lambda key, **kw: translate(key, lang, **kw))
