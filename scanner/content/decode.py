"""Legacy Vietnamese encodings to Unicode NFC, and the normalisation every segment goes through.

Byte tables: VISCII and TCVN 5712 VN1 were generated from glibc iconv (``VISCII``,
``TCVN5712-1``); TCVN3 (ABC, the ``.VnTime`` fonts) is the VN1 table restricted to its lower-case
letters and the ``Ă…đ`` block (0xA1-0xAE), which is what the ``.Vn*`` fonts draw. VNI-Windows is a
two-byte scheme (base letter + a Latin-1 "mark" byte) and VIQR is ASCII with mark characters;
both are decoded by rules. Windows-1258 is Python's ``cp1258`` codec followed by NFC.

Legacy text reaches us in two shapes: as bytes (a .txt file, an RTF ``\\'cb`` escape) or as the
Unicode characters those bytes show through cp1252 (a docx run in ``.VnTime`` stores ``MËT``; a
PDF with a legacy font extracts as ``MËT``). Every decoder here takes ``str`` in the second shape;
``*_bytes`` helpers map bytes to it first.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections import Counter
from typing import Optional

# ---------------------------------------------------------------- tables (generated, see above)

_VISCII_MAP = {
    0x02: 0x1EB2, 0x05: 0x1EB4, 0x06: 0x1EAA, 0x14: 0x1EF6, 0x19: 0x1EF8, 0x1E: 0x1EF4, 0x80: 0x1EA0,
    0x81: 0x1EAE, 0x82: 0x1EB0, 0x83: 0x1EB6, 0x84: 0x1EA4, 0x85: 0x1EA6, 0x86: 0x1EA8, 0x87: 0x1EAC,
    0x88: 0x1EBC, 0x89: 0x1EB8, 0x8A: 0x1EBE, 0x8B: 0x1EC0, 0x8C: 0x1EC2, 0x8D: 0x1EC4, 0x8E: 0x1EC6,
    0x8F: 0x1ED0, 0x90: 0x1ED2, 0x91: 0x1ED4, 0x92: 0x1ED6, 0x93: 0x1ED8, 0x94: 0x1EE2, 0x95: 0x1EDA,
    0x96: 0x1EDC, 0x97: 0x1EDE, 0x98: 0x1ECA, 0x99: 0x1ECE, 0x9A: 0x1ECC, 0x9B: 0x1EC8, 0x9C: 0x1EE6,
    0x9D: 0x0168, 0x9E: 0x1EE4, 0x9F: 0x1EF2, 0xA0: 0x00D5, 0xA1: 0x1EAF, 0xA2: 0x1EB1, 0xA3: 0x1EB7,
    0xA4: 0x1EA5, 0xA5: 0x1EA7, 0xA6: 0x1EA9, 0xA7: 0x1EAD, 0xA8: 0x1EBD, 0xA9: 0x1EB9, 0xAA: 0x1EBF,
    0xAB: 0x1EC1, 0xAC: 0x1EC3, 0xAD: 0x1EC5, 0xAE: 0x1EC7, 0xAF: 0x1ED1, 0xB0: 0x1ED3, 0xB1: 0x1ED5,
    0xB2: 0x1ED7, 0xB3: 0x1EE0, 0xB4: 0x01A0, 0xB5: 0x1ED9, 0xB6: 0x1EDD, 0xB7: 0x1EDF, 0xB8: 0x1ECB,
    0xB9: 0x1EF0, 0xBA: 0x1EE8, 0xBB: 0x1EEA, 0xBC: 0x1EEC, 0xBD: 0x01A1, 0xBE: 0x1EDB, 0xBF: 0x01AF,
    0xC4: 0x1EA2, 0xC5: 0x0102, 0xC6: 0x1EB3, 0xC7: 0x1EB5, 0xCB: 0x1EBA, 0xCE: 0x0128, 0xCF: 0x1EF3,
    0xD0: 0x0110, 0xD1: 0x1EE9, 0xD5: 0x1EA1, 0xD6: 0x1EF7, 0xD7: 0x1EEB, 0xD8: 0x1EED, 0xDB: 0x1EF9,
    0xDC: 0x1EF5, 0xDE: 0x1EE1, 0xDF: 0x01B0, 0xE4: 0x1EA3, 0xE5: 0x0103, 0xE6: 0x1EEF, 0xE7: 0x1EAB,
    0xEB: 0x1EBB, 0xEE: 0x0129, 0xEF: 0x1EC9, 0xF0: 0x0111, 0xF1: 0x1EF1, 0xF6: 0x1ECF, 0xF7: 0x1ECD,
    0xF8: 0x1EE5, 0xFB: 0x0169, 0xFC: 0x1EE7, 0xFE: 0x1EE3, 0xFF: 0x1EEE,
}
_VN1_MAP = {
    0x01: 0x00DA, 0x02: 0x1EE4, 0x04: 0x1EEA, 0x05: 0x1EEC, 0x06: 0x1EEE, 0x11: 0x1EE8, 0x12: 0x1EF0,
    0x13: 0x1EF2, 0x14: 0x1EF6, 0x15: 0x1EF8, 0x16: 0x00DD, 0x17: 0x1EF4, 0x80: 0x00C0, 0x81: 0x1EA2,
    0x82: 0x00C3, 0x83: 0x00C1, 0x84: 0x1EA0, 0x85: 0x1EB6, 0x86: 0x1EAC, 0x87: 0x00C8, 0x88: 0x1EBA,
    0x89: 0x1EBC, 0x8A: 0x00C9, 0x8B: 0x1EB8, 0x8C: 0x1EC6, 0x8D: 0x00CC, 0x8E: 0x1EC8, 0x8F: 0x0128,
    0x90: 0x00CD, 0x91: 0x1ECA, 0x92: 0x00D2, 0x93: 0x1ECE, 0x94: 0x00D5, 0x95: 0x00D3, 0x96: 0x1ECC,
    0x97: 0x1ED8, 0x98: 0x1EDC, 0x99: 0x1EDE, 0x9A: 0x1EE0, 0x9B: 0x1EDA, 0x9C: 0x1EE2, 0x9D: 0x00D9,
    0x9E: 0x1EE6, 0x9F: 0x0168, 0xA1: 0x0102, 0xA2: 0x00C2, 0xA3: 0x00CA, 0xA4: 0x00D4, 0xA5: 0x01A0,
    0xA6: 0x01AF, 0xA7: 0x0110, 0xA8: 0x0103, 0xA9: 0x00E2, 0xAA: 0x00EA, 0xAB: 0x00F4, 0xAC: 0x01A1,
    0xAD: 0x01B0, 0xAE: 0x0111, 0xAF: 0x1EB0, 0xB0: 0x0300, 0xB1: 0x0309, 0xB2: 0x0303, 0xB3: 0x0301,
    0xB4: 0x0323, 0xB5: 0x00E0, 0xB6: 0x1EA3, 0xB7: 0x00E3, 0xB8: 0x00E1, 0xB9: 0x1EA1, 0xBA: 0x1EB2,
    0xBB: 0x1EB1, 0xBC: 0x1EB3, 0xBD: 0x1EB5, 0xBE: 0x1EAF, 0xBF: 0x1EB4, 0xC0: 0x1EAE, 0xC1: 0x1EA6,
    0xC2: 0x1EA8, 0xC3: 0x1EAA, 0xC4: 0x1EA4, 0xC5: 0x1EC0, 0xC6: 0x1EB7, 0xC7: 0x1EA7, 0xC8: 0x1EA9,
    0xC9: 0x1EAB, 0xCA: 0x1EA5, 0xCB: 0x1EAD, 0xCC: 0x00E8, 0xCD: 0x1EC2, 0xCE: 0x1EBB, 0xCF: 0x1EBD,
    0xD0: 0x00E9, 0xD1: 0x1EB9, 0xD2: 0x1EC1, 0xD3: 0x1EC3, 0xD4: 0x1EC5, 0xD5: 0x1EBF, 0xD6: 0x1EC7,
    0xD7: 0x00EC, 0xD8: 0x1EC9, 0xD9: 0x1EC4, 0xDA: 0x1EBE, 0xDB: 0x1ED2, 0xDC: 0x0129, 0xDD: 0x00ED,
    0xDE: 0x1ECB, 0xDF: 0x00F2, 0xE0: 0x1ED4, 0xE1: 0x1ECF, 0xE2: 0x00F5, 0xE3: 0x00F3, 0xE4: 0x1ECD,
    0xE5: 0x1ED3, 0xE6: 0x1ED5, 0xE7: 0x1ED7, 0xE8: 0x1ED1, 0xE9: 0x1ED9, 0xEA: 0x1EDD, 0xEB: 0x1EDF,
    0xEC: 0x1EE1, 0xED: 0x1EDB, 0xEE: 0x1EE3, 0xEF: 0x00F9, 0xF0: 0x1ED6, 0xF1: 0x1EE7, 0xF2: 0x0169,
    0xF3: 0x00FA, 0xF4: 0x1EE5, 0xF5: 0x1EEB, 0xF6: 0x1EED, 0xF7: 0x1EEF, 0xF8: 0x1EE9, 0xF9: 0x1EF1,
    0xFA: 0x1EF3, 0xFB: 0x1EF7, 0xFC: 0x1EF9, 0xFE: 0x1EF5, 0xFF: 0x1ED0,
}
# TCVN3 (VN3): what the .Vn* fonts draw. No accented capitals: the H fonts draw the lower-case
# codes as capitals. Upper-case targets of VN1 are not part of it, except the Ă..Đ block.
_TCVN3_MAP = {b: u for b, u in _VN1_MAP.items()
              if b >= 0x80 and (0xA1 <= b <= 0xA7 or chr(u).islower())}

# Byte b as the character a cp1252 program shows (undefined cp1252 codes fall back to Latin-1).
_CP1252 = "".join(bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(256))


def _char_table(mapping: dict[int, int]) -> dict[int, str]:
    """str.translate table from both the cp1252 and the Latin-1 view of each byte."""
    table: dict[int, str] = {}
    for b, u in mapping.items():
        table[b] = chr(u)
        table[ord(_CP1252[b])] = chr(u)
    return table


_TCVN3_TR = _char_table(_TCVN3_MAP)
_VISCII_TR = _char_table(_VISCII_MAP)
_VN1_TR = _char_table(_VN1_MAP)


def legacy_view(data: bytes) -> str:
    """Bytes as the characters a cp1252 program shows (the shape legacy text has in docx/PDF)."""
    return codecs.charmap_decode(data, "strict", _CP1252)[0]


def _byte_table(mapping: dict[int, int]) -> str:
    """The decoding of each byte as one string: ``codecs.charmap_decode`` with it is what
    ``legacy_view(data).translate(_char_table(mapping))`` gives, at C speed (``str.translate``
    with a dict costs ~130 ns a character: 2.5 ms for 20 KB)."""
    return "".join(chr(mapping[b]) if b in mapping else _CP1252[b] for b in range(256))


_TCVN3_BYTES = _byte_table(_TCVN3_MAP)
_VISCII_BYTES = _byte_table(_VISCII_MAP)
_VN1_BYTES = _byte_table(_VN1_MAP)


# ---------------------------------------------------------------- normalisation

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u3000\t\v\f"}
_NORM = {**_ZERO_WIDTH, **_SPACES}
_NORM_RE = re.compile("[" + "".join(map(chr, _NORM)) + "]")


def normalize(text: str) -> str:
    """NFC, zero-width characters and soft hyphens dropped, exotic spaces made plain spaces.

    Decode legacy encodings *before* this: in TCVN3 the soft hyphen byte 0xAD is ``ư``.
    (``str.translate`` with a dict costs ~50 ns a character: it runs only when a regex search,
    at C speed, finds something to replace; the detector normalises each neighbour of a match.)
    """
    if text.isascii():
        return text.translate(_SPACES) if "\t" in text or "\f" in text or "\v" in text else text
    if _NORM_RE.search(text):
        text = text.translate(_NORM)
    return unicodedata.normalize("NFC", text)



def _case_from_ascii(text: str) -> str:
    """TCVN3 has one code for ậ and Ậ: a word whose ASCII letters are all capitals is upper case."""
    return _UPPER_WORD.sub(_upper, text)


def _upper(m: re.Match) -> str:
    return m.group().upper()


_UPPER_WORD = re.compile(r"(?<!\S)(?=\S*[A-Z])[^\sa-z]+(?!\S)")
"""A word (a run of non-space) holding an ASCII capital and no ASCII small letter. Anchored at
word starts, so linear in the text; mixed-case words ("Cộng") are not matched at all, where a
call per word with a capital tested each before."""


def tcvn3(text: str, upper: Optional[bool] = None) -> str:
    """TCVN3 text (as its cp1252 view) to NFC; ``upper`` from a ``.Vn…H`` font, else from ASCII case."""
    out = text.translate(_TCVN3_TR)
    if upper:
        return unicodedata.normalize("NFC", out.upper())
    return unicodedata.normalize("NFC", _case_from_ascii(out))


def viscii(text: str) -> str:
    """VISCII text (cp1252 view) to NFC."""
    return unicodedata.normalize("NFC", text.translate(_VISCII_TR))


def vn1(text: str) -> str:
    """TCVN 5712 VN1 text (cp1252 view) to NFC (its 0xB0-0xB4 are combining tone marks)."""
    return unicodedata.normalize("NFC", text.translate(_VN1_TR))


def cp1258(text: str) -> str:
    """Windows-1258 text (cp1252 view) to NFC."""
    try:
        data = text.encode("cp1252")
    except UnicodeEncodeError:
        data = text.encode("latin-1", errors="replace")
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace"))


# ---------------------------------------------------------------- VNI-Windows

_GRAVE, _ACUTE, _HOOK, _TILDE, _DOT = "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"
_CIRC, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
# mark byte (cp1252 view) -> combining marks, for lower- and upper-case mark bytes
_VNI_TONE = {"ù": _ACUTE, "ø": _GRAVE, "û": _HOOK, "õ": _TILDE, "ï": _DOT,
             "Ù": _ACUTE, "Ø": _GRAVE, "Û": _HOOK, "Õ": _TILDE, "Ï": _DOT}
_VNI_CIRC = {"â": "", "á": _ACUTE, "à": _GRAVE, "å": _HOOK, "ã": _TILDE, "ä": _DOT,
             "Â": "", "Á": _ACUTE, "À": _GRAVE, "Å": _HOOK, "Ã": _TILDE, "Ä": _DOT}
_VNI_BREVE = {"ê": "", "é": _ACUTE, "è": _GRAVE, "ú": _HOOK, "ü": _TILDE, "ë": _DOT,
              "Ê": "", "É": _ACUTE, "È": _GRAVE, "Ú": _HOOK, "Ü": _TILDE, "Ë": _DOT}
# single bytes that are whole letters
_VNI_SINGLE = {"ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư",
               "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
               "Í": "Í", "Ì": "Ì", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị", "Î": "Ỵ"}
_VNI_RE = re.compile(r"([AEOaeo])([âáàåãäÂÁÀÅÃÄ])|([Aa])([êéèúüëÊÉÈÚÜË])|([AEIOUYaeiouyôöÔÖ])([ùøûõïÙØÛÕÏ])|([ñÑôÔöÖíìæóòîÍÌÆÓÒÎ])")


def _vni_sub(m: re.Match) -> str:
    if m.group(1):
        return m.group(1) + _CIRC + _VNI_CIRC[m.group(2)]
    if m.group(3):
        return m.group(3) + _BREVE + _VNI_BREVE[m.group(4)]
    if m.group(5):
        base = _VNI_SINGLE.get(m.group(5), m.group(5))
        return base + _VNI_TONE[m.group(6)]
    return _VNI_SINGLE[m.group(7)]


def _vni_pieces() -> dict[str, str]:
    """Every string ``_VNI_RE`` can match, with what ``_vni_sub`` makes of it (a letter and
    its marks): a dict lookup per match instead of four ``group`` calls (VNI was the slowest
    decoder of the legacy guess). Made by enumerating the regex's alternatives, and checked
    against ``_vni_sub`` by test."""
    out: dict[str, str] = {}
    for bases, marks in (("AEOaeo", _VNI_CIRC), ("Aa", _VNI_BREVE), ("AEIOUYaeiouyôöÔÖ", _VNI_TONE)):
        for b in bases:
            for mk in marks:
                out.setdefault(b + mk, _vni_sub(_VNI_RE.fullmatch(b + mk)))
    for c in _VNI_SINGLE:
        out.setdefault(c, _vni_sub(_VNI_RE.fullmatch(c)))
    return out


_VNI_PIECES = _vni_pieces()


def vni(text: str) -> str:
    """VNI-Windows text (cp1252 view) to NFC."""
    return unicodedata.normalize("NFC", _VNI_RE.sub(lambda m: _VNI_PIECES[m.group()], text))


# ---------------------------------------------------------------- VIQR

_VIQR_SHAPE = {"^": _CIRC, "(": _BREVE, "+": _HORN}
_VIQR_TONE = {"'": _ACUTE, "`": _GRAVE, "?": _HOOK, "~": _TILDE, ".": _DOT}
_VIQR_RE = re.compile(r"([AEIOUYaeiouy])([\^\(\+]?)(['`\?~\.]?)|(DD|dd|Dd)")


def _viqr_sub(m: re.Match) -> str:
    if m.group(4):
        return "Đ" if m.group(4)[0] == "D" else "đ"
    base, shape, tone = m.group(1), m.group(2), m.group(3)
    if shape and not ((shape == "^" and base in "AEOaeo") or (shape == "(" and base in "Aa")
                      or (shape == "+" and base in "OUou")):
        return m.group(0)
    return base + _VIQR_SHAPE.get(shape, "") + _VIQR_TONE.get(tone, "")


def viqr(text: str) -> str:
    """VIQR (``MA^.T``) to NFC."""
    return unicodedata.normalize("NFC", _VIQR_RE.sub(_viqr_sub, text))


def looks_viqr(text: str) -> bool:
    """A VIQR shape mark right after a vowel (``A^``, ``A(``, ``O+``) or a tone after one of them."""
    return bool(_VIQR_SIG.search(text))


_VIQR_SIG = re.compile(r"[AEOaeo]\^|[Aa]\(|[OUou]\+|[AEIOUYaeiouy]['`\?~\.]\S")

# ---------------------------------------------------------------- by name

DECODERS = {"tcvn3": tcvn3, "vni": vni, "viqr": viqr, "cp1258": cp1258, "viscii": viscii, "vn1": vn1}
"""Legacy decoders by encoding name; each takes the cp1252 view and returns NFC."""


def decode_font_run(text: str, font: Optional[str]) -> tuple[str, str]:
    """Decode one run by its font name: ``.Vn*`` TCVN3 (``.Vn*H`` upper case), ``VNI-*`` VNI."""
    enc = font_encoding(font)
    if enc == "tcvn3":
        return tcvn3(text, upper=is_upper_font(font)), "tcvn3"
    if enc == "vni":
        return vni(text), "vni"
    return text, "unicode"


def font_encoding(font: Optional[str]) -> Optional[str]:
    """Legacy encoding a font name implies, or None."""
    if not font:
        return None
    f = font.strip().lower()
    if f.startswith(".vn"):
        return "tcvn3"
    if f.startswith("vni-") or f.startswith("vni "):
        return "vni"
    return None


def is_upper_font(font: Optional[str]) -> bool:
    """``.VnTimeH``, ``.VnArialH``: TCVN3 fonts that draw capitals."""
    return bool(font) and font.strip().lower().startswith(".vn") and font.strip().endswith("H")


# ---------------------------------------------------------------- bytes of unknown encoding

_VIET_LETTERS = frozenset(
    "ăâêôơưđĂÂÊÔƠƯĐ" + "".join(chr(c) for c in range(0x1EA0, 0x1EFA))
    + "àáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵÀÁẢÃẠÈÉẺẼẸÌÍỈĨỊÒÓỎÕỌÙÚỦŨỤỲÝỶỸỴ")


_COMMON = frozenset(
    "của và các có được là trong không những cho với người này theo để một đã nước việt năm số ngày "
    "tháng công hội bộ cộng hòa hoà xã độc lập tự hạnh phúc mật bảo vệ nhà về báo cáo quyết định "
    "điều khoản luật nghị thực hiện quản lý tài liệu cơ quan đơn vị tỉnh huyện ủy ban nhân dân".split())
_WORD = re.compile(r"\w+")


def _misread() -> re.Pattern:
    """A word no Vietnamese syllable spells: two letters with a tone, or a tone on a plain vowel
    beside a vowel with a shape (ă â ê ô ơ ư) that has none: the tone goes on that one
    ("tiếng", "người", "khuấy"). It is what reading one encoding's bytes as another's makes of
    a word: Windows-1258's tone bytes read as VISCII letters turn "tiếng" into "tiêìng", "hợp"
    into "hạòp". On the lowered text, word by distinct word."""
    tones = "\u0300\u0301\u0303\u0309\u0323"
    small = sorted(c for c in _VIET_LETTERS if c.islower())
    toned = "".join(c for c in small if any(m in unicodedata.normalize("NFD", c) for m in tones))
    plain_toned = "".join(c for c in toned if not any(m in unicodedata.normalize("NFD", c) for m in "\u0302\u0306\u031b"))
    shaped = "ăâêôơư"
    gap = "[^_0-9]*"  # within one syllable of a word (\w+ also joins "biên_bản")
    return re.compile(f"[{toned}]{gap}[{toned}]|[{shaped}]{gap}[{plain_toned}]|[{plain_toned}]{gap}[{shaped}]")


_MISREAD = _misread()
_RELEVANT = re.compile("[^\x09-\x7f]")
"""The characters ``_viet_score`` weighs: all but tab..DEL (ASCII text scores alike in every decoding)."""


def _viet_score(text: str) -> int:
    """5 a common Vietnamese word, 1 a Vietnamese letter, -2 another letter, mark or control
    character: the decoding that reads as Vietnamese scores highest. Both tallies are
    ``Counter``s (C speed), of the words and of the non-ASCII characters only, each distinct one
    weighed once."""
    words = Counter(_WORD.findall(text.lower()))
    common = sum(n for w, n in words.items() if w in _COMMON)
    good = -3 * sum(n for w, n in words.items() if _MISREAD.search(w))
    bad = 0
    for c, n in Counter(_RELEVANT.findall(text)).items():
        if c in _VIET_LETTERS:
            good += n
        elif unicodedata.category(c)[0] in "LM" or c < "\x09" or "\x80" <= c < "\xa0":
            bad += n
    return 5 * common + good - 2 * bad


def decode_legacy(data: bytes, name: str) -> str:
    """``DECODERS[name](legacy_view(data))``, decoded from the bytes: the single-byte tables
    through ``codecs.charmap_decode``. The same text (checked by test on every byte)."""
    if name == "tcvn3":
        return unicodedata.normalize("NFC", _case_from_ascii(codecs.charmap_decode(data, "strict", _TCVN3_BYTES)[0]))
    if name in _TABLE_BYTES:
        return unicodedata.normalize("NFC", codecs.charmap_decode(data, "strict", _TABLE_BYTES[name])[0])
    return DECODERS[name](legacy_view(data))


_TABLE_BYTES = {"viscii": _VISCII_BYTES, "vn1": _VN1_BYTES}


def decode_text_bytes(data: bytes) -> tuple[str, str]:
    """Decode a plain-text file: BOM, UTF-8, UTF-16 without BOM, else the legacy encoding that
    yields the most Vietnamese letters and the fewest stray ones. Returns (NFC-able text, name)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if len(data) >= 4:
        head = data[:4096]
        zeros_odd = head[1::2].count(0)
        zeros_even = head[0::2].count(0)
        half = len(head) // 2
        if zeros_odd > half * 0.3 and zeros_even < half * 0.05:
            return data.decode("utf-16-le", errors="replace"), "utf-16"
        if zeros_even > half * 0.3 and zeros_odd < half * 0.05:
            return data.decode("utf-16-be", errors="replace"), "utf-16"
    best = guess_legacy(data[:GUESS_SAMPLE])
    return decode_legacy(data, best), best


GUESS_SAMPLE = 65536
"""The legacy guess reads at most this much of a file."""
GUESS_HEAD = 4096
"""...and first only this much: a lead of ``_decisive`` there settles it."""
_GUESS_ORDER = ("tcvn3", "vni", "cp1258", "viscii", "vn1")
"""On a tie the first wins (TCVN3, the most common legacy encoding)."""
_NOT_VN1_ONLY = bytes(b for b in range(256) if not (b in _VN1_MAP and b not in _TCVN3_MAP))
"""Every byte but those VN1 reads and TCVN3 does not (VN1's accented capitals, its control-code
letters): ``bytes.translate`` deletes these to find whether any of the others is there."""


def _scoring(name: str, data: bytes) -> str:
    """What ``_viet_score`` is taken of: the decoding, except that TCVN3's case fix (a regex with
    a call per capitalised word, half its cost) is left out, since the score does not see case."""
    if name == "tcvn3":
        return unicodedata.normalize("NFC", codecs.charmap_decode(data, "strict", _TCVN3_BYTES)[0])
    return decode_legacy(data, name)


def _decisive(best: int, second: int) -> bool:
    return best - second >= 40


def guess_legacy(sample: bytes) -> str:
    """The legacy encoding of ``sample``: the decoder with the best ``_viet_score``. Two things
    keep it from decoding 64 KB five times (~40 ms a file before, a third of a plain-text scan):
    VN1 is scored only when the sample has a byte it reads differently from TCVN3 (otherwise
    the two decodings differ only in case, the scores tie, and TCVN3 wins the tie), and the
    first 4 KB are scored first, the whole sample only when no decoder leads there by 40
    (eight common words, or 14 letters read as Vietnamese that the next reads as stray ones). A
    file whose first 4 KB are English or a table of figures, with Vietnamese after, has no lead
    there. Measured on 268 generated legacy files of 200 B to 80 KB (five encodings, upper and
    mixed case, some after an English head): where the head led by 10 or more it named the
    encoding the whole sample names, in every file, at 1, 2 and 4 KB."""
    names = _GUESS_ORDER if len(sample.translate(None, _NOT_VN1_ONLY)) else _GUESS_ORDER[:-1]
    if len(sample) > 2 * GUESS_HEAD:
        ranked = _ranked(names, sample[:GUESS_HEAD])
        if _decisive(ranked[0][0], ranked[1][0]):
            return ranked[0][2]
    return _ranked(names, sample)[0][2]


def _ranked(names: tuple[str, ...], data: bytes) -> list[tuple[int, int, str]]:
    """(score, -order, name), best first: equal scores rank by ``_GUESS_ORDER``."""
    return sorted(((_viet_score(_scoring(n, data)), -i, n) for i, n in enumerate(names)), reverse=True)


# ---------------------------------------------------------------- fast pre-filter

NEEDLES_UTF8 = (
    "Ậ".encode(), "ậ".encode(),            # NFC
    "\u0323\u0302".encode(), "\u0302\u0323".encode(),  # NFD (both orders)
    "Â\u0323".encode(), "â\u0323".encode(),  # Unikey composite
    "Ë".encode(), "ë".encode(),            # TCVN3 through cp1252
    "Ä".encode(), "ä".encode(),            # VNI through cp1252
    b"A^.", b"a^.",                        # VIQR
    b"&#",                                  # character references (XML, HTML)
    b"\\u78", b"\\'",                      # RTF escapes
)
_NEEDLES_UTF16 = tuple(s.encode("utf-16-le") for s in ("Ậ", "ậ", "\u0323", "Ë", "ë", "Ä", "ä"))


def may_hold_mark(data: bytes, utf16: bool = False) -> bool:
    """False only when no form of the letter Ậ that a secrecy mark needs can be in ``data``.

    Works on UTF-8 (and with ``utf16`` on UTF-16LE) bytes: a cheap test that lets a file without
    any candidate skip parsing. Legacy single-byte text must be decoded first.
    """
    needles = _NEEDLES_UTF16 if utf16 else NEEDLES_UTF8
    return any(n in data for n in needles)
