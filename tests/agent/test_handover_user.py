"""The hand-over record and the incident report with a real user, real files, a loop-mounted
medium and the real daemon: ``useradd`` a person, let them (``setpriv``) write stamped documents
into their home and a marked folder and copy one onto the medium while ``bmnn agent run`` watches
(private mount and network namespaces); the record lists every document with the right hash and
who did it; it verifies, and an edited copy does not; ``--check`` says what remains, and exits 0
once the person moved everything into the marked folder; the incident report over the daemon's
records verifies and carries the violation, the file hashes and the legal basis."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from bmnn_guard.agent import keys
from tests.scanner.content import corpus as C

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, os, signal, subprocess, sys, time
root, base, user, home = sys.argv[1:5]
sys.path.insert(0, root)
from tests.agent.probe import JournalProbe
env = dict(os.environ, BMNN_CONFIG_DIR=f"{base}/etc", BMNN_STATE_DIR=f"{base}/state", BMNN_RUNTIME_DIR=f"{base}/run",
           BMNN_LOG_DIR=f"{base}/log", PYTHONPATH=root, BMNN_LANG="en")
out = {}

def bmnn(*args):
    p = subprocess.run([sys.executable, f"{root}/cli.py", *args], env=env, capture_output=True, text=True, timeout=900)
    return {"rc": p.returncode, "out": p.stdout, "err": p.stderr[-3000:]}

def as_user(*argv):
    subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--", *argv], check=True,
                   env={"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, cwd=home)

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
daemon = subprocess.Popen([sys.executable, f"{root}/cli.py", "agent", "run"], env=env, cwd=root,
                          stdout=subprocess.DEVNULL, stderr=open(f"{base}/daemon.err", "w"))
probe = JournalProbe(f"{base}/state/journal.db")
out["started"] = bool(probe.wait_for("SELECT seq FROM records WHERE kind='agent_start'", timeout=60))
first = probe.last_seq()
subprocess.run(["mount", "-o", "loop", f"{base}/stick.img", f"{base}/usb"], check=True)
os.chown(f"{base}/usb", int(sys.argv[5]), int(sys.argv[6]))  # as a desktop mounts a stick for its user
out["mounted"] = bool(probe.wait_for("SELECT seq FROM records WHERE kind='media' AND message LIKE '%mounted:%'", timeout=30))
time.sleep(1)

# the person at work: documents in the home, one in the marked folder, a copy onto the stick
as_user("mkdir", "-p", f"{home}/Documents", f"{home}/Desktop")
as_user("cp", f"{base}/staging/bao-cao.docx", f"{home}/Documents/bao-cao.docx")
as_user("cp", f"{base}/staging/ke-hoach.pdf", f"{home}/Desktop/ke-hoach.pdf")
as_user("cp", f"{base}/staging/thu-moi.docx", f"{home}/thu-moi.docx")
as_user("cp", f"{base}/staging/quyet-dinh.docx", f"{base}/mat/quyet-dinh.docx")
as_user("cp", f"{home}/Documents/bao-cao.docx", f"{base}/usb/ban-sao.docx")
out["marked_record"] = bool(probe.wait_for(
    "SELECT seq FROM records WHERE kind='file' AND evidence LIKE ? AND evidence LIKE ?",
    f'%"{base}/mat/quyet-dinh.docx"%', f'%"owner":"{user}"%', timeout=30))
v = probe.wait_for("SELECT seq FROM records WHERE kind='violation' AND check_id='BMNN-DOC-001' AND evidence LIKE ?",
                   "%ban-sao.docx%", timeout=60)
out["violation_seq"] = v[0][0] if v else None
os.chown(f"{base}/mat/quyet-dinh.docx", 0, 0)  # now only the journal says who wrote it
time.sleep(0.5)
# what the daemon does with incident_reports: true when the critical violation opens (off its loop)
import datetime as dt
from bmnn_guard.agent.incident import write_incident_draft
out["draft"] = write_incident_draft(f"{base}/state/journal.db", f"{base}/state", out["violation_seq"],
                                    dt.datetime.now(dt.timezone.utc), key_dir=f"{base}/etc", config_dir=f"{base}/etc")
out["status"] = bmnn("status")
out["draft_html"] = bmnn("incident", "show", out["draft"], "--format", "html", "-o", f"{base}/draft.html")
daemon.send_signal(signal.SIGTERM)
out["daemon_exit"] = daemon.wait(timeout=30)
last = probe.last_seq()

out["record"] = bmnn("handover", user, "-o", f"{base}/rec.json", "--receiver", "Trần Thị Bình", "--occasion", "leaving")
out["verify"] = bmnn("handover", "verify", f"{base}/rec.json")
out["verify_json"] = bmnn("handover", "verify", f"{base}/rec.json", "--json")
rec = json.load(open(f"{base}/rec.json", encoding="utf-8"))
for d in rec["documents"]:
    if d["path"].endswith("bao-cao.docx"):
        d["sha256"] = "0" * 64  # someone hides a document by editing its hash
json.dump(rec, open(f"{base}/tampered.json", "w", encoding="utf-8"), ensure_ascii=False)
out["verify_tampered"] = bmnn("handover", "verify", f"{base}/tampered.json")
out["check_tampered"] = bmnn("handover", user, "--check", f"{base}/tampered.json")
open(f"{base}/garbage.json", "w").write("{not json")
out["verify_garbage"] = bmnn("handover", "verify", f"{base}/garbage.json")
out["verify_missing"] = bmnn("handover", "verify", f"{base}/nothing.json")
out["check_before"] = bmnn("handover", user, "--check", f"{base}/rec.json", "--json")

# everything back into the marked folder
as_user("mv", f"{home}/Documents/bao-cao.docx", f"{base}/mat/bao-cao.docx")
as_user("mv", f"{home}/Desktop/ke-hoach.pdf", f"{base}/mat/ke-hoach.pdf")
as_user("mv", f"{base}/usb/ban-sao.docx", f"{base}/mat/ban-sao.docx")
out["check_after"] = bmnn("handover", user, "--check", f"{base}/rec.json", "--json", "-o", f"{base}/check.json")
out["verify_check"] = bmnn("handover", "verify", f"{base}/check.json")

out["incident"] = bmnn("incident", "--seq", f"{first}-{last}", "-o", f"{base}/inc.json")
out["incident_verify"] = bmnn("incident", "verify", f"{base}/inc.json")
out["incident_text"] = bmnn("incident", "show", f"{base}/inc.json", "--lang", "vi")
out["wrong_kind"] = bmnn("handover", "verify", f"{base}/inc.json")
subprocess.run(["umount", f"{base}/usb"], check=True)
print(json.dumps(out))
"""


