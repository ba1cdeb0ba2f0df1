"""The inspection record an officer signs: laid out as Decree 30/2020/NĐ-CP presents a document,
rendered by a real Chromium, read back with poppler, and looked at as pixels."""

import os
import re
import shutil
import subprocess

import pytest

from bmnn_guard.scanner.report import html as html_report
from bmnn_guard.scanner.report import pdf as pdf_report
from tests.scanner.docfixture import HOSTILE, make_document

RECORD = {"number": "03/BB-CNTT", "place": "Hà Nội", "parent_unit": "UBND tỉnh Bắc Ninh", "holder": "Trần Văn Bình",
          "security_officer": "Lê Thị Cúc", "head_of_unit": "Phạm Minh Đức"}


def record_doc(**record):
    doc = make_document()
    doc["record"].update(RECORD, **record)
    return doc


def visible_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1]))


def test_header_number_place_date_and_signatures():
    page = html_report.report(record_doc(), "vi")
    text = visible_text(page)
    for part in ("UBND TỈNH BẮC NINH", "Phòng Văn thư, Sở Nội vụ", "Số: 03/BB-CNTT", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "Hà Nội, ngày 23 tháng 11 năm 2026", "BIÊN BẢN",
                 "Kiểm tra an ninh, an toàn thiết bị trước khi đưa vào sử dụng",
                 "Hôm nay, hồi 16 giờ 00 phút, ngày 23 tháng 11 năm 2026", "Asia/Ho_Chi_Minh, UTC+07:00",
                 "NGƯỜI SỬ DỤNG THIẾT BỊ", "CÁN BỘ KIỂM TRA", "CÁN BỘ BẢO MẬT", "THỦ TRƯỞNG ĐƠN VỊ",
                 "Trần Văn Bình", "Nguyễn Thị Hằng", "Lê Thị Cúc", "Phạm Minh Đức", "KHÔNG ĐẠT YÊU CẦU"):
        assert part in text or part in page, part
    assert "2026-11-23T" not in text  # no raw ISO time for a person to read
    en = visible_text(html_report.report(record_doc(), "en"))
    assert "No.: 03/BB-CNTT" in en and "Hà Nội, 23 November 2026" in en and "SOCIALIST REPUBLIC OF VIET NAM" in en


def test_evidence_is_labelled_values_never_python_reprs():
    text = visible_text(html_report.report(record_doc(), "vi"))
    assert "Số sê-ri: 4C530001" in text and "Mã hãng: 0781" in text
    assert "serial=" not in text and "vendor_id" not in text
    for word in ("None", "True", "False"):
        assert not re.search(rf"\b{word}\b", text), word
    en = visible_text(html_report.report(record_doc(), "en"))
    assert "Serial: 4C530001" in en


def test_no_number_leaves_a_blank_and_the_pattern_shows_its_form():
    text = visible_text(html_report.report(record_doc(number=None, number_pattern=None), "vi"))
    assert "Số: ……/BB" in text
    text = visible_text(html_report.report(record_doc(number=None, number_pattern="{seq}/BB-KT"), "vi"))
    assert "Số: ……/BB-KT" in text


def test_times_follow_the_configured_zone():
    text = visible_text(html_report.report(record_doc(timezone="UTC"), "vi"))
    assert "hồi 09 giờ 00 phút, ngày 23 tháng 11 năm 2026" in text and "UTC+00:00" in text


def test_device_strings_cannot_inject_markup_or_reorder_text():
    doc = record_doc()
    usb = next(r for r in doc["results"] if r["check_id"] == "BMNN-USB-001")
    usb["evidence"][0]["product"] = "Cruzer\u202eexe.txt\x1b[2J"
    page = html_report.report(doc, "vi")
    assert "\u202e" not in page and "\x1b" not in page
    assert "\\u202e" in page and "\\x1b" in page
    assert "&lt;script&gt;" in page and "<script" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


# ---------------------------------------------------------------- real Chromium, read back with poppler

need_chromium = pytest.mark.skipif(pdf_report.chromium() is None, reason="Chromium not installed (apt-get install chromium)")
need_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                  reason="poppler-utils not installed (apt-get install poppler-utils)")


