"""Scanned stamps through the real Tesseract (Debian's tesseract-ocr-vie): pages drawn with Pillow
at 200-300 dpi, what scanners and phones do to them, every container they arrive in, and the red
ink that is not a secrecy stamp."""

import functools
import os
import shutil
import subprocess
import time

import pytest

from bmnn_guard.scanner.content import ocr
from bmnn_guard.scanner.content.analyse import analyse
from bmnn_guard.scanner.content.limits import Limits
from bmnn_guard.scanner.content.scan import run_scan

PIL = pytest.importorskip("PIL", reason="Pillow is a dependency of the project: pip install -e .")
from . import stamps as S  # noqa: E402  (needs Pillow)

pytestmark = pytest.mark.skipif(ocr.tessdata_dir() is None,
                                reason="Tesseract's Vietnamese model missing: apt-get install tesseract-ocr tesseract-ocr-vie")

LEVEL = {"MẬT": "mat", "TỐI MẬT": "toi_mat", "TUYỆT MẬT": "tuyet_mat"}


@functools.lru_cache(maxsize=None)
def page(level="TUYỆT MẬT", dpi=200, **kw):
    return S.page(level, dpi=dpi, **dict(kw))


def judge(tmp_path, name, data, limits=None):
    p = tmp_path / name
    p.write_bytes(data)
    return analyse(str(p), limits or Limits())


def classified(res, level):
    assert "error" not in res, res
    v = res["verdict"]
    assert (v["verdict"], v["level"]) == ("classified", level), v
    assert v["encoding"] in ("ocr", "ocr-tolerant"), v
    return v


# ---------------------------------------------------------------- the stamp is found


@pytest.mark.parametrize("text", sorted(LEVEL))
@pytest.mark.parametrize("dpi", [200, 300])
def test_each_level_in_a_clean_scan(tmp_path, text, dpi):
    v = classified(judge(tmp_path, "scan.png", S.encode(page(text, dpi), "PNG")), LEVEL[text])
    assert {"red", "framed", "double_border", "top_of_first_page", "below_so_line"} <= set(v["reasons"]), v


VARIANTS = [
    ("rotated", "PNG", "TUYỆT MẬT"), ("rotated-neg", "PNG", "MẬT"), ("blurred", "PNG", "TỐI MẬT"),
    ("jpeg", "JPEG", "TUYỆT MẬT"), ("faded", "PNG", "MẬT"), ("perspective", "JPEG", "TỐI MẬT"),
    ("perspective", "JPEG", "TUYỆT MẬT"), ("faded", "TIFF", "TỐI MẬT"), ("clean", "BMP", "MẬT"),
]


@pytest.mark.parametrize("kind,fmt,text", VARIANTS, ids=[f"{k}-{f}-{LEVEL[t]}" for k, f, t in VARIANTS])
def test_what_scanners_and_phones_do(tmp_path, kind, fmt, text):
    img = S.variant(page(text, urgency="KHẨN"), kind)
    v = classified(judge(tmp_path, "scan." + fmt.lower(), S.encode(img, fmt)), LEVEL[text])
    assert "red" in v["reasons"]


@pytest.mark.parametrize("angle", [-12, -4, 7, 15])
def test_stamp_turned_by_hand(tmp_path, angle):
    v = classified(judge(tmp_path, "p.png", S.encode(page("TUYỆT MẬT", stamp_angle=angle), "PNG")), "tuyet_mat")
    assert "double_border" in v["reasons"], v


@pytest.mark.parametrize("dpi", [120, 150])
def test_low_resolution_scans(tmp_path, dpi):
    classified(judge(tmp_path, "p.jpg", S.encode(page("TỐI MẬT", dpi=dpi), "JPEG")), "toi_mat")


@pytest.mark.parametrize("color", [(150, 20, 30), (200, 40, 90), (235, 90, 50), (230, 120, 130)],
                         ids=["crimson", "magenta-red", "orange-red", "pale"])
def test_shades_of_stamp_ink(tmp_path, color):
    classified(judge(tmp_path, "p.png", S.encode(page("MẬT", stamp_color=color), "PNG")), "mat")


