"""Render legal references as people cite them, and answer whether a text is in force on a day.

A citation reads as its title says: "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, Điều 5
khoản 2", "Nghị định số 26/2020/NĐ-CP quy định chi tiết ..., Điều 6 khoản 2 điểm b". Whatever
is doubtful about it is said once, in one parenthesis at the end: "(chưa xác minh; chưa rõ còn
hiệu lực)". A provision whose number could not be read is named by its caption, never by the
catalog's key ("khoản ai" would read as a real clause).

Nothing here reads the clock: "in force" is always asked for a given day (the day of the scan,
or of a snapshot's export), and is unknown (None) when the catalog does not know the dates.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Optional

from . import catalog
from .schema import Article, Clause, Point, Reading, LegalSource

KIND = {
    "vi": {"law": "Luật", "decree": "Nghị định", "directive": "Chỉ thị", "circular": "Thông tư", "code": "Bộ luật",
           "decision": "Quyết định"},
    "en": {"law": "Law", "decree": "Decree", "directive": "Directive", "circular": "Circular", "code": "Code",
           "decision": "Decision"},
}
NAMED_FIRST = ("law", "code")
"""Kinds cited by their name first ("Luật Bảo vệ bí mật nhà nước số ..."); the others by kind and
number first ("Nghị định số 26/2020/NĐ-CP quy định ...")."""
WORDS = {
    "vi": {"no": "số", "article": "Điều", "clause": "khoản", "point": "điểm", "unverified": "chưa xác minh",
           "unknown": "chưa rõ còn hiệu lực", "not_yet": "chưa có hiệu lực, có hiệu lực từ ngày {date}",
           "ended": "hết hiệu lực từ ngày {date}"},
    "en": {"no": "No.", "article": "Article", "clause": "clause", "point": "point", "unverified": "unverified",
           "unknown": "whether in force is unknown", "not_yet": "not yet in force, in force from {date}",
           "ended": "no longer in force since {date}"},
}
@functools.cache
def _words(lk: str) -> tuple[dict[str, str], dict[str, str]]:
    """(WORDS, KIND) of ``lk``, from the catalog where it has them."""
    look = catalog.lookup
    w = {k: look(f"citation.{k}", lk) or v for k, v in WORDS[lk].items()}
    kind = {k: look(f"citation.kind.{k}", lk) or v for k, v in KIND[lk].items()}
    return w, kind


catalog.on_change(_words.cache_clear)


_NUMERAL = re.compile(r"^\d+[a-zđ]?$")
_POINT = re.compile(r"^[a-zđ]$")


def is_numeral(number: str) -> bool:
    """True for a real article or clause number ("5", "12"); False for a catalog key ("lan", "ai")."""
    return bool(_NUMERAL.match(number))


def is_point_letter(number: str) -> bool:
    """True for a point letter (a, b, đ)."""
    return bool(_POINT.match(number))


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "vi"


def _date(day: dt.date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d/%m/%Y")


def in_force(src: LegalSource, day: dt.date) -> Optional[bool]:
    """Whether ``src`` is in force on ``day``: False before its first or after its last day; None
    (unknown) when its first day is unknown, or when it is reported replaced but the day is unknown."""
    if src.effective_from is not None and day < src.effective_from:
        return False
    if src.effective_to is not None and day > src.effective_to:
        return False
    if src.effective_from is None:
        return None
    if src.repealed_by and src.effective_to is None:
        return None
    return True


def force_note(src: LegalSource, day: Optional[dt.date], lang: str = "vi") -> Optional[str]:
    """Why ``src`` is not (known to be) in force on ``day``, in ``lang``; None when it is, or when
    no day is given."""
    if day is None:
        return None
    w = _words(_lang(lang))[0]
    state = in_force(src, day)
    if state is True:
        return None
    if state is None:
        return w["unknown"]
    if src.effective_from is not None and day < src.effective_from:
        return w["not_yet"].format(date=_date(src.effective_from, lang))
    return w["ended"].format(date=_date(src.effective_to + dt.timedelta(days=1), lang))


def source_name(src: LegalSource, lang: str = "vi") -> str:
    """The text as its title says: "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15",
    "Nghị định số 26/2020/NĐ-CP quy định chi tiết ...", "Chỉ thị số 32/CT-TTg của Thủ tướng ..."."""
    lk = _lang(lang)
    title = src.title.get(lk).strip()
    no = _words(lk)[0]["no"]
    if src.kind in NAMED_FIRST:
        return f"{title} {no} {src.number}"
    kind = _words(lk)[1][src.kind]
    rest = title[len(kind):].strip() if title.lower().startswith(kind.lower() + " ") else title
    return f"{kind} {no} {src.number}" + (f" {rest}" if rest else "")


def source_short(src: LegalSource, lang: str = "vi") -> str:
    """Kind and number, for tables: "Luật số 117/2025/QH15", "Bộ luật Hình sự số 100/2015/QH13"."""
    lk = _lang(lang)
    w, kinds = _words(lk)
    head = src.title.get(lk).strip() if src.kind == "code" else kinds[src.kind]
    return f"{head} {w['no']} {src.number}"


def find(src: LegalSource, article: str, clause: Optional[str] = None, point: Optional[str] = None):
    """(article, clause, point) entries of ``src`` for a reference, None where absent."""
    art: Optional[Article] = next((a for a in src.articles if a.number == article), None)
    cl: Optional[Clause] = None
    pt: Optional[Point] = None
    if art is not None and clause is not None:
        cl = next((c for c in art.clauses if c.number == clause), None)
    if cl is not None and point is not None:
        pt = next((p for p in cl.points if p.number == point), None)
    return art, cl, pt


def provision(art: Optional[Article], article: str, cl: Optional[Clause], clause: Optional[str],
              point: Optional[str], lang: str = "vi") -> str:
    """"Điều 5 khoản 2 điểm a"; a provision without a readable number by its caption."""
    lk = _lang(lang)
    w = _words(lk)[0]
    parts: list[str] = []
    if article:
        if is_numeral(article):
            parts.append(f"{w['article']} {article}")
        elif art is not None and art.caption is not None:
            parts.append(art.caption.get(lk))
        else:
            parts.append(f"{w['article']} {article}")
    out = " ".join(parts)
    if clause is not None:
        if is_numeral(clause):
            out += f" {w['clause']} {clause}" if out else f"{w['clause'].capitalize()} {clause}"
        else:
            caption = cl.caption.get(lk) if cl is not None and cl.caption is not None else f"{w['clause']} {clause}"
            out += f", {caption}" if out else caption
        if point is not None:
            out += f" {w['point']} {point}"
    return out


@dataclass(frozen=True)
class Citation:
    """A resolved reference: the words to print, the provision's text and what backs it."""

    source: str
    article: str
    clause: Optional[str]
    point: Optional[str]
    plain: str
    """The citation alone: "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, Điều 5 khoản 2"."""
    plain_short: str
    """The citation alone, for tables: "Luật số 117/2025/QH15, Điều 5 khoản 2"."""
    label: str
    """``plain`` with what is doubtful about it said once at the end: "… (chưa xác minh)"."""
    short: str
    """``plain_short`` with the same marks."""
    text: Optional[str]
    """The provision's text in the requested language, when the catalog has it."""
    verified: bool
    """True only when the source, article, clause and point cited all carry what was read."""
    in_force: Optional[bool]
    """Whether the text is in force on the day asked; None when unknown or no day was given."""
    force: Optional[str]
    """Why it is not (known to be) in force on that day, or None."""
    readings: tuple[Reading, ...] = ()
    """What was read for the most specific level cited (empty when nothing was)."""
    note: Optional[str] = None
    """The catalog's note on the most specific level cited (why it is unverified, what was read)."""


