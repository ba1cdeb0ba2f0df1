"""The detection rule on text, case by case (markings.md reference points and negatives)."""

import unicodedata

import pytest

from bmnn_guard.scanner.content.detect import judge, lines
from bmnn_guard.scanner.content.segments import Segment

HEAD = "BỘ CÔNG AN\nSố: 12/BC-BCA\n"
TAIL = "\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nBÁO CÁO\n"


def verdict(text):
    return judge(lines(text))


@pytest.mark.parametrize("stamp,level", [
    ("MẬT", "mat"), ("TỐI MẬT", "toi_mat"), ("TUYỆT MẬT", "tuyet_mat"),
    ("T U Y Ệ T   M Ậ T", "tuyet_mat"), ("[ TỐI MẬT ]", "toi_mat"), ("║ MẬT ║", "mat"),
    (unicodedata.normalize("NFD", "TỐI MẬT"), "toi_mat"), ("T\u00d4\u0301I M\u00c2\u0323T", "toi_mat"),
    ("TèI MËT", "toi_mat"), ("TUYEÄT MAÄT", "tuyet_mat"), ("MA^.T", "mat"), ("Độ mật: TỐI MẬT", "toi_mat"),
])
def test_plain_stamp_under_so_line_is_classified(stamp, level):
    v = verdict(HEAD + stamp + TAIL)
    assert (v.verdict, v.level) == ("classified", level), v
    assert "below_so_line" in v.reasons


def test_encoding_is_reported():
    assert verdict(HEAD + "TèI MËT" + TAIL).encoding == "tcvn3"
    assert verdict(HEAD + "TUYEÄT MAÄT" + TAIL).encoding == "vni"
    assert verdict(HEAD + "MA^.T" + TAIL).encoding == "viqr"
    assert verdict(HEAD + unicodedata.normalize("NFD", "MẬT") + TAIL).encoding == "unicode/nfd"
    assert verdict(HEAD + "M\u00c2\u0323T" + TAIL).encoding == "unicode/composite"


def test_title_case_under_so_needs_review():
    v = verdict(HEAD + "Mật" + TAIL)
    assert v.verdict == "review" and v.level == "mat" and "mark_title_case" in v.reasons


def test_bold_red_framed_is_certain():
    segs = [Segment("Số: 1/BC", 0), Segment("TỐI MẬT", 1, bold=True, red=True, framed=True), Segment("Nội dung", 2)]
    v = judge(segs)
    assert v.verdict == "classified" and v.score == 100


@pytest.mark.parametrize("text", [
    "Mật khẩu của bạn đã hết hạn", "MẬT KHẨU", "bí mật", "BẢO MẬT", "cơ mật", "mật mã", "mật độ dân số",
    "mật ong", "thân mật", "Tài liệu này tuyệt mật với mọi người", "QUY CHẾ BẢO VỆ BÍ MẬT NHÀ NƯỚC",
    "Văn bản phải đóng dấu “MẬT”, “TỐI MẬT” hoặc “TUYỆT MẬT”.", "ĐỘ MẬT", "GIẢI MẬT",
    "MẶT TRẬN TỔ QUỐC VIỆT NAM", "MẶT", "Độ mật: Thường / Mật / Tối mật / Tuyệt mật",
    "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC", "LƯU HÀNH NỘI BỘ", "DỰ THẢO",
])
def test_negatives_are_clean(text):
    assert verdict(HEAD + text + TAIL).verdict == "clean"


def test_sample_stamps_of_the_circular_are_clean():
    annex = ("Mẫu số 02\nMẪU DẤU CHỈ ĐỘ MẬT\nTUYỆT MẬT\nKích thước 40 x 8 mm, đường viền kép\n"
             "TỐI MẬT\nKích thước 30 x 8 mm\nMẬT\nKích thước 20 x 8 mm\n")
    assert verdict(annex).verdict == "clean"


def test_drop_down_list_of_levels_is_clean():
    assert verdict("Độ mật:\nThường\nMật\nTối mật\nTuyệt mật\n").verdict == "clean"
    assert verdict("ĐỘ MẬT\nTHƯỜNG\nMẬT\nTỐI MẬT\nTUYỆT MẬT\n").verdict == "clean"


def test_urgency_and_declassified_are_marks_not_secrecy():
    v = verdict(HEAD + "KHẨN\nHỎA TỐC\n" + TAIL)
    assert v.verdict == "clean" and v.level is None and set(v.marks) == {"khan", "hoa_toc"}
    v = verdict(HEAD + "TỐI MẬT\nTHƯỢNG KHẨN" + TAIL)
    assert v.level == "toi_mat" and v.marks == ("thuong_khan",)
    v = verdict(HEAD + "MẬT\nGIẢI MẬT" + TAIL)
    assert "giai_mat" in v.marks and "declassified_mark" in v.reasons and v.verdict != "classified"


def test_quoted_mark_is_not_classified():
    assert verdict("Nội dung\n“MẬT”\n" + "dòng\n" * 20).verdict != "classified"


def test_highest_classified_level_wins():
    v = verdict(HEAD + "MẬT" + TAIL + "\n" * 3 + "dòng\n" * 5)
    assert v.level == "mat"
    segs = [Segment("Số: 1", 0), Segment("MẬT", 1, bold=True), Segment("x", 2), Segment("x", 3), Segment("x", 4),
            Segment("TUYỆT MẬT", 5, part="header", bold=True, red=True)]
    assert judge(segs).level == "tuyet_mat"


def test_long_segments_never_match():
    assert verdict("MẬT " * 50).verdict == "clean"


def test_key_is_the_regex_over_the_whole_text():
    """``key`` drops spaces by split/join first: the same string as the one regex over the text."""
    import random
    import sys

    from bmnn_guard.scanner.content import decode, detect

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    alphabet = (spaces + list(detect._STRIP) + [chr(c) for c in range(0x2500, 0x2580, 7)]
                + list("MẬTỐIUYỆmậtA\u0302\u0323\u200b\u00ad\ufeffĐđ1:") + ["\u2580", "\u25a0"])
    rng = random.Random(96)
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert detect.key(text) == detect._KEY_DROP.sub("", decode.normalize(text)).upper(), repr(text)
