"""What the hand-over record and the incident report print alike: the heading values, sizes, who
acted on a file, the seal (key fingerprint and digest), and plain text laid out for a terminal or
a file. The documents come from a signed JSON file: every value is read defensively (``get``,
types checked), so a record from another version, or one hand-edited and refused by ``verify``
but shown anyway by a test, still renders instead of crashing.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from typing import Any, Optional

from ..i18n import has, t
from ..localtime import datetime_words, local, place_date, short, zone, zone_label
from ..recordno import render as render_number
from ..textsafe import visible

WIDTH = 100


def tz_of(doc: dict, lang: str) -> dt.tzinfo:
    try:
        return zone(doc.get("timezone") if isinstance(doc.get("timezone"), str) else None, lang)
    except Exception:  # a record made with a zone this machine does not know: read it in the default one
        return zone(None, lang)


def heading(doc: dict, lang: str, kind_pattern: str) -> dict[str, Any]:
    """Number, place-date, when, zone of a record; ``kind_pattern`` ("{seq}/BB") gives the blank
    number's form."""
    tz = tz_of(doc, lang)
    made = local(doc.get("created_at"), tz) or dt.datetime.now(tz)
    rec = doc.get("record") if isinstance(doc.get("record"), dict) else {}
    number = doc.get("number") if isinstance(doc.get("number"), str) else render_number(kind_pattern, seq=None,
                                                                                         year=made.year)
    return {"tz": tz, "made": made, "rec": rec, "unit": doc.get("unit") if isinstance(doc.get("unit"), str) else None,
            "number_line": t("record.number", lang, number=number), "place_date": place_date(rec.get("place"), made, lang),
            "when": datetime_words(made, lang), "zone": zone_label(tz, made)}


def when(value: Any, tz: dt.tzinfo, lang: str) -> str:
    """A time for a table cell ("01/12/2026 16:05"), or "—"."""
    text = short(value, tz, lang)
    return "—" if text == "?" else text


def size_text(n: Any, lang: str) -> str:
    """A size in bytes, exact (a hash is compared against it): "12.345 byte" / "12,345 bytes"."""
    if not isinstance(n, int) or isinstance(n, bool):
        return "—"
    grouped = f"{n:,}" if lang == "en" else f"{n:,}".replace(",", ".")  # Vietnamese groups with a dot
    return t("unit.bytes", lang, n=grouped)


def level_text(level: Any, lang: str) -> str:
    if isinstance(level, str) and has(f"level.{level}"):
        return t(f"level.{level}", lang)
    return "—"


def actor_text(actor: Any) -> Optional[str]:
    """"alice (uid 1001) · PID 4242 · /usr/bin/cp" from a record's actor, or None."""
    if not isinstance(actor, dict) or not actor:
        return None
    parts = []
    user, uid = actor.get("user"), actor.get("uid")
    if user or uid is not None:
        parts.append(f"{user or '?'}" + (f" (uid {uid})" if uid is not None else ""))
    if actor.get("pid") is not None:
        parts.append(f"PID {actor['pid']}")
    if actor.get("exe") or actor.get("comm"):
        parts.append(str(actor.get("exe") or actor.get("comm")))
    return " · ".join(parts) or None


def who_text(entry: dict, lang: str) -> str:
    """Who acted on a file: the acting process when recorded, else the owner and that no acting
    process was recorded."""
    a = actor_text(entry.get("actor"))
    if a:
        return t("case.actor", lang, desc=a)
    return t("case.owner_only", lang, owner=entry.get("owner") or "?")


def seal(info: Optional[dict], lang: str, command: str) -> Optional[str]:
    """The line that ties a printed copy to its signed file (None when not signed)."""
    if not info or not info.get("fingerprint"):
        return None
    return t("case.seal", lang, fingerprint=info["fingerprint"], digest=info.get("digest") or "?", command=command)


def journal_text(j: Any, lang: str) -> str:
    if not isinstance(j, dict) or not j.get("present"):
        return t("case.journal_none", lang)
    if j.get("verified") is True:
        return t("case.journal_ok", lang, seq=j.get("head_seq") or "—",
                 mac=t("case.mac_yes" if j.get("mac_checked") else "case.mac_no", lang))
    if j.get("verified") is False:
        return t("case.journal_bad", lang, seq=j.get("first_bad_seq") or "?", reason=j.get("reason") or "?")
    return t("case.journal_unread", lang, reason=j.get("reason") or "?")


def said_in(entry: Any, lang: str) -> str:
    """A journal entry's message in ``lang``: its ``words`` (both languages, made by the agent
    when the document was built), else the message as the journal has it."""
    w = entry.get("words") if isinstance(entry, dict) else None
    text = w.get(lang) if isinstance(w, dict) else None
    if isinstance(text, str) and text:
        return text
    msg = entry.get("message") if isinstance(entry, dict) else None
    return msg if isinstance(msg, str) else ""


def rows(value: Any) -> list[dict]:
    """The list of objects at ``value`` (anything else: none)."""
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


class Text:
    """Plain text for people: headings, wrapped paragraphs, numbered entries. Every value from the
    machine goes through ``visible`` (one line, controls escaped) before it is placed."""

    def __init__(self, width: int = WIDTH):
        self.width = width
        self.lines: list[str] = []

    def line(self, text: str = "") -> None:
        self.lines.append(text)

    def centre(self, text: str) -> None:
        self.lines.append(text.center(self.width).rstrip())

    def para(self, text: str, indent: str = "") -> None:
        self.lines.extend(textwrap.wrap(text, self.width, initial_indent=indent, subsequent_indent=indent,
                                        break_long_words=True, break_on_hyphens=False) or [""])

    def heading(self, text: str) -> None:
        self.lines += ["", text.upper(), ""]

    def entry(self, n: int, first: str, more: list[str]) -> None:
        head = f"{n:>3}. "
        self.para(visible(first), head)
        for m in more:
            self.para(m, " " * len(head))

    def head(self, c: dict, lang: str) -> None:
        """The national title, the agency block, number and place-date of a ``heading`` context."""
        self.centre(t("record.nation", lang))
        self.centre(t("record.motto", lang))
        self.line()
        if c["rec"].get("parent_unit"):
            self.line(visible(c["rec"]["parent_unit"]).upper())
        self.line(visible(c["unit"] or "……………………").upper())
        self.line(f"{c['number_line']}    {c['place_date']}")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"