def _need():
    if os.geteuid() != 0:
        return "needs root (useradd, setpriv, a private mount namespace and a loop mount)"
    missing = [t for t in ("unshare", "ip", "mount", "umount", "mkfs.ext4", "useradd", "userdel", "setpriv")
               if shutil.which(t) is None]
    if missing:
        return "needs " + ", ".join(missing) + " (apt: util-linux, mount, iproute2, e2fsprogs, passwd)"
    if not os.path.exists("/dev/loop-control"):
        return "needs loop devices (/dev/loop-control)"
    return None


@pytest.fixture
def person():
    """A real local user with a home, removed afterwards."""
    name = f"bmnnho{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-m", "-c", "Nguyễn Văn An", "-s", "/bin/sh", name], check=True)
    try:
        import pwd
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.skipif(_need() is not None, reason=_need() or "")
def test_handover_and_incident_with_a_real_user_medium_and_daemon(person):
    base = Path(tempfile.mkdtemp(prefix="bmnn-handover-"))
    try:
        os.chmod(base, 0o755)
        for d in ("etc/local.d", "state", "run", "log", "usb", "staging", "mat"):
            (base / d).mkdir(parents=True)
        os.chmod(base / "etc", 0o755)
        os.chown(base / "mat", 0, person.pw_gid)
        os.chmod(base / "mat", 0o770)
        (base / "etc/local.d/10-test.yaml").write_text(
            f"unit: Phòng Văn thư\nrecord: {{place: Hà Nội, security_officer: Lê Thị Cúc}}\n"
            f"marked_folders: [{{path: {base / 'mat'}}}]\n", encoding="utf-8")
        keys.generate(str(base / "etc"))
        red = {"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}
        (base / "staging/bao-cao.docx").write_bytes(C.letter(red, extra=["Báo cáo tình hình quý IV"]))
        (base / "staging/ke-hoach.pdf").write_bytes(
            C.pdf([[("BỘ CÔNG AN", {}), ("Số: 12/KH", {}), ("TỐI MẬT", {"color": (255, 0, 0)}), ("Kế hoạch", {})]]))
        (base / "staging/thu-moi.docx").write_bytes(C.letter(None, extra=["Giấy mời họp giao ban"]))
        (base / "staging/quyet-dinh.docx").write_bytes(
            C.letter({"runs": [{"text": "TUYỆT MẬT", "bold": True, "color": "FF0000"}], "border": True}))
        for f in (base / "staging").iterdir():
            os.chmod(f, 0o644)
        subprocess.run(["truncate", "-s", "24M", str(base / "stick.img")], check=True)
        subprocess.run(["mkfs.ext4", "-q", "-F", str(base / "stick.img")], check=True)
        p = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", sys.executable, "-c", PROBE, str(ROOT),
                            str(base), person.pw_name, person.pw_dir, str(person.pw_uid), str(person.pw_gid)],
                           capture_output=True, text=True, timeout=1500)
        err = (base / "daemon.err").read_text() if (base / "daemon.err").exists() else ""
        assert p.returncode == 0, p.stderr[-4000:] + err[-2000:]
        out = json.loads(p.stdout)
        assert out["started"] and out["mounted"] and out["marked_record"] and out["violation_seq"], (out, err[-2000:])
        assert out["daemon_exit"] == 0, err[-2000:]

        # the record: exit 2 (stamped documents in the personal areas), signed, listing what they hold
        r = out["record"]
        assert r["rc"] == 2, r
        rec = json.loads((base / "rec.json").read_text(encoding="utf-8"))
        assert rec["format"] == "bmnn-handover" and rec["user"]["name"] == person.pw_name
        docs = {d["path"]: d for d in rec["documents"]}
        home = os.path.realpath(person.pw_dir)
        expect = {f"{home}/Documents/bao-cao.docx": ("mat", "home", base / "staging/bao-cao.docx"),
                  f"{home}/Desktop/ke-hoach.pdf": ("toi_mat", "home", base / "staging/ke-hoach.pdf"),
                  f"{base}/usb/ban-sao.docx": ("mat", "media", base / "staging/bao-cao.docx"),
                  f"{base}/mat/quyet-dinh.docx": ("tuyet_mat", "marked", base / "staging/quyet-dinh.docx")}
        for path, (level, area, source) in expect.items():
            d = docs.get(path)
            assert d is not None, (path, sorted(docs))
            assert (d["level"], d["area"], d["sha256"]) == (level, area, sha(source)), d
            assert d["size"] == source.stat().st_size and d["modified"].endswith("+07:00")
            # who did it: the acting process once the daemon records one, the owner until then
            # (a short cp may be gone before fanotify's event is read: then its pid alone is known)
            if d["actor"] is not None and set(d["actor"]) - {"pid"}:
                assert d["actor"].get("user") == person.pw_name or d["actor"].get("uid") == person.pw_uid, d
            assert d["actor_recorded"] is (d["actor"] is not None), d
        assert docs[f"{home}/Documents/bao-cao.docx"]["owner"] == person.pw_name
        assert docs[f"{base}/mat/quyet-dinh.docx"]["owner"] == "root"  # chowned: the journal names the writer
        assert docs[f"{base}/mat/quyet-dinh.docx"]["personal"] is False
        assert f"{home}/thu-moi.docx" not in docs
        assert rec["summary"]["held_personal"] == 3 and rec["summary"]["verdict"] == "holds"
        medium = next(m for m in rec["areas"]["media"] if m["mountpoint"] == str(base / "usb"))
        assert medium["theirs"] and "owned_by_user" in medium["why"]
        marked = {m["path"]: m for m in rec["marked_files"]}
        assert "journal" in marked[f"{base}/mat/quyet-dinh.docx"]["source"]
        assert marked[f"{base}/mat/quyet-dinh.docx"]["sha256"] == sha(base / "staging/quyet-dinh.docx")
        viol = [v for v in rec["violations"] if v["seq"] == out["violation_seq"]]
        assert viol and "area" in viol[0]["why"], rec["violations"]
        assert rec["journal"]["verified"] is True
        refs = rec["commitment"]["legal_refs"]
        assert refs and all(x["verified"] for x in refs)
        assert "117/2025/QH15" in rec["commitment"]["vi"] and "Điều 337" in rec["commitment"]["vi"]

        # offline verification: genuine 0, edited 4, unreadable or missing 1, another kind 1
        assert out["verify"]["rc"] == 0 and "GENUINE" in out["verify"]["out"], out["verify"]
        assert json.loads(out["verify_json"]["out"])["valid"] is True
        assert out["verify_tampered"]["rc"] == 4 and "signature" in out["verify_tampered"]["err"], out["verify_tampered"]
        assert out["check_tampered"]["rc"] == 4, out["check_tampered"]
        assert out["verify_garbage"]["rc"] == 1 and out["verify_missing"]["rc"] == 1
        assert out["wrong_kind"]["rc"] == 1 and "incident" in out["wrong_kind"]["err"], out["wrong_kind"]

        # --check before and after the documents went back into the marked folder
        before = json.loads(out["check_before"]["out"])
        assert out["check_before"]["rc"] == 2 and before["counts"]["remains"] == 3, before
        after = json.loads(out["check_after"]["out"])
        assert out["check_after"]["rc"] == 0, (out["check_after"], after)
        assert {i["status"] for i in after["items"]} == {"recovered"} and not after["new"], after
        where = {i["path"]: i["where"] for i in after["items"]}
        assert os.path.dirname(where[f"{home}/Desktop/ke-hoach.pdf"]) == str(base / "mat")
        assert out["verify_check"]["rc"] == 0, out["verify_check"]

        # the incident report over the daemon's records
        assert out["incident"]["rc"] == 0, out["incident"]
        assert out["incident_verify"]["rc"] == 0, out["incident_verify"]
        inc = json.loads((base / "inc.json").read_text(encoding="utf-8"))
        assert inc["journal"]["verified"] is True and inc["window"]["first_seq"] < out["violation_seq"]
        doc_v = [v for v in inc["violations"] if v["seq"] == out["violation_seq"]]
        assert doc_v and doc_v[0]["check_id"] == "BMNN-DOC-001" and doc_v[0]["severity"] == "critical"
        files = {f["path"]: f for f in inc["files"]}
        copy = files.get(f"{base}/usb/ban-sao.docx")
        assert copy and copy["sha256"] == sha(base / "staging/bao-cao.docx") and copy["owner"] == person.pw_name
        assert any(d.get("event") == "mounted" for d in inc["devices"])
        doc_check = next(c for c in inc["checks"] if c["check_id"] == "BMNN-DOC-001")
        assert any("117/2025/QH15" in r["citation"]["vi"] for r in doc_check["legal_refs"])
        # the daemon's draft, written while it ran: signed, in the state directory, named by bmnn status
        assert out["draft"].startswith(str(base / "state/incidents/")), out["draft"]
        assert out["status"]["rc"] == 0 and out["draft"] in out["status"]["out"], out["status"]
        assert out["draft_html"]["rc"] == 0 and "BMNN-DOC-001" in (base / "draft.html").read_text(encoding="utf-8")
        draft = json.loads(Path(out["draft"]).read_text(encoding="utf-8"))
        assert draft["trigger"] == {"violation_seq": out["violation_seq"]} and draft["violations"]
        text = out["incident_text"]["out"]
        assert out["incident_text"]["rc"] == 0 and "BÁO CÁO" in text and "BMNN-DOC-001" in text, out["incident_text"]
    finally:
        subprocess.run(["umount", "-l", str(base / "usb")], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
