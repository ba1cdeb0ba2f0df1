"""Each sink against a real local endpoint: a file, Unix/UDP/TCP sockets we bind, real scripts."""

import io
import json
import os
import re
import socket
import stat
import threading
import time

import pytest

from bmnn_guard.agent.event import Event

from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.sinks import RuleInfo, SinkContext, SinkRunner
from bmnn_guard.agent.sinks import alert, ecs, hook, journald, syslog

RFC5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?\]) \ufeff(.*)$", re.S)


@pytest.fixture
def journal(tmp_path):
    return Journal.open(tmp_path / "journal.db")


@pytest.fixture
def ctx():
    rules = {"BMNN-NET-001": RuleInfo("Máy đang kết nối mạng", "Luật 117/2025/QH15, Điều 5 khoản 2", "network")}
    return SinkContext(host_name="ws-01", host_id="abc123", labels={"agency": "Sở X", "room": "P.203"},
                       rules=rules.get, policy_sha256="f" * 64)


def violation(j):
    return j.append("violation", check_id="BMNN-NET-001", severity="critical",
                    evidence={"evidence": [{"fact": "network.interfaces", "name": "wlan0"}]},
                    message="Máy đang kết nối mạng: wlan0")


def script(path, body):
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


# ---------------------------------------------------------------- ECS file


def test_ecs_lines_parse_back_with_ecs_fields(tmp_path, journal, ctx):
    out = tmp_path / "log" / "events.ndjson"
    s = ecs.Sink(out, ctx)
    v = violation(journal)
    hb = journal.append("heartbeat")
    s.emit(v)
    s.emit(hb)
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    a = lines[0]
    assert a["@timestamp"] == v.time and a["event.kind"] == "alert" and a["event.category"] == ["network"]
    assert a["event.action"] == "violation" and a["event.severity"] == 4 and a["log.level"] == "critical"
    assert a["rule.id"] == "BMNN-NET-001" and a["rule.name"] == "Máy đang kết nối mạng"
    assert a["rule.reference"].startswith("Luật 117/2025/QH15")
    assert a["host.name"] == "ws-01" and a["host.id"] == "abc123" and a["labels.agency"] == "Sở X"
    assert a["event.sequence"] == v.seq and a["event.hash"] == v.hash
    assert lines[1]["event.kind"] == "state" and "rule.id" not in lines[1]
    assert all("." in k or k in ("@timestamp", "message") for k in a)  # flat, dotted keys
    assert stat.S_IMODE(out.stat().st_mode) & 0o007 == 0
    s.close()


def test_ecs_reopens_after_rotation_and_deletion(tmp_path, journal, ctx):
    out = tmp_path / "events.ndjson"
    s = ecs.Sink(out, ctx)
    s.emit(journal.append("heartbeat"))
    out.rename(tmp_path / "events.ndjson.1")  # logrotate without copytruncate
    s.emit(journal.append("heartbeat"))
    assert len(out.read_text().splitlines()) == 1
    assert len((tmp_path / "events.ndjson.1").read_text().splitlines()) == 1
    out.unlink()
    s.emit(journal.append("heartbeat"))
    assert json.loads(out.read_text())["event.sequence"] == 3


# ---------------------------------------------------------------- journald


def test_journald_priority_prefixes(journal):
    buf = io.StringIO()
    s = journald.Sink(stream=buf)
    s.emit(violation(journal))
    s.emit(journal.append("heartbeat"))
    s.emit(journal.append("gap", severity="high", message="udev monitor lost events"))
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("<2>#1 violation BMNN-NET-001 [critical]")
    assert lines[1].startswith("<7>#2 heartbeat")
    assert lines[2].startswith("<3>#3 gap")


# ---------------------------------------------------------------- syslog


def check_5424(data: bytes, v, facility=10):
    m = RFC5424.match(data.decode("utf-8"))
    assert m, data
    pri, ts, host, app, procid, msgid, sd, msg = m.groups()
    assert int(pri) == facility * 8 + 2  # critical
    assert ts == v.time and host == "ws-01" and app == "bmnn-agent" and msgid == "violation"
    assert f'seq="{v.seq}"' in sd and 'check="BMNN-NET-001"' in sd and sd.startswith("[bmnn@32473 ")
    assert f'id="{v.host}:{v.seq}:{v.hash[:16]}"' in sd and f'hash="{v.hash}"' in sd  # what receivers de-duplicate on
    assert "Máy đang kết nối mạng" in msg