def _liberation() -> bool:
    out = subprocess.run(["fc-list", ":family=Liberation Serif"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    return "Liberation Serif" in out


need_font = pytest.mark.skipif(not _liberation(), reason="Liberation Serif not installed (apt-get install fonts-liberation2)")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    if pdf_report.chromium() is None or shutil.which("pdftotext") is None:
        pytest.skip("Chromium or poppler-utils not installed")
    d = tmp_path_factory.mktemp("record")
    pdf = d / "record.pdf"
    pdf.write_bytes(pdf_report.report(record_doc(), "vi"))
    return pdf


def _text(pdf, *args):
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


@need_chromium
@need_poppler
def test_pdf_reads_back_as_a_decree_30_record(rendered):
    assert rendered.read_bytes().startswith(b"%PDF-")
    info = subprocess.run(["pdfinfo", str(rendered)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info), info
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 2
    layout = _text(rendered, "-layout")
    lines = layout.splitlines()
    # the national title on one line, the motto on the next one, the agency block beside them
    title = next(i for i, line in enumerate(lines) if "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line)
    assert "UBND TỈNH BẮC NINH" in lines[title]
    assert "Độc lập - Tự do - Hạnh phúc" in lines[title + 1] and "PHÒNG VĂN THƯ, SỞ NỘI VỤ" in lines[title + 1]
    number = next(line for line in lines if "Số: 03/BB-CNTT" in line)
    assert "Hà Nội, ngày 23 tháng 11 năm 2026" in number  # the number and the place-date share a line
    flat = " ".join(layout.split())
    for part in ("BIÊN BẢN", "Kiểm tra an ninh, an toàn thiết bị trước khi đưa vào sử dụng", "Số sê-ri: 4C530001",
                 "KHÔNG ĐẠT YÊU CẦU", "THỦ TRƯỞNG ĐƠN VỊ", "Nguyễn Thị Hằng", "Ổ đĩa"):
        assert part in flat, part
    # no browser header or footer: no URL, no file name, no print date, no "1/5" page counter
    assert "file:" not in flat and "record.html" not in flat and "about:blank" not in flat
    assert not re.search(r"\d{1,2}/\d{1,2}/\d{2,4},? \d{1,2}:\d{2}", flat)
    assert not re.search(r"\b\d+/%d\b" % pages, flat)
    # page numbers at the top centre from page 2 on (Decree 30), none on page 1
    assert _text(rendered, "-f", "2", "-l", "2").split()[0] == "2"
    assert _text(rendered, "-f", "1", "-l", "1").split()[0] != "1"


@need_chromium
@need_poppler
@need_font
def test_pdf_embeds_a_times_compatible_face_with_vietnamese(rendered):
    fonts = subprocess.run(["pdffonts", str(rendered)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all("yes" == r[-5] for r in rows), fonts  # every font embedded
    assert any("LiberationSerif" in r[0] for r in rows) and any("LiberationSerif-Bold" in r[0] for r in rows), fonts
    assert not any(r[1] == "Type" and r[2] == "3" for r in rows), fonts  # no bitmap fallback glyphs


def _pgm(path):
    data = path.read_bytes()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P5"
    w, h = int(parts[1]), int(parts[2])
    pixels = parts[4][: w * h]
    return w, h, pixels


@need_chromium
@need_poppler
def test_pages_as_pixels_have_no_header_or_footer_band(rendered, tmp_path):
    dpi = 50
    subprocess.run(["pdftoppm", "-gray", "-r", str(dpi), str(rendered), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) >= 2
    mm = dpi / 25.4
    for n, page in enumerate(pages, 1):
        w, h, px = _pgm(page)
        assert abs(h / w - 297 / 210) < 0.01  # A4 portrait

        def ink(y0, y1, x0=0, x1=w):
            return sum(1 for y in range(int(y0), int(y1)) for x in range(int(x0), int(x1)) if px[y * w + x] < 128)
        assert ink(h - 14 * mm, h) == 0, f"page {n}: something printed in the bottom margin (browser footer?)"
        top = ink(0, 19 * mm)
        if n == 1:
            assert top == 0, "page 1: something printed in the top margin (browser header?)"
        else:  # only the page number, in the middle third
            assert top > 0 and ink(0, 19 * mm, 0, w / 3) == 0 and ink(0, 19 * mm, 2 * w / 3, w) == 0
    if os.environ.get("BMNN_KEEP_RENDER"):
        subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(rendered),
                        os.environ["BMNN_KEEP_RENDER"]], check=True)
