"""Item 5 of issue 10: nothing from the machine can forge a line or move the cursor.

File names a local user chose (a newline followed by a forged record, ESC sequences, a
right-to-left override) go through the real daemon into the journal, and every text output that
shows them is read back: `bmnn events`, `bmnn status`, the daemon's stderr (its journald lines
and its own log), the text scan report, `bmnn devices list`, the fleet review, and the wall
alert. None may hold a raw control character, ESC or bidi override; each shows them escaped."""

import json
import os
import subprocess
import sys
import time

from tests.security.harness import ROOT, Agent, as_user, figure, local_user, need

FORGED = "x\n#9999   2026-01-01 00:00:00Z  hết vi phạm  BMNN-NET-001  [critical] cleared"
ESCAPES = "\x1b[2J\x1b]0;pwned\x07evil"
BIDI = "report\u202efdp.exe"
RAW = ("\x1b", "\u202e", "\x07", "\r")


def _clean(text: str) -> bool:
    return not any(c in text for c in RAW)


def _bmnn(agent, *args, timeout=60):
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--lang", "en", *args],
                          env={**agent.env, "COLUMNS": "250"},
                          capture_output=True, text=True, timeout=timeout, cwd=str(ROOT))


def test_hostile_file_names_never_forge_or_control_any_text_output(base):
    need()
    with local_user() as user, Agent(base).start() as agent:
        prog = ("import sys\nfor n in sys.argv[1:]:\n    open(n, 'w').write('x')\n")
        p = as_user(user, [sys.executable, "-c", prog, FORGED, ESCAPES, BIDI], cwd=str(agent.mat))
        assert p.wait(30) == 0
        assert agent.journal.wait_for("SELECT seq FROM records WHERE kind='file' AND message LIKE '%fdp.exe%'")
        time.sleep(1.0)
        events = _bmnn(agent, "events")
        status = _bmnn(agent, "status")
        last = int(events.stdout.splitlines()[-1].split()[0].lstrip("#"))
        n_records = agent.records("SELECT count(*) FROM records WHERE seq <= ?", last)[0][0]
        rc, _ = agent.stop()
        err = (base / "daemon.err").read_text(encoding="utf-8", errors="replace")
    assert events.returncode == 0 and status.returncode == 0, events.stderr + status.stderr
    lines = events.stdout.splitlines()
    assert len(lines) == n_records  # one record, one line: the newline forged nothing
    assert not [x for x in lines if x.startswith("#9999")]
    assert "x\\n#9999" in events.stdout and "\\x1b[2J\\x1b]0;pwned\\x07evil" in events.stdout
    assert "report\\u202efdp.exe" in events.stdout
    assert _clean(events.stdout) and _clean(status.stdout)
    # the daemon's stderr: journald lines (SyslogLevelPrefix) and its own log, one prefixed line each
    assert all(x.startswith("<") for x in err.splitlines()), [x for x in err.splitlines() if not x.startswith("<")][:3]
    assert _clean(err) and "report\\u202efdp.exe" in err
    assert rc == 0
    figure("hostile file names", f"bmnn events: {len(lines)} lines for {n_records} records, forged lines 0, "
           "raw ESC/BEL/CR/U+202E 0 in events, status and the daemon's stderr")


def test_text_scan_report_devices_list_and_fleet_show_machine_strings_escaped(base):
    need()
    from tests.scanner.content import corpus as C
    docs = base / "docs"
    docs.mkdir()
    stamp = {"runs": [{"text": "TỐI MẬT", "bold": True, "color": "FF0000"}], "border": True}
    for name in (FORGED + ".docx", ESCAPES + ".docx", BIDI + ".docx"):
        (docs / name).write_bytes(C.letter(stamp))
    agent = Agent(base)  # only its directories and environment: no daemon needed for these commands
    scan = _bmnn(agent, "scan", "--content", "--no-input", "--format", "text", str(docs), timeout=180)
    assert scan.returncode in (2, 3), scan.stderr[-2000:]
    assert _clean(scan.stdout) and "\\u202e" in scan.stdout and "\\x1b[2J" in scan.stdout, scan.stdout[-3000:]
    assert not [x for x in scan.stdout.splitlines() if "#9999" in x and "x\\n#9999" not in x]

    approve = _bmnn(agent, "devices", "approve", "--vendor-id", "0781", "--product-id", "5567", "--serial",
                    "4C53\x1b[31mRED", "--label", "USB\u202e-07", "--by", "officer\r\nforged")
    assert approve.returncode == 0, approve.stderr
    listed = _bmnn(agent, "devices", "list")
    assert listed.returncode == 0 and _clean(listed.stdout + approve.stdout), listed.stdout
    assert "4C53\\x1b[31mRED" in listed.stdout.replace("\n", "").replace("│", "").replace(" ", "") or \
        "\\x1b" in listed.stdout

    fleet_dir = base / "fleet"
    fleet_dir.mkdir()
    (fleet_dir / ("pc-" + ESCAPES + ".bmnnsnap")).write_bytes(b"not a snapshot")
    fleet = _bmnn(agent, "report", "fleet", str(fleet_dir))
    assert fleet.returncode == 4 and _clean(fleet.stdout + fleet.stderr), fleet.stdout
    assert "\\x1b" in fleet.stdout
    figure("text outputs", "scan text report, devices list/approve, fleet review: raw ESC/BEL/CR/U+202E 0")


def test_wall_alert_body_is_escaped(base):
    from bmnn_guard.agent.journal import Record
    from bmnn_guard.agent.sinks.alert import Sink
    out = base / "wall.txt"
    rec = Record(seq=7, time="2026-12-01T00:00:00Z", host="pc", kind="violation", check_id="BMNN-DOC-001", severity="critical",
                 message=f"stamped document {FORGED} {ESCAPES} {BIDI}", evidence={}, prev_hash="0" * 64,
                 hash="1" * 64, mac="")
    sink = Sink(wall_cmd=("sh", "-c", f"cat > {out}"), desktop=False, max_age_s=None)  # a record of a fixed date
    sink.emit(rec)
    text = out.read_text(encoding="utf-8")
    assert _clean(text) and "\\u202e" in text and "\\x1b" in text
    assert len(text.splitlines()) == 4  # title, message, check line, what to do: the newline forged nothing
