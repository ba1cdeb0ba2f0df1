"""HTML report: the printable A4 inspection record (biên bản kiểm tra), self-contained.

Laid out as a Vietnamese administrative document in the presentation of Decree 30/2020/NĐ-CP,
Phụ lục I: the agency block top left (parent agency, then the issuing unit in bold capitals over a
short rule, then "Số: …/BB-…"), the national title on one line with the motto under it (bold,
underlined), the place-and-date line in italics, the name of the document ("BIÊN BẢN") and its
subject, the body, the signature blocks; A4 with margins 20/15/20/30 mm, page numbers at the top
centre from page 2, Times New Roman or a metric-compatible face (Liberation Serif on Debian).

No external fonts, scripts or stylesheets, and a Content-Security-Policy that forbids loading
anything: the file is carried on air-gapped machines and printed from any browser. Jinja2
autoescaping keeps device strings (a USB product name is attacker-chosen) from injecting markup.
"""

from __future__ import annotations

from typing import Any

from ..i18n import t as translate
from ..localtime import datetime_words, local, place_date, short_date, time_words, zone_label
from ..recordno import render as render_number
from ..textsafe import visible_lines
from . import SYMBOLS, doc_zone, record_settings, shown
from .evidence import rows as evidence_rows

EVIDENCE_LIMIT = 10
"""Evidence rows printed per finding (the JSON document keeps them all)."""
EVIDENCE_SHOWN = ("fail", "waived", "informational", "error", "pass")  # a pass: only single-fact evidence (AGT-001)


def number_text(doc: dict, year: int) -> str:
    """The record number to print: the one given, or the pattern with a blank, or a blank."""
    rec = record_settings(doc)
    if rec.get("number"):
        return rec["number"]
    if rec.get("number_pattern"):
        return render_number(rec["number_pattern"], seq=None, year=year)
    return render_number("{seq}/BB", seq=None, year=year)


def context(doc: dict, lang: str) -> dict[str, Any]:
    """Everything the template prints, already in words (times local, evidence labelled)."""
    lk = "en" if lang == "en" else "vi"
    tz = doc_zone(doc, lang)
    rec = record_settings(doc)
    started = local(doc["started_at"], tz)
    finished = local(doc["finished_at"], tz) or started
    ended = time_words(finished, lang) if finished.date() == started.date() else datetime_words(finished, lang)
    rows = []
    for r in shown(doc):
        ev = evidence_rows(r, lang, tz) if r["status"] in EVIDENCE_SHOWN else []
        waiver = r.get("waiver") or None
        rows.append({**r, "evidence_rows": ev[:EVIDENCE_LIMIT], "evidence_more": max(0, len(ev) - EVIDENCE_LIMIT),
                     "waiver_expires": short_date(waiver["expires"]) if waiver and waiver.get("expires") else None})
    return {
        "doc": doc, "lang": lang, "lk": lk, "rec": rec, "rows": rows, "symbols": SYMBOLS,
        "generator": f"{doc['tool']['name']} {doc['tool']['version']}",
        "hidden": sum(1 for r in doc["results"] if r["status"] == "not_selected"),
        "number": number_text(doc, started.year), "place_date": place_date(rec.get("place"), started, lang),
        "when": datetime_words(started, lang), "ended": ended, "zone": zone_label(tz, started),
        "t": lambda key, **kw: translate(key, lang, **kw),
    }


def report(doc: dict, lang: str = "vi") -> str:
    """The record as one HTML document."""
    return render("record.html.j2", context(doc, lang))


def render(template: str, ctx: dict[str, Any]) -> str:
    """One of the records (inspection, hand-over, incident report) as one HTML document: the
    templates share the Decree 30 page (``decree30.html.j2``) and its blocks (``decree30.macros.j2``)."""
    import jinja2
    env = jinja2.Environment(loader=jinja2.PackageLoader("bmnn_guard.scanner.report", "templates"),
                             autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             finalize=_shown)
    return env.get_template(template).render(**ctx)


def _shown(value):
    """Every printed value: controls and bidi overrides made visible (HTML escaping leaves a
    U+202E in a file name free to reorder what the officer reads and signs). A block the
    templates built themselves (a macro's Markup) was made of values already shown so."""
    import markupsafe
    if isinstance(value, markupsafe.Markup):
        return value
    return visible_lines(value) if isinstance(value, str) else value
