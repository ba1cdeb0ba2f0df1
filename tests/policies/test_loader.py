"""The loader pins its messages: file:line:col, the offending line and a caret."""

import os
import shutil
from pathlib import Path

import pytest

from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.policies.loader import BUILTIN_DIR, load_bundle, load_tailoring
from bmnn_guard.policies.validate import validate_path

REQUIRED_IDS = {
    "BMNN-NET-001", "BMNN-NET-002", "BMNN-NET-003", "BMNN-NET-004", "BMNN-NET-005", "BMNN-NET-006",
    "BMNN-NET-007", "BMNN-USB-001", "BMNN-USB-002", "BMNN-REC-001", "BMNN-REC-002", "BMNN-SW-001",
    "BMNN-SW-002", "BMNN-SW-003", "BMNN-STO-001", "BMNN-FLD-001", "BMNN-DOC-001", "BMNN-AGT-001",
}
PROFILES = {"secret-workstation", "independent-lan-workstation", "networked-workstation", "meeting-room", "copier-host"}


def test_shipped_bundle_loads_with_required_ids_and_profiles():
    b = load_bundle()
    assert REQUIRED_IDS <= set(b.checks)
    assert any(c.startswith("BMNN-MAN-") for c in b.checks)
    assert PROFILES == set(b.profiles)
    assert len(b.sha256) == 64


def test_every_check_has_a_primary_basis_in_force_on_a_day_of_2026_12():
    import datetime as dt
    from bmnn_guard.policies.citation import in_force
    b = load_bundle()
    day = dt.date(2026, 12, 1)
    for cid, c in b.checks.items():
        primary = [r for r in c.spec.legal_refs if r.role == "primary"]
        assert primary, cid
        assert any(in_force(b.sources[r.source], day) is True for r in primary), cid


def _copy_bundle(tmp_path: Path) -> Path:
    dst = tmp_path / "bundle"
    shutil.copytree(BUILTIN_DIR, dst)
    return dst


def _error(fn) -> str:
    with pytest.raises(PolicyError) as info:
        fn()
    return info.value.render()


def test_unknown_key_points_at_key(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK.replace("    severity: high\n", "    severty: high\n"), encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:9:5: unknown key 'severty'" in msg
    assert "    severty: high\n        ^" in msg


def test_dangling_legal_reference(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK.replace("article: \"5\", clause: \"2\"", "article: \"99\", clause: \"2\""), encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:12:49: vn.law.117-2025-qh15 has no article '99' in the catalog" in msg
    assert msg.rstrip().endswith("^")


def test_unknown_source(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK.replace("vn.law.117-2025-qh15", "vn.law.999"), encoding="utf-8")
    assert f"{f}:12:18: unknown legal source 'vn.law.999'" in _error(lambda: load_bundle(d, enforce_permissions=False))


def test_duplicate_id(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "zz-dup.yaml"
    f.write_text(CHECK.replace("BMNN-TST-001", "BMNN-NET-001"), encoding="utf-8")
    assert f"{f}:2:9: duplicate id 'BMNN-NET-001'" in _error(lambda: load_bundle(d, enforce_permissions=False))


def test_unknown_fact_field(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK.replace("field: carrier", "field: carier"), encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:17:21:" in msg and "unknown fact field 'carier'" in msg


def test_profile_names_unknown_check(tmp_path):
    d = _copy_bundle(tmp_path)
    p = d / "profiles" / "profiles.yaml"
    p.write_text(p.read_text(encoding="utf-8").replace("      - BMNN-NET-002\n", "      - BMNN-NET-902\n", 1), encoding="utf-8")
    assert "profile 'secret-workstation' names unknown check 'BMNN-NET-902'" in _error(lambda: load_bundle(d, enforce_permissions=False))


def test_yaml_syntax_error_has_position(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text("checks:\n  - id: [BMNN\n    x: 1\n", encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:3:" in msg and "YAML syntax error" in msg


def test_duplicate_yaml_key(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK.replace("    version: 1\n", "    version: 1\n    version: 2\n"), encoding="utf-8")
    assert f"{f}:4:5: duplicate key 'version'" in _error(lambda: load_bundle(d, enforce_permissions=False))


@pytest.mark.skipif(os.geteuid() != 0, reason="permission refusal applies when running as root")
def test_root_refuses_group_writable_policy(tmp_path):
    d = _copy_bundle(tmp_path)
    for p in [d, *d.rglob("*")]:
        os.chown(p, 0, 0)
        os.chmod(p, 0o755 if p.is_dir() else 0o644)
    load_bundle(d)  # clean copy loads
    target = d / "checks" / "network.yaml"
    os.chmod(target, 0o664)
    msg = _error(lambda: load_bundle(d))
    assert f"{target}: refusing policy file: writable by group or others (mode 0664)" in msg
    os.chmod(target, 0o644)
    os.chown(target, 65534, 0)
    assert "owned by uid 65534, not root" in _error(lambda: load_bundle(d))


def test_tailoring_unknown_check_and_profile(tmp_path):
    b = load_bundle()
    (tmp_path / "10-local.yaml").write_text("profile: secret-desk\ndisable:\n  - check: BMNN-XXX-001\n    reason: x\n", encoding="utf-8")
    msg = _error(lambda: load_tailoring(tmp_path, b, enforce_permissions=False))
    assert "10-local.yaml:1:10: unknown profile 'secret-desk'" in msg
    assert "10-local.yaml:3:12: unknown check 'BMNN-XXX-001'" in msg


def test_tailoring_files_merge_in_order(tmp_path):
    b = load_bundle()
    (tmp_path / "10-a.yaml").write_text("profile: meeting-room\nmarked_folders: [{path: /srv/a}]\n", encoding="utf-8")
    (tmp_path / "20-b.yaml").write_text("profile: copier-host\nmarked_folders: [{path: /srv/b}]\n", encoding="utf-8")
    lt = load_tailoring(tmp_path, b, enforce_permissions=False)
    assert lt.tailoring.profile == "copier-host"
    assert [m.path for m in lt.tailoring.marked_folders] == ["/srv/a", "/srv/b"]


def test_validate_single_check_file(tmp_path):
    f = tmp_path / "new.yaml"
    f.write_text(CHECK, encoding="utf-8")
    assert validate_path(f, enforce_permissions=False) == "checks"
    f.write_text(CHECK.replace("category: network", "category: netwrok"), encoding="utf-8")
    msg = _error(lambda: validate_path(f, enforce_permissions=False))
    assert f"{f}:10:15: invalid value 'netwrok'; expected one of: network, usb" in msg


CHECK = """checks:
  - id: BMNN-TST-001
    version: 1
    title: {vi: Thử, en: Test}
    description: {vi: Thử, en: Test}
    rationale: {vi: Thử, en: Test}
    remediation: {vi: Thử, en: Test}
    mode: automated
    severity: high
    category: network
    legal_refs:
      - {source: vn.law.117-2025-qh15, article: "5", clause: "2"}
    fail_if:
      count: network.interfaces
      where:
        all:
          - {field: carrier, equals: true}
      ge: 1
"""
