"""The legacy-encoding guess of a plain-text file, made fast, says what the slow one said.

The fast paths (byte tables through ``codecs.charmap_decode``, VNI by a dict of pieces, TCVN3's
case fix without a call per mixed-case word, a 4 KB head scored first) are each checked here
against the plain definition they replace, on every byte and on random text, and the guess on
files written in every legacy encoding from real Vietnamese prose (this project's own
Vietnamese catalog), of many sizes, some after an English head."""

import itertools
import os
import random
import re
import unicodedata
from pathlib import Path

import pytest

from bmnn_guard.scanner.content import decode
from tests.scanner.content.corpus import to_cp1258

LEGACY = ("tcvn3", "vni", "cp1258", "viscii", "vn1")
PO = Path(__file__).resolve().parents[3] / "scanner" / "locale" / "vi" / "LC_MESSAGES" / "bmnn.po"


def _view_reference(data: bytes) -> str:
    return "".join(decode._CP1252[b] for b in data)


def _reference(name: str, data: bytes) -> str:
    """The decoders as they were defined: over the cp1258 view, TCVN3 with its case fix by a call
    per capitalised word, VNI by the rule's groups (the others are unchanged)."""
    view = _view_reference(data)
    if name == "tcvn3":
        return unicodedata.normalize("NFC", _case_reference(view.translate(decode._TCVN3_TR)))
    if name == "vni":
        return unicodedata.normalize("NFC", decode._VNI_RE.sub(decode._vni_sub, view))
    return decode.DECODERS[name](view)


def _case_reference(text: str) -> str:
    def fix(m):
        w = m.group(0)
        letters = [c for c in w if c.isascii() and c.isalpha()]
        return w.upper() if letters and all(c.isupper() for c in letters) else w
    return re.sub(r"(?<!\S)(?=\S*[A-Z])\S+", fix, text)


def _random_bytes(rng: random.Random, n: int) -> bytes:
    alphabet = rng.choice([bytes(range(256)), b"AEIOUYaeiouyDd \n" + bytes(range(0xC0, 0x100)),
                           b"Abc XYZ\t\n." + bytes(range(0x80, 0xB8))])
    return bytes(rng.choice(alphabet) for _ in range(n))


def test_every_byte_decodes_as_the_table_says():
    every = bytes(range(256))
    assert decode.legacy_view(every) == _view_reference(every)
    for name in (*LEGACY, "viqr"):
        for data in (every, every[::-1], every * 3):
            assert decode.decode_legacy(data, name) == _reference(name, data), name


def test_random_bytes_decode_as_the_reference():
    rng = random.Random(1177)
    for _ in range(1500):
        data = _random_bytes(rng, rng.randint(0, 200))
        for name in LEGACY:
            assert decode.decode_legacy(data, name) == _reference(name, data), (name, data)
        assert decode.vni(decode.legacy_view(data)) == _reference("vni", data)


def test_vni_pieces_are_what_the_rule_makes():
    for piece, out in decode._VNI_PIECES.items():
        assert decode._VNI_RE.fullmatch(piece) and decode._vni_sub(decode._VNI_RE.fullmatch(piece)) == out
    # every two characters the pattern can take at a position are a piece (no KeyError)
    alphabet = "AEIOUYDaeiouyd" + "".join(decode._VNI_SINGLE) + "".join(decode._VNI_CIRC) + "".join(decode._VNI_BREVE) + "".join(decode._VNI_TONE)
    for a, b in itertools.product(alphabet, repeat=2):
        decode.vni(a + b + " " + b + a)


def test_tcvn3_case_fix_matches_the_word_rule():
    rng = random.Random(3)
    letters = "aAbBzZ" + "ậẬëËñ" + "1-. "
    for _ in range(3000):
        text = "".join(rng.choice(letters + "\n\t") for _ in range(rng.randint(0, 40)))
        assert decode._case_from_ascii(text) == _case_reference(text), repr(text)


# ---------------------------------------------------------------- the guess on real prose

def _prose() -> list[str]:
    text = PO.read_text(encoding="utf-8")
    lines = re.findall(r'^(?:msgstr )?"(.+)"$', text, re.M)
    keep = [''.join(c for c in s if ord(c) < 128 or c in decode._VIET_LETTERS) for s in lines]
    return [s for s in keep if any(c in decode._VIET_LETTERS for c in s)]


def _table_encoder(mapping, fold_upper=False):
    inverse = {}
    for b, u in sorted(mapping.items()):
        inverse.setdefault(chr(u), bytes([b]))
    for b in range(0xA0, 0x100):  # a byte the table leaves alone reads as itself (VISCII's Â, Ò, Ã...)
        if b not in mapping and decode._CP1252[b] in decode._VIET_LETTERS:
            inverse.setdefault(decode._CP1252[b], bytes([b]))

    def enc(text: str) -> bytes:
        out = []
        for c in unicodedata.normalize("NFC", text):
            if c in inverse:
                out.append(inverse[c])
            elif fold_upper and c.lower() in inverse:  # a .VnTimeH capital: the small letter's code
                out.append(inverse[c.lower()])
            else:
                out.append("".join(x for x in unicodedata.normalize("NFD", c) if x.isascii()).encode() or b"?")
        return b"".join(out)
    return enc


