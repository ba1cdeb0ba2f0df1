"""Every report format renders the same document (the printed record: test_record.py)."""

import csv
import io
import json
import re

import pytest

from bmnn_guard.scanner.report import csv as csv_report
from bmnn_guard.scanner.report import html as html_report
from bmnn_guard.scanner.report import json as json_report
from bmnn_guard.scanner.report import text as text_report
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
    assert "BIÊN BẢN" in page and "Kiểm tra an ninh, an toàn thiết bị trước khi đưa vào sử dụng" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and "<script" not in page
    assert "&lt;script&gt;" in page
    assert "CÁN BỘ KIỂM TRA" in page and "Nguyễn Thị Hằng" in page
    assert "Security and safety inspection of equipment before use" in html_report.report(DOC, "en")


def _text(doc, width, lang="vi"):
    from rich.console import Console
    buf = io.StringIO()
    text_report.report(doc, Console(file=buf, width=width, color_system=None), lang)
    return buf.getvalue()


def test_text_report_never_cuts_check_ids_and_labels_evidence():
    for width in (60, 80, 160):
        out = _text(DOC, width)
        ids = {r["check_id"] for r in DOC["results"] if r["status"] != "not_selected"}
        for cid in ids:
            assert cid in out, (width, cid)
        assert "…" not in out.replace("……", "")  # rich's ellipsis: nothing cut
    out = _text(DOC, 160)
    assert "Số sê-ri: 4C530001" in out and "serial=" not in out
    assert "16 giờ 00 phút, ngày 23 tháng 11 năm 2026 (Asia/Ho_Chi_Minh, UTC+07:00)" in out
    assert "2026-11-23T16" not in out


def test_text_report_escapes_controls_from_the_machine():
    doc = make_document()
    doc["target"]["hostname"] = "may\x1b[31m-mat\nGIẢ MẠO"
    usb = next(r for r in doc["results"] if r["check_id"] == "BMNN-USB-001")
    usb["evidence"][0]["product"] = "[bold red]X[/] \u202eexe.txt"
    out = _text(doc, 160)
    assert "\x1b" not in out and "\u202e" not in out
    assert "may\\x1b[31m-mat\\nGIẢ MẠO" in out and "[bold" in out and "red]X[/]" in out and "\\u202e" in out


FLEET = [
    {"path": "/srv/thu-thap/vt-so-noi-vu-01-20261123T100000.bmnnsnap", "valid": True, "problems": [],
     "hostname": "debian", "machine_id": "a" * 32, "created_at": "2026-11-23T03:00:00+00:00", "age_days": 8.0,
     "verdict": "NON_COMPLIANT", "violations": [{"check_id": "BMNN-DOC-001", "severity": "critical"},
                                                {"check_id": "BMNN-USB-001", "severity": "critical"}],
     "unapproved_devices": ["0781:5567 4C530001230405117153"], "network_events": 3, "gaps": 1,
     "downtime_hours": 0.5, "journal_records": 21},
    {"path": "/srv/thu-thap/bm-cong-an-03.bmnnsnap", "valid": True, "problems": [], "hostname": "debian",
     "machine_id": "b" * 32, "created_at": "2026-11-30T17:30:00+00:00", "age_days": 1.0, "verdict": "COMPLIANT",
     "violations": [], "unapproved_devices": [], "network_events": 0, "gaps": 0, "downtime_hours": 0.0,
     "journal_records": 5},
    {"path": "/srv/thu-thap/sua\x1b[2J.bmnnsnap", "valid": False, "problems": ["Thành phần scan.json đã bị sửa"],
     "hostname": None, "machine_id": None, "created_at": None, "age_days": None, "verdict": None, "violations": [],
     "unapproved_devices": [], "network_events": 0, "gaps": 0, "downtime_hours": 0.0, "journal_records": 0},
]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_fleet_text_shows_file_host_date_and_whole_ids_at_80_columns(lang):
    from rich.console import Console
    from bmnn_guard.scanner.report import fleet_text
    buf = io.StringIO()
    fleet_text.report(FLEET, Console(file=buf, width=80, color_system=None), lang)
    out = buf.getvalue()
    flat = re.sub(r"[│┃ ]+", " ", out)
    for part in ("BMNN-DOC-001", "BMNN-USB-001", "23/11/2026 10:00", "01/12/2026 00:30"):
        assert part in out, part

    def column(i):  # a column's text with its folds joined: nothing may be missing from it
        lines = [line.split("│") for line in out.splitlines() if line.startswith("│")]
        return "".join(cells[i].strip() for cells in lines if len(cells) > 5)
    assert "vt-so-noi-vu-01-20261123T100000.bmnnsnap" in column(1)
    assert "bm-cong-an-03.bmnnsnap" in column(1)
    assert "4C530001230405117153" in column(4)
    assert "…" not in out  # no header or cell cut
    assert "\x1b" not in out and "\\x1b[2J" in out
    assert "vm" not in flat.split()
    header = "Thiết bị chưa đăng ký" if lang == "vi" else "Unapproved devices"
    assert all(word in out for word in header.split())


