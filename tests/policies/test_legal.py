"""The legal catalog: "verified" is evidence, "in force" is a date question, citations read as
their titles say and say what is doubtful about them once."""

import datetime as dt
import re
import shutil
from pathlib import Path

import msgspec
import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.citation import in_force, resolve
from bmnn_guard.policies.context import build_context
from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.policies.evaluator import evaluate
from bmnn_guard.policies.loader import BUILTIN_DIR, catalog_entries, load_bundle
from bmnn_guard.policies.schema import Tailoring

BUNDLE = load_bundle()
DAY = dt.date(2026, 12, 1)
SOURCES = BUILTIN_DIR / "sources" / "vn-legal.yaml"


def bundle_error(tmp_path: Path, old: str, new: str, file: str = "vn-legal.yaml") -> tuple[str, Path]:
    """Load a copy of the shipped bundle with one edit to ``sources/<file>``: (the rendered error, the file)."""
    d = tmp_path / "bundle"
    shutil.copytree(BUILTIN_DIR, d)
    f = d / "sources" / file
    text = f.read_text(encoding="utf-8")
    assert old in text, old
    f.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_bundle(d, enforce_permissions=False)
    return info.value.render(), f




def _line_of(path: Path, needle: str, after: str = "") -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, ln in enumerate(lines) if after in ln) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


# ---------------------------------------------------------------- verified is evidence


def test_verified_without_what_was_read_is_refused_at_its_line(tmp_path):
    # Decree 63/2026 is unverified; claiming otherwise without a reading must fail at "status"
    old = "    number: 63/2026/NĐ-CP\n    title:\n      vi: Nghị định quy định chi tiết một số điều của Luật Bảo vệ bí mật nhà nước\n      en: Decree detailing some articles of the Law on Protection of State Secrets\n    status: unverified\n"
    msg, f = bundle_error(tmp_path, old, old.replace("status: unverified", "status: verified"))
    line = _line_of(f, "status: verified", after="id: vn.decree.63-2026")
    assert f"{f}:{line}:13: source vn.decree.63-2026 is marked verified but says nothing of what was read" in msg
    assert msg.count("^") >= 1


def test_schema_default_is_unverified(tmp_path):
    # dropping the status of a verified clause makes it unverified, never verified
    d = tmp_path / "bundle"
    shutil.copytree(BUILTIN_DIR, d)
    f = d / "sources" / "vn-legal.yaml"
    text = f.read_text(encoding="utf-8")
    marker = '          - number: "1"\n            status: verified\n            text:\n              vi: "Xác định bí mật nhà nước'
    assert marker in text
    f.write_text(text.replace(marker, marker.replace("            status: verified\n", "")), encoding="utf-8")
    b = load_bundle(d, enforce_permissions=False)
    assert resolve(b.sources, "vn.law.117-2025-qh15", "5", "1").verified is False


def test_verified_text_must_be_among_the_words_read(tmp_path):
    old = 'vi: "Nhà nước độc quyền sản xuất và cung cấp sản phẩm mật mã cho các cơ quan, tổ chức để bảo vệ thông tin bí mật nhà nước."'
    msg, f = bundle_error(tmp_path, old, old.replace("độc quyền", "toàn quyền"))
    assert "vn.law.05-2011-qh13 article 13 clause '1' is marked verified but its Vietnamese text is not among the words read" in msg
    assert re.search(rf"{re.escape(str(f))}:\d+:\d+: ", msg)


def test_a_reading_names_where_it_was_read(tmp_path):
    old = '        url: "https://github.com/diepxuan/diepxuan.github.io/blob/fbaa690e1c9ff35deabbf5e9a8b8830ce3d54048/van-ban/an-ninh-quoc-gia/co-yeu.md"\n        read_on: 2026-12-01\n        locator: "Điều 1.7.LQ.37'
    msg, _ = bundle_error(tmp_path, old, old.split("\n", 1)[1])
    assert "a reading needs the URL or the gazette reference of what was read" in msg


