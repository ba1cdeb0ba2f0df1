"""`bmnn scan` as an officer runs it: the prompt at a real terminal (a pseudo-terminal), the PDF
record through Chromium, record numbers from local.d, and -o that never creates folders."""

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bmnn_guard.scanner.report import pdf as pdf_report

ROOT = Path(__file__).resolve().parents[2]


def env_for(cfg: Path, **extra) -> dict:
    return dict(os.environ, BMNN_CONFIG_DIR=str(cfg), BMNN_STATE_DIR=str(cfg / "state"),
                BMNN_RUNTIME_DIR=str(cfg / "run"), PYTHONPATH=str(ROOT), BMNN_LANG="vi", **extra)


def bmnn(cfg: Path, *args, **kw):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env=env_for(cfg), timeout=180, **kw)


class Terminal:
    """A child on a real pseudo-terminal: read what it shows, type answers."""

    def __init__(self, argv, env):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(argv[0], argv, env)
        self.seen = b""

    def expect(self, pattern: str, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern.encode())
        while not rx.search(self.seen):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {pattern!r} on the terminal; saw:\n{self.seen.decode('utf-8', 'replace')[-2000:]}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"terminal closed before {pattern!r}; saw:\n{self.seen.decode('utf-8', 'replace')[-2000:]}")
                self.seen += chunk
        m = rx.search(self.seen)
        shown, self.seen = self.seen[:m.end()], self.seen[m.end():]
        return shown.decode("utf-8", "replace")

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode() + b"\r")

    def wait(self, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    if not os.read(self.fd, 65536):
                        break
                except OSError:
                    break
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        _, status = os.waitpid(self.pid, 0)
        return os.waitstatus_to_exitcode(status)


def _prompt_keys(shown: str) -> str:
    return shown.rsplit("\n", 1)[-1]


@pytest.mark.parametrize("lang,keys,yes,no,na", [
    ("vi", "(đ = đạt, k = không đạt, kad = không áp dụng, Enter = bỏ qua):", "đ", "k", "kad"),
    ("en", "(y = yes (pass), n = no (fail), na = not applicable, Enter = skip):", "y", "n", "na"),
])
def test_prompt_at_a_terminal_answers_manual_items_of_an_html_record(tmp_path, lang, keys, yes, no, na):
    out = tmp_path / "bien-ban.html"
    term = Terminal([sys.executable, str(ROOT / "cli.py"), "--lang", lang, "scan", "--no-content", "--format", "html", "-o", str(out)],
                    env_for(tmp_path))
    shown = term.expect(r"BMNN-MAN-001: [^\n]+\n[^\n]*: ")
    assert keys in shown, shown  # the keys read as typed: nothing eaten as markup
    assert "[đ]" not in shown and "[y]" not in shown
    term.type("maybe")
    term.expect(r"BMNN-MAN-001: [^\n]+\n[^\n]*: ")  # asked again after a word that is no answer
    term.type(yes)
    term.expect(r": $|: \r?$|\(Enter[^)]*\): ")
    term.type("")
    term.expect(r"BMNN-MAN-002: [^\n]+\n[^\n]*: ")
    term.type(no)
    term.expect(r"\(Enter[^)]*\): ")
    term.type("Tem niêm phong rách" if lang == "vi" else "Seal torn")
    term.expect(r"BMNN-MAN-003: [^\n]+\n[^\n]*: ")
    term.type(na)
    term.expect(r"\(Enter[^)]*\): ")
    term.type("")
    term.expect(r"BMNN-MAN-004: [^\n]+\n[^\n]*: ")
    term.type("")  # skipped: stays not reviewed
    rc = term.wait()
    assert rc in (2, 3), rc
    page = out.read_text(encoding="utf-8")
    if lang == "vi":
        assert "Cán bộ kiểm tra xác nhận đạt" in page and "Tem niêm phong rách" in page
        assert "Cán bộ kiểm tra xác nhận không áp dụng" in page and "Chờ cán bộ kiểm tra trả lời" in page
    else:
        assert "Inspector answered pass" in page and "Seal torn" in page and "Awaiting the inspector" in page


def test_no_prompt_without_a_terminal(tmp_path):
    p = bmnn(tmp_path, "scan", "--no-content", "--format", "json", stdin=subprocess.DEVNULL)
    assert p.returncode in (2, 3), p.stderr
    assert "BMNN-MAN-001:" not in p.stderr
    doc = json.loads(p.stdout)
    assert next(r for r in doc["results"] if r["check_id"] == "BMNN-MAN-001")["status"] == "not_reviewed"


def test_answers_template_round_trip(tmp_path):
    tpl = tmp_path / "tra-loi.yaml"
    p = bmnn(tmp_path, "answers", "template", "-o", str(tpl))
    assert p.returncode == 0, p.stderr
    body = tpl.read_text(encoding="utf-8")
    assert "# BMNN-MAN-001 — Mật khẩu BIOS/UEFI" in body and "#   BIOS/UEFI đã đặt mật khẩu" in body
    assert body.count("  answer:\n") == 4
    p = bmnn(tmp_path, "scan", "--no-content", "--format", "json", "--no-input", "--answers", str(tpl))
    doc = json.loads(p.stdout)
    manual = {r["check_id"]: r["status"] for r in doc["results"] if r["category"] == "manual" and r["status"] != "not_selected"}
    assert set(manual.values()) == {"not_reviewed"}  # the untouched template answers nothing
    tpl.write_text(body.replace("BMNN-MAN-002:\n  answer:\n", "BMNN-MAN-002:\n  answer: fail\n"), encoding="utf-8")
    doc = json.loads(bmnn(tmp_path, "scan", "--no-content", "--format", "json", "--no-input", "--answers", str(tpl)).stdout)
    assert next(r for r in doc["results"] if r["check_id"] == "BMNN-MAN-002")["status"] == "fail"
    en = bmnn(tmp_path, "--lang", "en", "answers", "template").stdout
    assert "# BMNN-MAN-001 — Firmware password set" in en and "Use: bmnn scan --answers FILE" in en
    help_ = bmnn(tmp_path, "scan", "--help").stdout
    assert "bmnn answers template" in help_ and "pass|fail|not_applicable" in help_


def test_output_into_a_missing_folder_is_an_error_and_creates_nothing(tmp_path):
    target = tmp_path / "media" / "usb" / "bien-ban.html"
    t0 = time.monotonic()
    p = bmnn(tmp_path, "scan", "--no-content", "--format", "html", "--no-input", "-o", str(target))
    assert p.returncode == 1
    assert f"Thư mục {target.parent} không tồn tại" in p.stderr
    assert not (tmp_path / "media").exists()
    assert time.monotonic() - t0 < 60  # refused before the scan, not after it
    p = bmnn(tmp_path, "answers", "template", "-o", str(target))
    assert p.returncode == 1 and not (tmp_path / "media").exists()


@pytest.mark.skipif(pdf_report.chromium() is None, reason="Chromium not installed (apt-get install chromium)")
def test_pdf_record_with_local_d_heading_and_counted_numbers(tmp_path):
    local_d = tmp_path / "local.d"
    local_d.mkdir()
    (local_d / "10-record.yaml").write_text(
        'unit: "Phòng Cơ yếu"\nrecord:\n  parent_unit: "Sở Nội vụ tỉnh Bắc Ninh"\n  place: "Bắc Ninh"\n'
        '  number: "{seq}/BB-CY"\n  head_of_unit: "Phạm Minh Đức"\n', encoding="utf-8")
    (local_d / "20-zone.yaml").write_text('record:\n  timezone: "Asia/Ho_Chi_Minh"\n', encoding="utf-8")
    first = tmp_path / "1.pdf"
    p = bmnn(tmp_path, "scan", "--no-content", "--format", "pdf", "--no-input", "-o", str(first), "--inspector", "Nguyễn Thị Hằng",
             "--holder", "Trần Văn Bình")
    assert p.returncode in (2, 3), p.stderr
    assert first.read_bytes().startswith(b"%PDF-")
    text = " ".join(subprocess.run(["pdftotext", str(first), "-"], capture_output=True, text=True).stdout.split())
    for part in ("SỞ NỘI VỤ TỈNH BẮC NINH", "PHÒNG CƠ YẾU", "Số: 01/BB-CY", "Bắc Ninh, ngày", "Trần Văn Bình",
                 "Nguyễn Thị Hằng", "Phạm Minh Đức"):
        assert part in text, part
    second = tmp_path / "2.html"
    assert bmnn(tmp_path, "scan", "--no-content", "--format", "html", "--no-input", "-o", str(second)).returncode in (2, 3)
    assert "Số: 02/BB-CY" in second.read_text(encoding="utf-8")
    third = tmp_path / "3.html"
    bmnn(tmp_path, "scan", "--no-content", "--format", "html", "--no-input", "-o", str(third), "--number", "99/BB-CY")
    assert "Số: 99/BB-CY" in third.read_text(encoding="utf-8")  # given by hand: no number taken
    counters = json.loads((tmp_path / "state" / "record-numbers.json").read_text())
    assert list(counters.values()) == [2]


def test_pdf_needs_output_and_bad_zone_or_pattern_fail_clearly(tmp_path):
    p = bmnn(tmp_path, "scan", "--no-content", "--format", "pdf", "--no-input")
    assert p.returncode == 1 and "--format pdf cần -o" in p.stderr
    p = bmnn(tmp_path, "scan", "--no-content", "--no-input", "--timezone", "Mars/Base")
    assert p.returncode == 1 and "Mars/Base" in p.stderr
    local_d = tmp_path / "local.d"
    local_d.mkdir()
    (local_d / "x.yaml").write_text('record:\n  number: "{host}/BB"\n', encoding="utf-8")
    p = bmnn(tmp_path, "scan", "--no-content", "--no-input")
    assert p.returncode == 4 and "x.yaml:2:" in p.stderr and "{host}" in p.stderr