def resolve(sources: dict[str, LegalSource], source: str, article: str, clause: Optional[str], lang: str = "vi", *,
            point: Optional[str] = None, day: Optional[dt.date] = None) -> Citation:
    """Resolve one reference against the catalog (the loader has already checked that it exists)."""
    lk = _lang(lang)
    w = _words(lk)[0]
    src = sources[source]
    art, cl, pt = find(src, article, clause, point)
    levels = [x for x in (src, art, cl, pt) if x is not None]
    verified = all(x.status == "verified" for x in levels)
    where = provision(art, article, cl, clause, point, lk)
    plain = source_name(src, lk) + (f", {where}" if where else "")
    plain_short = source_short(src, lk) + (f", {where}" if where else "")
    state = in_force(src, day) if day is not None else None
    force = force_note(src, day, lk)
    marks = [m for m in ((None if verified else w["unverified"]), force) if m]
    suffix = f" ({'; '.join(marks)})" if marks else ""
    text = None
    for x in (pt, cl, art):
        if x is not None and x.text is not None:
            text = x.text.get(lk)
            break
    deepest = levels[-1]
    note = deepest.note.get(lk) if deepest.note is not None else None
    return Citation(source=source, article=article, clause=clause, point=point, plain=plain, plain_short=plain_short,
                    label=plain + suffix, short=plain_short + suffix, text=text, verified=verified,
                    in_force=state, force=force, readings=tuple(deepest.read), note=note)
