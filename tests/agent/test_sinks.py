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

from agent.journal import Journal
from agent.sinks import RuleInfo, SinkContext, SinkRunner
from agent.sinks import alert, ecs, hook, journald, syslog

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


def test_syslog_unreachable_collector_raises_for_retry(tmp_path, journal, ctx):
    s = syslog.Sink(str(tmp_path / "nobody-listens"), ctx)
    with pytest.raises(OSError):
        s.emit(violation(journal))


# ---------------------------------------------------------------- hook


def test_hook_receives_the_event_json_on_stdin(tmp_path, journal, ctx):
    got = tmp_path / "got.json"
    envf = tmp_path / "env.txt"
    cmd = script(tmp_path / "hook.sh", f'cat > {got}\necho "$BMNN_EVENT_KIND $BMNN_CHECK_ID $BMNN_EVENT_SEQ" > {envf}\n')
    s = hook.Sink(cmd, ctx, timeout=5)
    v = violation(journal)
    s.emit(v)
    ev = json.loads(got.read_text(encoding="utf-8"))
    assert ev["rule.id"] == "BMNN-NET-001" and ev["event.sequence"] == v.seq
    assert envf.read_text().split() == ["violation", "BMNN-NET-001", str(v.seq)]


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


# ---------------------------------------------------------------- runner


def test_slow_sink_never_blocks_submit_nor_other_sinks(tmp_path, journal, ctx):
    slow = hook.Sink(script(tmp_path / "slow.sh", "cat >/dev/null\nsleep 1\n"), ctx, timeout=5, name="slow")
    out = tmp_path / "events.ndjson"
    runner = SinkRunner([slow, ecs.Sink(out, ctx)], queue_size=100).start()
    recs = [journal.append("heartbeat") for _ in range(20)]
    t = time.monotonic()
    for r in recs:
        runner.submit(r)
    assert time.monotonic() - t < 0.1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(out.read_text().splitlines() if out.exists() else []) < 20:
        time.sleep(0.02)
    assert len(out.read_text().splitlines()) == 20
    h = {x["name"]: x for x in runner.health()}
    assert h["slow"]["delivered"] <= 5 and h["slow"]["queued"] >= 14
    runner.stop(timeout=0.2)


def test_failing_sink_retries_with_backoff_and_reports_health(tmp_path, journal, ctx):
    counter = tmp_path / "n"
    got = tmp_path / "got"
    # fails twice, then accepts
    cmd = script(tmp_path / "flaky.sh", f'n=$(cat {counter} 2>/dev/null || echo 0)\necho $((n+1)) > {counter}\n'
                                        f'if [ "$n" -lt 2 ]; then echo down >&2; exit 1; fi\ncat >> {got}\n')
    runner = SinkRunner([hook.Sink(cmd, ctx, name="flaky")], backoff=(0.05, 0.2)).start()
    runner.submit(violation(journal))
    time.sleep(0.05)
    assert runner.drain(10)
    h = runner.health()[0]
    assert h["delivered"] == 1 and h["failures"] == 2 and not h["failing"]
    assert "exited 1: down" in h["last_error"] and h["last_ok"]
    assert json.loads(got.read_text())["rule.id"] == "BMNN-NET-001"
    runner.stop()


def test_full_queue_drops_oldest_and_counts(tmp_path, journal, ctx):
    blocker = hook.Sink(script(tmp_path / "block.sh", "cat >/dev/null\nsleep 2\n"), ctx, timeout=5, name="block")
    runner = SinkRunner([blocker], queue_size=3).start()
    for _ in range(10):
        runner.submit(journal.append("heartbeat"))
    h = runner.health()[0]
    assert h["dropped"] >= 6 and h["queued"] <= 3
    runner.stop(timeout=0.1)


def test_sink_filters_apply_before_queueing(tmp_path, journal, ctx):
    got = tmp_path / "got"
    h = hook.Sink(script(tmp_path / "h.sh", f"cat >> {got}; echo >> {got}\n"), ctx, kinds=["violation"], name="v")
    runner = SinkRunner([h]).start()
    runner.submit(journal.append("heartbeat"))
    runner.submit(violation(journal))
    assert runner.drain(5)
    assert [json.loads(x)["event.action"] for x in got.read_text().split("\n") if x.strip()] == ["violation"]
    runner.stop()