def test_picture_of_the_stamp_alone_in_a_docx(tmp_path):
    """A stamp cut out of a scan and pasted into a letter: a small picture, no page around it."""
    cut = page("TỐI MẬT").crop((230, 255, 560, 385))
    res = judge(tmp_path, "letter.docx", S.docx_with_picture(S.encode(cut, "PNG")))
    v = classified(res, "toi_mat")
    assert {"red", "framed"} <= set(v["reasons"]), v


def test_photocopy_keeps_the_double_frame_without_red(tmp_path):
    img = S.variant(page("TỐI MẬT"), "photocopy").convert("L")
    v = classified(judge(tmp_path, "copy.png", S.encode(img, "PNG")), "toi_mat")
    assert "red" not in v["reasons"] and {"double_border", "framed"} <= set(v["reasons"]), v


def test_photocopy_of_a_single_border_box_is_not_a_stamp(tmp_path):
    img = S.variant(page("MẬT", border="single"), "photocopy").convert("L")
    res = judge(tmp_path, "copy.png", S.encode(img, "PNG"))
    assert res["verdict"]["verdict"] == "clean", res


@pytest.mark.parametrize("orientation", [6, 8, 3])
def test_exif_orientation_is_applied_first(tmp_path, orientation):
    data = S.encode(page("TỐI MẬT"), "JPEG", exif_orientation=orientation)
    v = classified(judge(tmp_path, "phone.jpg", data), "toi_mat")
    assert "top_of_first_page" in v["reasons"], "the stamp is top left once the photo is upright"


def test_multipage_tiff_stamp_on_the_first_page(tmp_path):
    data = S.tiff_pages([page("TUYỆT MẬT"), page(None, seal=False)])
    v = classified(judge(tmp_path, "scan.tif", data), "tuyet_mat")
    assert "top_of_first_page" in v["reasons"]


def test_image_only_pdf_from_pillow(tmp_path):
    data = S.pdf_pages([page(None), S.variant(page("MẬT"), "rotated")])
    res = judge(tmp_path, "scan.pdf", data)
    v = classified(res, "mat")
    assert res["kind"] == "pdf"
    assert "top_of_first_page" not in v["reasons"], "the stamp is on page 2"


def test_image_only_pdf_from_libreoffice(tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        pytest.skip("LibreOffice needed: apt-get install libreoffice-writer-nogui")
    src = tmp_path / "scan.docx"  # Writer prints a page that is only a picture: an image-only PDF
    src.write_bytes(S.docx_with_picture(S.encode(page("TỐI MẬT", dpi=300), "PNG", dpi=300), caption=""))
    out = tmp_path / "out"
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(out), str(src)], check=True, capture_output=True, timeout=180)
    res = analyse(str(out / "scan.pdf"), Limits())
    classified(res, "toi_mat")


@pytest.mark.parametrize("ext", ["png", "jpeg"])
def test_scan_pasted_into_a_docx(tmp_path, ext):
    pic = S.encode(S.variant(page("TUYỆT MẬT"), "jpeg"), ext.upper())
    res = judge(tmp_path, "van-ban-den.docx", S.docx_with_picture(pic, ext))
    assert res["kind"] == "docx"
    classified(res, "tuyet_mat")


def test_scan_in_an_odt(tmp_path):
    res = judge(tmp_path, "scan.odt", S.odt_with_picture(S.encode(page("MẬT"), "PNG")))
    assert res["kind"] == "odt"
    classified(res, "mat")


# ---------------------------------------------------------------- red ink that is not a secrecy stamp


