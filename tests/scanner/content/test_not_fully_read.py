"""A document that was not fully read is never clean (issue 10 item 6), in every format.

UTF-16 parts are read (and LibreOffice, where installed, confirms the files are real documents
that render the stamp); parts with a DTD or entity declarations are refused and listed; empty
office files are listed as skipped; truncated or undecodable files are listed with the reason.
"""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import zipfile

import pytest

from bmnn_guard.scanner.content.analyse import analyse
from bmnn_guard.scanner.content.limits import Limits
from bmnn_guard.scanner.content.scan import run_scan

from . import corpus as C

STAMP = {"runs": [{"text": "TUYỆT MẬT", "bold": True, "color": "FF0000"}], "border": True}
DTD = '<!DOCTYPE x [<!ENTITY e "MẬT">]>'


def rezip(data: bytes, change) -> bytes:
    """The zip ``data`` with each member passed through ``change(name, bytes)``."""
    zin = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
    return buf.getvalue()


def utf16(part: str, bom: bool, big_endian: bool = False):
    def change(name, b):
        if name != part:
            return b
        t = b.decode("utf-8")
        if t.startswith("<?xml"):
            t = t.replace('encoding="UTF-8"', 'encoding="UTF-16"', 1)
        else:
            t = '<?xml version="1.0" encoding="UTF-16"?>' + t
        codec = "utf-16-be" if big_endian else "utf-16-le"
        return (("\ufeff" + t) if bom else t).encode(codec)
    return change


def with_dtd(part: str):
    def change(name, b):
        if name != part:
            return b
        t = b.decode("utf-8")
        if t.startswith("<?xml"):
            head, rest = t.split("?>", 1)
            return (head + "?>" + DTD + rest).encode()
        return (DTD + t).encode()
    return change


