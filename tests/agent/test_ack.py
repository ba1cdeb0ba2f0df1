"""`bmnn events ack SEQ --reason TEXT` with the real daemon and the real CLI: the daemon journals
an ack naming the violation, the reason and who acknowledged it (SO_PEERCRED), status shows it,
it survives a restart, and every refusal is a clear error. The acknowledgement's state rules on
real journal records (agent/ack.py) at the end."""

import json
import os
import signal
import sys
import time

import pytest

from bmnn_guard.agent import ack
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.journal import Journal
from tests.agent.conftest import ROOT
from tests.security.harness import Agent, as_user, local_group, local_user, need

CLI = [sys.executable, str(ROOT / "cli.py")]


def bmnn(agent, *args, timeout=60):
    import subprocess
    return subprocess.run([*CLI, *args], env=agent.env, cwd=str(ROOT), capture_output=True, text=True, timeout=timeout)


def open_violation(agent, check_id, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        p = bmnn(agent, "status", "--json")
        if p.returncode == 0:
            for v in json.loads(p.stdout)["open_violations"]:
                if v["check_id"] == check_id and v.get("seq"):
                    return v
        time.sleep(0.3)
    raise AssertionError(f"{check_id} never opened: {agent.stderr()}")


@pytest.fixture
def base():
    import shutil
    import tempfile
    from pathlib import Path
    d = tempfile.mkdtemp(prefix="bmnn-ack-")
    os.chmod(d, 0o755)
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def test_ack_through_the_daemon_status_restart_and_refusals(base):
    """The marked folder is world-writable (mode 1777): BMNN-FLD-001 is open, deterministically."""
    if os.geteuid() != 0:
        pytest.skip("needs root (only root may acknowledge)")
    agent = Agent(base, agent_yaml="heartbeat_seconds: 1\nsinks:\n  alert: {enabled: false}\n")
    agent.env["BMNN_LANG"] = "vi"
    with agent.start():
        v = open_violation(agent, "BMNN-FLD-001")
        seq = v["seq"]
        assert v["acknowledged"] is False and "ack" not in v

        # refused before the daemon is asked: no reason, an empty one, no or a malformed SEQ
        for args, text in ((["events", "ack", str(seq)], "Cần ghi lý do"),
                           (["events", "ack", str(seq), "--reason", "  \t "], "Cần ghi lý do"),
                           (["events", "ack", "--reason", "x"], "SEQ phải là số thứ tự"),
                           (["events", "ack", "ba", "--reason", "x"], "SEQ phải là số thứ tự"),
                           (["events", "ack", "0", "--reason", "x"], "SEQ phải là số thứ tự"),
                           (["events", "ack", str(seq), "--reason", "x" * 1001], "Lý do dài 1001 ký tự")):
            p = bmnn(agent, *args)
            assert p.returncode == 1 and text in p.stderr, (args, p.stderr)
        # refused by the daemon: not a violation, no such record
        p = bmnn(agent, "events", "ack", "1", "--reason", "x")
        assert p.returncode == 1 and "Bản ghi #1 không phải vi phạm (loại: khởi động)" in p.stderr, p.stderr
        p = bmnn(agent, "events", "ack", "999999", "--reason", "x", "--json")
        err = json.loads(p.stdout)["error"]
        assert p.returncode == 1 and err["kind"] == "no_such_record" and "#999999" in err["message"]

        reason = "đã báo cán bộ bảo mật;\nthư mục sẽ được phân quyền lại \x1b[31m"
        p = bmnn(agent, "events", "ack", str(seq), "--reason", reason, "--json")
        assert p.returncode == 0, p.stderr
        res = json.loads(p.stdout)
        assert (res["ok"], res["journaled"], res["check_id"], res["violation_seq"], res["by"], res["uid"]) == \
            (True, True, "BMNN-FLD-001", seq, "root", 0)
        one_line = "đã báo cán bộ bảo mật; thư mục sẽ được phân quyền lại \x1b[31m"
        assert res["reason"] == one_line  # whitespace folded: no second line in status

        (rec,) = [r for r in agent.records("SELECT seq, kind, check_id, message, evidence FROM records")
                  if r[1] == "ack"]
        ev = json.loads(rec[4])
        assert rec[0] == res["seq"] and rec[2] == "BMNN-FLD-001"
        assert (ev["violation_seq"], ev["reason"], ev["uid"], ev["user"]) == (seq, one_line, 0, "root")

        p = bmnn(agent, "events", "ack", str(seq), "--reason", "lần hai", "--lang", "en")
        assert p.returncode == 1 and f"Violation #{seq} (BMNN-FLD-001) was already acknowledged by root" in p.stderr
        assert f"(record #{res['seq']})" in p.stderr

        st = json.loads(bmnn(agent, "status", "--json").stdout)
        (o,) = [o for o in st["open_violations"] if o["check_id"] == "BMNN-FLD-001"]
        assert o["seq"] == seq and o["acknowledged"] is True  # still open: an ack does not clear it
        assert (o["ack"]["by"], o["ack"]["uid"], o["ack"]["seq"], o["ack"]["reason"]) == ("root", 0, res["seq"], one_line)
        text = bmnn(agent, "status").stdout
        line = [x for x in text.splitlines() if "BMNN-FLD-001" in x][0]
        assert f"đã xác nhận bởi root lúc {o['ack']['time']} (bản ghi #{res['seq']})" in line
        assert "\x1b" not in text and "\\x1b" in line  # the reason is shown escaped
    # the daemon stopped: a clear error, nothing journaled
    p = bmnn(agent, "events", "ack", str(seq), "--reason", "x", "--lang", "en")
    assert p.returncode == 1 and "bmnn-agent is not running" in p.stderr and "journal's only writer" in p.stderr
    p = bmnn(agent, "events", "ack", str(seq), "--reason", "x", "--json")
    assert json.loads(p.stdout)["error"]["kind"] == "not_running"

    # restarted: the violation is the same one (not journaled again) and still acknowledged
    with agent.start():
        time.sleep(1.0)
        o = open_violation(agent, "BMNN-FLD-001")
        assert (o["seq"], o["acknowledged"], o["ack"]["seq"]) == (seq, True, res["seq"])
        assert [r[0] for r in agent.records("SELECT seq FROM records WHERE kind='violation' AND check_id='BMNN-FLD-001'")] \
            == [seq]
        # the machine complies again: cleared; the old violation can no longer be acknowledged
        os.chmod(agent.mat, 0o700)
        agent.proc.send_signal(signal.SIGHUP)  # a reload judges everything again at once
        end = time.monotonic() + 60
        while time.monotonic() < end and any(o["check_id"] == "BMNN-FLD-001" for o in
                                             json.loads(bmnn(agent, "status", "--json").stdout)["open_violations"]):
            time.sleep(0.5)
        p = bmnn(agent, "events", "ack", str(seq), "--reason", "x", "--lang", "en")
        assert p.returncode == 1 and f"Violation #{seq} (BMNN-FLD-001) is no longer open" in p.stderr, p.stderr
    with Journal.open(base / "state/journal.db", readonly=True) as j:
        assert j.verify().ok


def test_a_member_of_the_ipc_group_may_read_but_not_ack(base):
    need("groupadd", "useradd", "setpriv")
    with local_group() as g, local_user(groups=(g.gr_name,)) as member:
        agent = Agent(base, agent_yaml=f"ipc_group: {g.gr_name}\nsinks:\n  alert: {{enabled: false}}\n")
        with agent.start():
            seq = open_violation(agent, "BMNN-FLD-001")["seq"]
            env = {k: v for k, v in agent.env.items() if k.startswith("BMNN_")}
            env["PYTHONPATH"] = str(ROOT)
            for args, rc_want in ((["status", "--json"], 0), (["events", "ack", str(seq), "--reason", "x"], 1)):
                p = as_user(member, [*CLI, "--lang", "en", *args], cwd="/", env=env, stdout=-1, stderr=-1, text=True)
                out, err = p.communicate(timeout=60)
                assert p.returncode == rc_want, (args, out, err)
            assert "Only root may acknowledge a violation" in err and "sudo" in err
            assert not agent.records("SELECT seq FROM records WHERE kind='ack'")


# ---------------------------------------------------------------- the rules, on real records


def journal(tmp_path):
    return Journal.open(tmp_path / "journal.db", key_path=tmp_path / "journal.key", host="t")


def test_parse_request():
    assert ack.parse_request({"seq": 3, "reason": " a\n b "}) == (3, "a b")
    for bad in ({"seq": "3", "reason": "x"}, {"seq": True, "reason": "x"}, {"seq": 0, "reason": "x"},
                {"seq": 3}, {"seq": 3, "reason": ""}, {"seq": 3, "reason": " \n"}, {"seq": 3, "reason": 5}, {"seq": 2 ** 64, "reason": "x"},
                {"seq": 3, "reason": "x" * (ack.REASON_MAX + 1)}):
        with pytest.raises(AgentError) as e:
            ack.parse_request(bad)
        assert e.value.kind == "usage"


def test_an_ack_applies_only_to_the_violation_it_names(tmp_path):
    with journal(tmp_path) as j:
        v1 = j.append("violation", check_id="BMNN-NET-001", severity="critical", message="one")
        j.append("cleared", check_id="BMNN-NET-001")
        v2 = j.append("violation", check_id="BMNN-NET-001", severity="critical", message="two")
        old = j.append("ack", check_id="BMNN-NET-001", evidence={"violation_seq": v1.seq, "reason": "r", "uid": 0,
                                                                "user": "root"})
        from bmnn_guard.agent.records import open_violations
        assert [v.acknowledged for v in open_violations(j.records())] == [False]  # incident/handover agree
        state = {"BMNN-NET-001": {"seq": v2.seq, "acknowledged": False}}
        ack.apply(state, old)
        assert state["BMNN-NET-001"] == {"seq": v2.seq, "acknowledged": False}  # an ack of #1 is not one of #3
        legacy = j.append("ack", check_id="BMNN-NET-001", evidence={"violation_seq": v2.seq, "uid": 0, "note": "n"})
        ack.apply(state, legacy)  # an ack journaled before acks had a reason: its note
        assert state["BMNN-NET-001"]["ack"] == {"seq": legacy.seq, "time": legacy.time, "by": "0", "uid": 0,
                                                "reason": "n"}

        journaled = []

        def record(kind, **f):
            journaled.append(j.append(kind, **f))
            ack.apply(state, journaled[-1])
            return journaled[-1:]

        def lookup(n):
            r = next(iter(j.records(since_seq=n - 1, limit=1)), None)
            return r if r is not None and r.seq == n else None
        got = ack.acknowledge(state, v2.seq, "x", uid=0, pid=1, record=record, lookup=lookup)
        assert got["ok"] is False and got["error"] == "already_acknowledged" and not journaled
        got = ack.acknowledge(state, v1.seq, "x", uid=0, pid=1, record=record, lookup=lookup)
        assert (got["error"], got["check_id"]) == ("cleared", "BMNN-NET-001")
        del state["BMNN-NET-001"]["ack"]
        got = ack.acknowledge(state, v2.seq, "x", uid=0, pid=1, record=record, lookup=lookup)
        assert got["ok"] is True and got["seq"] == journaled[0].seq and state["BMNN-NET-001"]["ack"]["by"] == "root"
        got = ack.acknowledge(state, v2.seq, "x", uid=0, pid=1, record=lambda kind, **f: [], lookup=lookup)
        assert got["error"] == "already_acknowledged"
        state["BMNN-NET-001"].pop("ack")
        got = ack.acknowledge(state, v2.seq, "x", uid=0, pid=1, record=lambda kind, **f: [], lookup=lookup)
        assert (got["ok"], got["journaled"]) == (True, False)  # spooled while the journal cannot be written
