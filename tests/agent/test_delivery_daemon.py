"""The sinks' cursors as the daemon wires them: the first start after an upgrade (no cursors),
a reload that restarts the sinks, a restart: nothing replayed, nothing skipped."""

import json
import os
import shutil
from pathlib import Path

import pytest

from bmnn_guard.agent.event import Event

from bmnn_guard.agent.daemon import Daemon
from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.paths import from_env
from tests.agent.conftest import ROOT


@pytest.fixture
def env(agent_env, tmp_path, monkeypatch):
    pol = tmp_path / "policy"
    shutil.copytree(ROOT / "policies" / "data", pol)
    Path(agent_env["BMNN_CONFIG_DIR"], "agent.yaml").write_text(
        "ipc_group: null\nsinks:\n  alert: {enabled: false}\n  journald: {enabled: false}\n")
    for k, v in dict(agent_env, BMNN_POLICY_DIR=str(pol)).items():
        monkeypatch.setenv(k, v)
    return agent_env


def ecs_seqs(env):
    p = Path(env["BMNN_LOG_DIR"], "events.ndjson")
    if not p.exists():
        return []
    return [json.loads(x)["event.sequence"] for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]


def start(env):
    d = Daemon(from_env(), env=dict(os.environ))
    d.setup()
    return d


def stop(d):
    d.ipc.stop()
    d.sinks.stop()
    d.journal.close()


def test_first_start_after_upgrade_sends_nothing_old_and_reload_keeps_the_cursors(env):
    # an install from before the cursors: a journal with history (an open violation among it)
    with Journal.open(Path(env["BMNN_STATE_DIR"], "journal.db")) as j:
        j.append("violation", check_id="BMNN-NET-001", severity="high", message="old")
        for _ in range(40):
            j.append("heartbeat")
    d = start(env)
    try:
        assert d.open_violations  # restored from the journal...
        d.record(Event.of("heartbeat"))
        assert d.sinks.drain(10)
        assert ecs_seqs(env) == [42]  # ...but no history is sent: the sink started at the head
        st = {s["name"]: s for s in d.status()["sinks"]}
        assert st["ecs"]["started"] == "head" and st["ecs"]["cursor_seq"] == 42 and st["ecs"]["lag_records"] == 0
        # a reload that changes the sinks restarts them: they resume from their cursors
        Path(env["BMNN_CONFIG_DIR"], "agent.yaml").write_text(
            "ipc_group: null\nlabels: {room: P.203}\nsinks:\n  alert: {enabled: false}\n  journald: {enabled: false}\n")
        assert d.reload()["ok"]
        d.record(Event.of("heartbeat"))
        assert d.sinks.drain(10)
        assert d.status()["sinks"][0]["started"] == "cursor"
    finally:
        stop(d)
    seqs = ecs_seqs(env)
    assert seqs == list(range(42, seqs[-1] + 1))  # the reload's policy_loaded and the heartbeat, once each
    # a restart: what was journaled meanwhile arrives, nothing twice
    with Journal.open(Path(env["BMNN_STATE_DIR"], "journal.db")) as j:
        last = j.append("heartbeat").seq
    d = start(env)
    try:
        assert d.sinks.drain(10)
    finally:
        stop(d)
    assert ecs_seqs(env) == list(range(42, last + 1))
