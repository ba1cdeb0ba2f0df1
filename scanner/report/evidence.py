"""Evidence as a person reads it: labelled values ("Số sê-ri: 4C53…"), never raw ``key=value``.

Each evidence row of a result names the fact it came from (``fact``) and the fields the check
lists under ``evidence:``. Labels come from the catalog (``evidence.<fact>.<field>``, else
``evidence.<field>``); values are written for people: yes/no instead of True/False, sizes in GB,
permission bits in octal, times in the record's zone, secrecy levels by name. The values stay
whole (a serial or a hash is typed or compared by hand): tables wrap them, never cut them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from ..i18n import has, t
from ..localtime import short

_TIME_FIELDS = ("modified", "started")


def label(fact: str, field: str, lang: str) -> str:
    """The catalog label of ``field`` (of ``fact``), or the field name made readable."""
    for key in (f"evidence.{fact}.{field}", f"evidence.{field}"):
        if has(key):
            return t(key, lang)
    return field.replace("_", " ")


def value_text(field: str, value: Any, lang: str, tz: Optional[dt.tzinfo] = None) -> str:
    """One evidence value as text (no Python repr: None, True and False never show)."""
    if isinstance(value, bool):
        return t("value.yes" if value else "value.no", lang)
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(field, v, lang, tz) for v in value if v not in (None, ""))
    if field == "size_bytes" and isinstance(value, int):
        gb = value / 1e9
        text = f"{gb:.1f} GB" if gb >= 1 else f"{value / 1e6:.1f} MB"
        return text.replace(".", ",") if lang != "en" else text
    if field == "mode" and isinstance(value, int):
        return f"{value:04o}"
    if field == "level" and isinstance(value, str) and has(f"level.{value}"):
        return t(f"level.{value}", lang)
    if isinstance(value, str) and has(f"value.{field}.{value}"):  # a code with words (running_how)
        return t(f"value.{field}.{value}", lang)
    if field in _TIME_FIELDS and tz is not None and isinstance(value, str):
        text = short(value, tz, lang)
        return value if text == "?" else text
    return str(value)


def rows(result: dict, lang: str, tz: Optional[dt.tzinfo] = None) -> list[list[tuple[str, str]]]:
    """Each evidence row of ``result`` as (label, value) pairs, empty values left out."""
    out = []
    for row in result.get("evidence") or []:
        fact = str(row.get("fact", ""))
        pairs = [(label(fact, k, lang), value_text(k, v, lang, tz)) for k, v in row.items()
                 if k != "fact" and v not in (None, [], "")]
        if pairs:
            out.append(pairs)
    return out


def lines(result: dict, lang: str, tz: Optional[dt.tzinfo] = None, limit: int = 5) -> list[str]:
    """One "Label: value; Label: value" line per evidence row, at most ``limit`` and a count of the rest."""
    out = ["; ".join(f"{k}: {v}" for k, v in pairs) for pairs in rows(result, lang, tz)]
    more = len(out) - limit
    return out[:limit] + ([f"(+{more})"] if more > 0 else [])
