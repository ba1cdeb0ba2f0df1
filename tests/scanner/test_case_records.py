"""The hand-over record and the incident report as people read them: the Decree 30 page of the
inspection record (heading, number, place-date, signature blocks), hostile file names made
harmless, both languages, and the PDF printed by a real Chromium, read back with poppler and
looked at as a picture (BMNN_KEEP_RENDER=DIR keeps page 1 of each as PNG for docs/img)."""

import os
import re
import shutil
import subprocess

import pytest

from bmnn_guard.scanner.report import handover as RH
from bmnn_guard.scanner.report import incident as RI
from bmnn_guard.scanner.report import pdf as pdf_report
from tests.scanner.casefixture import handover_doc, incident_doc

SEAL = {"fingerprint": "85f6 980f 2f34 900b 8155 132a 676a 330c e477 51d5 9dc9 2186 0f0e a701 78b6 02d6",
        "digest": "4351a46da95ac1b7a586695ebafa5c81629b0a3c5e87090463010e69a7cbe7e8"}


def visible_text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1]))


def test_handover_html_is_the_decree_30_record_with_three_signatures():
    page = RH.html(handover_doc(), "vi", SEAL)
    text = visible_text(page)
    for part in ("UBND TỈNH BẮC NINH", "PHÒNG VĂN THƯ, SỞ NỘI VỤ", "Số: 07/BB-BM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Bắc Ninh, ngày 01 tháng 12 năm 2026", "BIÊN BẢN", "BÀN GIAO TÀI LIỆU, VẬT CHỨA BÍ MẬT NHÀ NƯỚC",
                 "Hôm nay, hồi 16 giờ 05 phút, ngày 01 tháng 12 năm 2026", "khi người bàn giao nghỉ hưu",
                 "/home/an/Tài liệu/bao-cao-quy-IV.docx", "0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e",
                 "48.213 byte", "28/11/2026 09:12", "Chủ sở hữu: an (chưa ghi nhận tiến trình tác động)",
                 "Tiến trình tác động: an (uid 1001) · PID 4242 · /usr/bin/cp", "bản sao của /srv/mat/ke-hoach.pdf",
                 "cần xem xét", "USB-07", "4C530001", "BMNN-DOC-001", "Người bàn giao còn giữ 3 tài liệu",
                 "CAM KẾT CỦA NGƯỜI BÀN GIAO", "Tôi, Nguyễn Văn An", "Điều 5 khoản 3", "Bộ luật Hình sự số 100/2015/QH13",
                 "NGƯỜI BÀN GIAO", "NGƯỜI NHẬN BÀN GIAO", "CÁN BỘ BẢO MẬT", "Trần Thị Bình", "Lê Thị Cúc", SEAL["digest"]):
        assert part in text, part
    assert "2026-11-28T" not in text  # no raw ISO time for a person
    # the hostile name: escaped markup, the bidi override shown, never obeyed
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "\u202e" not in page and "\\u202e" in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page


def test_handover_english_and_text():
    en = visible_text(RH.html(handover_doc(), "en", SEAL))
    for part in ("RECORD", "HAND-OVER OF DOCUMENTS AND OBJECTS CONTAINING STATE SECRETS", "No.: 07/BB-BM",
                 "Owner: an (acting process not recorded)", "PERSON HANDING OVER", "RECEIVER", "SECURITY OFFICER",
                 "as they retire"):
        assert part in en, part
    text = RH.text(handover_doc(), "vi", SEAL)
    assert "BIÊN BẢN BÀN GIAO TÀI LIỆU, VẬT CHỨA BÍ MẬT NHÀ NƯỚC" in text and "\u202e" not in text
    assert "\\u202efdp.exe" in text and "NGƯỜI NHẬN BÀN GIAO" in text
    assert "SHA-256: 0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e" in text


def test_a_record_from_another_version_still_renders():
    doc = handover_doc()
    for key in ("areas", "devices", "summary", "commitment", "people", "tool"):
        doc.pop(key)
    doc["documents"] = [{"path": 3}, "junk", {"level": "nonsense", "size": "big"}]
    assert "BIÊN BẢN" in RH.html(doc, "vi") and "BIÊN BẢN" in RH.text(doc, "vi")


def test_incident_html_and_text(tmp_path):
    doc = incident_doc(tmp_path)
    page = visible_text(RI.html(doc, "vi", SEAL))
    for part in ("BÁO CÁO", "DỰ THẢO", "Vụ việc nghi lộ, mất bí mật nhà nước trên máy tính may-mat-01", "Số: ……/BC",
                 "BMNN-USB-001", "BMNN-DOC-001", "deauthorize", "Đang xác minh với người dùng", "an@tty2",
                 "0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e", "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15",
                 "NGƯỜI LẬP BÁO CÁO", "THỦ TRƯỞNG ĐƠN VỊ", "Nơi nhận", SEAL["digest"]):
        assert part in page, part
    en = RI.text(doc, "en")
    assert "REPORT" in en and "Who was logged in" in en.title() or "WHO WAS LOGGED IN" in en


# ---------------------------------------------------------------- real Chromium, read back with poppler

need_print = pytest.mark.skipif(pdf_report.chromium() is None or shutil.which("pdftotext") is None
                                or shutil.which("pdftoppm") is None,
                                reason="Chromium or poppler-utils not installed (apt-get install chromium poppler-utils)")


def _text(pdf, *args):
    return subprocess.run(["pdftotext", *args, str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _page_one(pdf, tmp_path, name):
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(tmp_path / name)],
                   check=True)
    png = tmp_path / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("BMNN_KEEP_RENDER")
    if keep and os.path.isdir(keep):
        shutil.copyfile(png, os.path.join(keep, f"{name}.png"))
    return png


@need_print
def test_handover_pdf(tmp_path):
    pdf = tmp_path / "handover.pdf"
    pdf.write_bytes(RH.pdf(handover_doc(), "vi", SEAL))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59[45]\.\d+ x 841\.\d+ pts \(A4\)", info), info
    flat = " ".join(_text(pdf).split())
    for part in ("BIÊN BẢN BÀN GIAO TÀI LIỆU, VẬT CHỨA BÍ MẬT NHÀ NƯỚC", "CAM KẾT CỦA NGƯỜI BÀN GIAO", "NGƯỜI BÀN GIAO",
                 "NGƯỜI NHẬN BÀN GIAO", "CÁN BỘ BẢO MẬT", "Nguyễn Văn An"):
        assert part in flat, part
    assert "0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e" in flat.replace(" ", "")
    first = " ".join(_text(pdf, "-f", "1", "-l", "1").split())
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first and "Số: 07/BB-BM" in first
    assert "file:" not in flat and "about:blank" not in flat
    _page_one(pdf, tmp_path, "handover-vi")


@need_print
def test_incident_pdf(tmp_path):
    pdf = tmp_path / "incident.pdf"
    pdf.write_bytes(RI.pdf(incident_doc(tmp_path), "vi", SEAL))
    flat = " ".join(_text(pdf).split())
    for part in ("BÁO CÁO", "DỰ THẢO", "DIỄN BIẾN THEO NHẬT KÝ", "BMNN-DOC-001", "NGƯỜI LẬP BÁO CÁO"):
        assert part in flat, part
    _page_one(pdf, tmp_path, "incident-vi")
