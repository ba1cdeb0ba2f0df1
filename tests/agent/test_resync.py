"""Downtime leaves no hole: files created, changed or deleted in a marked folder while the daemon
was down are journaled once at the restart, marked as found at resynchronisation; a clean restart
journals none."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bmnn_guard.agent.resync import FolderIndex, compare
from tests.agent.probe import JournalProbe

ROOT = Path(__file__).resolve().parents[2]


class Agent:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        for d in ("etc/local.d", "state", "run", "log", "mat/sub"):
            (tmp / d).mkdir(parents=True, exist_ok=True)
        (tmp / "etc/local.d/10-mat.yaml").write_text(f"marked_folders: [{{path: {tmp / 'mat'}}}]\n", encoding="utf-8")
        self.env = dict(os.environ, BMNN_CONFIG_DIR=str(tmp / "etc"), BMNN_STATE_DIR=str(tmp / "state"),
                        BMNN_RUNTIME_DIR=str(tmp / "run"), BMNN_LOG_DIR=str(tmp / "log"), PYTHONPATH=str(ROOT))
        self.env.pop("NOTIFY_SOCKET", None)
        self.probe = JournalProbe(str(tmp / "state/journal.db"))
        self.index = tmp / "state/folder-index.json"
        self.p = None

    def start(self):
        """Start and wait until the start-up resynchronisation has saved the index."""
        before = self.index.stat().st_mtime_ns if self.index.exists() else 0
        mark = self.probe.last_seq()
        self.p = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=self.env, cwd=str(ROOT),
                                  stdout=subprocess.DEVNULL, stderr=open(self.tmp / "daemon.err", "a"))
        assert self.probe.wait_for("SELECT seq FROM records WHERE seq > ? AND kind='agent_start'", mark, timeout=60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.index.exists() and self.index.stat().st_mtime_ns != before:
                return mark
            time.sleep(0.05)
        raise AssertionError("no resynchronisation: " + (self.tmp / "daemon.err").read_text()[-2000:])

    def stop(self, sig):
        self.p.send_signal(sig)
        self.p.wait(timeout=30)

    def resynced(self, since):
        return [(json.loads(e)["event"], json.loads(e)["path"]) for (e,) in self.probe.rows(
            "SELECT evidence FROM records WHERE seq > ? AND kind='file' AND json_extract(evidence, '$.resync')", since)]


def test_files_changed_while_down_are_journaled_once_at_restart(tmp_path):
    a = Agent(tmp_path)
    mat = tmp_path / "mat"
    (mat / "keep.txt").write_text("giữ nguyên", encoding="utf-8")
    (mat / "sub/change.txt").write_text("bản 1", encoding="utf-8")
    (mat / "gone.txt").write_text("sẽ xoá", encoding="utf-8")
    mark = a.start()
    try:
        base = a.resynced(mark)
        assert base == [("baseline", str(mat))], base  # a first start: one baseline, no record per file
        ev = json.loads(a.probe.rows("SELECT evidence FROM records WHERE seq > ? AND json_extract(evidence, "
                                     "'$.event') = 'baseline'", mark)[0][0])
        assert ev["files"] == 3
        (mat / "live.txt").write_text("thấy trực tiếp", encoding="utf-8")  # seen live, journaled live
        assert a.probe.wait_for("SELECT seq FROM records WHERE kind='file' AND message LIKE '%live.txt'", timeout=20)
        time.sleep(0.5)
    finally:
        a.stop(signal.SIGKILL)
    # while nobody watches
    (mat / "new.txt").write_text("tạo khi tắt", encoding="utf-8")
    (mat / "sub/change.txt").write_text("bản 2 khác", encoding="utf-8")
    (mat / "gone.txt").unlink()
    os.utime(mat / "keep.txt", ns=(1, 1))  # touched, same content: not a change
    os.symlink("/etc/shadow", mat / "link")  # journaled as what it is, never followed
    mark = a.start()
    try:
        got = sorted(a.resynced(mark))
        assert got == sorted([("created", str(mat / "new.txt")), ("modified", str(mat / "sub/change.txt")),
                              ("deleted", str(mat / "gone.txt")), ("created", str(mat / "link"))]), got
        rows = {json.loads(e)["path"]: json.loads(e) for (e,) in a.probe.rows(
            "SELECT evidence FROM records WHERE seq > ? AND json_extract(evidence, '$.resync')", mark)}
        import hashlib
        assert rows[str(mat / "new.txt")]["sha256"] == hashlib.sha256("tạo khi tắt".encode()).hexdigest()
        assert rows[str(mat / "new.txt")]["owner"] and rows[str(mat / "new.txt")]["size"] > 0
        assert rows[str(mat / "link")]["type"] == "symlink" and "sha256" not in rows[str(mat / "link")]
        assert a.probe.rows("SELECT seq FROM records WHERE seq > ? AND kind='gap'", mark)  # the kill itself
    finally:
        a.stop(signal.SIGTERM)
    mark = a.start()  # a clean restart: nothing to resynchronise
    try:
        assert a.resynced(mark) == []
    finally:
        a.stop(signal.SIGTERM)
    # a kill -9 with nothing changed journals nothing at resynchronisation either
    mark = a.start()
    a.stop(signal.SIGKILL)
    mark = a.start()
    try:
        assert a.resynced(mark) == []
    finally:
        a.stop(signal.SIGTERM)


def test_an_untrusted_or_damaged_index_is_refused(tmp_path):
    p = tmp_path / "folder-index.json"
    idx = FolderIndex()
    idx.folders.add(str(tmp_path / "mat"))
    idx.files[str(tmp_path / "mat/a")] = ["regular", 1, 2, 3, "0" * 64]
    idx.seq = 7
    idx.save(str(p))
    assert oct(p.stat().st_mode & 0o777) == "0o600"
    back, why = FolderIndex.load(str(p))
    assert why is None and back.seq == 7 and back.files == idx.files
    os.chmod(p, 0o666)  # writable by others: a local user could hide files in it
    back, why = FolderIndex.load(str(p))
    assert back.files == {} and "writable" in why
    os.chmod(p, 0o600)
    doc = json.loads(p.read_text())
    doc["files"]["/etc/shadow"] = ["regular", 1, 2, 3, None]  # an entry outside every folder
    p.write_text(json.dumps(doc))
    back, why = FolderIndex.load(str(p))
    assert back.files == {} and "damaged" in why
    p.unlink()
    os.symlink("/etc/passwd", p)
    back, why = FolderIndex.load(str(p))
    assert back.files == {} and why


def test_compare_opens_only_what_changed(tmp_path):
    mat = tmp_path / "mat"
    (mat / "d").mkdir(parents=True)
    for i in range(20):
        (mat / "d" / f"f{i}").write_text(str(i))
    idx = FolderIndex()
    idx.folders.add(str(mat))
    first, _ = compare(idx, str(mat), limit=1 << 20)
    assert len(first) == 20 and all(e["evidence"]["event"] == "created" for e in first)
    again, _ = compare(idx, str(mat), limit=1 << 20)
    assert again == []
    (mat / "d/f3").write_text("khác")
    (mat / "d/f4").unlink()
    got = sorted((e["evidence"]["event"], e["evidence"]["path"]) for e in compare(idx, str(mat), limit=1 << 20)[0])
    assert got == [("deleted", str(mat / "d/f4")), ("modified", str(mat / "d/f3"))]


def test_replay_keeps_the_order_of_deletions_and_creations_and_is_linear_for_a_deleted_tree():
    """An ``rm -r`` of a tree of many folders is one pass over the index, not one per folder,
    and a file created in a deleted folder's place after the deletion stays."""
    from types import SimpleNamespace as R
    idx = FolderIndex()
    idx.folders.add("/m")
    sha = "a" * 64
    seq = iter(range(1, 10**7))

    def rec(event, path, is_dir=False, dest=None):
        return R(seq=next(seq), evidence={"event": event, "path": path, "dest": dest, "is_directory": is_dir,
                                          "type": "regular", "size": 1, "sha256": sha})

    created = [rec("created", f"/m/d{i // 10}/f{i}") for i in range(100_000)]
    idx.replay(created + [rec("created", "/m/keep/x")])
    assert len(idx.files) == 100_001
    t = time.monotonic()
    gone = [rec("deleted", f"/m/d{i}", is_dir=True) for i in range(10_000)]  # 10,000 folders of 10 files
    idx.replay(gone + [rec("created", "/m/d5/again"), rec("deleted", "/m/d6/f60"), rec("deleted", "/m/keep", True),
                       rec("created", "/m/keep/y")])
    assert time.monotonic() - t < 5.0  # a pass per folder: 10^9 comparisons
    assert sorted(idx.files) == ["/m/d5/again", "/m/keep/y"]
    assert idx.seq == 100_001 + 10_004