def test_syslog_to_a_local_datagram_socket(tmp_path, journal, ctx):
    path = str(tmp_path / "dev-log")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    srv.settimeout(5)
    s = syslog.Sink(path, ctx)
    v = violation(journal)
    s.emit(v)
    check_5424(srv.recv(65536), v)
    s.close()
    srv.close()


def test_syslog_udp_and_tcp_collectors_on_loopback(journal, ctx):
    v = violation(journal)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(5)
    s = syslog.Sink(f"udp://127.0.0.1:{u.getsockname()[1]}", ctx, facility="local4")
    s.emit(v)
    check_5424(u.recv(65536), v, facility=20)
    s.close()
    u.close()

    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    t.listen(1)
    t.settimeout(5)
    got = []

    def serve():
        c, _ = t.accept()
        c.settimeout(5)
        buf = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
        got.append(buf)
        c.close()

    th = threading.Thread(target=serve)
    th.start()
    s = syslog.Sink(f"tcp://127.0.0.1:{t.getsockname()[1]}", ctx)
    s.emit(v)
    s.emit(v)
    s.close()
    th.join(5)
    t.close()
    buf = got[0]
    frames = []
    while buf:  # RFC 6587 octet counting
        n, rest = buf.split(b" ", 1)
        frames.append(rest[: int(n)])
        buf = rest[int(n):]
    assert len(frames) == 2
    check_5424(frames[0], v)


def test_syslog_tcp_reconnects_when_the_collector_closed_while_idle(journal, ctx):
    """The collector restarts between two records: the second must not go into the dead socket
    (the kernel would take it and the peer answer with a reset: lost although "sent")."""
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    t.listen(2)
    t.settimeout(5)
    s = syslog.Sink(f"tcp://127.0.0.1:{t.getsockname()[1]}", ctx)
    s.emit(journal.append("heartbeat"))
    c1, _ = t.accept()
    c1.settimeout(5)
    assert b'seq="1"' in c1.recv(65536)
    c1.close()  # the collector goes away...
    time.sleep(0.1)
    s.emit(journal.append("heartbeat"))  # ...and is back (same listener): a new connection carries #2
    c2, _ = t.accept()
    c2.settimeout(5)
    assert b'seq="2"' in c2.recv(65536)
    c2.close()
    s.close()
    t.close()


def test_syslog_unreachable_collector_raises_for_retry(tmp_path, journal, ctx):
    s = syslog.Sink(str(tmp_path / "nobody-listens"), ctx)
    with pytest.raises(OSError):
        s.emit(violation(journal))


# ---------------------------------------------------------------- hook


def test_hook_receives_the_event_json_on_stdin(tmp_path, journal, ctx):
    got = tmp_path / "got.json"
    envf = tmp_path / "env.txt"
    cmd = script(tmp_path / "hook.sh", f'cat > {got}\necho "$BMNN_EVENT_KIND $BMNN_CHECK_ID $BMNN_EVENT_SEQ '
                                       f'$BMNN_EVENT_ID" > {envf}\n')
    s = hook.Sink(cmd, ctx, timeout=5)
    v = violation(journal)
    s.emit(v)
    ev = json.loads(got.read_text(encoding="utf-8"))
    assert ev["rule.id"] == "BMNN-NET-001" and ev["event.sequence"] == v.seq
    assert envf.read_text().split() == ["violation", "BMNN-NET-001", str(v.seq), f"{v.host}:{v.seq}:{v.hash[:16]}"]


def test_hook_timeout_kills_the_whole_process_group(tmp_path, journal, ctx):
    pidf = tmp_path / "child.pid"
    cmd = script(tmp_path / "slow.sh", f"sleep 60 &\necho $! > {pidf}\nwait\n")
    s = hook.Sink(cmd, ctx, timeout=0.5)
    t = time.monotonic()
    with pytest.raises(hook.HookError, match="did not finish"):
        s.emit(violation(journal))
    assert time.monotonic() - t < 5
    pid = int(pidf.read_text())
    time.sleep(0.2)
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        state = "gone"
    assert state in ("gone", "Z", "X")


def test_hook_non_zero_exit_is_an_error(tmp_path, journal, ctx):
    cmd = script(tmp_path / "bad.sh", "cat >/dev/null\necho 'collector refused' >&2\nexit 3\n")
    with pytest.raises(hook.HookError, match="exited 3: collector refused"):
        hook.Sink(cmd, ctx).emit(violation(journal))


