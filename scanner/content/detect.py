"""Segments -> verdict. Pure: no I/O, no clock, no imports beyond the standard library.

The rule (``shared/markings.md``): a secrecy mark matches only when the *whole segment*, after
decoding, NFC, stripping frame/quote/bullet characters and every space, upper-cased, equals
``MẬT``, ``TỐIMẬT`` or ``TUYỆTMẬT`` (or is the field ``Độ mật: <level>``). The score then weighs
case, position and formatting against template, list and quotation context. Urgency marks,
GIẢI MẬT, LƯU HÀNH NỘI BỘ and DỰ THẢO are reported as ``marks``, never as secrecy.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from . import decode
from .segments import Segment

LEVELS = ("mat", "toi_mat", "tuyet_mat")
"""Secrecy levels, lowest first."""
LEVEL_KEYS = {"MẬT": "mat", "TỐIMẬT": "toi_mat", "TUYỆTMẬT": "tuyet_mat"}
MARK_KEYS = {
    "KHẨN": "khan", "THƯỢNGKHẨN": "thuong_khan", "HỎATỐC": "hoa_toc", "HOẢTỐC": "hoa_toc",
    "HỎATỐCHẸNGIỜ": "hoa_toc", "HOẢTỐCHẸNGIỜ": "hoa_toc",
    "GIẢIMẬT": "giai_mat", "ĐÃGIẢIMẬT": "giai_mat", "GIAIMẬT": "giai_mat",
    "LƯUHÀNHNỘIBỘ": "luu_hanh_noi_bo", "DỰTHẢO": "du_thao",
}
COMPANION_KEYS = ("TÀILIỆUTHUHỒI", "THUHỒI", "CHỈNGƯỜICÓTÊNMỚIĐƯỢCBÓCBÌ")
_COPY_NO = re.compile(r"^(BẢNSỐ|SỐBẢN)[:.]?\d+")
_FIELD = re.compile(r"^ĐỘMẬT[:：]?(TUYỆTMẬT|TỐIMẬT|MẬT)$")
_SO_LINE = re.compile(r"^\s*số\s*[:：]", re.IGNORECASE)
_NATIONAL = ("CỘNGHÒAXÃHỘICHỦNGHĨAVIỆTNAM", "CỘNGHOÀXÃHỘICHỦNGHĨAVIỆTNAM")
_TEMPLATE = re.compile(r"mẫu\s*số|kích\s*thước|đường\s*viền|\d\s*mm\b|\bmm\b|cỡ\s*chữ|phông\s*chữ", re.IGNORECASE)

# frame, quote, bullet and dash characters a stamp may be drawn with
_STRIP = "\"'“”‘’„‟«»‹›「」『』[](){}<>|*•·◦▪▫■□●○◆◇►▶▷–—―-_=#~+¦‖│┃║"
_STRIP_TABLE = dict.fromkeys(map(ord, _STRIP), None)
_STRIP_TABLE.update({c: None for c in range(0x2500, 0x2580)})  # box drawing
_KEY_DROP = re.compile("[\\s" + re.escape(_STRIP) + "\u2500-\u257f]+")
_KEY_FRAME = re.compile("[" + re.escape(_STRIP) + "\u2500-\u257f]")
"""What ``key`` removes, as one regex (C speed; ``str.translate`` with a dict is ~50 ns a character)."""
_QUOTES = "\"'“”‘’„‟«»‹›「」『』"
_SPACE_RE = re.compile(r"\s+")

MAX_CANDIDATE_CHARS = 160
"""Segments longer than this cannot be a mark (letter-spaced, framed and tabbed stamps included)."""
CLASSIFIED_AT = 60
REVIEW_AT = 30
TOP_SEGMENTS = 15

WEIGHTS = {
    "mark_upper": 50, "field_form": 45, "mark_title_case": 20, "mark_lower_case": 10,
    "top_of_first_page": 15, "in_header": 15, "below_so_line": 20, "national_header": 10,
    "bold": 10, "red": 15, "framed": 10, "double_border": 10, "textbox": 5, "annotation": 10, "companion_stamp": 10,
    "template_context": -80, "level_list": -50, "quoted": -30, "declassified_mark": -30,
}
"""Score of each reason code; the finding keeps the codes, never the text."""


@dataclass(frozen=True)
class Match:
    """One segment that matched a level."""

    segment: int
    """Position of the segment in the list given to ``judge``."""
    level: str
    """mat, toi_mat or tuyet_mat."""
    score: int
    """0-100."""
    reasons: tuple[str, ...]
    """Reason codes (keys of WEIGHTS)."""
    encoding: str
    """How the matching text was decoded."""


@dataclass(frozen=True)
class Verdict:
    """What the detector says about a document; holds no text."""

    verdict: str = "clean"
    """classified, review or clean."""
    level: Optional[str] = None
    """Highest level among classified matches, else the level of the best match."""
    score: int = 0
    """Score of the best match, 0-100."""
    reasons: tuple[str, ...] = ()
    """Reason codes of the best match."""
    encoding: Optional[str] = None
    """Encoding the best match was read in."""
    marks: tuple[str, ...] = ()
    """Other marks seen, never secrecy: khan, thuong_khan, hoa_toc, giai_mat, luu_hanh_noi_bo, du_thao."""
    matches: int = 0
    """How many segments matched a level."""


def key(text: str) -> str:
    """The comparison form: NFC, frame/quote/bullet characters and all spaces removed, upper case.

    Spaces go by ``split``/``join`` and the rest by ``_KEY_DROP`` only when a search finds one:
    the same string as ``_KEY_DROP`` over the whole text (``\\s`` is ``str.isspace``), at half
    the cost on a line of prose, where the regex's replacements were most of ``key`` (the
    detector keys every line of the first 40 of a document)."""
    k = "".join(decode.normalize(text).split())
    if _KEY_FRAME.search(k):
        k = _KEY_DROP.sub("", k)
    return k.upper()


def _case(text: str) -> str:
    letters = [c for c in decode.normalize(text) if c.isalpha()]
    if not letters:
        return "lower"
    if all(c.isupper() for c in letters):
        return "upper"
    return "title" if letters[0].isupper() else "lower"


def _form_suffix(text: str) -> str:
    if text.isascii():
        return ""
    nfc = unicodedata.normalize("NFC", text)
    if nfc == text:
        return ""
    return "/nfd" if unicodedata.normalize("NFD", text) == text else "/composite"


def _cp1252_view(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


_LEGACY_ORDER = ("tcvn3", "vni", "cp1258", "viscii", "vn1")


def candidates(seg: Segment) -> Iterable[tuple[str, str]]:
    """Readings of a short segment: as decoded, then the other legacy decodings that could apply."""
    text = seg.text
    yield text, seg.encoding + _form_suffix(text)
    if seg.legacy is not None:
        for name in _LEGACY_ORDER:
            if name != seg.encoding:
                yield decode.DECODERS[name](seg.legacy), name
    elif not text.isascii() and _cp1252_view(text):
        for name in _LEGACY_ORDER:
            yield decode.DECODERS[name](text), name
    if "^" in text or "(" in text or "+" in text or "'" in text or "." in text:
        if decode.looks_viqr(text):
            yield decode.viqr(text), "viqr"


def _level_of(k: str) -> tuple[Optional[str], bool]:
    lvl = LEVEL_KEYS.get(k)
    if lvl:
        return lvl, False
    m = _FIELD.match(k)
    if m:
        return LEVEL_KEYS[m.group(1)], True
    return None, False


def scan_segments(segments: Sequence[Segment]) -> tuple[list[tuple[int, str, str, str, bool]], set[str]]:
    """Find level matches and other marks: ([(index, level, text, encoding, field_form)], marks)."""
    hits: list[tuple[int, str, str, str, bool]] = []
    marks: set[str] = set()
    for i, seg in enumerate(segments):
        if len(seg.text) > MAX_CANDIDATE_CHARS or not seg.text.strip():
            continue
        for text, enc in candidates(seg):
            k = key(text)
            if not k or len(k) > 20:
                continue
            lvl, field = _level_of(k)
            if lvl:
                hits.append((i, lvl, text, enc, field))
                break
            mark = MARK_KEYS.get(k)
            if mark:
                marks.add(mark)
                break
    return hits, marks


def _neighbour_keys(segments: Sequence[Segment], i: int, before: int, after: int) -> list[tuple[int, str]]:
    lo, hi = max(0, i - before), min(len(segments), i + after + 1)
    return [(j, segments[j].text) for j in range(lo, hi) if j != i]


def _score(segments: Sequence[Segment], i: int, level: str, text: str, field: bool,
           doc_flags: dict[str, bool]) -> tuple[int, tuple[str, ...]]:
    seg = segments[i]
    reasons: list[str] = []
    if field:
        reasons.append("field_form")
        case = _case(text.split(":", 1)[-1]) if ":" in text else _case(text)
    else:
        case = _case(text)
        reasons.append({"upper": "mark_upper", "title": "mark_title_case"}.get(case, "mark_lower_case"))
    if seg.part == "header":
        reasons.append("in_header")
    elif seg.top if seg.top is not None else (seg.page == 0 and i < TOP_SEGMENTS):
        reasons.append("top_of_first_page")
    near = _neighbour_keys(segments, i, 8, 8)
    if any(_SO_LINE.match(decode.normalize(t)) for j, t in near if i - 5 <= j < i):
        reasons.append("below_so_line")
    if doc_flags.get("national"):
        reasons.append("national_header")
    if seg.bold:
        reasons.append("bold")
    if seg.red:
        reasons.append("red")
    if seg.framed:
        reasons.append("framed")
    if seg.double:
        reasons.append("double_border")
    if seg.part == "textbox":
        reasons.append("textbox")
    elif seg.part == "annotation":
        reasons.append("annotation")
    if doc_flags.get("companion"):
        reasons.append("companion_stamp")
    if any(_TEMPLATE.search(decode.normalize(t)) for _, t in near) or _TEMPLATE.search(text):
        reasons.append("template_context")
    close = [key(t) for j, t in near if abs(j - i) <= 3 and len(t) <= MAX_CANDIDATE_CHARS
             and segments[j].part == seg.part and segments[j].page == seg.page]
    if any((k in LEVEL_KEYS and LEVEL_KEYS[k] != level) or k in ("THƯỜNG", "ĐỘMẬT", "ĐỘMẬT:") for k in close):
        reasons.append("level_list")
    stripped = decode.normalize(text).strip()
    if len(stripped) >= 2 and stripped[0] in _QUOTES and stripped[-1] in _QUOTES:
        reasons.append("quoted")
    if doc_flags.get("declassified"):
        reasons.append("declassified_mark")
    score = sum(WEIGHTS[r] for r in reasons)
    if (case != "upper" and not seg.red) or "declassified_mark" in reasons:
        score = min(score, CLASSIFIED_AT - 1)  # title case, or a GIẢI MẬT stamp: a person decides
    return max(0, min(100, score)), tuple(reasons)


def _doc_flags(segments: Sequence[Segment], marks: set[str]) -> dict[str, bool]:
    national = companion = False
    for i, seg in enumerate(segments):
        if len(seg.text) > 200 or (i >= 40 and seg.part != "header"):
            continue  # the national header and companion stamps sit at the top of the document
        k = key(seg.text)
        if i < 30 and any(n in k for n in _NATIONAL):
            national = True
        if any(c == k or (c != "THUHỒI" and c in k) for c in COMPANION_KEYS) or _COPY_NO.match(k):
            companion = True
    return {"national": national, "companion": companion, "declassified": "giai_mat" in marks}


def verdict_of(score: int) -> str:
    """classified / review / clean for a score."""
    if score >= CLASSIFIED_AT:
        return "classified"
    if score >= REVIEW_AT:
        return "review"
    return "clean"


def judge(segments: Sequence[Segment]) -> Verdict:
    """The verdict on a document from its segments in reading order."""
    hits, marks = scan_segments(segments)
    if not hits:
        return Verdict(marks=tuple(sorted(marks)))
    flags = _doc_flags(segments, marks)
    matches = []
    for i, level, text, enc, field in hits:
        score, reasons = _score(segments, i, level, text, field, flags)
        matches.append(Match(i, level, score, reasons, enc))
    best = max(matches, key=lambda m: (m.score, LEVELS.index(m.level)))
    verdict = verdict_of(best.score)
    level: Optional[str] = best.level
    if verdict == "clean":
        level = None
    elif verdict == "classified":
        level = max((m.level for m in matches if m.score >= CLASSIFIED_AT), key=LEVELS.index)
    return Verdict(verdict=verdict, level=level, score=best.score, reasons=best.reasons,
                   encoding=best.encoding, marks=tuple(sorted(marks)), matches=len(matches))


def lines(text: str, encoding: str = "unicode", legacy: Optional[str] = None) -> list[Segment]:
    """Segments of a plain text: one per line (``legacy``: the cp1252 view of the same bytes)."""
    out = []
    legacy_lines = legacy.splitlines() if legacy is not None else None
    for i, line in enumerate(text.splitlines()):
        lg = legacy_lines[i] if legacy_lines is not None and i < len(legacy_lines) else None
        out.append(Segment(line, index=i, encoding=encoding, legacy=lg if lg and len(lg) <= MAX_CANDIDATE_CHARS else None))
    return out