def result(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return analyse(str(p), Limits())


@pytest.mark.parametrize("bom,be", [(True, False), (False, False), (True, True)])
def test_utf16_document_part_is_read(tmp_path, bom, be):
    data = rezip(C.letter(STAMP), utf16("word/document.xml", bom, be))
    res = result(tmp_path, "u16.docx", data)
    assert "error" not in res, res
    assert (res["verdict"]["verdict"], res["verdict"]["level"]) == ("classified", "tuyet_mat"), res


def test_utf16_parts_of_xlsx_pptx_odt_are_read(tmp_path):
    cases = [("s.xlsx", C.xlsx(["Số: 1/KH", "TUYỆT MẬT", "Kế hoạch"]), "xl/sharedStrings.xml"),
             ("p.pptx", C.pptx([[("Số: 1/TB", {}), ("TUYỆT MẬT", {"bold": True})]]), "ppt/slides/slide1.xml"),
             ("o.odt", C.odt(["Số: 1/BC", "TUYỆT MẬT", "Nội dung"]), "content.xml")]
    for name, data, part in cases:
        res = result(tmp_path, name, rezip(data, utf16(part, bom=True)))
        assert "error" not in res, (name, res)
        assert res["verdict"]["level"] == "tuyet_mat", (name, res)


def test_declared_legacy_encoding_is_read_and_unknown_one_is_listed(tmp_path):
    def latin(name, b):
        if name != "word/document.xml":
            return b
        return b.replace(b'encoding="UTF-8"', b'encoding="windows-1252"').decode("utf-8").encode("cp1252", "xmlcharrefreplace")
    res = result(tmp_path, "cp.docx", rezip(C.letter(STAMP), latin))
    assert "error" not in res and res["verdict"]["level"] == "tuyet_mat", res

    def bogus(name, b):
        return b.replace(b'encoding="UTF-8"', b'encoding="x-no-such-codec"') if name == "word/document.xml" else b
    res = result(tmp_path, "bogus.docx", rezip(C.letter(STAMP), bogus))
    assert "unknown encoding" in res["error"] and "verdict" not in res, res


@pytest.mark.parametrize("name,make,part", [
    ("d.docx", lambda: C.letter(None, extra=["Giấy mời họp"]), "word/document.xml"),
    ("d.xlsx", lambda: C.xlsx(["Kế hoạch", "Giấy mời"]), "xl/sharedStrings.xml"),
    ("d.pptx", lambda: C.pptx([[("Giấy mời họp", {})]]), "ppt/slides/slide1.xml"),
    ("d.odt", lambda: C.odt(["Giấy mời họp"]), "content.xml"),
])
def test_a_part_with_entity_declarations_is_refused_even_without_a_candidate(tmp_path, name, make, part):
    """The pre-filter used to skip parsing a part with no byte form of Ậ: the DTD went unseen
    and the file read as clean. The guard runs on every part read, before any pre-filter."""
    res = result(tmp_path, name, rezip(make(), with_dtd(part)))
    assert "entity declarations refused" in res.get("error", ""), res
    assert "verdict" not in res, res


def test_entity_declarations_hidden_in_a_utf16_part_are_refused(tmp_path):
    data = rezip(rezip(C.letter(None, extra=["x"]), with_dtd("word/document.xml")), utf16("word/document.xml", bom=True))
    res = result(tmp_path, "hidden.docx", data)
    assert "entity declarations refused" in res["error"], res


@pytest.mark.parametrize("name", ["a.docx", "a.xlsx", "a.pptx", "a.odt", "a.pdf", "a.doc", "a.rtf", "a.html"])
def test_empty_office_files_are_listed_as_skipped(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    rep = run_scan([str(tmp_path)])
    assert [(os.path.basename(e.source), e.message) for e in rep.facts.skipped] == [
        (name, "empty file (0 bytes): no document in it")]
    assert rep.facts.files_scanned == 0 and not rep.facts.errors


def test_empty_text_file_is_simply_clean(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"")
    rep = run_scan([str(tmp_path)])
    assert rep.facts.files_scanned == 1 and not rep.facts.skipped and not rep.facts.errors


@pytest.mark.parametrize("name,make", [
    ("t.docx", lambda: C.letter(STAMP)), ("t.xlsx", lambda: C.xlsx(["TUYỆT MẬT"])),
    ("t.odt", lambda: C.odt(["TUYỆT MẬT"])), ("t.pdf", lambda: C.pdf([[("TUYỆT MẬT", {})]])),
])
def test_truncated_office_files_are_listed_never_clean(tmp_path, name, make):
    data = make()
    res = result(tmp_path, name, data[: len(data) // 2])
    assert "error" in res and "verdict" not in res, res


def test_ole_file_of_a_kind_we_do_not_read_is_listed(tmp_path):
    olefile = pytest.importorskip("olefile")
    assert olefile
    # a minimal OLE compound file holding one stream that is not Word or Excel
    p = tmp_path / "slides.ppt"
    p.write_bytes(_ole_with_stream("PowerPoint Document", b"\x00" * 600))
    res = analyse(str(p), Limits())
    assert "error" in res and "verdict" not in res, res


def _ole_with_stream(name: str, payload: bytes) -> bytes:
    """A tiny valid compound file (v3, 512-byte sectors) with one stream in the mini stream."""
    sec = 512
    header = bytearray(sec)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6, 0)
    struct.pack_into("<I", header, 0x2C, 1)       # one FAT sector
    struct.pack_into("<I", header, 0x30, 1)       # directory starts at sector 1
    struct.pack_into("<I", header, 0x38, 4096)    # mini stream cutoff
    struct.pack_into("<I", header, 0x3C, 0xFFFFFFFE)  # no mini FAT
    struct.pack_into("<I", header, 0x44, 0xFFFFFFFE)  # no DIFAT
    for i in range(109):
        struct.pack_into("<I", header, 0x4C + 4 * i, 0xFFFFFFFF)
    struct.pack_into("<I", header, 0x4C, 0)       # FAT at sector 0
    nsec = (len(payload) + sec - 1) // sec
    fat = [0xFFFFFFFD, 0xFFFFFFFE] + [3 + i if i < nsec - 1 else 0xFFFFFFFE for i in range(nsec)]
    fat += [0xFFFFFFFF] * (sec // 4 - len(fat))
    fat_b = struct.pack(f"<{sec // 4}I", *fat)

    def entry(nm: str, typ: int, start: int, size: int, child: int = 0xFFFFFFFF) -> bytes:
        e = bytearray(128)
        raw = nm.encode("utf-16-le") + b"\x00\x00"
        e[0:len(raw)] = raw
        struct.pack_into("<HBB", e, 64, len(raw), typ, 1)
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<II", e, 116, start, size)
        return bytes(e)

    dir_b = entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1) + entry(name, 2, 2, len(payload)) + bytes(256)
    body = payload + bytes(nsec * sec - len(payload))
    return bytes(header) + fat_b + dir_b + body


def test_jar_wheel_and_plain_zip_are_not_documents_and_a_docx_renamed_jar_is_read(tmp_path):
    def z(files):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for n, b in files.items():
                zf.writestr(n, b)
        return buf.getvalue()
    (tmp_path / "lib.jar").write_bytes(z({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n", "a/B.class": b"\xca\xfe"}))
    (tmp_path / "pkg-1.0-py3-none-any.whl").write_bytes(z({"pkg/__init__.py": "", "pkg-1.0.dist-info/WHEEL": "x"}))
    (tmp_path / "icons.zip").write_bytes(z({"a.svg": "<svg/>", "b.css": "x"}))
    (tmp_path / "docs.zip").write_bytes(z({"bao-cao.docx": C.letter(STAMP)}))
    (tmp_path / "disguised.jar").write_bytes(C.letter(STAMP))
    (tmp_path / "prog.bin").write_bytes(b"\x7fELF\x02\x01\x01" + b"\x00" * 200)
    rep = run_scan([str(tmp_path)])
    f = rep.facts
    assert f.not_documents == 4, (rep.kinds, f)
    assert sorted(os.path.basename(x.path) for x in f.findings) == ["disguised.jar", "docs.zip"]
    assert not f.errors and not f.skipped


def test_archive_of_documents_is_read_one_level_deep(tmp_path):
    def z(files):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for n, b in files.items():
                zf.writestr(n, b)
        return buf.getvalue()
    (tmp_path / "clean.zip").write_bytes(z({"a.txt": "Giấy mời họp\n", "b.docx": C.letter(None, extra=["x"])}))
    (tmp_path / "stamped.zip").write_bytes(z({"a.txt": "x\n", "sub/b.txt": "Số: 1\nTỐI MẬT\n"}))
    (tmp_path / "nested.zip").write_bytes(z({"inner.zip": z({"c.txt": "Số: 1\nMẬT\n"})}))
    (tmp_path / "bad.zip").write_bytes(z({"d.docx": rezip(C.letter(None, extra=["x"]), with_dtd("word/document.xml"))}))
    rep = run_scan([str(tmp_path)])
    by = {os.path.basename(x.path): x for x in rep.facts.findings}
    assert set(by) == {"stamped.zip"} and by["stamped.zip"].level == "toi_mat"
    errs = {os.path.basename(e.source): e.message for e in rep.facts.errors}
    assert "archive inside an archive" in errs["nested.zip"]
    assert "entity declarations refused" in errs["bad.zip"]
    assert "clean.zip" not in errs and rep.facts.files_scanned == 4


def test_large_package_is_judged_from_its_central_directory(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        zf.writestr("blob.bin", os.urandom(3 << 20))
    (tmp_path / "big.jar").write_bytes(buf.getvalue())
    rep = run_scan([str(tmp_path)])
    assert rep.facts.not_documents == 1 and not rep.facts.errors
    assert rep.kinds == {"package": 1}


def test_libreoffice_renders_the_utf16_docx_we_read(tmp_path):
    """The UTF-16 docx is a real document: LibreOffice shows the stamp in it."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui")
    for bom in (True, False):
        name = f"u16-{int(bom)}.docx"
        (tmp_path / name).write_bytes(rezip(C.letter(STAMP), utf16("word/document.xml", bom)))
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    subprocess.run([soffice, "--headless", "--norestore", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(tmp_path / "out"),
                    "u16-1.docx", "u16-0.docx"], cwd=tmp_path, env=env, capture_output=True, timeout=180, check=True)
    for bom in (1, 0):
        assert "TUYỆT MẬT" in (tmp_path / "out" / f"u16-{bom}.txt").read_text(encoding="utf-8-sig")
        res = analyse(str(tmp_path / f"u16-{bom}.docx"), Limits())
        assert res["verdict"]["level"] == "tuyet_mat", res


HTML_MARKS = ["<p>TUYỆT MẬT</p>", "<p>M&#7852;T</p>", "<p>M&#x1EAC;T</p>", "<p>M&Acirc;&#803;T</p>",
              '<p><font face=".VnTimeH">M&Euml;T</font></p>', '<p><font face="VNI-Times">MA&Auml;T</font></p>',
              "<p>MA^.T</p>", "<p>MA<b>\u0323</b>\u0302T</p>", "<p>MA&Hat;.T</p>"]


@pytest.mark.parametrize("body", HTML_MARKS)
def test_html_fast_path_never_proves_a_marked_page_clean(body):
    """The scanning process skips the worker only for pages proved clean: every way of writing
    the mark in a page must reach the parser."""
    from bmnn_guard.scanner.content import html
    from bmnn_guard.scanner.content.analyse import judge_bytes
    page = C.html("<p>Số: 1/BC</p>" + body + "<p>Nội dung &amp; ghi chú</p>")
    assert not html.proven_clean(page), body
    assert judge_bytes(page, "a.html", Limits())["verdict"]["verdict"] != "clean" or "^" in body or "Hat" in body


def test_html_fast_path_proves_ordinary_pages_clean():
    from bmnn_guard.scanner.content import html
    assert html.proven_clean(C.html("<p>Giấy mời họp &amp; bí mat</p><script>var a = '\\'';</script>"))
    assert not html.proven_clean(C.html("<p>x</p>", charset="windows-1258"))
    assert not html.proven_clean("<p>bí mật</p>".encode())


def test_fast_paths_agree_with_the_worker(tmp_path):
    """The same tree scanned with and without the in-process fast paths gives the same verdicts."""
    from bmnn_guard.scanner.content import scan as S
    texts = ["Số: 1\nMẬT\n", "mật khẩu\n", "bí mật nhà nước " * 30 + "\nSố: 2\n", "Số: 3\n\"MẬT\"\n", "T U Y Ệ T   M Ậ T\n"]
    for i, t in enumerate(texts):
        (tmp_path / f"t{i}.txt").write_text(t, encoding="utf-8")
        (tmp_path / f"h{i}.html").write_bytes(C.html("".join(f"<p>{line}</p>" for line in t.splitlines())))
    fast = {os.path.basename(f.path): (f.verdict, f.level) for f in run_scan([str(tmp_path)]).facts.findings}
    old = S.FAST_TEXT_BYTES
    S.FAST_TEXT_BYTES = -1
    try:
        slow = {os.path.basename(f.path): (f.verdict, f.level) for f in run_scan([str(tmp_path)]).facts.findings}
    finally:
        S.FAST_TEXT_BYTES = old
    assert fast == slow and fast, (fast, slow)


def test_pdf_annotations_past_the_limit_make_it_not_fully_read(tmp_path, monkeypatch):
    from bmnn_guard.scanner.content import pdf
    monkeypatch.setattr(pdf, "MAX_ANNOTATIONS", 2)
    data = C.pdf([[("Nội dung", {})]], annotations=[(0, "freetext", "ghi chú")] * 3)
    res = result(tmp_path, "many.pdf", data)
    assert "only 2 read, not fully read" in res.get("error", ""), res


def test_truncated_legacy_word_file_is_listed(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice (soffice) not installed: apt-get install libreoffice-writer-nogui")
    (tmp_path / "a.docx").write_bytes(C.letter(STAMP, extra=["Nội dung"] * 50))
    subprocess.run([soffice, "--headless", "--norestore", "--convert-to", "doc", "--outdir", str(tmp_path), "a.docx"],
                   cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}, capture_output=True,
                   timeout=180, check=True)
    data = (tmp_path / "a.doc").read_bytes()
    assert result(tmp_path, "whole.doc", data)["verdict"]["level"] == "tuyet_mat"
    res = result(tmp_path, "cut.doc", data[: len(data) * 2 // 3])
    assert "error" in res and res.get("verdict", {}).get("verdict") != "clean", res
