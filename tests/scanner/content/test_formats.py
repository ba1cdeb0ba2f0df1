"""Every format and encoding, from generated files: extraction + detection end to end (in process;
the worker and its limits are tested in test_scan.py)."""

import shutil
import subprocess
import unicodedata

import pytest

from bmnn_guard.scanner.content.analyse import analyse
from bmnn_guard.scanner.content.limits import Limits

from . import corpus as C

RED = {"bold": True, "color": "FF0000"}


def check(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    res = analyse(str(p), Limits())
    assert "error" not in res, res
    return res["kind"], res["verdict"]


DOCX_POSITIVES = {
    "bold_red_framed_under_so": (C.letter({"runs": [dict(text="TỐI MẬT", **RED)], "border": True}), "toi_mat", {"bold", "red", "framed", "below_so_line"}),
    "split_runs": (C.letter([{"text": "T"}, {"text": "UYỆ", "bold": True}, {"text": "T M"}, {"text": "ẬT"}]), "tuyet_mat", set()),
    "text_box": (C.letter({"runs": ["MẬT"], "textbox": True}), "mat", {"textbox", "framed"}),
    "letter_spaced": (C.letter("T U Y Ệ T    M Ậ T"), "tuyet_mat", set()),
    "run_border": (C.letter([dict(text="MẬT", bdr=True, **RED)]), "mat", {"framed", "red"}),
    "vntimeh_tcvn3": (C.letter([{"text": "tèi mËt", "font": ".VnTimeH"}]), "toi_mat", {"mark_upper"}),
    "vntime_tcvn3_upper_ascii": (C.letter([{"text": "TUYÖT MËT", "font": ".VnTime"}]), "tuyet_mat", {"mark_upper"}),
    "vni": (C.letter([{"text": "TOÁI MAÄT", "font": "VNI-Times"}]), "toi_mat", set()),
    "nfd": (C.letter(unicodedata.normalize("NFD", "TỐI MẬT")), "toi_mat", set()),
    "unikey_composite": (C.letter("T\u00d4\u0301I M\u00c2\u0323T"), "toi_mat", set()),
}


@pytest.mark.parametrize("name", sorted(DOCX_POSITIVES))
def test_docx_positives(tmp_path, name):
    data, level, reasons = DOCX_POSITIVES[name]
    kind, v = check(tmp_path, name + ".docx", data)
    assert kind == "docx"
    assert (v["verdict"], v["level"]) == ("classified", level), v
    assert reasons <= set(v["reasons"]), v


def test_docx_stamp_in_header(tmp_path):
    data = C.docx(["Nội dung báo cáo"] * 3, header=[{"runs": [dict(text="MẬT", **RED)], "border": True}])
    _, v = check(tmp_path, "h.docx", data)
    assert v["verdict"] == "classified" and "in_header" in v["reasons"]


def test_docx_encodings_reported(tmp_path):
    assert check(tmp_path, "a.docx", DOCX_POSITIVES["vntimeh_tcvn3"][0])[1]["encoding"] == "tcvn3"
    assert check(tmp_path, "b.docx", DOCX_POSITIVES["vni"][0])[1]["encoding"] == "vni"


NEGATIVE_PARAS = [
    "Mật khẩu đăng nhập phải đổi 90 ngày một lần.", "MẬT KHẨU", "bí mật", "BẢO MẬT",
    "Tài liệu tuyệt mật này được nói tới như một ví dụ.", "QUY CHẾ BẢO VỆ BÍ MẬT NHÀ NƯỚC",
    "Văn bản phải đóng dấu “MẬT”.", "GIẢI MẬT", "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC", "ĐỘ MẬT",
    "Độ mật: Thường / Mật / Tối mật / Tuyệt mật",
]


def test_docx_negatives_clean(tmp_path):
    data = C.docx(["MẶT TRẬN TỔ QUỐC VIỆT NAM", "Số: 12/MTTQ"] + NEGATIVE_PARAS)
    _, v = check(tmp_path, "neg.docx", data)
    assert v["verdict"] == "clean", v
    assert {"khan", "thuong_khan", "hoa_toc", "giai_mat"} <= set(v["marks"])


def test_docx_circular_sample_stamps_clean(tmp_path):
    annex = ["Mẫu số 02", "MẪU DẤU CHỈ ĐỘ MẬT",
             {"runs": [dict(text="TUYỆT MẬT", **RED)], "border": True}, "Kích thước 40 x 8 mm, đường viền kép",
             {"runs": [dict(text="TỐI MẬT", **RED)], "border": True}, "Kích thước 30 x 8 mm",
             {"runs": [dict(text="MẬT", **RED)], "border": True}, "Kích thước 20 x 8 mm"]
    _, v = check(tmp_path, "annex.docx", C.docx(annex))
    assert v["verdict"] == "clean", v


def test_docx_drop_down_list_clean(tmp_path):
    _, v = check(tmp_path, "dd.docx", C.docx(["Số: 1/PC", "Độ mật:", "Thường", "Mật", "Tối mật", "Tuyệt mật"]))
    assert v["verdict"] == "clean", v


def test_xlsx(tmp_path):
    kind, v = check(tmp_path, "a.xlsx", C.xlsx(["Số: 7/KH", "Kế hoạch"], rich=[[dict(text="MËT", font=".VnTime", bold=True, color="FF0000")]]))
    assert kind == "xlsx" and v["verdict"] == "classified" and v["encoding"] == "tcvn3", v
    assert check(tmp_path, "b.xlsx", C.xlsx(["Mật khẩu", "Thường", "Mật", "Tối mật", "Tuyệt mật"]))[1]["verdict"] == "clean"


def test_pptx(tmp_path):
    kind, v = check(tmp_path, "a.pptx", C.pptx([[("Số: 3/TB", {}), ("TUYỆT MẬT", {"bold": True, "color": "FF0000", "frame": True})]]))
    assert kind == "pptx" and v["verdict"] == "classified" and {"red", "framed", "bold"} <= set(v["reasons"]), v


def test_odt(tmp_path):
    kind, v = check(tmp_path, "a.odt", C.odt(["BỘ CÔNG AN", "Số: 1/BC", ("TỐI MẬT", {"bold": 1, "color": "ff0000", "border": 1}), "x"]))
    assert kind == "odt" and v["verdict"] == "classified" and {"red", "framed", "bold"} <= set(v["reasons"]), v
    _, v = check(tmp_path, "b.odt", C.odt(["Số: 1/BC", ("toái maät", {"font": "VNI-Times", "color": "ff0000"})]))
    assert v["encoding"] == "vni" and v["level"] == "toi_mat", v
    _, v = check(tmp_path, "c.odt", C.odt(["Nội dung"], header=["MẬT"]))
    assert v["verdict"] == "classified" and "in_header" in v["reasons"], v
    assert check(tmp_path, "d.odt", C.odt(["MẶT TRẬN TỔ QUỐC VIỆT NAM"] + NEGATIVE_PARAS))[1]["verdict"] == "clean"


def test_rtf(tmp_path):
    tcvn = C.rtf(r"\pard S\u7889?: 12/BC\par\pard\box\b\cf2 M\'cbT\par N\'e9i dung\par", fonts=(".VnTimeH",))
    _, v = check(tmp_path, "a.rtf", tcvn)
    assert v["verdict"] == "classified" and v["encoding"] == "tcvn3" and {"bold", "red", "framed"} <= set(v["reasons"]), v
    uni = C.rtf(r"\pard S\u7889?: 12/BC\par\pard\b T\u7888?I M\u7852?T\par x\par")
    assert check(tmp_path, "b.rtf", uni)[1]["level"] == "toi_mat"
    vni = C.rtf(r"{\header\pard\f1 MA\'c4T\par}\pard body\par", fonts=("Times", "VNI-Times"))
    _, v = check(tmp_path, "c.rtf", vni)
    assert v["encoding"] == "vni" and "in_header" in v["reasons"], v
    neg = C.rtf(r"\pard M\u7853?t kh\u7849?u\par GI\u7842?I M\u7852?T\par")
    assert check(tmp_path, "d.rtf", neg)[1]["verdict"] == "clean"


def test_html(tmp_path):
    _, v = check(tmp_path, "a.html", C.html('<p>Số: 1</p><p><b style="color:#ff0000;border:1px solid red">M&#7852;T</b></p>'))
    assert v["verdict"] == "classified" and {"red", "framed", "bold"} <= set(v["reasons"]), v
    _, v = check(tmp_path, "b.html", C.html('<p>Số: 1</p><p><font face=".VnTimeH" color="red">mËt</font></p>'))
    assert v["encoding"] == "tcvn3" and v["verdict"] == "classified", v
    _, v = check(tmp_path, "c.htm", C.html("<p>Số: 1</p><p>TỐI MẬT</p><p>Việt Nam</p>", charset="windows-1258"))
    assert v["level"] == "toi_mat", v
    assert check(tmp_path, "d.html", C.html("<p>MẶT TRẬN</p><p>mật khẩu</p><p>GIẢI MẬT</p>"))[1]["verdict"] == "clean"


PLAIN = "Số: 12/BC\n{}\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"


@pytest.mark.parametrize("name,data,encoding", [
    ("utf8.txt", PLAIN.format("TỐI MẬT").encode(), "utf-8"),
    ("utf16.txt", PLAIN.format("TỐI MẬT").encode("utf-16"), "utf-16"),
    ("nfd.md", unicodedata.normalize("NFD", PLAIN.format("TỐI MẬT")).encode(), "utf-8/nfd"),
    ("tcvn3.txt", b"S\xe8: 12/BC\nT\xe8I M\xcbT\nC\xe9ng ho\xb5 x\xb7 h\xe9i ch\xf1 ngh\xdca Vi\xd6t Nam\n", "tcvn3"),
    ("vni.csv", "Soá: 12/BC\nTOÁI MAÄT\nCoäng hoøa xaõ hoäi chuû nghóa Vieät Nam\n".encode("cp1252"), "vni"),
    ("viqr.txt", b"So^': 12/BC\nTO^'I MA^.T\nCo^.ng ho`a\n", "viqr"),
    ("cp1258.txt", C.to_cp1258(PLAIN.format("TỐI MẬT")), "cp1258"),
    ("viscii.txt", b"S\xaf: 12/BC\nT\x8fI M\x87T\n", "viscii"),
    ("vn1.txt", b"S\xe8: 12/BC\nT\xffI M\x86T\n", "vn1"),
])
def test_plain_text_encodings(tmp_path, name, data, encoding):
    kind, v = check(tmp_path, name, data)
    assert kind == "text" and (v["verdict"], v["level"]) == ("classified", "toi_mat"), v
    assert v["encoding"] == encoding


def test_plain_negatives(tmp_path):
    text = "\n".join(["MẶT TRẬN TỔ QUỐC VIỆT NAM", "Số: 3"] + NEGATIVE_PARAS)
    assert check(tmp_path, "n.txt", text.encode())[1]["verdict"] == "clean"
    assert check(tmp_path, "n16.txt", text.encode("utf-16"))[1]["verdict"] == "clean"


def test_pdf_via_pdfium(tmp_path):
    data = C.pdf([[("BỘ CÔNG AN", {}), ("Số: 12/BC", {}), ("TỐI MẬT", {"color": (255, 0, 0)}), ("Nội dung", {})]])
    kind, v = check(tmp_path, "a.pdf", data)
    assert kind == "pdf" and v["verdict"] == "classified" and "red" in v["reasons"], v
    legacy = C.pdf([[("Số: 12/BC", {}), ("TUYÖT MËT", {})]])  # a legacy-font PDF extracts as MËT
    assert check(tmp_path, "b.pdf", legacy)[1]["encoding"] == "tcvn3"
    annot = C.pdf([[("Nội dung công văn", {})]], annotations=[(0, "freetext", "MẬT")])
    _, v = check(tmp_path, "c.pdf", annot)
    assert v["verdict"] in ("classified", "review") and "annotation" in v["reasons"], v
    neg = C.pdf([[(t, {}) for t in ["MẶT TRẬN TỔ QUỐC", "Số: 1"] + NEGATIVE_PARAS[:6]]])
    assert check(tmp_path, "d.pdf", neg)[1]["verdict"] == "clean"


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory):
    """One soffice run per target format converts the whole batch."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui")
    d = tmp_path_factory.mktemp("lo")
    (d / "stamp.docx").write_bytes(C.letter({"runs": [dict(text="TỐI MẬT", **RED)], "border": True}, header=["KHẨN"]))
    (d / "legacy.docx").write_bytes(C.letter([{"text": "MËT", "font": ".VnTimeH"}]))
    (d / "neg.docx").write_bytes(C.docx(["MẶT TRẬN TỔ QUỐC VIỆT NAM", "Số: 1"] + NEGATIVE_PARAS))
    (d / "sheet.xlsx").write_bytes(C.xlsx(["Số: 1/KH", "TUYỆT MẬT", "Kế hoạch"]))
    env = {"HOME": str(d), "PATH": "/usr/bin:/bin"}
    for target, files in (("doc", ["stamp.docx", "legacy.docx", "neg.docx"]), ("pdf", ["stamp.docx"]), ("xls", ["sheet.xlsx"])):
        subprocess.run([soffice, "--headless", "--norestore", "--convert-to", target, "--outdir", str(d), *files],
                       cwd=d, env=env, capture_output=True, timeout=180, check=True)
    return d


@pytest.mark.parametrize("name,level", [("stamp.doc", "toi_mat"), ("legacy.doc", "mat"), ("sheet.xls", "tuyet_mat"),
                                        ("stamp.pdf", "toi_mat"), ("neg.doc", None)])
def test_libreoffice_written_files(libreoffice, name, level):
    res = analyse(str(libreoffice / name), Limits())
    assert "error" not in res, res
    v = res["verdict"]
    if level is None:
        assert v["verdict"] == "clean", v
    else:
        assert (v["verdict"], v["level"]) == ("classified", level), v
    if name == "stamp.pdf":
        assert "red" in v["reasons"] and "khan" in v["marks"]