# ---------------------------------------------------------------- alert


def test_alert_walls_and_degrades_without_a_desktop(tmp_path, journal, ctx):
    got = tmp_path / "wall.txt"
    wall = script(tmp_path / "wall", f"cat > {got}\n")
    s = alert.Sink(ctx, wall_cmd=[wall], loginctl=str(tmp_path / "no-loginctl"), min_severity="high")
    v = violation(journal)
    hb = journal.append("heartbeat")
    low = journal.append("violation", check_id="BMNN-SW-001", severity="low")
    assert s.accepts(v) and not s.accepts(hb) and not s.accepts(low)
    s.emit(v)
    text = got.read_text(encoding="utf-8")
    assert "VI PHẠM" in text and "BMNN-NET-001" in text and "wlan0" in text
    assert s.sent_wall == 1 and s.sent_desktop == 0
    assert s.note and ("notify-send" in s.note or "loginctl" in s.note)


def test_alert_only_fails_when_every_channel_fails(tmp_path, journal, ctx):
    wall = script(tmp_path / "wall", "exit 1\n")
    s = alert.Sink(ctx, wall_cmd=[wall], desktop=False)
    with pytest.raises(RuntimeError, match="wall exited 1"):
        s.emit(violation(journal))


def test_graphical_sessions_without_logind_is_a_note_not_an_error(tmp_path):
    sessions, note = alert.graphical_sessions(str(tmp_path / "missing"))
    assert sessions == [] and "loginctl" in note


# ---------------------------------------------------------------- runner: cursors over the journal


def runner_for(tmp_path, journal, sinks, **kw):
    events = kw.pop("events", None)
    on_event = (lambda kind, **f: events.append(dict(kind=kind, **f))) if events is not None else None
    kw.setdefault("start", "beginning")
    return SinkRunner(sinks, journal.path, tmp_path / "cursors", on_event=on_event, **kw).start()


def lines(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


def test_slow_sink_never_blocks_appends_nor_other_sinks(tmp_path, journal, ctx):
    slow = hook.Sink(script(tmp_path / "slow.sh", "cat >/dev/null\nsleep 1\n"), ctx, timeout=5, name="slow")
    out = tmp_path / "events.ndjson"
    runner = runner_for(tmp_path, journal, [slow, ecs.Sink(out, ctx)])
    t = time.monotonic()
    for _ in range(20):
        runner.appended(journal.append("heartbeat").seq)
    assert time.monotonic() - t < 5  # generous: 20 fsync'ed appends on a shared machine
    assert wait_for(lambda: len(lines(out)) == 20)
    h = {x["name"]: x for x in runner.health()}
    assert h["slow"]["delivered"] <= 5 and h["slow"]["lag_records"] >= 14 and h["ecs"]["lag_records"] == 0
    assert h["slow"]["lag_s"] >= 0 and h["slow"]["head_seq"] == 20
    runner.stop(timeout=0.2, drain=False)


def test_failing_sink_retries_with_backoff_and_reports_health(tmp_path, journal, ctx):
    counter = tmp_path / "n"
    got = tmp_path / "got"
    # fails twice, then accepts
    cmd = script(tmp_path / "flaky.sh", f'n=$(cat {counter} 2>/dev/null || echo 0)\necho $((n+1)) > {counter}\n'
                                        f'if [ "$n" -lt 2 ]; then echo down >&2; exit 1; fi\ncat >> {got}\n')
    runner = runner_for(tmp_path, journal, [hook.Sink(cmd, ctx, name="flaky")], backoff=(0.05, 0.2))
    runner.appended(violation(journal).seq)
    assert runner.drain(10)
    h = runner.health()[0]
    assert h["delivered"] == 1 and h["failures"] == 2 and not h["failing"]
    assert "exited 1: down" in h["last_error"] and h["last_ok"]
    assert json.loads(got.read_text())["rule.id"] == "BMNN-NET-001"
    runner.stop()


def test_sink_filters_advance_the_cursor_past_unwanted_kinds(tmp_path, journal, ctx):
    got = tmp_path / "got"
    h = hook.Sink(script(tmp_path / "h.sh", f"cat >> {got}; echo >> {got}\n"), ctx, kinds=["violation"], name="v")
    runner = runner_for(tmp_path, journal, [h])
    runner.appended(journal.append("heartbeat").seq)
    runner.appended(violation(journal).seq)
    runner.appended(journal.append("heartbeat").seq)
    assert runner.drain(5)
    assert [json.loads(x)["event.action"] for x in got.read_text().split("\n") if x.strip()] == ["violation"]
    assert runner.health()[0]["cursor_seq"] == 3 and runner.health()[0]["lag_records"] == 0
    runner.stop()


def test_restart_resumes_from_the_saved_cursor(tmp_path, journal, ctx):
    out = tmp_path / "events.ndjson"
    r1 = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)])
    for _ in range(3):
        r1.appended(journal.append("heartbeat").seq)
    assert r1.drain(5)
    r1.stop()
    cur = tmp_path / "cursors" / "ecs.cursor"
    assert json.loads(cur.read_text())["seq"] == 3
    assert stat.S_IMODE(cur.stat().st_mode) == 0o600 and stat.S_IMODE(cur.parent.stat().st_mode) == 0o700
    for _ in range(4):  # journaled while no sink ran (a receiver down, the daemon restarting)
        journal.append("heartbeat")
    events = []
    r2 = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events)
    assert wait_for(lambda: len(lines(out)) == 7)
    r2.stop()
    assert [x["event.sequence"] for x in lines(out)] == list(range(1, 8))  # in order, none twice, none missing
    assert events == [] and r2.health()[0]["started"] == "cursor"  # a trusted cursor: nothing to say


