"""The verdict cache: an unchanged tree rescans from stat alone; a changed file is never matched to
an old verdict; a cache a local user could write, or a damaged one, is discarded with a note."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

from bmnn_guard.scanner.content import cache as K
from bmnn_guard.scanner.content.cache import ContentCache
from bmnn_guard.scanner.content.limits import Limits
from bmnn_guard.scanner.content.scan import run_scan

from . import corpus as C

STAMP = {"runs": [{"text": "TUYỆT MẬT", "bold": True, "color": "FF0000"}], "border": True}


@pytest.fixture
def state(tmp_path):
    d = tmp_path / "state"
    d.mkdir(mode=0o700)
    return d


def tree(tmp_path):
    t = tmp_path / "t"
    t.mkdir()
    (t / "a.docx").write_bytes(C.letter(STAMP))
    (t / "b.txt").write_text("Giấy mời họp\n", encoding="utf-8")
    (t / "c.txt").write_text("Số: 1\nMẬT\n", encoding="utf-8")
    (t / "lib.jar").write_bytes(C._zip({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"}))
    return t


def scan(t, state, **kw):
    c = ContentCache(str(state / "content-cache.json"), **kw)
    return run_scan([str(t)], cache=c), c


def verdicts(rep):
    return sorted((os.path.basename(f.path), f.verdict, f.level) for f in rep.facts.findings)


def test_unchanged_tree_rescans_from_stat_alone(tmp_path, state):
    t = tree(tmp_path)
    first, _ = scan(t, state)
    assert first.cache_hits == 0
    second, c = scan(t, state)
    assert second.cache_hits == 4 and c.misses == 0
    assert verdicts(first) == verdicts(second) and second.facts.not_documents == 1
    assert oct(os.stat(state / "content-cache.json").st_mode & 0o777) == "0o600"


def test_a_changed_file_is_read_again_even_with_the_same_size_and_mtime(tmp_path, state):
    t = tree(tmp_path)
    scan(t, state)
    st = os.stat(t / "b.txt")
    new = "Số: 9\nMẬT".encode()
    (t / "b.txt").write_bytes(new + b" " * (st.st_size - len(new) - 1) + b"\n")
    assert os.stat(t / "b.txt").st_size == st.st_size
    os.utime(t / "b.txt", ns=(st.st_atime_ns, st.st_mtime_ns))  # same mtime: only ctime tells
    rep, c = scan(t, state)
    assert c.misses == 1 and rep.cache_hits == 3
    assert ("b.txt", "classified", "mat") in verdicts(rep)


def test_another_detector_version_or_policy_rebuilds(tmp_path, state, monkeypatch):
    t = tree(tmp_path)
    scan(t, state, policy="p1")
    _, c = scan(t, state, policy="p2")
    assert c.hits == 0 and any("policy" in n for n in c.notes)
    import bmnn_guard.scanner.content as SC
    monkeypatch.setattr(SC, "DETECTOR_VERSION", SC.DETECTOR_VERSION + 100)
    _, c = scan(t, state, policy="p2")
    assert c.hits == 0 and any("detector" in n for n in c.notes)
    _, c = scan(t, state, limits=Limits(max_file_bytes=1 << 20))
    assert c.hits == 0


def test_a_damaged_cache_is_discarded_with_a_note_and_rewritten(tmp_path, state):
    t = tree(tmp_path)
    scan(t, state)
    path = state / "content-cache.json"
    path.write_bytes(path.read_bytes()[:100])
    os.chmod(path, 0o600)
    rep, c = scan(t, state)
    assert rep.cache_hits == 0 and any("damaged" in n for n in rep.notes)
    assert verdicts(rep) == [("a.docx", "classified", "tuyet_mat"), ("c.txt", "classified", "mat")]
    _, c = scan(t, state)
    assert c.hits == 4 and not c.notes


def test_a_poisoned_entry_cannot_hide_a_changed_file(tmp_path, state):
    """Even a cache that claims a stamped file is clean loses as soon as the file is not the one
    the entry was made for (the key is checked against the file's own lstat)."""
    t = tree(tmp_path)
    scan(t, state)
    path = state / "content-cache.json"
    data = json.loads(path.read_text())
    for k, e in data["entries"].items():
        e[0] += 1  # a size that no longer matches
        e[5] = {"size": 1, "kind": "text", "verdict": {"verdict": "clean", "level": None, "score": 0,
                                                        "reasons": [], "encoding": None, "marks": []}}
    path.write_text(json.dumps(data))
    rep, _ = scan(t, state)
    assert rep.cache_hits == 0
    assert verdicts(rep) == [("a.docx", "classified", "tuyet_mat"), ("c.txt", "classified", "mat")]


def test_a_cache_others_can_write_is_not_trusted(tmp_path, state):
    t = tree(tmp_path)
    scan(t, state)
    path = state / "content-cache.json"
    os.chmod(path, 0o666)
    rep, c = scan(t, state)
    assert rep.cache_hits == 0 and any("writable by group or others" in n for n in c.notes)
    os.chmod(state, 0o777)
    _, c = scan(t, state)
    assert not c.usable and any("state directory" in n for n in c.notes)


def test_a_cache_owned_by_another_user_is_not_trusted(tmp_path, state):
    if os.geteuid() != 0:
        pytest.skip("needs root to give the cache file to another user")
    t = tree(tmp_path)
    scan(t, state)
    os.chown(state / "content-cache.json", 65534, 65534)
    rep, c = scan(t, state)
    assert rep.cache_hits == 0 and any("belongs to uid 65534" in n for n in c.notes)


def test_a_symlinked_cache_is_not_followed(tmp_path, state):
    t = tree(tmp_path)
    scan(t, state)
    real = tmp_path / "elsewhere.json"
    shutil.move(state / "content-cache.json", real)
    (state / "content-cache.json").symlink_to(real)
    rep, c = scan(t, state)
    assert rep.cache_hits == 0 and any("symlink" in n for n in c.notes)


def test_size_is_bounded(tmp_path, state, monkeypatch):
    monkeypatch.setattr(K, "MAX_ENTRIES", 2)
    t = tree(tmp_path)
    scan(t, state)
    data = json.loads((state / "content-cache.json").read_text())
    assert len(data["entries"]) == 2


def test_transient_results_are_not_cached(tmp_path, state):
    t = tmp_path / "t"
    t.mkdir()
    (t / "a.rtf").write_bytes(C.rtf(C.rtf_escape("Số: 1") + "\\par\n" + C.rtf_escape("MẬT") + "\\par\n"))  # read in a worker
    c = ContentCache(str(state / "content-cache.json"))
    run_scan([str(t)], cache=c, limits=Limits(wall_seconds=0.001))
    rep = run_scan([str(t)], cache=ContentCache(str(state / "content-cache.json")))
    assert rep.cache_hits == 0 and [f.verdict for f in rep.facts.findings] == ["classified"]


def test_copy_index_is_rebuilt_from_the_cache_without_reading(tmp_path, state):
    marked, out = tmp_path / "marked", tmp_path / "out"
    marked.mkdir()
    out.mkdir()
    (marked / "a.docx").write_bytes(C.letter(STAMP))
    shutil.copy(marked / "a.docx", out / "renamed.bin")
    for _ in range(2):
        c = ContentCache(str(state / "content-cache.json"))
        rep = run_scan([str(out)], marked_folders=[str(marked)], cache=c)
        by = {os.path.basename(f.path): f for f in rep.facts.findings}
        assert by["renamed.bin"].copy_of.endswith("a.docx")
    assert c.hits == 2


def test_bmnn_content_uses_the_state_directory(tmp_path, state):
    t = tree(tmp_path)
    env = dict(os.environ, BMNN_STATE_DIR=str(state))
    exe = shutil.which("bmnn") or os.path.join(os.path.dirname(os.sys.executable), "bmnn")
    for _ in range(2):
        t0 = time.monotonic()
        p = subprocess.run([exe, "content", "--lang", "en", str(t)], capture_output=True, text=True, env=env, timeout=120)
        assert p.returncode == 2, p.stdout + p.stderr
        assert time.monotonic() - t0 < 60
    assert "Verdict cache: 4 unchanged files not read again." in p.stdout
    assert "Only the named paths were followed" in p.stdout
