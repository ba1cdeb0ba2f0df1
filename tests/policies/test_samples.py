"""One generated test per check from its sample file (fail2ban-style).

Every check must have ``samples/<ID>.yaml`` with at least one pass and one fail case; a check
without samples fails the suite, and so does a sample file for a check that does not exist.
"""

import datetime as dt
from pathlib import Path

import dataclasses

import msgspec
import pytest
import yaml

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext, build_context
from bmnn_guard.policies.evaluator import Answer, evaluate
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.policies.schema import Tailoring

SAMPLES = Path(__file__).parent / "samples"
BUNDLE = load_bundle()
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def _profile_for(cid: str, wanted: str | None) -> str:
    if wanted:
        return wanted
    for pid in ("secret-workstation", *sorted(BUNDLE.profiles)):
        if any((e if isinstance(e, str) else e.id) == cid for e in BUNDLE.profiles[pid].checks):
            return pid
    raise AssertionError(f"{cid} is in no profile")


def _cases():
    for cid in sorted(BUNDLE.checks):
        path = SAMPLES / f"{cid}.yaml"
        if not path.exists():
            yield pytest.param(cid, None, None, id=f"{cid}-missing-samples")
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in doc["cases"]:
            yield pytest.param(cid, doc.get("profile"), case, id=f"{cid}-{case['name']}")


@pytest.mark.parametrize("cid,profile,case", list(_cases()))
def test_check_sample(cid, profile, case):
    assert case is not None, f"{cid} has no samples file tests/policies/samples/{cid}.yaml"
    facts = F.from_dict(F.Facts, case.get("facts", {}))
    # a local.d fragment goes through the real tailoring schema and context builder
    tailoring = msgspec.convert(case["tailoring"], Tailoring, strict=False) if "tailoring" in case else None
    ctx = build_context(tailoring) if tailoring is not None else EvalContext()
    ctx = dataclasses.replace(ctx, **{k: tuple(v) if isinstance(v, list) else v for k, v in case.get("context", {}).items()})
    answers = {k: Answer(**v) for k, v in case.get("answers", {}).items()}
    result = evaluate(facts, BUNDLE, profile=_profile_for(cid, case.get("profile") or profile),
                      tailoring=tailoring, context=ctx, answers=answers, now=NOW)
    r = next(r for r in result.results if r.check_id == cid)
    assert r.status == case["expect"], f"{case['name']}: got {r.status}: {r.reason.en}"
    if "severity" in case:
        assert r.severity == case["severity"]
    if "exceptions" in case:
        assert [e.item for e in r.exceptions] == case["exceptions"], r.exceptions
    else:
        assert not r.exceptions, f"{case['name']}: unexpected exceptions {r.exceptions}"
    for words in case.get("reason_has", []):
        assert words in r.reason.vi or words in r.reason.en, f"{case['name']}: {words!r} not in {r.reason}"
    if "evidence" in case:
        assert any(all(row.get(k) == v for k, v in case["evidence"].items()) for row in r.evidence), r.evidence
    if r.status == "fail" and r.mode == "automated":
        assert r.evidence or not BUNDLE.checks[cid].spec.evidence, "a failing check must say what failed"
    assert r.reason.vi and r.reason.en


def test_every_check_has_pass_and_fail_samples():
    for cid in sorted(BUNDLE.checks):
        path = SAMPLES / f"{cid}.yaml"
        assert path.exists(), f"{cid}: no samples"
        expects = {c["expect"] for c in yaml.safe_load(path.read_text())["cases"]}
        assert "pass" in expects, f"{cid}: no pass sample"
        assert expects & {"fail", "informational"}, f"{cid}: no fail sample"


def test_no_samples_for_unknown_checks():
    for path in SAMPLES.glob("*.yaml"):
        assert path.stem in BUNDLE.checks, f"{path.name} names no check"
