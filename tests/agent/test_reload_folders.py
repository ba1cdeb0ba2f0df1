"""A reload that marks a new folder starts watching it: file events there are journaled without a
restart (the folder watch follows the policy in force)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.agent.probe import JournalProbe

ROOT = Path(__file__).resolve().parents[2]


def test_reload_marks_a_folder_and_its_file_events_are_journaled(tmp_path):
    for d in ("etc/local.d", "state", "run", "log", "mat"):
        (tmp_path / d).mkdir(parents=True)
    env = dict(os.environ, BMNN_CONFIG_DIR=str(tmp_path / "etc"), BMNN_STATE_DIR=str(tmp_path / "state"),
               BMNN_RUNTIME_DIR=str(tmp_path / "run"), BMNN_LOG_DIR=str(tmp_path / "log"), PYTHONPATH=str(ROOT))
    daemon = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                              stderr=open(tmp_path / "daemon.err", "w"))
    probe = JournalProbe(str(tmp_path / "state/journal.db"))
    try:
        assert probe.wait_for("SELECT seq FROM records WHERE kind='agent_start'")
        time.sleep(1.0)
        (tmp_path / "mat/before.txt").write_text("x", encoding="utf-8")  # not marked yet: not watched
        (tmp_path / "etc/local.d/10-mat.yaml").write_text(f"marked_folders: [{{path: {tmp_path / 'mat'}}}]\n",
                                                          encoding="utf-8")
        mark = probe.last_seq()
        daemon.send_signal(signal.SIGHUP)
        assert probe.wait_for("SELECT seq FROM records WHERE seq > ? AND kind='policy_loaded'", mark)
        time.sleep(0.5)
        (tmp_path / "mat/after.txt").write_text("y", encoding="utf-8")
        r = probe.wait_for("SELECT evidence FROM records WHERE kind='file' AND message LIKE '%after.txt'", timeout=10)
        err = (tmp_path / "daemon.err").read_text()
        assert r, err[-2000:]
        assert any(json.loads(x[0]).get("sha256") for x in r), r
        assert not probe.rows("SELECT seq FROM records WHERE kind='file' AND message LIKE '%before.txt'")
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=20)
