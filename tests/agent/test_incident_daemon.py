"""The daemon drafts the incident report when a critical violation opens (issue 16 item 3):
a real daemon in its own network namespace, a real default route, a signed draft on disk and
`bmnn status` naming it; without the setting, no draft."""

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
root, base, enabled = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
sys.path.insert(0, root)
from tests.agent.probe import JournalProbe
from bmnn_guard.agent import keys
env = dict(os.environ, BMNN_CONFIG_DIR=f"{base}/etc", BMNN_STATE_DIR=f"{base}/state",
           BMNN_RUNTIME_DIR=f"{base}/run", BMNN_LOG_DIR=f"{base}/log", PYTHONPATH=root, BMNN_LANG="en")
for d in ("etc", "state", "run", "log"):
    os.makedirs(f"{base}/{d}", mode=0o700, exist_ok=True)
keys.generate(f"{base}/etc")
with open(f"{base}/etc/agent.yaml", "w") as f:
    f.write("incident_reports: %s\n" % ("true" if enabled else "false"))
os.chmod(f"{base}/etc/agent.yaml", 0o600)
daemon = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=root,
                          stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon.err", "w"))
probe = JournalProbe(f"{base}/state/journal.db")
out = {"started": bool(probe.wait_for("SELECT seq FROM records WHERE kind='agent_start'"))}
time.sleep(1.0)
subprocess.run(["ip", "link", "add", "bi0", "type", "veth", "peer", "name", "bi1"], check=True)
for dev in ("bi1", "bi0"):
    subprocess.run(["ip", "link", "set", dev, "up"], check=True)
subprocess.run(["ip", "addr", "add", "10.98.0.2/24", "dev", "bi0"], check=True)
subprocess.run(["ip", "route", "add", "default", "via", "10.98.0.1", "dev", "bi0"], check=True)
v = probe.wait_for("SELECT seq FROM records WHERE kind='violation' AND severity='critical'")
out["violation_seq"] = v[0][0] if v else None
status = None
end = time.monotonic() + 60
while time.monotonic() < end:
    p = subprocess.run([sys.executable, f"{root}/cli.py", "status", "--json"], env=env, cwd=root,
                       capture_output=True, text=True, timeout=60)
    status = json.loads(p.stdout) if p.returncode == 0 else {"error": p.stderr}
    # the daemon's own account of the draft: the CLI also finds a draft on disk by itself, which
    # can happen between the draft's rename into place and the daemon noting it
    if (status.get("incident_drafts") or {}).get("path") or not enabled and time.monotonic() > end - 55:
        break
    time.sleep(0.5)
out["status"] = status
for _ in range(60):  # the text form of the same status (its draft line once the draft is written)
    text = subprocess.run([sys.executable, f"{root}/cli.py", "status"], env=env, cwd=root, capture_output=True,
                          text=True, timeout=60)
    out["status_text"] = text.stdout
    if not enabled or "incident show" in text.stdout:
        break
    time.sleep(0.5)
out["critical"] = [q for (q,) in probe.rows("SELECT seq FROM records WHERE kind='violation' AND severity='critical'")]
out["drafts"] = sorted(os.listdir(f"{base}/state/incidents")) if os.path.isdir(f"{base}/state/incidents") else []
daemon.send_signal(signal.SIGTERM)
out["exit"] = daemon.wait(timeout=30)
print(json.dumps(out))
"""


def _run(tmp_path, enabled):
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("ip") is None:
        pytest.skip("needs root, unshare and ip for a private network namespace")
    p = subprocess.run(["unshare", "-n", sys.executable, "-c", PROBE, str(ROOT), str(tmp_path), "1" if enabled else "0"],
                       capture_output=True, text=True, timeout=240)
    err = (tmp_path / "daemon.err").read_text() if (tmp_path / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr + err
    return json.loads(p.stdout), err


def test_a_critical_violation_gets_a_signed_draft_and_status_names_it(tmp_path):
    from bmnn_guard.agent import signed
    out, err = _run(tmp_path, True)
    assert out["started"] and out["violation_seq"], (out, err)
    path = out["status"].get("incident_draft")
    assert path and Path(path).parent == tmp_path / "state" / "incidents", (out, err)
    seq = out["status"]["incident_drafts"]["seq"]  # a route opens more than one critical check
    assert seq in out["critical"], out
    doc = signed.read(path)
    assert signed.verify(doc).ok and doc["trigger"] == {"violation_seq": seq}
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert path in out["status_text"] and "incident show" in out["status_text"], out["status_text"]
    assert out["exit"] == 0, err


def test_without_the_setting_no_draft_is_written(tmp_path):
    out, err = _run(tmp_path, False)
    assert out["violation_seq"], (out, err)
    assert out["drafts"] == [] and not out["status"].get("incident_draft"), out
    assert out["exit"] == 0, err