def test_a_provision_without_a_readable_number_cannot_be_verified(tmp_path):
    old = "          - number: ai\n            caption:"
    text = SOURCES.read_text(encoding="utf-8")
    block = text[text.index(old):]
    status_line = block[block.index("            status: unverified"):].split("\n", 1)[0]
    msg, _ = bundle_error(tmp_path, old + block[len(old):block.index(status_line) + len(status_line)],
                          (old + block[len(old):block.index(status_line) + len(status_line)]).replace(
                              "status: unverified", "status: verified"))
    assert "clause 'ai' has no readable number, so it cannot be verified" in msg


def test_a_key_number_needs_a_caption(tmp_path):
    old = '        caption: {vi: "điều về thời hạn bảo vệ", en: "article on protection periods"}\n'
    msg, _ = bundle_error(tmp_path, old, "")
    assert "article 'periods' is not a number: give it a caption" in msg


def test_repealed_by_must_name_a_catalog_text(tmp_path):
    msg, _ = bundle_error(tmp_path, "repealed_by: [vn.law.117-2025-qh15]", "repealed_by: [vn.law.999-2030]")
    assert "unknown legal source 'vn.law.999-2030'" in msg


def test_every_verified_entry_of_the_shipped_catalog_carries_its_reading():
    for src in BUNDLE.sources.values():
        for entry in [src, *src.articles, *(c for a in src.articles for c in a.clauses),
                      *(p for a in src.articles for c in a.clauses for p in c.points)]:
            if entry.status == "verified":
                assert entry.read and all(r.quote and (r.url or r.gazette) and r.read_on for r in entry.read), entry


def test_review_findings_are_in_the_catalog():
    s = BUNDLE.sources
    # independent-LAN definition: the words read, number unverified
    lan = resolve(s, "vn.law.117-2025-qh15", "2", "lan")
    assert not lan.verified and "mạng máy tính khác có kết nối ra ngoài trụ sở đó" in lan.text
    # Decree 26/2020 Art. 3 cl. 4 with its cơ yếu exception
    cl4 = resolve(s, "vn.decree.26-2020", "3", "4")
    assert cl4.verified and cl4.text.endswith("trừ trường hợp thực hiện theo quy định pháp luật về cơ yếu.")
    # Art. 6 cl. 2.a requires wired microphones; 2.b bars Tuyệt mật/Tối mật, the chair decides for Mật
    a = resolve(s, "vn.decree.26-2020", "6", "2", point="a")
    b = resolve(s, "vn.decree.26-2020", "6", "2", point="b")
    assert a.verified and "micro có dây" in a.text
    assert b.verified and "độ Tuyệt mật, Tối mật" in b.text and "theo yêu cầu của người chủ trì" in b.text
    # Law 05/2011 Art. 13 cl. 1 and Art. 3 cl. 7, not the project's own reading
    assert resolve(s, "vn.law.05-2011-qh13", "13", "1").text.startswith("Nhà nước độc quyền sản xuất")
    assert resolve(s, "vn.law.05-2011-qh13", "3", "7").text.startswith("Mạng liên lạc cơ yếu")
    assert not any(a.number == "" for a in s["vn.law.05-2011-qh13"].articles)
    # cl. 5 only partly read; AI clause is about infringement; Directive 32 read only in the press
    assert not resolve(s, "vn.law.117-2025-qh15", "5", "5").verified
    assert "để xâm phạm" in resolve(s, "vn.law.117-2025-qh15", "5", "ai").text
    assert not resolve(s, "vn.directive.32-2025", "", None).verified
    # history rows kept
    assert resolve(s, "vn.law.29-2018-qh14", "5", "5").text.count("đã kết nối hoặc đang kết nối") == 1


# ---------------------------------------------------------------- in force is a date question


