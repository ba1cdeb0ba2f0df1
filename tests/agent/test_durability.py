"""Targets of the issue: nothing acknowledged is lost on kill -9; a full disk loses nothing silently."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from bmnn_guard.agent.journal import Journal
from tests.agent.conftest import ROOT

WRITER = """
import sys
sys.path.insert(0, sys.argv[2])
from bmnn_guard.agent.journal import Journal
j = Journal.open(sys.argv[1])
i = 0
while True:
    i += 1
    if i % 3 == 0:
        recs = j.append_many([dict(kind="file", evidence={"i": i, "k": k}) for k in range(5)])
    else:
        recs = [j.append("heartbeat", evidence={"i": i})]
    sys.stdout.write(" ".join(str(r.seq) for r in recs) + "\\n")
    sys.stdout.flush()
"""


def test_kill_9_loses_no_acknowledged_record(tmp_path):
    path = tmp_path / "journal.db"
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(ROOT)], stdout=subprocess.PIPE, text=True)
    acked = []
    deadline = time.monotonic() + 30
    while len(acked) < 400 and time.monotonic() < deadline:
        line = p.stdout.readline()
        if not line:
            break
        acked += [int(x) for x in line.split()]
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert len(acked) >= 400, "writer did not get going"
    j = Journal.open(path, readonly=True)
    present = {r.seq for r in j.records()}
    assert set(acked) <= present
    res = j.verify()
    assert res.ok, res
    # the reopened journal continues the chain where the killed writer stopped
    j.close()
    w = Journal.open(path)
    nxt = w.append("agent_start")
    assert nxt.seq == max(present) + 1 and w.verify().ok


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")
def test_full_disk_gives_a_clear_error_spools_and_writes_later(tmp_path):
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) not installed")
    mnt = tmp_path / "small"
    mnt.mkdir()
    p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable,
                        str(ROOT / "tests/agent/diskfull_child.py"), str(mnt), str(ROOT)],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0 and "mount" in p.stderr and "permission" in p.stderr.lower():
        pytest.skip(f"cannot mount tmpfs here: {p.stderr.strip()[-200:]}")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["before"] == [1]
    assert out["ballast_errno"] == 28  # ENOSPC
    assert out["direct"]["kind"] == "disk_full" and "disk full" in out["direct"]["message"]
    assert out["spooled_returns"] == [0] * 8  # nothing written, nothing raised
    assert out["status_full"]["pending"] == 5 and out["status_full"]["dropped"] == 3
    assert "disk full" in out["status_full"]["last_error"]
    # after space frees: the 5 spooled events in order, then a gap record counting the 3 lost
    flushed = out["flushed"]
    assert [f[2] for f in flushed[:5]] == [0, 1, 2, 3, 4]
    assert flushed[5][1] == "gap" and flushed[5][3] == 3
    assert [f[0] for f in flushed] == list(range(2, 8))
    assert out["status_after"] == {"pending": 0, "dropped": 0, "last_error": None, "written": 7}
    assert out["verify"]["ok"] and out["verify"]["count"] == 7
