"""`bmnn agent run` against a real loop-mounted medium: copying a marked-folder document onto it
is a BMNN-DOC-001 violation within 2 s that names the source file; a stamped document written
there is one too; removing them clears it. Private mount and network namespaces, real inotify,
real worker subprocesses."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scanner.content import corpus as C

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, shutil, signal, subprocess, sys, time
root, base = sys.argv[1], sys.argv[2]
sys.path.insert(0, root)
from tests.agent.probe import JournalProbe
env = dict(os.environ, BMNN_STATE_DIR=f"{base}/state", BMNN_RUNTIME_DIR=f"{base}/run", BMNN_LOG_DIR=f"{base}/log",
           PYTHONPATH=root, BMNN_LANG="en")
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
daemon = subprocess.Popen([sys.executable, f"{root}/cli.py", "--config-dir", f"{base}/etc", "agent", "run"], env=env,
                          cwd=root, stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon.err", "w"))
probe = JournalProbe(f"{base}/state/journal.db")
rows, wait_for, last_seq = probe.rows, probe.wait_for, probe.last_seq

def copy_and_wait(src, dst):
    # (ms from the copy's return to a new DOC-001 violation, its evidence) or (None, None)
    mark = last_seq()
    shutil.copyfile(src, dst)
    t0 = time.monotonic()
    v = wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='violation' AND check_id='BMNN-DOC-001'", mark, timeout=10)
    return (round((time.monotonic() - t0) * 1000), json.loads(v[0][0])) if v else (None, None)

out = {}
out["started"] = bool(wait_for("SELECT seq FROM records WHERE kind='agent_start'"))
time.sleep(1.5)  # the initial full read and the marked-folder scan (the copy index)
out["doc_violation_at_start"] = bool(rows("SELECT seq FROM records WHERE kind='violation' AND check_id='BMNN-DOC-001'"))
subprocess.run(["mount", "-o", "loop", f"{base}/stick.img", f"{base}/usb"], check=True)
out["media_mounted"] = bool(wait_for("SELECT seq FROM records WHERE kind='media' AND message LIKE '%mounted:%'", timeout=10))
time.sleep(0.5)

out["copy_ms"], out["copy_evidence"] = copy_and_wait(f"{base}/mat/cong-van-mat.docx", f"{base}/usb/bao-cao-tuan.docx")
out["stamped_ms"], out["stamped_evidence"] = copy_and_wait(f"{base}/other-stamped.docx", f"{base}/usb/du-thao.docx")

mark = last_seq()
shutil.copyfile(f"{base}/clean.docx", f"{base}/usb/thu-moi.docx")
time.sleep(1.5)
out["clean_new_records"] = [k for (k,) in rows("SELECT kind FROM records WHERE seq > ? AND check_id='BMNN-DOC-001'", mark)]

mark = last_seq()
os.unlink(f"{base}/usb/bao-cao-tuan.docx")
os.unlink(f"{base}/usb/du-thao.docx")
out["cleared"] = bool(wait_for("SELECT seq FROM records WHERE seq > ? AND kind='cleared' AND check_id='BMNN-DOC-001'", mark, timeout=10))
subprocess.run(["umount", f"{base}/usb"], check=True)
out["media_unmounted"] = bool(wait_for("SELECT seq FROM records WHERE kind='media' AND message LIKE '%unmounted:%'", timeout=10))
daemon.send_signal(signal.SIGTERM)
out["exit"] = daemon.wait(timeout=20)
out["ecs"] = [json.loads(l) for l in open(f"{base}/log/events.ndjson", encoding="utf-8")]
print(json.dumps(out))
"""


def _need():
    missing = [t for t in ("unshare", "ip", "mount", "umount", "mkfs.ext4") if shutil.which(t) is None]
    if os.geteuid() != 0:
        return "needs root for a private mount namespace and a loop mount"
    if missing:
        return "needs " + ", ".join(missing) + " (apt: util-linux, mount, iproute2, e2fsprogs)"
    if not os.path.exists("/dev/loop-control"):
        return "needs loop devices (/dev/loop-control)"
    return None


@pytest.mark.skipif(_need() is not None, reason=_need() or "")
def test_copy_to_mounted_medium_is_a_doc_violation_naming_the_source(tmp_path):
    base = tmp_path
    for d in ("etc/local.d", "state", "run", "log", "mat", "usb"):
        (base / d).mkdir(parents=True)
    os.chmod(base / "etc", 0o755)
    (base / "etc/local.d/10-test.yaml").write_text(f"marked_folders: [{{path: {base / 'mat'}}}]\n", encoding="utf-8")
    stamp = {"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}
    (base / "mat/cong-van-mat.docx").write_bytes(C.letter(stamp))
    (base / "other-stamped.docx").write_bytes(C.letter({"runs": [{"text": "TỐI MẬT", "bold": True}], "border": True},
                                                      extra=["Dự thảo báo cáo quý IV"]))
    (base / "clean.docx").write_bytes(C.letter(None, extra=["Giấy mời họp giao ban"]))
    subprocess.run(["truncate", "-s", "24M", str(base / "stick.img")], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(base / "stick.img")], check=True)

    p = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", sys.executable, "-c", PROBE, str(ROOT), str(base)],
                       capture_output=True, text=True, timeout=180)
    err = (base / "daemon.err").read_text() if (base / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr + err
    out = json.loads(p.stdout)
    assert out["started"] and not out["doc_violation_at_start"], (out, err)
    assert out["media_mounted"], (out, err)

    # the copy: within 2 s, naming the source in the marked folder, never any text
    assert out["copy_ms"] is not None and out["copy_ms"] <= 2000, (out, err)
    items = out["copy_evidence"]["items"]
    copy = [i for i in items if str(i.get("path", "")).endswith("bao-cao-tuan.docx")]
    assert copy and copy[0]["copy_of"] == str(base / "mat/cong-van-mat.docx"), items
    assert copy[0]["on_removable"] is True and copy[0]["in_marked_folder"] is False
    assert "text" not in json.dumps(items)

    # a stamped document that was never in the marked folder: classified on a medium
    assert out["stamped_ms"] is not None and out["stamped_ms"] <= 2000, (out, err)
    draft = [i for i in out["stamped_evidence"]["items"] if str(i.get("path", "")).endswith("du-thao.docx")]
    assert draft and draft[0]["level"] == "toi_mat" and not draft[0].get("copy_of"), out["stamped_evidence"]

    # an unstamped document changes nothing; removing the two clears the violation
    assert "violation" not in out["clean_new_records"], out
    assert out["cleared"] and out["media_unmounted"], (out, err)
    assert out["exit"] == 0, err
    ecs_doc = [e for e in out["ecs"] if e.get("rule.id") == "BMNN-DOC-001" and e.get("event.kind") == "alert"]
    assert ecs_doc, out["ecs"][-5:]
    print(f"copy -> DOC-001 journaled: {out['copy_ms']} ms; stamped draft -> DOC-001: {out['stamped_ms']} ms")
