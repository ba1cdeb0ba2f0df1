"""Who did it, through the whole daemon (issue 16 item 4): a real user (useradd) writes into a
marked folder (a tmpfs of its own) through setpriv; the daemon's file record names
that user and the executable; a read of a stamped document there is journaled with its reader;
with ``who_did_it: false`` the record says nothing of an actor."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.scanner.content import corpus as C

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, signal, subprocess, sys, time
root, base, user, enabled, same = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5] == "same"
sys.path.insert(0, root)
from tests.agent.probe import JournalProbe
# apart: the marked folder is a tmpfs of its own; same: one tmpfs holds the journal and the marked folder
fs = f"{base}/fs" if same else f"{base}/mat"
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m,mode=0755", "bmnn-test", fs], check=True)
mat, state = (f"{fs}/mat", f"{fs}/state") if same else (fs, f"{base}/state")
os.makedirs(mat, exist_ok=True)
os.makedirs(state, mode=0o700, exist_ok=True)
os.chmod(mat, 0o777)
subprocess.run(["cp", f"{base}/stamped.docx", f"{mat}/cong-van.docx"], check=True)
os.chmod(f"{mat}/cong-van.docx", 0o644)
env = dict(os.environ, BMNN_CONFIG_DIR=f"{base}/etc", BMNN_STATE_DIR=state, BMNN_RUNTIME_DIR=f"{base}/run",
           BMNN_LOG_DIR=f"{base}/log", PYTHONPATH=root, BMNN_LANG="en")
daemon = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=root, stdout=subprocess.DEVNULL,
                          stderr=open(f"{base}/daemon.err", "w"))
probe = JournalProbe(f"{state}/journal.db")
out = {"started": bool(probe.wait_for("SELECT seq FROM records WHERE kind='agent_start'"))}
time.sleep(3.0)  # the first read, the content scan of the marked folder, the marks
mark = probe.last_seq()
as_user = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
# the processes stay a moment after the access, as an editor or a viewer does: a process gone before
# fanotify's event is read keeps only its pid (docs/agent.md, "Who did it"), and the owner is shown;
# the shell reads the document itself, and one Python process copies it
subprocess.run(as_user + ["sh", "-c", f"echo 'bao cao tuan' > {mat}/ghi-chu.txt; sleep 2"], check=True)
subprocess.run(as_user + ["sh", "-c", f"while read -r l; do :; done < {mat}/cong-van.docx; sleep 3"], check=True)
subprocess.run(as_user + ["/usr/bin/python3", "-c", "import shutil, sys, time; shutil.copyfile(sys.argv[1], sys.argv[2]); "
                          "time.sleep(3)", f"{mat}/cong-van.docx", f"{mat}/ban-sao.docx"], check=True)
c = probe.wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='file' AND evidence LIKE '%ban-sao.docx%'"
                   " AND evidence LIKE '%sha256%'", mark, timeout=20)
out["copy"] = json.loads(c[-1][0]) if c else None
w = probe.wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='file' AND evidence LIKE '%ghi-chu.txt%'"
                   " AND evidence LIKE '%sha256%'", mark, timeout=20)
out["write"] = json.loads(w[-1][0]) if w else None
r = probe.wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='file' AND json_extract(evidence, '$.event') = 'read'"
                   " AND json_extract(evidence, '$.path') LIKE '%/cong-van.docx'", mark, timeout=10 if enabled else 4)
out["read"] = json.loads(r[-1][0]) if r else None
if same:  # a burst the journal writes while its own filesystem is marked: SQLite's locks must hold
    # the writer stays a moment after its last file, as the accesses above do (CI once read the
    # last event after the writer had exited: then only its pid is known, and the owner is shown)
    subprocess.run(as_user + ["/usr/bin/python3", "-c", "import sys, time\nfor i in range(300):\n"
                              "    open(f'{sys.argv[1]}/b{i:03d}.txt', 'w').write('x' * i)\ntime.sleep(3)", mat],
                   check=True)
    b = probe.wait_for("SELECT evidence FROM records WHERE seq > ? AND kind='file' AND evidence LIKE '%/b299.txt%'"
                       " AND evidence LIKE '%sha256%'", mark, timeout=60)
    out["burst"] = json.loads(b[-1][0]) if b else None
    st = subprocess.run([sys.executable, f"{root}/cli.py", "status", "--json"], env=env, capture_output=True, text=True,
                        timeout=60)
    out["access_status"] = next((s for s in json.loads(st.stdout).get("sources", []) if s.get("name") == "access"), None) \
        if st.returncode == 0 else st.stderr
daemon.send_signal(signal.SIGTERM)
out["exit"] = daemon.wait(timeout=30)
if same:
    v = subprocess.run([sys.executable, f"{root}/cli.py", "events", "verify", "--json"], env=env, capture_output=True,
                       text=True, timeout=120)
    out["verify"] = {"rc": v.returncode, "out": v.stdout[-2000:], "err": v.stderr[-2000:]}
subprocess.run(["umount", fs])
print(json.dumps(out))
"""