def test_fleet_html_shows_file_date_and_the_whole_machine_id():
    import datetime as dt
    from bmnn_guard.scanner.report import fleet_html
    page = fleet_html.report(FLEET, "vi", now=dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.timezone.utc))
    assert "a" * 32 in page and "vt-so-noi-vu-01-20261123T100000.bmnnsnap" in page and "23/11/2026 10:00" in page
    assert "10 giờ 00 phút, ngày 01 tháng 12 năm 2026" in page
    assert "\x1b" not in page and "\\x1b[2J" in page


def test_every_evidence_field_a_check_names_has_a_label_in_both_languages():
    from bmnn_guard.policies.loader import load_bundle
    from bmnn_guard.scanner.i18n import has
    bundle = load_bundle()
    missing = sorted({f"{dom}.{f}" for c in bundle.checks.values() for dom, fields in c.spec.evidence.items() for f in fields
                      if not has(f"evidence.{dom}.{f}") and not has(f"evidence.{f}")})
    assert not missing, f"add evidence labels to scanner/i18n.py for: {missing}"


def _uncut(out: str, width: int) -> bool:
    """Every table line fits and ends on its border: rich cropped nothing at the terminal's edge."""
    lines = [line.rstrip() for line in out.splitlines() if line[:1] in "│┃┏┡├└┌╭"]
    return bool(lines) and all(len(line) <= width and line[-1] in "│┃┓┩┤┘┐╮" for line in lines)


@pytest.mark.parametrize("width", [50, 60, 80, 160])
def test_tables_fit_the_terminal_with_a_long_unbroken_evidence_value(width):
    doc = make_document()
    usb = next(r for r in doc["results"] if r["check_id"] == "BMNN-USB-001")
    long_path = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2.4/1-2.4.3/1-2.4.3:1.0/host7/target7:0:0/7:0:0:0"
    usb["evidence"][0]["sys_path"] = long_path
    out = _text(doc, width)
    assert _uncut(out, width)
    folded = "".join(line.split("│")[-2].strip() for line in out.splitlines() if line.startswith("│") and "│" in line[1:])
    assert long_path.replace(" ", "") in folded.replace(" ", "") or width >= 160


@pytest.mark.parametrize("width", [60, 80, 120])
def test_fleet_tables_fit_the_terminal(width):
    from rich.console import Console
    from bmnn_guard.scanner.report import fleet_text
    buf = io.StringIO()
    fleet_text.report(FLEET, Console(file=buf, width=width, color_system=None), "vi")
    assert _uncut(buf.getvalue(), width)


def test_fit_gives_from_the_widest_and_keeps_identifiers():
    from bmnn_guard.scanner.report.layout import fit
    assert fit(100, [10, 20, 30], [5, 5, 5]) == [10, 20, 30]
    assert sum(fit(40, [10, 20, 30], [5, 5, 5])) == 40
    assert fit(40, [20, 12, 30], [8, 12, 8], [False, True, False])[1] == 12  # the id keeps its width
    assert fit(20, [20, 12, 30], [8, 12, 8], [False, True, False])[1] == 12  # others go down to 4 first
    assert sum(fit(10, [20, 12, 30], [8, 12, 8], [False, True, False])) <= 10  # then all to 3
