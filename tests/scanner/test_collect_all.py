"""collect_all: domains, progress, error isolation, and the unprivileged run."""

import inspect
import os

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext
import bmnn_guard.scanner.collect as C

from .support import as_nobody, judge, open_tmp  # noqa: F401 (fixture)


def test_signature():
    sig = inspect.signature(C.collect_all)
    assert list(sig.parameters) == ["domains", "marked_folders", "probe_hosts", "progress", "journal_check"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in sig.parameters.values())


def test_full_collection_lists_every_domain():
    calls = []
    facts = C.collect_all(progress=lambda d, done: calls.append((d, done)))
    assert facts.collected == C.DOMAINS
    assert calls == [(d, done) for d in C.DOMAINS for done in (False, True)]
    assert facts.host.kernel == os.uname().release
    assert any(i.kind == "loopback" for i in facts.network.interfaces)
    assert facts.software.processes
    F.from_dict(F.Facts, F.to_dict(facts))  # round-trips through the plain form


def test_domain_subset_and_unknown_domain():
    facts = C.collect_all(domains=["host", "documents"])
    assert facts.collected == ("host",)
    with pytest.raises(ValueError):
        C.collect_all(domains=["hots"])


def test_a_crashing_collector_is_an_error_not_a_crash(monkeypatch):
    def boom():
        raise RuntimeError("bug")

    monkeypatch.setattr(C, "collect_software", boom)
    facts = C.collect_all(domains=["software"])
    assert facts.collected == ("software",)
    assert facts.software.errors[0].affects is None and "bug" in facts.software.errors[0].message
    results, _ = judge(facts)
    assert results["BMNN-SW-001"].status == "error"


def test_normal_user_gets_errors_never_a_clean_pass(open_tmp):
    locked = open_tmp / "locked"  # nobody cannot even stat the marked folder below it
    secret = locked / "mat"
    (secret / "inner").mkdir(parents=True)
    os.chmod(secret, 0o700)
    os.chmod(locked, 0o700)
    ctx = EvalContext(folders_declared=True)

    def run():
        return F.to_dict(C.collect_all(marked_folders=[{"path": str(secret), "owner": "root"}]))

    facts = F.from_dict(F.Facts, as_nobody(run))
    results, ev = judge(facts, context=ctx)
    assert results["BMNN-FLD-001"].status == "error", results["BMNN-FLD-001"].reason.en
    assert results["BMNN-AGT-001"].status in ("error", "fail")  # fail where the agent is not installed
    assert ev.summary.verdict != "COMPLIANT"
    # as root the same folder is readable and passes
    root_facts = C.collect_all(domains=["folders"], marked_folders=[{"path": str(secret), "owner": "root"}])
    assert judge(root_facts, context=ctx)[0]["BMNN-FLD-001"].status == "pass"
