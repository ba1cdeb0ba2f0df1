"""Every byte form of the marks in shared/markings.md decodes to the NFC mark."""

import unicodedata

import pytest

from bmnn_guard.scanner.content import decode
from bmnn_guard.scanner.content.detect import key

MARKS = ("MẬT", "TỐI MẬT", "TUYỆT MẬT")

# (decoder, hex bytes of MẬT, TỐI MẬT, TUYỆT MẬT) — the table of markings.md
BYTE_FORMS = [
    ("tcvn3", "4DCB54", "54E849204DCB54", "545559D654204DCB54"),
    ("vni", "4D41C454", "544FC149204D41C454", "5455594 5C454204D41C454".replace(" ", "")),
    ("cp1258", "4DC2F254", "54D4EC49204DC2F254", "545559CAF254204DC2F254"),
    ("viscii", "4D8754", "548F49204D8754", "5455598E54204D8754"),
    ("vn1", "4D8654", "54FF49204D8654", "5455598C54204D8654"),
]


@pytest.mark.parametrize("name,mat,toi,tuyet", BYTE_FORMS)
def test_byte_forms(name, mat, toi, tuyet):
    for hx, want in zip((mat, toi, tuyet), MARKS):
        got = decode.DECODERS[name](decode.legacy_view(bytes.fromhex(hx)))
        assert got == want, (name, hx, got)


def test_cp1252_views_and_lower_case():
    assert decode.tcvn3("MËT") == "MẬT" and decode.tcvn3("TèI MËT") == "TỐI MẬT" and decode.tcvn3("TUYÖT MËT") == "TUYỆT MẬT"
    assert decode.tcvn3("tuyÖt mËt") == "tuyệt mật"
    assert decode.vni("MAÄT") == "MẬT" and decode.vni("TOÁI MAÄT") == "TỐI MẬT" and decode.vni("TUYEÄT MAÄT") == "TUYỆT MẬT"
    assert decode.vni("toái maät") == "tối mật"


def test_viqr():
    assert decode.viqr("MA^.T") == "MẬT"
    assert decode.viqr("TO^'I MA^.T") == "TỐI MẬT"
    assert decode.viqr("TUYE^.T MA^.T") == "TUYỆT MẬT"
    assert decode.viqr("DDo^.c la^.p") == "Độc lập"


def test_tcvn3_case_comes_from_the_font_or_the_ascii_letters():
    assert decode.tcvn3("mËt", upper=True) == "MẬT"          # .VnTimeH draws capitals
    assert decode.tcvn3("mËt") == "mật"
    assert decode.decode_font_run("mËt", ".VnTimeH") == ("MẬT", "tcvn3")
    assert decode.decode_font_run("maät", "VNI-Times") == ("mật", "vni")
    assert decode.decode_font_run("MẬT", "Times New Roman") == ("MẬT", "unicode")


def test_tcvn3_u_horn_is_the_soft_hyphen_byte():
    # "nước" in TCVN3: n ­ í c  (0xAD is ư): decode before dropping soft hyphens
    text = decode.tcvn3(decode.legacy_view(b"n\xad\xedc"))
    assert decode.normalize(text) == "nước"
    assert decode.normalize("n\u00adước") == "nước"


def test_utf_forms_normalise_to_the_mark():
    assert unicodedata.normalize("NFC", "M\u0041\u0323\u0302T") == "MẬT"
    assert key("M\u00c2\u0323T") == "MẬT"                      # Unikey composite
    assert key("T\u00d4\u0301I M\u00c2\u0323T") == "TỐIMẬT"
    assert key(unicodedata.normalize("NFD", "TUYỆT MẬT")) == "TUYỆTMẬT"
    assert key("M\u200bẬ\u00a0T") == "MẬT"                     # zero width, NBSP


@pytest.mark.parametrize("data,enc", [
    ("Số: 1\nTỐI MẬT\n".encode("utf-16"), "utf-16"),
    ("Số: 1\nTỐI MẬT\n".encode("utf-16-le"), "utf-16"),
    ("Số: 1\nTỐI MẬT\n".encode("utf-8-sig"), "utf-8"),
    ("Số: 1\nTỐI MẬT\n".encode("utf-8"), "utf-8"),
])
def test_decode_text_bytes_unicode(data, enc):
    text, got = decode.decode_text_bytes(data)
    assert got == enc and "TỐI MẬT" in text


def test_decode_text_bytes_guesses_a_legacy_file():
    body = "Cộng hòa xã hội chủ nghĩa Việt Nam\nĐộc lập - Tự do - Hạnh phúc\nSố: 12/BC\n"
    vni = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam\nÑoäc laäp - Töï do - Haïnh phuùc\nSoá: 12/BC\n".encode("cp1252")
    text, enc = decode.decode_text_bytes(vni)
    assert enc == "vni" and text == body
    tcvn = decode.legacy_view(b"C\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam\n")
    text, enc = decode.decode_text_bytes(tcvn.encode("cp1252"))
    assert enc == "tcvn3" and text.startswith("Cộng hoà xã hội")


def test_prefilter():
    assert not decode.may_hold_mark("Mặt trời mọc, hôm nay".encode())
    for form in ("MẬT", "mật", unicodedata.normalize("NFD", "MẬT"), "M\u00c2\u0323T", "MËT", "MAÄT", "MA^.T", "M&#7852;T"):
        assert decode.may_hold_mark(form.encode()), form
    assert decode.may_hold_mark("MẬT".encode("utf-16-le"), utf16=True)