def test_new_sink_starts_at_head_by_default_and_says_so(tmp_path, journal, ctx):
    for _ in range(5):
        journal.append("heartbeat")
    out = tmp_path / "events.ndjson"
    events = []
    # the daemon passes the head it started with: without it the reader's thread may read the
    # head after the next append and start past it
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events, start="head", head=5)
    r.appended(journal.append("heartbeat").seq)
    assert r.drain(5)
    r.stop()
    assert [x["event.sequence"] for x in lines(out)] == [6]  # no flood of the history
    assert events == [] and r.health()[0]["started"] == "head"


@pytest.mark.parametrize("content", [b"garbage\x00\xff", b'{"v": 1, "sink": "ecs", "seq": -4, "hash": ""}',
                                     b'{"v": 1, "sink": "other", "seq": 2, "hash": ""}', b"x" * 5000])
def test_a_garbage_cursor_is_journaled_and_not_trusted(tmp_path, journal, ctx, content):
    for _ in range(3):
        journal.append("heartbeat")
    (tmp_path / "cursors").mkdir(mode=0o700)
    (tmp_path / "cursors" / "ecs.cursor").write_bytes(content)
    os.chmod(tmp_path / "cursors" / "ecs.cursor", 0o600)
    out = tmp_path / "events.ndjson"
    events = []
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events, start="beginning")
    assert r.drain(5)
    r.stop()
    assert [x["event.sequence"] for x in lines(out)] == [1, 2, 3]
    assert events[0]["kind"] == "state" and events[0]["severity"] == "medium"
    assert "unreadable cursor" in events[0]["message"]
    assert json.loads((tmp_path / "cursors" / "ecs.cursor").read_text())["seq"] == 3  # replaced


def test_a_cursor_link_or_a_cursor_beyond_the_head_is_not_trusted(tmp_path, journal, ctx):
    for _ in range(3):
        journal.append("heartbeat")
    store = tmp_path / "cursors"
    store.mkdir(mode=0o700)
    (tmp_path / "elsewhere").write_text('{"v": 1, "sink": "ecs", "seq": 2, "hash": ""}')
    os.symlink(tmp_path / "elsewhere", store / "ecs.cursor")
    events = []
    out = tmp_path / "events.ndjson"
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events, start="head")
    assert r.drain(5)
    r.stop()
    assert "unreadable cursor" in events[0]["message"] and not (store / "ecs.cursor").is_symlink()
    # a cursor from a bigger journal (the journal was replaced): deliver this one from its start
    (store / "ecs.cursor").write_text('{"v": 1, "sink": "ecs", "seq": 99, "hash": ""}')
    events.clear()
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events)
    assert r.drain(5)
    r.stop()
    assert "beyond the journal's head #3" in events[0]["message"]
    assert [x["event.sequence"] for x in lines(out)] == [1, 2, 3]
    # the right seq but another journal's hash
    (store / "ecs.cursor").write_text(json.dumps({"v": 1, "sink": "ecs", "seq": 2, "hash": "a" * 64}))
    events.clear()
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events)
    assert r.drain(5)
    r.stop()
    assert "hash differs" in events[0]["message"] and len(lines(out)) == 6