def test_in_force_follows_the_dates():
    law117, law29 = BUNDLE.sources["vn.law.117-2025-qh15"], BUNDLE.sources["vn.law.29-2018-qh14"]
    assert in_force(law117, dt.date(2026, 2, 28)) is False and in_force(law117, dt.date(2026, 3, 1)) is True
    assert in_force(law29, dt.date(2026, 2, 28)) is True and in_force(law29, dt.date(2026, 3, 1)) is False
    assert in_force(law29, dt.date(2020, 6, 30)) is False
    # reported replaced on a day nobody could read: unknown, never "in force"
    assert in_force(BUNDLE.sources["vn.decree.26-2020"], DAY) is None
    # no known first day: unknown
    assert in_force(BUNDLE.sources["vn.decree.63-2026"], DAY) is None


def test_scan_day_decides_what_the_record_says():
    facts = F.Facts(collected=("network",), network=F.NetworkFacts(interfaces=(F.NetInterface("eth0", "ethernet", True, True, ("10.0.0.5/24",)),)))
    before = evaluate(facts, BUNDLE, now=dt.datetime(2026, 2, 1, 9, tzinfo=dt.timezone.utc))
    after = evaluate(facts, BUNDLE, now=dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone.utc))
    r0 = next(r for r in before.results if r.check_id == "BMNN-NET-001")
    r1 = next(r for r in after.results if r.check_id == "BMNN-NET-001")
    assert r0.status == r1.status == "fail"
    assert r0.basis_in_force is False and r1.basis_in_force is True
    assert "căn cứ chính không còn hoặc chưa có hiệu lực vào ngày 01/02/2026" in r0.reason.vi
    assert "primary basis is not in force on 2026-02-01" in r0.reason.en
    assert "hiệu lực" not in r1.reason.vi
    ref0 = next(x for x in r0.legal_refs if x.source == "vn.law.117-2025-qh15")
    assert ref0.in_force is False
    # on that earlier day the 2018 law was in force: NET-005's history basis too
    r5 = next(r for r in before.results if r.check_id == "BMNN-NET-005")
    assert next(x for x in r5.legal_refs if x.source == "vn.law.29-2018-qh14").in_force is True