def test_an_index_rebuilt_from_the_journal_compares_by_stat_alone(tmp_path):
    """File records carry inode and mtime: replayed into an empty index (a restart, an index
    lost), they let compare skip every unchanged file without opening it. Shown with a file
    rewritten to the same size and given back its mtime: found only if it were hashed again."""
    from types import SimpleNamespace as R
    from bmnn_guard.agent.filemeta import describe
    mat = tmp_path / "mat"
    mat.mkdir()
    for i in range(5):
        (mat / f"f{i}").write_text(f"nội dung {i}")
    fd = os.open(mat, os.O_RDONLY | os.O_DIRECTORY)
    try:
        recs = [R(seq=i + 1, evidence={"event": "closed", "path": str(mat / f"f{i}"), "dest": None,
                                       "is_directory": False, **describe(f"f{i}", root_fd=fd, limit=1 << 20)})
                for i in range(5)]
    finally:
        os.close(fd)
    assert all(type(r.evidence["inode"]) is int and type(r.evidence["mtime_ns"]) is int for r in recs)
    idx = FolderIndex()
    idx.folders.add(str(mat))
    idx.replay(recs)
    st = os.stat(mat / "f2")
    (mat / "f2").write_text("nội dung X")  # same length
    os.utime(mat / "f2", ns=(st.st_atime_ns, st.st_mtime_ns))
    (mat / "f3").write_text("khác hẳn")  # a real change: size and mtime differ
    got = [(e["evidence"]["event"], e["evidence"]["path"]) for e in compare(idx, str(mat), limit=1 << 20)[0]]
    assert got == [("modified", str(mat / "f3"))]
    changed = R(seq=6, evidence={"event": "closed", "path": str(mat / "f4"), "dest": None, "is_directory": False,
                                 "type": "regular", "size": 1, "sha256": "b" * 64, "inode": 1, "mtime_ns": 1,
                                 "note": "changed while read (1 bytes at open, 2 read)"})
    idx.replay([changed])  # what was read while it changed is never trusted by stat
    assert idx.files[str(mat / "f4")][1] is None
