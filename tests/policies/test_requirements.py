"""The requirement map (prowler-style): complete, and pointing only at things that exist."""

import json
from pathlib import Path

import pytest

from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.policies.loader import BUILTIN_DIR, _covers, catalog_entries, load_bundle
from bmnn_guard.policies.validate import validate_path
from tests.policies.test_cli import bmnn
from tests.policies.test_legal import bundle_error

BUNDLE = load_bundle()
MAP = BUILTIN_DIR / "sources" / "requirements.yaml"


def _load_with(tmp_path: Path, old: str, new: str, file: str = "requirements.yaml"):
    return bundle_error(tmp_path, old, new, file)


def test_shipped_map_covers_every_catalog_entry_and_every_check():
    assert BUNDLE.requirements and BUNDLE.not_checkable
    mapped = [r for q in BUNDLE.requirements for r in q.legal_refs] + list(BUNDLE.not_checkable)
    for entry in catalog_entries(BUNDLE.sources):
        assert any(_covers(ref, entry) for ref in mapped), entry
    served = {c for q in BUNDLE.requirements for c in q.checks}
    assert served == set(BUNDLE.checks)
    for nc in BUNDLE.not_checkable:
        assert nc.reason.vi.strip() and nc.reason.en.strip()


def test_dangling_check_id_is_refused_with_its_position(tmp_path):
    msg, f = _load_with(tmp_path, "checks: [BMNN-MAN-004]", "checks: [BMNN-MAN-904]")
    line = next(i for i, ln in enumerate(f.read_text(encoding="utf-8").splitlines(), 1) if "BMNN-MAN-904" in ln)
    assert f"{f}:{line}:14: requirement REQ-09 names unknown check 'BMNN-MAN-904'" in msg
    # and MAN-004 now serves nothing
    assert "check BMNN-MAN-004 serves no requirement of the requirement map" in msg


def test_unmapped_catalog_entry_is_refused(tmp_path):
    old = "  - source: vn.law.117-2025-qh15\n    article: \"5\"\n    clause: \"1\"\n"
    text = MAP.read_text(encoding="utf-8")
    start = text.index(old)
    end = text.index("  - source:", start + 1)
    msg, _ = _load_with(tmp_path, text[start:end], "")
    assert "catalog entry vn.law.117-2025-qh15 article '5' clause '1' is neither mapped to a requirement nor marked not_checkable" in msg


def test_unmapped_new_source_is_refused(tmp_path):
    extra = """
  - id: vn.decision.999-2026
    kind: decision
    number: 999/QĐ-TTg
    title: {vi: Quyết định thử, en: Test decision}
    articles:
      - number: "1"
        title: {vi: Điều thử, en: Test article}
"""
    f = BUILTIN_DIR / "sources" / "vn-legal.yaml"
    msg, _ = _load_with(tmp_path, "  - id: vn.decree.63-2026\n", extra.lstrip("\n") + "\n  - id: vn.decree.63-2026\n", file="vn-legal.yaml")
    assert "catalog entry vn.decision.999-2026 article '1' is neither mapped" in msg


def test_not_checkable_needs_a_reason_and_a_real_entry(tmp_path):
    msg, _ = _load_with(tmp_path, "    article: \"21\"\n", "    article: \"99\"\n")
    assert "vn.law.117-2025-qh15 has no article '99' in the catalog" in msg


def test_validate_accepts_the_shipped_map_and_names_a_bad_copy(tmp_path):
    assert validate_path(MAP, enforce_permissions=False) == "sources"
    bad = tmp_path / "requirements.yaml"
    bad.write_text(MAP.read_text(encoding="utf-8").replace("BMNN-SW-003]", "BMNN-SW-993]"), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        validate_path(bad, enforce_permissions=False)
    assert "names unknown check 'BMNN-SW-993'" in info.value.render()


def test_coverage_command_text_and_json():
    p = bmnn("policy", "coverage")
    assert p.returncode == 0, p.stderr
    out = " ".join(p.stdout.split())
    assert "REQ-08" in out and "BMNN-REC-004" in out
    assert "Không kiểm tra được trên máy trạm" in out and "Bộ luật Hình sự số" in out
    assert "chưa xác minh" in out
    p = bmnn("policy", "coverage", "--lang", "en")
    assert p.returncode == 0 and "Not checkable on a workstation" in p.stdout and "Requirement" in p.stdout
    p = bmnn("policy", "coverage", "--json", "--on", "2026-12-01")
    d = json.loads(p.stdout)
    req = next(r for r in d["requirements"] if r["id"] == "REQ-03")
    assert req["title"]["vi"] and req["title"]["en"] and "BMNN-STO-001" in req["checks"]
    ref = next(x for x in req["legal_refs"] if x["source"] == "vn.law.05-2011-qh13" and x["article"] == "13")
    assert ref["verified"] is True and ref["citation"]["vi"].startswith("Luật Cơ yếu số 05/2011/QH13, Điều 13 khoản 1")
    assert ref["citation"]["en"].startswith("Law on Cryptography No. 05/2011/QH13, Article 13 clause 1")
    assert {n["source"] for n in d["not_checkable"]} >= {"vn.criminal-code.2015", "vn.decree.282-2025"}
    assert d["summary"]["checks_mapped"] == d["summary"]["checks"] == len(BUNDLE.checks)
    assert d["summary"]["entries_unmapped"] == 0