def test_unknown_basis_is_said_to_be_unknown(tmp_path):
    # a check resting only on Decree 26/2020 (replacement reported, day unknown) says so
    t = msgspec.convert({"citations": [{"check": "BMNN-MAN-006", "justification": "thử",
                                        "legal_refs": [{"source": "vn.decree.26-2020", "article": "6", "clause": "2", "point": "a"}]}]},
                        Tailoring)
    ev = evaluate(F.Facts(), BUNDLE, profile="meeting-room", tailoring=t, now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    r = next(r for r in ev.results if r.check_id == "BMNN-MAN-006")
    assert r.basis_in_force is None and "chưa xác định được căn cứ chính còn hiệu lực" in r.reason.vi


# ---------------------------------------------------------------- citations read as their titles say


def _all_refs():
    for entry in catalog_entries(BUNDLE.sources):
        yield entry


@pytest.mark.parametrize("lang,word", [("vi", "chưa xác minh"), ("en", "unverified")])
def test_every_citation_says_unverified_once_or_not_at_all(lang, word):
    for sid, art, cl, pt in _all_refs():
        c = resolve(BUNDLE.sources, sid, art, cl, lang, point=pt, day=DAY)
        for text in (c.label, c.short):
            assert text.count(word) == (0 if c.verified else 1), text
            assert text.count("(") == text.count(")") and text.count(" (") <= 1 + c.plain.count(" ("), text


def test_catalog_keys_never_read_as_numbers():
    for sid, art, cl, pt in _all_refs():
        for lang in ("vi", "en"):
            c = resolve(BUNDLE.sources, sid, art, cl, lang, point=pt)
            for key in (art, cl):
                if key and not key.isdigit():
                    assert f"khoản {key}" not in c.label and f"Điều {key}" not in c.label, c.label
                    assert f"clause {key}" not in c.label and f"Article {key}" not in c.label, c.label


def test_decree_reads_kind_and_number_first():
    c = resolve(BUNDLE.sources, "vn.decree.63-2026", "e-documents", None, "vi")
    assert c.plain.startswith("Nghị định số 63/2026/NĐ-CP quy định chi tiết một số điều của Luật Bảo vệ bí mật nhà nước")
    assert "Luật Bảo vệ bí mật nhà nước số 63/2026" not in c.label
    assert resolve(BUNDLE.sources, "vn.decree.26-2020", "6", "2", "en", point="b").plain == (
        "Decree No. 26/2020/NĐ-CP detailing some articles of the Law on Protection of State Secrets, Article 6 clause 2 point b")
    assert resolve(BUNDLE.sources, "vn.law.117-2025-qh15", "5", "2", "vi").plain == (
        "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, Điều 5 khoản 2")
    assert resolve(BUNDLE.sources, "vn.criminal-code.2015", "337", "1", "vi").short == "Bộ luật Hình sự số 100/2015/QH13, Điều 337 khoản 1"


def test_history_citation_says_when_it_ended_once():
    c = resolve(BUNDLE.sources, "vn.law.29-2018-qh14", "5", "5", "vi", day=DAY)
    assert c.label.endswith("(hết hiệu lực từ ngày 01/03/2026)") and c.label.count("hiệu lực") == 1
    both = resolve(BUNDLE.sources, "vn.decree.63-2026", "e-documents", None, "en", day=DAY)
    assert both.label.endswith("(unverified; whether in force is unknown)")


# ---------------------------------------------------------------- the cơ yếu exception


def test_crypto_exception_is_shown_with_its_declaration_and_changes_the_verdict():
    t = msgspec.convert({"crypto_products": [{"name": "Thiết bị mã hóa IP", "reference": "BB 7/BCY",
                                              "interfaces": ["cy0"]}]}, Tailoring)
    facts = F.Facts(collected=("network",), network=F.NetworkFacts(
        interfaces=(F.NetInterface("lo", "loopback", True, True, ("127.0.0.1/8",)),
                    F.NetInterface("cy0", "tunnel", True, None, ("172.31.0.2/30",), tunnel_type="tun")),
        routes=(F.Route("0.0.0.0/0", "cy0", "172.31.0.1"),)))
    ev = evaluate(facts, BUNDLE, profile="secret-workstation", tailoring=t, context=build_context(t),
                  now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    r = next(r for r in ev.results if r.check_id == "BMNN-NET-001")
    assert r.status == "pass" and [e.item for e in r.exceptions] == ["cy0"]
    e = r.exceptions[0]
    assert (e.name, e.reference, e.supplied_by) == ("Thiết bị mã hóa IP", "BB 7/BCY", "Ban Cơ yếu Chính phủ")
    assert {x.source for x in e.legal_refs} == {"vn.law.117-2025-qh15", "vn.law.05-2011-qh13"}
    # the same machine without the declaration is connected
    plain = evaluate(facts, BUNDLE, profile="secret-workstation", now=dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc))
    assert next(r for r in plain.results if r.check_id == "BMNN-NET-001").status == "fail"
    # only NET checks look at it: a compliant verdict would now be "with exceptions"
    from bmnn_guard.policies.evaluator import summarize
    assert summarize([r], "high").verdict == "COMPLIANT_WITH_EXCEPTIONS"


def test_tailoring_refuses_a_crypto_declaration_without_its_reference(tmp_path):
    from bmnn_guard.policies.loader import load_tailoring
    (tmp_path / "30-coyeu.yaml").write_text('crypto_products:\n  - {name: "Thiết bị", reference: " ", interfaces: [cy0]}\n',
                                            encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_tailoring(tmp_path, BUNDLE, enforce_permissions=False)
    assert "30-coyeu.yaml:2:" in info.value.render() and "needs its reference" in info.value.render()
