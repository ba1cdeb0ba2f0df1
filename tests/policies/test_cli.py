"""`bmnn policy ...` through the real entry point, with the documented exit codes."""

import json
import subprocess
import sys
from pathlib import Path

from tests.policies.test_loader import CHECK

ROOT = Path(__file__).resolve().parents[2]


def bmnn(*args, env=None):
    import os
    e = dict(os.environ, BMNN_CONFIG_DIR="/nonexistent-bmnn-test")
    e.update(env or {})
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True, env=e)


def test_validate_shipped_set_exits_0():
    p = bmnn("policy", "validate")
    assert p.returncode == 0, p.stderr
    assert "hợp lệ" in p.stdout


def test_validate_bad_file_exits_4_with_location(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(CHECK.replace("    severity: high\n", "    severty: high\n"), encoding="utf-8")
    p = bmnn("policy", "validate", str(f))
    assert p.returncode == 4
    assert f"{f}:9:5: khóa 'severty' không có" in p.stderr and "^" in p.stderr


def test_validate_dangling_ref_and_duplicate_exit_4(tmp_path):
    f = tmp_path / "dangling.yaml"
    f.write_text(CHECK.replace('clause: "2"', 'clause: "77"'), encoding="utf-8")
    p = bmnn("policy", "validate", str(f), "--json")
    assert p.returncode == 4
    out = json.loads(p.stdout)
    assert out["ok"] is False and f"{f}:12:" in out["results"][0]["problems"][0]
    g = tmp_path / "dup.yaml"
    g.write_text(CHECK + CHECK.split("checks:\n", 1)[1], encoding="utf-8")
    p = bmnn("policy", "validate", str(g))
    assert p.returncode == 4 and f"{g}:19:9: mã 'BMNN-TST-001' bị trùng" in p.stderr


def test_list_json_has_every_required_id():
    from tests.policies.test_loader import REQUIRED_IDS
    p = bmnn("policy", "list", "--json")
    assert p.returncode == 0, p.stderr
    ids = {c["id"] for c in json.loads(p.stdout)["checks"]}
    assert REQUIRED_IDS <= ids


def test_explain_cites_law_117_article_5_in_vietnamese():
    p = bmnn("policy", "explain", "BMNN-NET-001")
    assert p.returncode == 0, p.stderr
    assert "117/2025/QH15" in p.stdout and "Điều 5 khoản 2" in p.stdout
    assert "đang kết nối với mạng máy tính" in " ".join(p.stdout.split())


def test_explain_english_and_json():
    p = bmnn("policy", "explain", "bmnn-net-001", "--lang", "en", "--json", "--on", "2026-12-01")
    d = json.loads(p.stdout)
    assert d["legal_refs"][0]["citation"].endswith("Article 5 clause 2")
    assert "connected to a computer network" in d["legal_refs"][0]["text"]


def test_unknown_check_is_usage_error_exit_1():
    p = bmnn("policy", "show", "BMNN-NOPE-001")
    assert p.returncode == 1 and "BMNN-NOPE-001" in p.stderr


def test_bad_option_exit_1():
    p = bmnn("policy", "list", "--bogus")
    assert p.returncode == 1 and "--bogus" in p.stderr


def test_explain_says_unverified_once_and_shows_what_was_read():
    p = bmnn("policy", "explain", "BMNN-SW-003", "--on", "2026-12-01")
    assert p.returncode == 0, p.stderr
    out = " ".join(p.stdout.split())
    # two unverified citations, each marked once; "chưa xác minh" appears nowhere else
    assert out.count("(chưa xác minh)") == 2 and out.count("chưa xác minh") == 2
    assert "Chỉ thị số 32/CT-TTg của Thủ tướng Chính phủ" in out
    assert "Đã đọc trong «Cấm sử dụng trí tuệ nhân tạo xâm phạm bí mật Nhà nước (baomoi.net.vn)» ngày 01/12/2026" in out
    p = bmnn("policy", "explain", "BMNN-SW-003", "--json", "--on", "2026-12-01")
    refs = json.loads(p.stdout)["legal_refs"]
    ai = next(r for r in refs if r["clause"] == "ai")
    assert ai["verified"] is False and ai["in_force"] is True
    assert ai["read"][0]["quote"] == "sử dụng trí tuệ nhân tạo hoặc công nghệ mới để xâm phạm"


def test_explain_on_a_day_before_the_law_was_in_force():
    p = bmnn("policy", "explain", "BMNN-NET-005", "--on", "2026-02-01", "--json")
    refs = {r["source"]: r for r in json.loads(p.stdout)["legal_refs"]}
    assert refs["vn.law.29-2018-qh14"]["in_force"] is True
    assert "hiệu lực" not in refs["vn.law.29-2018-qh14"]["citation"]
    p = bmnn("policy", "explain", "BMNN-NET-005", "--on", "2026-12-01", "--json")
    refs = {r["source"]: r for r in json.loads(p.stdout)["legal_refs"]}
    assert refs["vn.law.29-2018-qh14"]["in_force"] is False
    assert refs["vn.law.29-2018-qh14"]["citation"].endswith("(hết hiệu lực từ ngày 01/03/2026)")
    p = bmnn("policy", "explain", "BMNN-NET-005", "--on", "1.12.2026")
    assert p.returncode == 1 and "--on" in p.stderr


def test_explain_shows_the_crypto_exception_of_net_001():
    p = bmnn("policy", "explain", "BMNN-NET-001", "--on", "2026-12-01")
    out = " ".join(p.stdout.split())
    assert "Ngoại lệ theo pháp luật về cơ yếu" in out
    assert "Luật Cơ yếu số 05/2011/QH13, Điều 13 khoản 1" in out
    assert "Nhà nước độc quyền sản xuất và cung cấp sản phẩm mật mã" in out
