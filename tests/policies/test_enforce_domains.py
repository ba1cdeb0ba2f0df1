"""Rule knowledge lives in the check data: what a check may enforce (``enforce:``, validated
against its evidence) and which fact domains it reads (computed from its compiled conditions)."""

import re
from pathlib import Path

from bmnn_guard.policies.loader import load_bundle
from tests.policies.test_loader import CHECK, _copy_bundle, _error

ROOT = Path(__file__).resolve().parents[2]


def test_no_check_id_in_agent_code():
    """The daemon knows rules only through the check data: no check id, no BMNN- prefix."""
    pat = re.compile(r"BMNN-|\b[A-Z]{2,4}-\d{3}\b")
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
            for p in sorted((ROOT / "agent").rglob("*.py"))
            for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pat.search(line.replace("SHA-256", ""))]
    assert hits == []


def test_shipped_enforcements_and_domains():
    b = load_bundle()
    enforced = {cid: tuple(c.spec.enforce) for cid, c in b.checks.items() if c.spec.enforce}
    assert {cid for cid, e in enforced.items() if "usb_deauthorize" in e} >= {"BMNN-USB-001", "BMNN-USB-002"}
    assert any("link_down" in e for e in enforced.values())
    for cid, c in b.checks.items():
        assert {p.split(".")[0] for p in c.reads} <= c.domains, cid
        for dep in c.depends_on:  # a check reading another's result reads that one's domains too
            assert b.checks[dep].domains <= c.domains, (cid, dep)
    assert "devices" in b.checks["BMNN-USB-001"].domains and "network" not in b.checks["BMNN-USB-001"].domains
    assert "documents" in b.checks["BMNN-DOC-001"].domains


def test_enforce_must_name_the_evidence_it_acts_on(tmp_path):
    d = _copy_bundle(tmp_path)
    f = d / "checks" / "extra.yaml"
    f.write_text(CHECK + "    enforce: [link_down]\n", encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:19:15: enforce 'link_down' acts on network.interfaces items" in msg
    assert "network.interfaces: [name" in msg
    f.write_text(CHECK + "    enforce: [link_down]\n    evidence:\n      network.interfaces: [name, kind]\n",
                 encoding="utf-8")
    assert "acts on" not in _error(lambda: load_bundle(d, enforce_permissions=False))  # (only the map complains)
    f.write_text(CHECK + "    enforce: [format_disk]\n", encoding="utf-8")
    msg = _error(lambda: load_bundle(d, enforce_permissions=False))
    assert f"{f}:19:" in msg and "usb_deauthorize" in msg and "link_down" in msg, msg
