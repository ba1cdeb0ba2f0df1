"""agent/incident.py over a journal the test writes: what each section holds, the window by
records and by time, hostile evidence, the daemon's draft writer (signed, in the state directory,
without rich or Jinja2), and the command's errors."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bmnn_guard.agent import incident as I
from bmnn_guard.agent import keys, signed
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.journal import Journal
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.scanner.sessions import Logins, Session

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def t(minute: int, hour: int = 1) -> str:
    return f"2026-12-01T{hour:02d}:{minute:02d}:00.000000Z"


@pytest.fixture
def journal(tmp_path):
    path = str(tmp_path / "state" / "journal.db")
    with Journal.open(path) as j:
        j.append("violation", check_id="BMNN-NET-001", severity="critical", message="eth0 up before the window",
                 evidence={"items": [{"fact": "network.interfaces", "name": "eth0", "addresses": ["10.0.0.2/24"]}]},
                 time=t(0, 0))
        j.append("agent_start", severity="info", evidence={}, message="started", time=t(0))           # 2
        j.append("heartbeat", evidence={}, time=t(1))
        j.append("media", evidence={"mountpoint": "/media/an/USB", "event": "mounted"}, message="mounted", time=t(2))
        j.append("file", evidence={"event": "closed", "path": "/media/an/USB/bc.docx", "size": 10, "owner": "an",
                                   "sha256": "ab" * 32}, message="closed", time=t(2))                  # 5
        j.append("violation", check_id="BMNN-DOC-001", severity="critical", message="<script>x</script>\u202e",
                 evidence={"items": [{"fact": "documents.findings", "path": "/media/an/USB/bc.docx", "level": "mat",
                                      "on_removable": True, "actor": {"pid": 7, "uid": 1001, "user": "an",
                                                                      "exe": "/usr/bin/cp"}}]}, time=t(3))  # 6
        j.append("enforced", check_id="BMNN-DOC-001", severity="critical",
                 evidence={"target": "/sys/bus/usb/devices/1-2", "action": "deauthorize", "ok": False, "detail": "EPERM"},
                 message="failed", time=t(3))
        j.append("ack", check_id="BMNN-DOC-001", severity="critical", evidence={"violation_seq": 6, "uid": 0, "note": "đã biết"},
                 message="ack", time=t(5))                                                             # 8
        j.append("agent_stop", severity="info", evidence={}, message="stopped", time=t(6))
        j.append("agent_start", severity="info", evidence={}, message="started", time=t(30))           # 10
        j.append("gap", severity="high", evidence={"source": "udev", "reason": "ENOBUFS"}, message="gap", time=t(31))
        j.append("violation", check_id="BMNN-XYZ-999", severity="high", evidence={"items": "not a list", "actor": [1]},
                 message="x" * 5000, time=t(50))                                                       # 12: hostile
        j.append("cleared", check_id="BMNN-DOC-001", severity="critical", evidence={}, message="cleared", time=t(10, 2))
    return path


def logins():
    s = lambda u, line, a, b, end: Session(u, line, "10.0.0.5", dt.datetime.fromisoformat(a),  # noqa: E731
                                          dt.datetime.fromisoformat(b) if b else None, end)
    return Logins((s("an", "pts/0", "2026-12-01T00:50:00+00:00", "2026-12-01T01:04:00+00:00", "logout"),
                   s("cuc", "tty1", "2026-12-01T01:04:30+00:00", None, "logged_in"),
                   s("old", "tty2", "2026-11-30T01:00:00+00:00", "2026-11-30T02:00:00+00:00", "logout")))


def test_sections_of_a_window(journal):
    doc = I.build(journal, I.Window(first_seq=2, last_seq=12), now=NOW, bundle=load_bundle(), logins=logins())
    w = doc["window"]
    assert (w["first_seq"], w["last_seq"], w["records"]) == (2, 12, 11) and doc["journal"]["verified"] is True
    assert [r["seq"] for r in doc["timeline"]] == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12]  # heartbeats only counted
    assert doc["heartbeats"]["count"] == 1
    assert [v["check_id"] for v in doc["open_at_start"]] == ["BMNN-NET-001"]
    v = next(x for x in doc["violations"] if x["check_id"] == "BMNN-DOC-001")
    assert v["acknowledged"] == [8] and v["enforced"] == [7]
    assert v["cleared"]["seq"] == 13 and v["cleared"]["after_window"] is True
    assert v["items"][0]["actor"]["exe"] == "/usr/bin/cp"
    assert v["logged_in"] == ["an@pts/0"]
    assert doc["files"] == [{"seq": 5, "time": t(2), "event": "closed", "path": "/media/an/USB/bc.docx", "from": None,
                             "sha256": "ab" * 32, "size": 10, "owner": "an", "actor": None, "actor_recorded": False,
                             "reason": None}]
    assert doc["enforcement"][0]["ok"] is False and doc["acknowledgements"][0]["user"] == "root"
    assert {g["what"] for g in doc["gaps"]} == {"downtime", "gap", "silence"}
    down = next(g for g in doc["gaps"] if g["what"] == "downtime")
    assert (down["from_seq"], down["to_seq"], down["seconds"]) == (9, 10, 24 * 60)
    assert [s["user"] for s in doc["sessions"]] == ["an", "cuc"]
    checks = {c["check_id"]: c for c in doc["checks"]}
    assert checks["BMNN-XYZ-999"]["unknown"] and checks["BMNN-NET-001"]["legal_refs"]
    assert any(r["verified"] for r in checks["BMNN-DOC-001"]["legal_refs"])
    hostile = next(x for x in doc["violations"] if x["check_id"] == "BMNN-XYZ-999")
    assert hostile["items"] == [] and hostile["actor"] is None and len(hostile["message"]) == 2000


def test_a_window_beyond_the_limit_says_what_it_left_out(journal):
    first = I.build(journal, I.Window(), now=NOW, logins=Logins(()), max_records=4)
    assert [r["seq"] for r in first["timeline"]] == [1, 2, 4] and first["window"]["left_out"] == 9
    last = I.build(journal, I.Window(), now=NOW, logins=Logins(()), max_records=4, keep_last=True)
    assert last["window"]["first_seq"] == 10 and last["window"]["last_seq"] == 13 and last["window"]["left_out"] == 9


def test_windows_by_time_and_errors(journal):
    from bmnn_guard.agent.journal import iso
    doc = I.build(journal, I.Window(since=iso(dt.datetime(2026, 12, 1, 1, 29, tzinfo=UTC)),
                                    until=iso(dt.datetime(2026, 12, 1, 1, 40, tzinfo=UTC))), now=NOW, logins=Logins(()))
    assert [r["seq"] for r in doc["timeline"]] == [10, 11]
    with pytest.raises(AgentError, match="no journal record"):
        I.build(journal, I.Window(first_seq=500), now=NOW, logins=Logins(()), lang="en")
    with pytest.raises(AgentError, match="Không có nhật ký"):
        I.build(journal + ".none", I.Window(), now=NOW)
    assert I.parse_seq("3-9") == (3, 9) and I.parse_seq("4-") == (4, None) and I.parse_seq("-4") == (None, 4)
    assert I.parse_seq("7") == (7, 7)
    for bad in ("9-3", "a-b", "0-2", "x"):
        with pytest.raises(AgentError):
            I.parse_seq(bad)


def test_the_report_renders_hostile_text_safely(journal):
    from bmnn_guard.scanner.report import incident as R
    doc = I.build(journal, I.Window(first_seq=1), now=NOW, bundle=load_bundle(), logins=logins())
    page = R.html(doc, "vi")
    assert "<script>x" not in page and "&lt;script&gt;" in page and "\u202e" not in page and "\\u202e" in page
    for part in ("BÁO CÁO", "DỰ THẢO", "BMNN-DOC-001", "Tiến trình tác động: an (uid 1001) · PID 7 · /usr/bin/cp",
                 "NGƯỜI LẬP BÁO CÁO", "THỦ TRƯỞNG ĐƠN VỊ", "Dịch vụ giám sát dừng", "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15"):
        assert part in page, part
    en = R.text(doc, "en")
    assert "REPORT" in en and "Agent stopped" in en and "Chủ sở hữu" not in en and "Owner: an (acting process not recorded)" in en
    assert "\x1b" not in en


def test_the_daemons_draft(journal, tmp_path):
    keys.generate(str(tmp_path / "etc"), now=NOW - dt.timedelta(days=1))
    code = (
        "import datetime as dt, json, sys\n"
        "from bmnn_guard.agent.incident import write_incident_draft, latest_draft\n"
        f"p = write_incident_draft({journal!r}, {str(tmp_path / 'state')!r}, 6, dt.datetime(2026, 12, 1, 12, 0, "
        f"tzinfo=dt.timezone.utc), key_dir={str(tmp_path / 'etc')!r}, config_dir={str(tmp_path / 'etc')!r})\n"
        "print(json.dumps({'path': p, 'latest': latest_draft(" + repr(str(tmp_path / "state")) + "),"
        " 'ui': sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'jinja2', 'weasyprint'))}))\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["ui"] == [], "the daemon's writer imported UI code"
    assert out["path"] == out["latest"] and out["path"].startswith(str(tmp_path / "state" / "incidents"))
    assert oct(os.stat(out["path"]).st_mode & 0o777) == "0o600"
    doc = signed.read(out["path"])
    assert signed.verify(doc).ok and doc["trigger"] == {"violation_seq": 6}
    assert doc["window"]["first_seq"] == 2 and doc["window"]["last_seq"] == 13  # the hour before, and everything after
    with pytest.raises(AgentError):
        I.write_incident_draft(journal, str(tmp_path / "state"), 999, NOW, key_dir=str(tmp_path / "etc"))
    assert I.latest_draft(str(tmp_path / "nowhere")) is None


def test_the_setting(tmp_path):
    from bmnn_guard.agent.config import load_config
    (tmp_path / "agent.yaml").write_text("incident_reports: true\n")
    assert load_config(tmp_path / "agent.yaml").incident_reports is True
    assert load_config(tmp_path / "none.yaml").incident_reports is False