def test_retention_before_delivery_is_a_gap_for_that_sink(tmp_path, journal, ctx):
    out = tmp_path / "events.ndjson"
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)])
    r.appended(journal.append("heartbeat").seq)
    assert r.drain(5)
    r.stop()
    for _ in range(5):
        journal.append("heartbeat")  # 2..6, never delivered
    journal.checkpoint(4)  # retention removes 1..4; the checkpoint is #7
    events = []
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx)], events=events)
    assert r.drain(5)
    r.stop()
    assert [x["event.sequence"] for x in lines(out)] == [1, 5, 6, 7]
    gap = [e for e in events if e["kind"] == "gap"]
    assert len(gap) == 1 and gap[0]["evidence"]["lost_from"] == 2 and gap[0]["evidence"]["lost_through"] == 4
    assert gap[0]["evidence"]["source"] == "sink:ecs" and r.health()[0]["lost"] == 3


def test_a_failing_sink_warns_once_when_behind_and_once_when_caught_up(tmp_path, journal, ctx):
    flag = tmp_path / "up"
    got = tmp_path / "got"
    cmd = script(tmp_path / "siem.sh", f"[ -e {flag} ] || {{ echo down >&2; exit 1; }}\ncat >> {got}; echo >> {got}\n")
    events = []
    r = runner_for(tmp_path, journal, [hook.Sink(cmd, ctx, name="siem")], events=events, backoff=(0.05, 0.1),
                   lag_warning_s=0.3)
    for _ in range(5):
        r.appended(journal.append("heartbeat").seq)
    lagging = lambda: [e for e in events if "lag_records" in e["evidence"]]  # noqa: E731
    caught = lambda: [e for e in events if e["evidence"].get("caught_up")]  # noqa: E731
    assert wait_for(lagging)
    time.sleep(0.5)  # several more failed retries: still one warning
    warn = lagging()
    assert len(warn) == 1 and warn[0]["severity"] == "medium" and warn[0]["evidence"]["lag_records"] == 5
    h = r.health()[0]
    assert h["failing"] and h["behind"] and h["lag_records"] == 5 and h["lag_s"] > 0
    flag.touch()
    assert r.drain(10)
    assert wait_for(lambda: len(caught()) == 1)
    r.stop()
    assert len(lagging()) == 1 and len(caught()) == 1
    done = caught()[0]
    assert done["severity"] == "info" and done["evidence"]["caught_up"] and "caught up" in done["message"]
    assert len([x for x in got.read_text().split("\n") if x.strip()]) == 5
    assert not r.health()[0]["behind"] and r.health()[0]["lag_records"] == 0


def test_a_sink_too_slow_for_the_traffic_warns_once(tmp_path, journal, ctx):
    slow = hook.Sink(script(tmp_path / "slow.sh", "cat >/dev/null\nsleep 0.3\n"), ctx, timeout=5, name="slow")
    events = []
    r = runner_for(tmp_path, journal, [slow], events=events, lag_warning_s=1.0)
    for _ in range(8):  # 8 x 0.3 s of work: the backlog waits longer than 1 s
        r.appended(journal.append("heartbeat").seq)
    assert r.drain(30)
    assert wait_for(lambda: any(e["evidence"].get("caught_up") for e in events))
    r.stop()
    warn = [e for e in events if "lag_records" in e["evidence"]]
    assert len(warn) == 1 and warn[0]["evidence"]["error"] is None and "is behind" in warn[0]["message"]


def test_unjournaled_records_go_at_once_to_the_sinks_that_take_them(tmp_path, journal, ctx):
    from bmnn_guard.agent.unjournaled import provisional
    out = tmp_path / "events.ndjson"
    got = tmp_path / "got"
    h = hook.Sink(script(tmp_path / "h.sh", f"cat >> {got}\n"), ctx, name="h")
    r = runner_for(tmp_path, journal, [ecs.Sink(out, ctx), h])
    early = provisional(Event.of("violation", check_id="BMNN-NET-001", severity="high", message="m"), "ws-01")
    r.submit_unjournaled(early)
    assert wait_for(lambda: len(lines(out)) == 1)
    first = lines(out)[0]
    assert first["bmnn.journaled"] is False and "event.sequence" not in first and not got.exists()
    r.stop()


