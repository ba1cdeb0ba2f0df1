"""The daemon's records read in the reader's language: every message the agent writes has a key in
the catalog whose placeholders are the args the call site gives, and `bmnn events`, the sinks and
the reports render it in Vietnamese by default and in English when asked."""

import ast
import json
import re
import string
from pathlib import Path

import pytest

from bmnn_guard.agent.event import Event
from bmnn_guard.agent.journal import Journal, Record
from bmnn_guard.agent.sinks import SinkContext, ecs, journald
from bmnn_guard.agent.wording import said, shown, words
from bmnn_guard.scanner.i18n import keys, lookup
from tests.agent.conftest import ROOT, agent_env, run_bmnn  # noqa: F401 (agent_env: a fixture)

AGENT = ROOT / "agent"


def _fields(text):
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def _said_calls():
    for path in sorted(AGENT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "said":
                yield path, node


def test_every_message_key_of_the_agent_is_in_the_catalog_with_the_args_it_is_given():
    calls = list(_said_calls())
    assert len(calls) >= 30  # the daemon, the watch, delivery, spool, ack, actors, journal, reset, hand-over
    for path, node in calls:
        where = f"{path.relative_to(ROOT)}:{node.lineno}"
        assert node.args and isinstance(node.args[0], ast.Constant), where
        key = node.args[0].value
        given = {k.arg for k in node.keywords}
        for lang in ("vi", "en"):
            text = lookup(key, lang)
            assert text is not None, f"{where}: {key} not in the {lang} catalog"
            assert _fields(text) == given, f"{where}: {key} ({lang}) wants {_fields(text)}, given {given}"


def test_no_record_message_is_written_as_a_literal_english_text():
    """A message spelt at the call site (an f-string, a literal) has no key: nobody could read it in
    Vietnamese. File records and rule reasons are the known exceptions (rendered from evidence)."""
    found = []
    for path in sorted(AGENT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for k in node.keywords:
                    if k.arg == "message" and isinstance(k.value, (ast.JoinedStr, ast.Constant, ast.BinOp)):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_every_key_renders_differently_in_vietnamese():
    for key in keys("record.msg."):
        vi, en = lookup(key, "vi"), lookup(key, "en")
        assert vi and en and _fields(vi) == _fields(en), key
        if key != "record.msg.sink_restart":  # "{sink}: {reason}; ..." — the words around differ
            assert vi != en, key


def test_a_record_reads_in_either_language_from_its_own_evidence():
    e = Event.of("agent_start", severity="info", evidence={"pid": 7},
                 **said("record.msg.agent_started", policy="0123456789ab", profile="mat"))
    assert e.message == "bmnn-agent started, policy 0123456789ab, profile mat"
    assert e.evidence["text"] == {"key": "record.msg.agent_started", "args": {"policy": "0123456789ab", "profile": "mat"}}
    assert shown(e.message, e.evidence, "vi") == "bmnn-agent đã khởi động, chính sách 0123456789ab, hồ sơ mat"
    assert shown(e.message, e.evidence, "en") == e.message
    # a record written before the keys existed: its English is matched against the catalog
    assert shown("monitoring gap: source udev stopped", None, "vi") == "mất giám sát: nguồn udev đã dừng"
    # something no key matches stays as it is, never dropped
    assert shown("hand-written by a tool", None, "vi") == "hand-written by a tool"
    # file records carry no copy of their words
    ev = {"event": "moved", "path": "/mat/a.docx", "dest": "/mat/b.docx", "is_directory": False}
    assert shown("moved /mat/a.docx", ev, "vi", "file") == "đã chuyển /mat/a.docx → /mat/b.docx"
    assert shown("x", {**ev, "resync": True}, "en", "file").endswith("(found at resynchronisation: changed while not watched)")
    # a rule's reason: the policy's own Vietnamese and English
    assert shown("USB chưa đăng ký", {"reason_en": "USB not registered"}, "en") == "USB not registered"
    assert shown("USB chưa đăng ký", {"reason_en": "USB not registered"}, "vi") == "USB chưa đăng ký"
    # args from another version of a key never crash a reader
    bad = {"text": {"key": "record.msg.agent_started", "args": {"nothing": 1}}}
    assert shown("bmnn-agent started, policy x, profile y", bad, "vi") == "bmnn-agent đã khởi động, chính sách x, hồ sơ y"
    assert words(e.message, e.evidence, e.kind)["vi"].startswith("bmnn-agent đã khởi động")


def test_a_key_outside_the_record_words_is_refused():
    with pytest.raises(ValueError):
        said("status.pass")


def _rec(seq, ev):
    return Record(seq, ev.time, "host", ev.kind, ev.check_id, ev.severity, ev.evidence, ev.message, "0" * 64, "1" * 64, "2" * 64)


def test_sinks_speak_the_language_of_agent_yaml_and_ecs_keeps_the_signed_text():
    ev = Event.of("gap", severity="high", evidence={"source": "udev"}, **said("record.msg.source_stopped", source="udev"))
    r = _rec(3, ev)
    assert journald.text(r, "vi").endswith("mất giám sát: nguồn udev đã dừng")
    assert journald.text(r, "en").endswith("monitoring gap: source udev stopped")
    out = ecs.to_ecs(r, SinkContext(host_name="h"))
    assert out["message"] == "mất giám sát: nguồn udev đã dừng" and out["bmnn.message"] == ev.message
    out = ecs.to_ecs(r, SinkContext(host_name="h", lang="en"))
    assert out["message"] == ev.message and "bmnn.message" not in out


def test_bmnn_events_shows_the_daemons_words_in_vietnamese_by_default(agent_env):
    j = Journal.open(Path(agent_env["BMNN_STATE_DIR"]) / "journal.db")
    j.append("agent_start", severity="info", evidence={"pid": 1},
             **said("record.msg.agent_started", policy="0123456789ab", profile="mat"))
    j.append("policy_loaded", severity="high", evidence={"ok": False},
             **said("record.msg.reload_rejected", policy="0123456789ab", error="checks/x.yaml:3: unknown key 'severty'"))
    j.append("file", evidence={"event": "created", "path": "/mat/bao-cao.docx", "is_directory": False},
             message="created /mat/bao-cao.docx")
    j.append("agent_stop", severity="info", evidence={"uptime_s": 3}, **said("record.msg.agent_stopped"))
    j.close()
    p = run_bmnn(["events"], agent_env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert "bmnn-agent đã khởi động, chính sách 0123456789ab, hồ sơ mat" in lines[0]
    assert "từ chối nạp lại, giữ chính sách đang áp dụng (0123456789ab)" in lines[1]
    assert "đã tạo /mat/bao-cao.docx" in lines[2] and "bmnn-agent đã dừng" in lines[3]
    assert not re.search(r"\b(started|stopped|rejected|created)\b", p.stdout), p.stdout
    p = run_bmnn(["events", "--lang", "en"], agent_env)
    assert "bmnn-agent started" in p.stdout and "created /mat/bao-cao.docx" in p.stdout
    p = run_bmnn(["events", "--json"], agent_env)
    recs = [json.loads(x) for x in p.stdout.splitlines()]
    assert recs[0]["message"] == "bmnn-agent started, policy 0123456789ab, profile mat"  # the signed text
    assert recs[0]["message_shown"].startswith("bmnn-agent đã khởi động")
    assert run_bmnn(["events", "verify"], agent_env).returncode in (0, 3)


def test_citations_take_their_words_from_the_catalog():
    from bmnn_guard.policies import catalog, citation
    for lang in ("vi", "en"):
        w, kinds = citation._words(lang)
        for name, text in w.items():
            assert lookup(f"citation.{name}", lang) == text, name
        for name, text in kinds.items():
            assert lookup(f"citation.kind.{name}", lang) == text, name
    try:  # the legal layer alone (no catalog handed in) still cites, with its built-in words
        catalog.use(None)
        assert citation._words("en")[1]["decree"] == "Decree"
    finally:
        catalog.use(lookup)
    assert citation._words("vi")[1]["decree"] == lookup("citation.kind.decree", "vi")


def test_version_speaks_the_language_asked(agent_env):
    vi = run_bmnn(["--version"], agent_env)
    en = run_bmnn(["--lang", "en", "--version"], agent_env)
    late = run_bmnn(["--version", "--lang", "en"], agent_env)
    env_en = run_bmnn(["--version"], {**agent_env, "BMNN_LANG": "en"})
    assert vi.returncode == en.returncode == late.returncode == env_en.returncode == 0
    assert vi.stdout.startswith("bmnn, phiên bản ")
    assert en.stdout.startswith("bmnn, version ") and late.stdout == en.stdout == env_en.stdout