def _vni_encoder():
    inverse: dict[str, str] = {}
    for piece in sorted(decode._VNI_PIECES):
        out = decode.vni(piece)
        if len(out) == 1:
            inverse.setdefault(out, piece)
    for base in "AEIOUYaeiouy" + "ôöÔÖ":
        for tone in decode._VNI_TONE:
            out = decode.vni(base + tone)
            if len(out) == 1:
                inverse.setdefault(out, base + tone)

    def enc(text: str) -> bytes:
        return "".join(inverse.get(c, c) for c in unicodedata.normalize("NFC", text)).encode("cp1252", "replace")
    return enc


ENCODERS = {"tcvn3": _table_encoder(decode._TCVN3_MAP, fold_upper=True), "vn1": _table_encoder(decode._VN1_MAP),
            "viscii": _table_encoder(decode._VISCII_MAP), "cp1258": to_cp1258, "vni": _vni_encoder()}


def _reads_as(name: str, data: bytes, got: str) -> bool:
    """The guess named ``name``, or an encoding that reads these bytes as the same text."""
    return got == name or decode.decode_legacy(data, got).lower() == decode.decode_legacy(data, name).lower()


def _slow_guess(sample: bytes) -> str:
    """The guess as it was: every decoder over the whole sample, the first best wins."""
    best, best_score = None, None
    for name in LEGACY:
        s = decode._viet_score(_reference(name, sample))
        if best_score is None or s > best_score:
            best, best_score = name, s
    return best


@pytest.mark.parametrize("enc", LEGACY)
def test_the_guess_names_the_encoding_at_every_size(enc):
    rng = random.Random(int(os.environ.get("BMNN_GUESS_SEED", "0")) * 10 + LEGACY.index(enc))
    prose = _prose()
    english = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8").encode("ascii", "ignore").decode()
    assert len(prose) > 300 and len(english) > 6000
    for size in (150, 900, 3000, 5000, 12000, 40000):
        for variant in ("mixed", "upper", "english head"):
            parts, n = [], 0
            if variant == "english head":  # no lead in the first 4 KB: the whole sample decides
                start = rng.randrange(len(english) - 6000)
                parts.append(english[start:start + 5000])
                n = 5000
            while n < size:
                parts.append(rng.choice(prose))
                n += len(parts[-1]) + 1
            text = "\n".join(parts)
            if variant == "upper":
                text = text.upper()
            data = ENCODERS[enc](text)
            if data.isascii():  # the chosen lines hold no letter this encoding writes with a high byte
                continue
            got = decode.decode_text_bytes(data)[1]
            assert _reads_as(enc, data, got), (enc, size, variant, got)
            assert got == _slow_guess(data[:decode.GUESS_SAMPLE]) or _reads_as(_slow_guess(data[:decode.GUESS_SAMPLE]), data, got)


def test_vn1_capitals_after_the_head_still_make_it_vn1():
    """The test for VN1's own bytes reads the whole sample, not the head."""
    prose = " ".join(_prose())
    lower = _table_encoder(decode._VN1_MAP)(prose.lower()[:6000])
    tail = _table_encoder(decode._VN1_MAP)("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM. ĐỘC LẬP - TỰ DO - HẠNH PHÚC. " * 20)
    data = lower + b"\n" + tail
    assert decode.decode_text_bytes(data)[1] == "vn1"
    assert decode.decode_text_bytes(lower)[1] == "tcvn3"  # the same text without a capital: the tie goes to TCVN3


@pytest.mark.parametrize("text", [
    "CHỦ SỞ HỮU: {OWNER} (CHƯA GHI NHẬN TIẾN TRÌNH TÁC ĐỘNG)\nMÁY\nĐỐI CHIẾU GẦN NHẤT: {T}\n"
    "BẢN GHI NHẬT KÝ {SEQ} KHÔNG HỢP LỆ\nLẠI BẰNG SUDO.\nNƠI NHẬN: - ; - ; - LƯU: VT, HỒ SƠ VỤ VIỆC.",
    "Tiếng Việt: thiết bị lưu trữ rời được kết nối",
    "BIÊN BẢN GIAO NHẬN TÀI LIỆU MẬT",
    "người nhận hồ sơ: phòng hành chính",
])
def test_a_short_windows_1258_text_is_not_read_as_viscii(text):
    """Windows-1258 writes a tone as a byte after its vowel; VISCII reads most of those bytes as
    letters, so a short text scored more "Vietnamese letters" as VISCII ("tiêìng", "hạòp"). A
    word no syllable spells now counts against the reading that makes it."""
    data = to_cp1258(text)
    assert decode.decode_text_bytes(data) == (unicodedata.normalize("NFC", text), "cp1258")
    assert decode.decode_text_bytes(to_cp1258(text.upper()))[1] == "cp1258"


def test_misread_words():
    for word in ("tiếng", "người", "khuấy", "hoà", "thuở", "khuyết", "được", "nguyễn", "thuyền", "khuỷu", "giữa", "biên_bản"):
        assert not decode._MISREAD.search(word), word
    for word in ("tiêìng", "hạòp", "nhâòn", "gâìn", "tốít"):
        assert decode._MISREAD.search(word), word
