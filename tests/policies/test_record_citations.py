"""Citations as the scan document and the reports render them: read as their titles say, with
what is doubtful said once, and "in force" judged for the day of the scan."""

import datetime as dt
import io
import json

import msgspec

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import build_context
from bmnn_guard.policies.evaluator import evaluate
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.policies.schema import Tailoring
from bmnn_guard.scanner import document
from bmnn_guard.scanner.report import html as html_report
from bmnn_guard.scanner.report import text as text_report
from tests.scanner.docfixture import make_document

BUNDLE = load_bundle()


def _refs(doc):
    return [ref for r in doc["results"] for ref in r["legal_refs"]]


def test_document_citations_mark_doubt_once_and_read_as_titles():
    doc = make_document()
    refs = _refs(doc)
    assert refs
    for ref in refs:
        for lang, word in (("vi", "chưa xác minh"), ("en", "unverified")):
            for key in ("citation", "short"):
                assert ref[key][lang].count(word) == (0 if ref["verified"] else 1), ref[key][lang]
    e63 = next(ref for ref in refs if ref["source"] == "vn.decree.63-2026")
    assert e63["citation"]["vi"].startswith("Nghị định số 63/2026/NĐ-CP quy định chi tiết")
    assert e63["short"]["vi"] == "Nghị định số 63/2026/NĐ-CP, quy định về văn bản điện tử bí mật nhà nước (chưa xác minh; chưa rõ còn hiệu lực)"
    assert e63["in_force"] is None
    hist = next(ref for ref in refs if ref["source"] == "vn.law.29-2018-qh14")
    assert hist["in_force"] is False and hist["short"]["vi"].endswith("(hết hiệu lực từ ngày 01/03/2026)")


def test_text_and_html_reports_print_the_marker_once():
    from rich.console import Console
    doc = make_document()
    buf = io.StringIO()
    text_report.report(doc, Console(file=buf, width=3000, color_system=None), "vi")
    out = buf.getvalue()
    from bmnn_guard.scanner.report import shown
    expected = sum(1 for r in shown(doc) for ref in r["legal_refs"] if not ref["verified"])
    assert expected and out.count("chưa xác minh") == expected
    assert "(khoản chưa xác minh)" not in out and "(điều chưa xác minh)" not in out
    page = html_report.report(doc, "vi")
    assert "Nghị định số 63/2026/NĐ-CP" in page and "(chưa xác minh) (chưa xác minh)" not in page


def test_crypto_exception_reaches_the_document():
    t = msgspec.convert({"crypto_products": [{"name": "Thiết bị mã hóa IP", "reference": "BB 7/BCY", "interfaces": ["cy0"]}]},
                        Tailoring)
    facts = F.Facts(collected=("network",), network=F.NetworkFacts(
        interfaces=(F.NetInterface("cy0", "tunnel", True, None, ("172.31.0.2/30",)),)))
    now = dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    ev = evaluate(facts, BUNDLE, tailoring=t, context=build_context(t), now=now)
    doc = document.build(facts, ev, BUNDLE, started_at=now, finished_at=now, inspector=None, unit=None)
    r = next(r for r in doc["results"] if r["check_id"] == "BMNN-NET-001")
    assert r["status"] == "pass" and r["basis_in_force"] is True
    assert r["exceptions"][0]["item"] == "cy0" and r["exceptions"][0]["reference"] == "BB 7/BCY"
    assert r["exceptions"][0]["legal_refs"][1]["citation"]["vi"].startswith("Luật Cơ yếu số 05/2011/QH13, Điều 13 khoản 1")
    assert "Ngoại lệ theo pháp luật về cơ yếu, theo khai báo của cơ quan: cy0: Thiết bị mã hóa IP (BB 7/BCY" in r["reason"]["vi"]
    json.dumps(doc, ensure_ascii=False)  # the document stays plain JSON