def test_old_alerts_are_summarised_not_replayed(tmp_path, journal, ctx):
    got = tmp_path / "wall.txt"
    wall = script(tmp_path / "wall", f"cat >> {got}; echo ==== >> {got}\n")
    now = time.time()
    s = alert.Sink(ctx, wall_cmd=[wall], desktop=False, max_age_s=600, clock=lambda: now + 3600)
    for _ in range(30):  # an hour old when the sink reaches them (the daemon was down)
        violation(journal)
    fresh = journal.append("violation", check_id="BMNN-NET-001", severity="critical", message="fresh",
                           time=time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(now + 3590)))
    r = runner_for(tmp_path, journal, [s])
    r.appended(fresh.seq)
    assert r.drain(10)
    r.stop()
    walls = [x for x in got.read_text(encoding="utf-8").split("====\n") if x.strip()]
    assert len(walls) == 2, walls  # the fresh one, and one summary of the 30 old ones
    assert any("fresh" in w for w in walls)
    summary = [w for w in walls if "older than 10 minutes" in w][0]
    assert "30 alert(s)" in summary and "#1..#30" in summary and "30 cảnh báo" in summary
    assert s.skipped_old == 30


def test_records_taken_from_memory_make_the_same_lines_as_records_read_back(tmp_path, journal, ctx):
    """The readers take what was just committed from memory (RecentRecords), not from SQLite; the
    lines must be byte for byte those of the same records read back from the journal (evidence
    with its keys in the journal's order), and a record that is not in memory comes from the
    journal."""
    mem, disk = tmp_path / "mem.ndjson", tmp_path / "disk.ndjson"
    runner = runner_for(tmp_path, journal, [ecs.Sink(mem, ctx)])
    evidence = {"path": "/mat/b.txt", "event": "closed", "size": 3, "owner": "an", "text": {"z": 1, "a": [2, {"y": 0, "b": 1}]}}
    first = journal.write([Event.of("file", evidence=dict(evidence), message="closed /mat/b.txt")])
    runner.appended(first[-1].seq)  # not in memory: read from the journal
    assert runner.drain(5)
    recs = journal.write([Event.of("file", evidence=dict(evidence), message="closed /mat/b.txt") for _ in range(4)])
    assert list(recs[0].evidence) == sorted(evidence)  # committed in the journal's form: the keys sorted
    assert list(recs[0].evidence["text"]["a"][1]) == ["b", "y"]
    runner.appended(recs[-1].seq, recs)
    assert runner.drain(5)
    runner.stop()
    assert runner.recent.given == 4  # records 2-5 came from memory
    s = ecs.Sink(disk, ctx)
    for r in journal.records():
        s.emit(r)
    s.close()
    assert mem.read_bytes() == disk.read_bytes() and len(mem.read_bytes().splitlines()) == 5
    assert runner.readers[0].health.delivered == 5


def test_recent_records_keep_only_a_contiguous_run_and_let_go_of_what_all_readers_passed():
    from types import SimpleNamespace
    from bmnn_guard.agent.delivery import RecentRecords
    from bmnn_guard.agent.journal import Record

    def rec(seq):
        return Record(seq, "t", "h", "heartbeat", None, None, None, None, "p", f"h{seq}", "m")

    ring = RecentRecords(size=5)
    ring.add([rec(s) for s in range(1, 4)])
    assert [r.seq for r in ring.after(0, 10)] == [1, 2, 3] and [r.seq for r in ring.after(1, 1)] == [2]
    assert ring.after(3, 10) is None  # nothing newer here: the journal says whether there is
    ring.add([rec(7), rec(8)])  # not after 3: the run starts again
    assert ring.after(2, 10) is None and [r.seq for r in ring.after(6, 10)] == [7, 8]
    ring.add([rec(s) for s in range(9, 15)])
    assert ring.after(8, 10) is None and [r.seq for r in ring.after(9, 10)] == [10, 11, 12, 13, 14]  # at most 5
    ring.done(2, 11)
    ring.done(1, 12)
    assert [r.seq for r in ring.after(11, 10)] == [12, 13, 14] and ring.after(10, 10) is None
    ring.forget(2)
    ring.done(1, 14)
    assert ring.after(13, 10) is None  # every reader is past it: let go
