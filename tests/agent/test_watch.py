"""The whole daemon against the real kernel: sources -> engine -> journal, in a private namespace."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, signal, subprocess, sys, time
root, base = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from tests.agent.probe import JournalProbe
env = dict(os.environ, BMNN_CONFIG_DIR=f"{base}/etc", BMNN_STATE_DIR=f"{base}/state",
           BMNN_RUNTIME_DIR=f"{base}/run", BMNN_LOG_DIR=f"{base}/log", PYTHONPATH=root)
for d in ("etc", "state", "run", "log"):
    os.makedirs(f"{base}/{d}", exist_ok=True)
daemon = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=root,
                          stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon.err", "w"))
probe = JournalProbe(f"{base}/state/journal.db")
rows, wait_for = probe.rows, probe.wait_for

out = {}
# ready: the initial full read has been judged (a state or violation record after policy_loaded)
out["started"] = bool(wait_for("SELECT seq FROM records WHERE kind='agent_start'"))
time.sleep(1.0)
out["initial_net_violation"] = bool(rows("SELECT seq FROM records WHERE kind='violation' AND check_id='BMNN-NET-001'"))
subprocess.run(["ip", "link", "add", "bm0", "type", "veth", "peer", "name", "bm1"], check=True)
subprocess.run(["ip", "link", "set", "bm1", "up"], check=True)
subprocess.run(["ip", "link", "set", "bm0", "up"], check=True)
subprocess.run(["ip", "addr", "add", "10.99.0.2/24", "dev", "bm0"], check=True)
t0 = time.monotonic()
subprocess.run(["ip", "route", "add", "default", "via", "10.99.0.1", "dev", "bm0"], check=True)
v = wait_for("SELECT seq, evidence FROM records WHERE kind='violation' AND check_id='BMNN-NET-001'")
out["violation_ms"] = round((time.monotonic() - t0) * 1000, 1) if v else None
out["violation_evidence"] = json.loads(v[0][1]) if v else None
subprocess.run(["ip", "link", "del", "bm0"], check=True)
c = wait_for("SELECT seq FROM records WHERE kind='cleared' AND check_id='BMNN-NET-001'")
out["cleared"] = bool(c)
daemon.send_signal(signal.SIGTERM)
out["exit"] = daemon.wait(timeout=15)
out["stopped"] = bool(rows("SELECT seq FROM records WHERE kind='agent_stop'"))
out["kinds"] = [k for (k,) in rows("SELECT DISTINCT kind FROM records")]
print(json.dumps(out))
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None,
                    reason="needs root, unshare and ip for a private network namespace")
def test_daemon_journals_a_network_violation_and_its_clearing(tmp_path):
    p = subprocess.run(["unshare", "-n", sys.executable, "-c", PROBE, str(ROOT), str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    err = (tmp_path / "daemon.err").read_text() if (tmp_path / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr + err
    out = json.loads(p.stdout)
    assert out["started"] and not out["initial_net_violation"], (out, err)
    assert out["violation_ms"] is not None, (out, err)
    names = [i.get("name") for i in out["violation_evidence"]["items"] if i.get("fact") == "network.interfaces"]
    dests = [i.get("destination") for i in out["violation_evidence"]["items"] if i.get("fact") == "network.routes"]
    assert "bm0" in names or "0.0.0.0/0" in dests, out["violation_evidence"]
    assert out["cleared"], (out, err)
    assert out["exit"] == 0 and out["stopped"]
    assert {"agent_start", "policy_loaded", "violation", "cleared", "agent_stop"} <= set(out["kinds"])