LOOKALIKES = {
    "round seal over the signature": dict(seal=True),
    "urgency KHẨN": dict(urgency="KHẨN"),
    "urgency THƯỢNG KHẨN": dict(urgency="THƯỢNG KHẨN"),
    "urgency HỎA TỐC": dict(urgency="HỎA TỐC"),
    "red GIẢI MẬT": dict(declassified=True),
    "red headings": dict(red_heading=True),
    "red signature and margin notes": dict(red_signature=True, margin_note=True),
    "MẶT TRẬN letterhead": dict(front_letterhead=True),
    "all of them": dict(urgency="HỎA TỐC", red_heading=True, red_signature=True, margin_note=True, front_letterhead=True),
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_lookalikes_stay_clean(tmp_path, name):
    for kind in ("clean", "jpeg"):
        img = S.variant(page(None, **LOOKALIKES[name]), kind)
        res = judge(tmp_path, "p.png", S.encode(img, "PNG"))
        assert "error" not in res, res
        assert res["verdict"]["verdict"] == "clean", (kind, res)


def test_urgency_and_declassified_marks_are_reported_not_secrecy(tmp_path):
    v = judge(tmp_path, "p.png", S.encode(page(None, urgency="THƯỢNG KHẨN", declassified=True), "PNG"))["verdict"]
    assert v["verdict"] == "clean" and {"thuong_khan", "giai_mat"} <= set(v["marks"]), v


def test_declassified_secret_page_needs_review(tmp_path):
    v = judge(tmp_path, "p.png", S.encode(page("MẬT", declassified=True), "PNG"))["verdict"]
    assert v["verdict"] == "review" and "declassified_mark" in v["reasons"], v


def test_red_box_holding_other_words_is_clean(tmp_path):
    res = judge(tmp_path, "p.png", S.encode(page("BẢN SAO"), "PNG"))
    assert res["verdict"]["verdict"] == "clean", res


# ---------------------------------------------------------------- matching inside a stamp's frame


@pytest.mark.parametrize("text,target,ok", [
    ("MÁT", "MẬT", True), ("MẠT", "MẬT", True), ("MAT", "MẬT", True), ("MẶT", "MẬT", True),
    ("TUYẾT MẬT", "TUYỆT MẬT", True), ("TUYET MAT", "TUYỆT MẬT", True), ("TÔI MẬT", "TỐI MẬT", True),
    ("TUYỆTMẬT.", "TUYỆT MẬT", True), ("TUYẾỆT MẬT", "TUYỆT MẬT", True), ("TỔỐI MẬT", "TỐI MẬT", True),
    ("TUYẾẾT MẬT", "TUYỆT MẬT", False), ("TTỐI MẬT", "TỐI MẬT", False), ("MẬTT", "MẬT", False),
    ("MẪU", "MẬT", False), ("MAI", "MẬT", False), ("MÁ", "MẬT", False), ("TỔ MẬT", "TỐI MẬT", False),
    ("MẶT TRẬN", "MẬT", False), ("TUYẾT MẠT XA", "TUYỆT MẬT", False),
])
def test_tolerant_match(text, target, ok):
    assert ocr.tolerant(text, target) is ok


def test_tolerance_never_leaks_outside_a_frame(tmp_path):
    """The same words as a text layer are judged by the ordinary rule: MẶT is not MẬT."""
    from tests.scanner.content import corpus as C
    res = judge(tmp_path, "a.docx", C.letter("MẶT"))
    assert res["verdict"]["verdict"] == "clean"


# ---------------------------------------------------------------- limits and absence


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    t0 = time.monotonic()
    res = judge(tmp_path, "bomb.png", S.png_bomb())
    assert "decompression bomb" in res["error"] and res["verdict"]["verdict"] == "clean", res
    assert time.monotonic() - t0 < 10


def test_bomb_inside_a_docx_is_listed(tmp_path):
    res = judge(tmp_path, "bomb.docx", S.docx_with_picture(S.png_bomb(80_000, 60_000)))
    assert "decompression bomb" in res["error"], res


def test_pixels_per_page_limit(tmp_path):
    res = judge(tmp_path, "big.png", S.encode(page("MẬT"), "PNG"), Limits(max_image_pixels=1_000_000))
    assert "limit 1000000" in res["error"], res


def test_pages_per_file_limit(tmp_path):
    data = S.tiff_pages([page(None, seal=False)] * 3)
    res = judge(tmp_path, "many.tif", data, Limits(max_ocr_pages=2))
    assert "page 3 and after not read: more than 2 image pages" in res["error"], res


def test_time_per_page_limit(tmp_path):
    res = judge(tmp_path, "slow.png", S.encode(page("MẬT"), "PNG"), Limits(ocr_page_seconds=0.001))
    assert "OCR time limit per page" in res["error"], res


def test_damaged_image_is_an_error(tmp_path):
    data = S.encode(page("MẬT"), "PNG")
    res = judge(tmp_path, "cut.png", data[: len(data) // 2])
    assert "error" in res and "damaged image" in res["error"], res


def test_text_starting_with_bm_is_not_a_bitmap(tmp_path):
    res = judge(tmp_path, "notes.txt", "BMNN: Số: 1\nMẬT\n".encode())
    assert res["kind"] == "text" and res["verdict"]["verdict"] == "classified", res


def test_without_tesseract_image_pages_are_not_read(tmp_path, monkeypatch):
    """No engine (no tesseract program, no Vietnamese model): listed as not read, never clean; a
    docx whose only picture has no stamp candidate is still judged by its text."""
    d = tmp_path / "scans"
    d.mkdir()
    (d / "a.png").write_bytes(S.encode(page("MẬT"), "PNG"))
    (d / "b.pdf").write_bytes(S.pdf_pages([page(None)]))
    (d / "plain.png").write_bytes(S.encode(page(None, seal=False), "PNG"))
    from tests.scanner.content import corpus as C
    (d / "logo.docx").write_bytes(S.docx_with_picture(S.encode(page(None, seal=False).reduce(4), "PNG")))
    (d / "stamped.docx").write_bytes(S.docx_with_picture(S.encode(page("MẬT"), "PNG")))
    (d / "text.docx").write_bytes(C.letter("TỐI MẬT"))
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("TESSDATA_PREFIX", str(empty))
    rep = run_scan([str(d)], jobs=1)
    errors = {os.path.basename(e.source): e.message for e in rep.facts.errors}
    for name in ("a.png", "b.pdf", "plain.png", "stamped.docx"):
        assert "not read: OCR not installed" in errors.get(name, ""), (name, errors)
    assert "logo.docx" not in errors and "text.docx" not in errors, errors
    assert [os.path.basename(f.path) for f in rep.facts.findings] == ["text.docx"]


def test_through_the_worker_pool(tmp_path):
    d = tmp_path / "scans"
    d.mkdir()
    (d / "secret.jpg").write_bytes(S.encode(page("TỐI MẬT"), "JPEG", exif_orientation=6))
    (d / "seal.png").write_bytes(S.encode(page(None), "PNG"))
    rep = run_scan([str(d)], jobs=2)
    assert not rep.facts.errors, rep.facts.errors
    assert [(os.path.basename(f.path), f.level) for f in rep.facts.findings] == [("secret.jpg", "toi_mat")]


def test_tesseract_program_as_the_engine():
    """Where tesserocr is missing the tesseract program reads the crops (one process per crop)."""
    program = shutil.which("tesseract")
    if not program:
        pytest.skip("tesseract program needed: apt-get install tesseract-ocr")
    from bmnn_guard.scanner.content import detect, images
    eng = ocr.Engine(ocr.tessdata_dir(), program=program)
    src = next(images.image_pages(S.encode(page("TUYỆT MẬT"), "PNG"), Limits()))
    v = detect.judge(ocr.read_page(src, 0, eng, time.monotonic() + 30))
    assert (v.verdict, v.level) == ("classified", "tuyet_mat"), v


@pytest.mark.parametrize("orientation", range(1, 9))
def test_crops_of_a_turned_photo_match_the_upright_page(orientation):
    """A crop is cut from the stored pixels and then turned: never a turned copy of a whole page."""
    import random
    from PIL import Image
    from bmnn_guard.scanner.content import images
    rnd = random.Random(orientation)
    raw = Image.frombytes("RGB", (37, 23), bytes(rnd.randrange(256) for _ in range(37 * 23 * 3)))
    name = images._TRANSPOSE.get(orientation)
    upright = raw.transpose(getattr(Image.Transpose, name)) if name else raw
    for _ in range(20):
        x0, y0 = rnd.randrange(upright.width - 1), rnd.randrange(upright.height - 1)
        box = (x0, y0, rnd.randrange(x0 + 1, upright.width + 1), rnd.randrange(y0 + 1, upright.height + 1))
        cut = raw.crop(images.raw_box(box, raw.size, orientation))
        cut = cut.transpose(getattr(Image.Transpose, name)) if name else cut
        assert cut.tobytes() == upright.crop(box).tobytes(), (orientation, box)


def test_a_large_scan_stays_under_the_worker_memory_cap(tmp_path):
    """A4 at 600 dpi with an alpha channel (35 million pixels, 139 MB decoded): read, not killed."""
    d = tmp_path / "big"
    d.mkdir()
    page("MẬT", dpi=600).convert("RGBA").save(d / "p600.png", compress_level=1)
    rep = run_scan([str(d)], jobs=1)
    assert not rep.facts.errors, rep.facts.errors
    assert [f.level for f in rep.facts.findings] == ["mat"]


def test_image_only_pdf_page_turned_by_its_rotate_key(tmp_path):
    """A scan stored sideways and shown upright by /Rotate is rendered as shown (not the JPEG
    shortcut, which would see it sideways)."""
    import io
    import pypdfium2 as pdfium
    from PIL import Image
    sideways = page("TỐI MẬT").transpose(Image.Transpose.ROTATE_90)
    doc = pdfium.PdfDocument(S.pdf_pages([sideways]))
    doc[0].set_rotation(90)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    v = classified(judge(tmp_path, "turned.pdf", buf.getvalue()), "toi_mat")
    assert "top_of_first_page" in v["reasons"]


@pytest.mark.parametrize("kind", ["xlsx", "pptx"])
def test_scan_in_a_spreadsheet_or_slides(tmp_path, kind):
    """Pictures of a workbook (xl/media/) and of a presentation (ppt/media/) are read too."""
    import io
    import zipfile
    from tests.scanner.content import corpus as C
    base = C.xlsx(["Danh sách văn bản đến"]) if kind == "xlsx" else C.pptx([[("Văn bản đến", {})]])
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        folder = "xl" if kind == "xlsx" else "ppt"
        dst.writestr(f"{folder}/media/image1.jpeg", S.encode(page("MẬT"), "JPEG"))
    res = judge(tmp_path, "f." + kind, buf.getvalue())
    assert res["kind"] == kind
    classified(res, "mat")


def test_two_pasted_scans_of_different_levels_are_not_a_list_of_levels(tmp_path):
    """A docx gathering received scans: each picture is its own document, the highest level wins."""
    import io
    import zipfile
    base = S.docx_with_picture(S.encode(page("MẬT"), "JPEG"), "jpeg")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr("word/media/image2.jpeg", S.encode(page("TUYỆT MẬT"), "JPEG"))
    v = classified(judge(tmp_path, "tap-van-ban.docx", buf.getvalue()), "tuyet_mat")
    assert "level_list" not in v["reasons"], v


def test_sample_stamps_of_an_annex_need_review_not_classified(tmp_path):
    """The circular's annex draws the three stamps side by side: a list of levels, never certain."""
    p = S._Page(200, 1)
    p.text_c(105, 20, "Phụ lục: MẪU DẤU ĐỘ MẬT", 14, bold=True)
    for i, level in enumerate(("MẬT", "TỐI MẬT", "TUYỆT MẬT")):
        p.text_c(60, 60 + i * 30, f"Mẫu số {i + 1}: dấu {level.lower()}", 12)
        p.stamp(150, 55 + i * 30, level)
    v = judge(tmp_path, "annex.png", S.encode(p.img, "PNG"))["verdict"]
    assert v["verdict"] in ("review", "clean") and "level_list" in v["reasons"], v


def test_pdf_page_image_bomb_is_refused_before_rendering(tmp_path):
    t0 = time.monotonic()
    res = judge(tmp_path, "bomb.pdf", S.pdf_image_bomb())
    assert res["kind"] == "pdf" and "decompression bomb" in res["error"], res
    assert time.monotonic() - t0 < 10


def test_bilevel_group4_tiff_from_an_office_scanner(tmp_path):
    """The black-and-white mode of a document scanner: 1 bit per pixel, CCITT Group 4, 300 dpi."""
    import io
    img = S.variant(page("TUYỆT MẬT", dpi=300), "photocopy").convert("1")
    buf = io.BytesIO()
    img.save(buf, "TIFF", compression="group4", dpi=(300, 300))
    v = classified(judge(tmp_path, "scan.tif", buf.getvalue()), "tuyet_mat")
    assert "double_border" in v["reasons"], v


def test_webp_photo_from_a_chat_application(tmp_path):
    img = S.variant(page("TỐI MẬT"), "perspective")
    classified(judge(tmp_path, "anh.webp", S.encode(img, "WEBP")), "toi_mat")