def _need():
    if os.geteuid() != 0:
        return "needs root (fanotify, useradd, loop mounts)"
    missing = [t for t in ("unshare", "mount", "umount", "useradd", "userdel", "setpriv", "/usr/bin/python3")
               if shutil.which(t) is None]
    return "needs " + ", ".join(missing) if missing else None


@pytest.fixture
def person():
    name = "bmnnact" + uuid.uuid4().hex[:6]
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def shared():
    """A folder under /tmp the user can reach (pytest's own tmp_path is root's, 0700)."""
    d = Path(tempfile.mkdtemp(prefix="bmnn-actors-", dir="/tmp"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        for m in ("mat", "fs"):
            subprocess.run(["umount", "-l", str(d / m)], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)


def _run(base, user, enabled, layout="apart"):
    for d in ("etc/local.d", "state", "run", "log", "mat", "fs"):
        (base / d).mkdir(parents=True)
    os.chmod(base, 0o755)
    os.chmod(base / "etc", 0o755)
    mat = base / "fs" / "mat" if layout == "same" else base / "mat"
    (base / "etc/local.d/10-test.yaml").write_text(f"marked_folders: [{{path: {mat}}}]\n", encoding="utf-8")
    (base / "etc/agent.yaml").write_text(f"who_did_it: {'true' if enabled else 'false'}\n", encoding="utf-8")
    os.chmod(base / "etc/agent.yaml", 0o600)
    (base / "stamped.docx").write_bytes(C.letter({"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}],
                                                  "border": True}))
    p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, "-c", PROBE, str(ROOT), str(base),
                        user, "1" if enabled else "0", layout], capture_output=True, text=True, timeout=300)
    err = (base / "daemon.err").read_text() if (base / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr + err
    return json.loads(p.stdout), err


@pytest.mark.skipif(_need() is not None, reason=_need() or "")
def test_the_writer_and_the_reader_of_a_stamped_document_are_named(shared, person):
    out, err = _run(shared, person, True)
    assert out["started"] and out["write"], (out, err[-2000:])
    actor = out["write"].get("actor")
    assert actor and actor.get("user") == person, out["write"]
    assert out["write"]["owner"] == person
    assert out["read"] and out["read"]["path"].endswith("cong-van.docx"), (out, err[-2000:])
    assert out["read"]["actor"]["user"] == person and out["read"]["level"] == "mat", out["read"]
    assert out["write"]["actor"].get("exe") in ("/usr/bin/dash", "/bin/dash", "/usr/bin/bash", "/bin/bash"), out["write"]
    # a copy names its source and who read it: cp, the same process as the writer
    cp = out["copy"]
    assert cp and cp["copy_of"].endswith("/mat/cong-van.docx"), cp
    assert cp["copy_actor"]["read_by"]["user"] == person and cp["copy_actor"]["same_process"] is True, cp
    assert out["exit"] == 0, err[-2000:]


@pytest.mark.skipif(_need() is not None, reason=_need() or "")
def test_without_who_did_it_the_record_shows_the_owner_only(shared, person):
    out, err = _run(shared, person, False)
    assert out["write"] and "actor" not in out["write"] and out["write"]["owner"] == person, out["write"]
    assert out["read"] is None
    assert out["exit"] == 0, err[-2000:]


@pytest.mark.skipif(_need() is not None, reason=_need() or "")
def test_who_did_it_on_the_journals_own_filesystem(shared, person):
    """The marked folder and the journal on one filesystem (the root filesystem, on most machines):
    the reader process names the writer and the reader, and the journal, written while its own
    files raise fanotify events, stays whole (in-process, that closed SQLite's locks: SIGBUS)."""
    out, err = _run(shared, person, True, layout="same")
    assert out["started"] and out["write"], (out, err[-2000:])
    assert out["write"]["actor"]["user"] == person, out["write"]
    assert out["read"] and out["read"]["actor"]["user"] == person, (out, err[-2000:])
    assert out["copy"]["copy_actor"]["read_by"]["user"] == person, out["copy"]
    assert out["burst"] and out["burst"]["actor"]["user"] == person, (out.get("burst"), err[-2000:])
    st = out["access_status"]
    assert isinstance(st, dict) and st.get("alive"), st
    assert out["exit"] == 0, err[-2000:]
    assert out["verify"]["rc"] == 0, out["verify"]
    assert "SIGBUS" not in err and "database disk image is malformed" not in err
