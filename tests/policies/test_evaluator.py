"""Evaluator semantics beyond single checks: tailoring, waivers, verdicts, purity."""

import datetime as dt

import msgspec
import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext, build_context
from bmnn_guard.policies.evaluator import evaluate, summarize, CheckResult, Reason
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.policies.schema import Tailoring

BUNDLE = load_bundle()
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
ONLINE = F.Facts(
    collected=("network",),
    host=F.HostFacts(hostname="pc-01", dmi_serial="SN123"),
    network=F.NetworkFacts(interfaces=(F.NetInterface("eth0", "ethernet", True, True, ("10.0.0.5/24",)),)),
)


def _result(ev, cid):
    return next(r for r in ev.results if r.check_id == cid)


def _tailor(**kw) -> Tailoring:
    return msgspec.convert(kw, Tailoring)


def test_not_in_profile_is_not_selected():
    ev = evaluate(ONLINE, BUNDLE, profile="networked-workstation", now=NOW)
    assert _result(ev, "BMNN-NET-001").status == "not_selected"


def test_disabled_check_is_not_selected_with_reason():
    t = _tailor(disable=[{"check": "BMNN-NET-005", "reason": "máy mới"}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-NET-005")
    assert r.status == "not_selected" and "máy mới" in r.reason.vi


def test_severity_override_carries_justification():
    t = _tailor(severity=[{"check": "BMNN-REC-001", "severity": "high", "justification": "phòng họp nhỏ"}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-REC-001")
    assert r.severity == "high" and r.severity_justification == "phòng họp nhỏ"


def test_valid_waiver_keeps_underlying_status():
    t = _tailor(waivers=[{"check": "BMNN-NET-001", "justification": "bảo trì", "issuer": "Trưởng phòng",
                          "expires": "2026-12-31", "scope": {"dmi_serial": "SN123"}}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-NET-001")
    assert (r.status, r.underlying_status) == ("waived", "fail")
    assert r.waiver.expired is False and r.waiver.issuer == "Trưởng phòng"


def test_expired_waiver_is_not_applied_and_says_so():
    t = _tailor(waivers=[{"check": "BMNN-NET-001", "justification": "bảo trì", "issuer": "TP",
                          "expires": "2026-11-01"}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-NET-001")
    assert r.status == "fail" and r.waiver.expired is True
    assert "expired on 2026-11-01" in r.reason.en and "hết hạn" in r.reason.vi


def test_waiver_for_another_machine_does_not_apply():
    t = _tailor(waivers=[{"check": "BMNN-NET-001", "justification": "x", "issuer": "TP",
                          "expires": "2026-12-31", "scope": {"dmi_serial": "OTHER"}}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-NET-001")
    assert r.status == "fail" and r.waiver is None


def test_citation_fix_in_local_tailoring():
    t = _tailor(citations=[{"check": "BMNN-NET-005", "justification": "văn bản mới",
                            "legal_refs": [{"source": "vn.law.117-2025-qh15", "article": "5", "clause": "2"}]}])
    r = _result(evaluate(ONLINE, BUNDLE, tailoring=t, now=NOW), "BMNN-NET-005")
    assert [(x.article, x.clause) for x in r.legal_refs] == [("5", "2")]


def test_uncollected_domains_are_errors_never_pass():
    ev = evaluate(F.Facts(), BUNDLE, now=NOW)
    for r in ev.results:
        if r.status != "not_selected" and r.mode == "automated":
            assert r.status in ("error", "not_applicable", "fail", "not_reviewed"), (r.check_id, r.status)
            if r.status == "not_reviewed":  # only a step skipped on purpose (documents) is missing
                assert r.reason.en == "Documents were not scanned (remove --no-content)", r.check_id
    assert ev.summary.verdict in ("INCOMPLETE", "NON_COMPLIANT")


def test_documents_not_scanned_is_incomplete_not_an_error():
    """Issue 13 item 3: without the document step DOC-001/002 are "not scanned", not errors."""
    collected = tuple(d for d in F.DOMAINS if d != "documents")
    ev = evaluate(F.Facts(collected=collected), BUNDLE, now=NOW)
    docs = [r for r in ev.results if r.check_id in ("BMNN-DOC-001", "BMNN-DOC-002") and r.status != "not_selected"]
    assert docs
    for r in docs:
        assert r.status == "not_reviewed", (r.check_id, r.status)
        assert "remove --no-content" in r.reason.en and "--no-content" in r.reason.vi
    assert ev.summary.verdict != "COMPLIANT"


def test_evaluation_is_pure_and_deterministic():
    a = evaluate(ONLINE, BUNDLE, now=NOW)
    b = evaluate(ONLINE, BUNDLE, now=NOW)
    assert a == b


def _r(status, severity="high"):
    return CheckResult("X", 1, status, status, severity, "network", "automated", Reason("", ""))


@pytest.mark.parametrize("statuses,verdict", [
    (["pass", "pass"], "COMPLIANT"),
    (["pass", "not_applicable", "not_selected", "informational"], "COMPLIANT"),
    (["pass", "waived"], "COMPLIANT_WITH_EXCEPTIONS"),
    (["pass", ("fail", "low")], "COMPLIANT_WITH_EXCEPTIONS"),
    (["pass", "error"], "INCOMPLETE"),
    (["pass", "not_reviewed"], "INCOMPLETE"),
    (["error", "fail"], "NON_COMPLIANT"),
    (["waived", "not_reviewed", ("fail", "critical")], "NON_COMPLIANT"),
])
def test_verdict_truth_table(statuses, verdict):
    results = [_r(*s) if isinstance(s, tuple) else _r(s) for s in statuses]
    assert summarize(results, "high").verdict == verdict


def test_build_context_from_tailoring_and_registry():
    t = _tailor(independent_lan={"interfaces": ["eth0"], "subnets": ["10.0.0.0/8"]},
                crypto_products=[{"name": "Mã hóa X", "reference": "BCY-1", "packages": ["bcy-vpn"]}])
    ctx = build_context(t, [("0781", "5567", "SER")])
    assert ctx.lan_declared and ctx.lan_interfaces == ("eth0",)
    assert ctx.approved_devices == ("0781:5567:SER",) and ctx.crypto_packages == ("bcy-vpn",)


def test_a_fail_reason_names_items_never_python_values():
    """The item label of a reason is what names it (a path), never a flag of it ("mat True")."""
    facts = F.Facts(collected=("folders",), folders=F.FolderFacts(folders=(
        F.MarkedFolder("/srv/mat", exists=True, owner="root", group="root", mode=0o777),
        F.MarkedFolder("/srv/gone", exists=False),)))
    ctx = EvalContext(folders_declared=True)
    r = _result(evaluate(facts, BUNDLE, context=ctx, now=NOW), "BMNN-FLD-001")
    assert r.status == "fail", r
    for text in (r.reason.vi, r.reason.en):
        assert "/srv/mat" in text and "/srv/gone" in text, text
        assert not any(w in text.split() for w in ("True", "False", "None", "True,", "False,")), text
