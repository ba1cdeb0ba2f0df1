"""The plain-text pre-filter (scanner/content/plain.py): never "clean" where the full detector
finds a mark, the same verdicts with and without it, and the C version equal to the Python one."""

from __future__ import annotations

import itertools
import random

import pytest

from bmnn_guard.scanner.content import detect, plain
from tests.scanner.content.forms import LEGACY_FORMS, LEVELS, NOT_MARKS, unicode_forms

PROSE = "Căn cứ Luật Bảo vệ bí mật nhà nước, cơ quan báo cáo kết quả thực hiện công tác bảo vệ bí mật nhà nước."
FRAMES = ("{}", "[ {} ]", "“{}”", "*** {} ***", "═" * 50 + " {} " + "═" * 50, "│ {} │", "\u200b{}\u200b", "\t{}\xa0")
BREAKS = ("\n", "\r\n", "\r", "\f", "\x1c")


def _unicode_docs():
    for level in LEVELS:
        forms = dict(unicode_forms(level))
        forms["spaced"] = " ".join(level)
        forms["zero-width"] = level.replace("Ậ", "\u200bẬ")
        forms["dot-then-circumflex"] = level.replace("Ậ", "Ạ\u0302")
        forms["nfd-zw"] = forms["nfd"].replace("\u0323", "\u200b\u0323")
        for (name, form), frame, brk in itertools.product(forms.items(), FRAMES, BREAKS):
            text = brk.join(["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số: 12/BC-UBND", frame.format(form), PROSE * 3, ""])
            yield f"{name} {frame!r} {brk!r}", text.encode("utf-8")
            if brk == "\n":
                yield f"utf-16 {name} {frame!r}", b"\xff\xfe" + text.encode("utf-16-le")
                yield f"bom {name} {frame!r}", b"\xef\xbb\xbf" + text.encode("utf-8")
    for line in NOT_MARKS:
        yield f"not a mark {line}", "\n".join(["Số: 3/QĐ", line, PROSE]).encode()
    yield "u2028", "Số: 1\u2028MẬT\u2028".encode()
    yield "nel", "Số: 1\x85MẬT\x85".encode()
    yield "bom then not utf-8", b"\xef\xbb\xbfS\xe1\xbb\x91: 1\nM\xe1\xba\xacT\n\xff\n"
    yield "long line", ("x" * 200 + "MẬT").encode()
    yield "source", b"def f(x):\n    return x ^ 2  # a^.b\n" * 50


def _legacy_docs():
    for enc, (upper, lower) in LEGACY_FORMS.items():
        for form, frame, brk in itertools.product(upper + lower, (b"%s", b"[ %s ]", b"*** %s ***", b"=" * 60 + b" %s " + b"=" * 60),
                                                  (b"\n", b"\r\n", b"\r", b"\f")):
            body = brk.join([b"So: 12/BC", frame % form, b"Noi dung bao cao " * 20, b"\xe0\xe1\xe2\xe3 \xf4\xf5"])
            yield f"{enc} {form!r} {frame!r} {brk!r}", body
    yield "legacy with a control byte", b"So: 1\n\x02M\xcbT\n"
    yield "legacy with a NUL", b"So: 1\nM\xcbT\x00\n"


def _corpus():
    yield from _unicode_docs()
    yield from _legacy_docs()
    rng = random.Random(15)
    pieces = ["MẬT", "M", "Ậ", "T", " ", "\n", "\r", "═", "\u0302", "\u0323", "A", "Ë", "ò", "Â", "^", ".", "\x85",
              "y" * 40, "\u200b", "Độ mật: ", "Tối ", "c", "Ó", "ạ", "Þ", "ñ", "Ö", "è", "ệ", "1", "：", "ı", "D", "Đ"]
    for k in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 30)))
        yield f"random {k}", text.encode("utf-8")
        try:
            yield f"random cp1252 {k}", text.encode("cp1252")
        except UnicodeEncodeError:
            pass


CORPUS = list(_corpus())


def _hits(data: bytes):
    return detect.scan_segments(plain.plain_segments(data, prefilter=False)[1])[0]


def test_prefilter_never_clears_a_file_the_detector_finds_a_mark_in():
    missed = [name for name, data in CORPUS if _hits(data) and plain.proven_clean(data)]
    assert not missed, missed[:10]


def test_every_form_of_markings_md_is_a_candidate_and_is_found():
    """Each encoding's stamp, framed or letter-spaced, under a "Số:" line: the pre-filter keeps it
    and the detector finds a level (the pre-filter's worth is nothing if it hides these)."""
    for name, data in CORPUS:
        if name.startswith(("nfc", "nfd", "composite", "spaced", "zero-width", "dot-then", "utf-16", "bom ")) \
                or name.split()[0] in LEGACY_FORMS:
            assert plain.candidate_lines(data) != 0, name
            assert _hits(data), name


def test_verdicts_are_the_same_with_and_without_the_prefilter():
    for name, data in CORPUS:
        fast = detect.judge([] if plain.proven_clean(data) else plain.plain_segments(data)[1])
        slow = detect.judge(plain.plain_segments(data, prefilter=False)[1])
        assert (fast.verdict, fast.level, fast.score) == (slow.verdict, slow.level, slow.score), name


def test_prose_and_the_not_a_mark_lines_need_no_detector():
    """What makes the pre-filter pay: prose that mentions "bí mật" has no candidate line, and the
    not-a-mark lines, when they are candidates, stay clean in the detector."""
    assert plain.candidate_lines((PROSE + "\n").encode() * 200) == 0
    assert plain.candidate_lines(b"import os\nx = a ^ b\n" * 10) == 0  # '^' far from any short A^.
    for name, data in CORPUS:
        if name.startswith("not a mark"):
            assert detect.judge(plain.plain_segments(data)[1]).verdict == "clean", name


@pytest.mark.skipif(plain._c_utf8 is None, reason="the optional C pre-filter was not built: the Python path is in use")
def test_c_prefilter_matches_the_python_reference():
    for name, data in CORPUS:
        for limit in (0, 1, 16):
            assert plain.count_utf8(data, limit) == plain.count_utf8_py(data, limit), name
            assert plain.count_legacy(data, limit) == plain.count_legacy_py(data, limit), name
    for cp in itertools.chain(range(0, 0xD800), range(0xE000, 0x10000), range(0x1F000, 0x1F100)):
        c = chr(cp)
        for text in (c * 48 + "ậ", "ậ" + c + "MẬT", c + "MA"):
            data = text.encode()
            assert plain.count_utf8(data, 3) == plain.count_utf8_py(data, 3), hex(cp)
    for b in range(256):
        for data in (bytes([b]) * 48 + b"\xcb", b"\xcb" + bytes([b]) + b"M\xcbT", bytes([b]) + b"MA"):
            assert plain.count_legacy(data, 3) == plain.count_legacy_py(data, 3), hex(b)
    for data in (b"", b"abc", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe0\x80\xaf", "Ậ".encode()[:2],
                 b"\xff\xfeM\x00", "x\n".encode() * 1000 + "MẬT".encode(), b"a" * 700 + "ậ".encode(),
                 (" " * 500 + "MẬT").encode(), ("y" * 150 + "ậ").encode(), ("y" * 140 + "ậ").encode(),
                 b"\r\n".join([b"a"] * 9) + "\r\nMẬT\r\n".encode()):
        assert plain.count_utf8(data, 3) == plain.count_utf8_py(data, 3), data
        assert plain.count_legacy(data, 3) == plain.count_legacy_py(data, 3), data
