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
    assert f"{f}:9:5: unknown key 'severty'" in p.stderr and "^" in p.stderr


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
    assert p.returncode == 4 and f"{g}:19:9: duplicate id 'BMNN-TST-001'" in p.stderr


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
    p = bmnn("policy", "explain", "bmnn-net-001", "--lang", "en", "--json")
    d = json.loads(p.stdout)
    assert d["legal_refs"][0]["citation"].endswith("Article 5 clause 2")
    assert "connected to a computer network" in d["legal_refs"][0]["text"]


def test_unknown_check_is_usage_error_exit_1():
    p = bmnn("policy", "show", "BMNN-NOPE-001")
    assert p.returncode == 1 and "BMNN-NOPE-001" in p.stderr


def test_bad_option_exit_1():
    p = bmnn("policy", "list", "--bogus")
    assert p.returncode == 1 and "--bogus" in p.stderr
