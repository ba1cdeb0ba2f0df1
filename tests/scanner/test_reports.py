"""Every report format renders the same document; the HTML record prints in a real Chromium."""

import csv
import io
import json
import os
import re
import shutil
import subprocess

import pytest

from scanner.report import csv as csv_report
from scanner.report import html as html_report
from scanner.report import json as json_report
from scanner.report import text as text_report
from tests.scanner.docfixture import HOSTILE, make_document

DOC = make_document()


def test_json_schema_top_level():
    d = json.loads(json_report.report(DOC))
    for key in ("schema_version", "tool", "profile", "policy_bundle", "target", "inspector", "started_at",
                "finished_at", "facts", "results", "summary"):
        assert key in d
    assert d["started_at"].endswith("+07:00")
    r = next(r for r in d["results"] if r["check_id"] == "BMNN-USB-001")
    assert r["status"] == "fail"
    assert r["evidence"][0]["vendor_id"] == "0781" and r["evidence"][0]["serial"] == "4C530001"
    assert r["legal_refs"][0] == {"source": "vn.law.117-2025-qh15", "article": "5", "clause": "4", "point": None,
                                  "role": "primary", "verified": True, "in_force": True,
                                  "citation": {"vi": "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, Điều 5 khoản 4",
                                               "en": "Law on Protection of State Secrets No. 117/2025/QH15, Article 5 clause 4"},
                                  "short": {"vi": "Luật số 117/2025/QH15, Điều 5 khoản 4", "en": "Law No. 117/2025/QH15, Article 5 clause 4"}}
    assert d["summary"]["verdict"] == "NON_COMPLIANT"


def test_csv_has_bom_and_one_row_per_listed_check():
    body = csv_report.report(DOC, "vi")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    listed = [r for r in DOC["results"] if r["status"] != "not_selected"]
    assert len(rows) == 1 + len(listed)
    usb = next(r for r in rows if r[0] == "BMNN-USB-001")
    assert usb[3] == "Không đạt" and HOSTILE in usb[9]


def test_text_report_groups_and_verdict():
    from rich.console import Console
    buf = io.StringIO()
    text_report.report(DOC, Console(file=buf, width=160, color_system=None), "vi")
    out = buf.getvalue()
    assert "Thiết bị USB và lưu trữ rời" in out and "KHÔNG ĐẠT YÊU CẦU" in out
    buf = io.StringIO()
    text_report.report(DOC, Console(file=buf, width=160, color_system=None), "en")
    assert "NON-COMPLIANT" in buf.getvalue()


def test_html_is_self_contained_and_escapes_device_strings():
    page = html_report.report(DOC, "vi")
    assert "BIÊN BẢN KIỂM TRA AN NINH, AN TOÀN THIẾT BỊ TRƯỚC KHI ĐƯA VÀO SỬ DỤNG" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<script" not in page
    assert "&lt;script&gt;" in page
    assert "CÁN BỘ KIỂM TRA" in page and "Nguyễn Thị Hằng" in page
    assert "RECORD OF THE SECURITY" in html_report.report(DOC, "en")


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(_chromium() is None, reason="Chromium not installed (apt-get install chromium)")
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed (apt-get install poppler-utils)")
def test_html_record_prints_in_chromium_with_vietnamese_text(tmp_path):
    page = tmp_path / "record.html"
    page.write_text(html_report.report(DOC, "vi"), encoding="utf-8")
    pdf = tmp_path / "record.pdf"
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()]
    subprocess.run(cmd, capture_output=True, timeout=120)
    assert pdf.exists() and pdf.stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "BIÊN BẢN KIỂM TRA AN NINH, AN TOÀN THIẾT BỊ" in flat
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat
    assert "KHÔNG ĐẠT YÊU CẦU" in flat
    assert "Nguyễn Thị Hằng" in flat
    if os.environ.get("BMNN_KEEP_RENDER"):
        shutil.copy(pdf, os.environ["BMNN_KEEP_RENDER"])
