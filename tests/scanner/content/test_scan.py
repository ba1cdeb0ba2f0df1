"""scan_paths end to end through the worker pool: hostile files, copies out, the policy check."""

import datetime as dt
import io
import os
import shutil
import subprocess
import zipfile

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.evaluator import evaluate
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.scanner.content.limits import Limits
from bmnn_guard.scanner.content.scan import run_scan, scan_paths

from . import corpus as C

STAMP = C.letter({"runs": [{"text": "TỐI MẬT", "bold": True, "color": "FF0000"}], "border": True})


def reasons(items):
    return {os.path.basename(e.source): e.message for e in items}


def zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            chunk = b"\0" * (1 << 20)
            for _ in range(300):  # 300 MiB of zeros, ~300 KiB compressed
                fh.write(chunk)
    return buf.getvalue()


BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
                  + ']><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&lol9; MẬT</w:t></w:r></w:p></w:body></w:document>')


@pytest.fixture
def hostile(tmp_path):
    d = tmp_path / "tree"
    d.mkdir()
    (d / "bomb.docx").write_bytes(zip_bomb())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", BILLION_LAUGHS)
    (d / "laughs.docx").write_bytes(buf.getvalue())
    pdf = C.pdf([[("Số: 1", {}), ("MẬT", {})]])
    (d / "truncated.pdf").write_bytes(pdf[: len(pdf) // 3])
    (d / "zero.docx").write_bytes(b"")
    (d / "loop").symlink_to("loop")
    (d / "outside").symlink_to("/etc/hostname")
    os.mkfifo(d / "pipe")
    (d / os.fsdecode(b"t\xe0i li\xea\xf5u.txt")).write_bytes("Số: 1\nMẬT\n".encode())
    (d / "ok.docx").write_bytes(STAMP)
    (d / "clean.txt").write_text("mật khẩu\n", encoding="utf-8")
    return d


def test_hostile_files_are_listed_and_the_scan_finishes(hostile):
    rep = run_scan([str(hostile)], jobs=2, limits=Limits(address_space=1 << 30))
    facts = rep.facts
    errs, skips = reasons(facts.errors), reasons(facts.skipped)
    assert "zip bomb" in errs["bomb.docx"]
    assert "entity" in errs["laughs.docx"]
    assert "PDF" in errs["truncated.pdf"]
    assert "loop" in skips["loop"]
    assert skips["outside"] == "symbolic link to /etc/hostname: not followed"
    assert "empty file (0 bytes)" in skips["zero.docx"], "an empty office file is listed, not clean"
    assert "FIFO" in skips["pipe"]
    assert all(e.affects == "documents.findings" for e in facts.errors + facts.skipped)
    paths = {os.path.basename(f.path): f for f in facts.findings}
    assert paths["ok.docx"].level == "toi_mat"
    bad = [f for f in facts.findings if f.path.endswith("u.txt")]
    assert bad and "\\x" in bad[0].path, "a non-UTF-8 name is shown escaped, and still scanned"
    assert facts.files_scanned == 3  # ok, clean, bad name
    for f in facts.findings:
        assert set(vars(f)) == {fld.name for fld in __import__("dataclasses").fields(F.DocumentFinding)}
        assert "MẬT" not in repr(f), "a finding never carries document text"


def test_memory_limit_kills_only_that_file(tmp_path):
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(700 << 20)  # sparse: reading it needs 700 MiB of memory
    (tmp_path / "ok.txt").write_text("Số: 1\nTUYỆT MẬT\n", encoding="utf-8")
    rep = run_scan([str(tmp_path)], jobs=1, limits=Limits(address_space=600 << 20, max_file_bytes=1 << 30))
    assert "memory" in reasons(rep.facts.errors)["big.txt"]
    assert [os.path.basename(f.path) for f in rep.facts.findings] == ["ok.txt"]


def test_resident_memory_is_capped_even_within_the_address_space(tmp_path):
    """RLIMIT_AS (2 GiB by default) would let a worker read 700 MiB; the RSS watch stops it at 300 MiB."""
    big = tmp_path / "big.txt"
    with open(big, "wb") as fh:
        fh.truncate(700 << 20)
    (tmp_path / "ok.txt").write_text("Số: 1\nTUYỆT MẬT\n", encoding="utf-8")
    rep = run_scan([str(tmp_path)], jobs=1, limits=Limits(max_file_bytes=1 << 30))
    assert "memory limit exceeded (300 MiB resident)" in reasons(rep.facts.errors)["big.txt"]
    assert [os.path.basename(f.path) for f in rep.facts.findings] == ["ok.txt"]


def test_wall_time_limit_names_the_file(tmp_path):
    (tmp_path / "a.rtf").write_bytes(C.rtf(C.rtf_escape("Số: 1") + "\\par\n" + C.rtf_escape("MẬT") + "\\par\n"))  # RTF: read in a worker
    rep = run_scan([str(tmp_path)], jobs=1, limits=Limits(wall_seconds=0.001))
    assert "wall time" in reasons(rep.facts.errors)["a.rtf"]


def test_permission_denied_is_an_error(tmp_path):
    if os.geteuid() != 0:
        d = tmp_path / "t"
        d.mkdir()
        (d / "secret.txt").write_text("MẬT")
        (d / "secret.txt").chmod(0)
        assert "Permission denied" in reasons(scan_paths([str(d)]).errors)["secret.txt"]
        return
    setpriv = shutil.which("setpriv")
    if not setpriv:
        pytest.skip("setpriv (util-linux) needed to drop root for the permission test")
    python = "/usr/bin/python3"  # the venv's interpreter may sit under /root, closed to nobody
    if not os.path.exists(python):
        pytest.skip("/usr/bin/python3 needed to run the scan as nobody")
    base = "/tmp/bmnn-perm-test"
    shutil.rmtree(base, ignore_errors=True)
    os.makedirs(base)
    os.chmod(base, 0o755)
    with open(f"{base}/secret.txt", "w") as fh:
        fh.write("MẬT")
    os.chmod(f"{base}/secret.txt", 0)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    code = ("import os, sys, tempfile; _ns = tempfile.mkdtemp(); os.symlink(%r, os.path.join(_ns, 'bmnn_guard')); sys.path.insert(0, _ns); from bmnn_guard.scanner.content.scan import scan_paths; "
            "f = scan_paths([%r]); print([e.message for e in f.errors])" % (root, base))
    out = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", code],
                         capture_output=True, text=True, timeout=60)
    shutil.rmtree(base, ignore_errors=True)
    assert "Permission denied" in out.stdout, out.stdout + out.stderr


def test_copy_out_of_a_marked_folder_fails_doc_001(tmp_path):
    marked, home = tmp_path / "marked", tmp_path / "home"
    marked.mkdir()
    home.mkdir()
    (marked / "bao-cao.docx").write_bytes(STAMP)
    (marked / "plain.bin").write_bytes(b"\x00\x01 no text here" * 10)
    (home / "renamed.dat").write_bytes(b"\x00\x01 no text here" * 10)
    facts = scan_paths([str(home)], marked_folders=[str(marked)], removable_mounts=[str(home)])
    by = {os.path.basename(f.path): f for f in facts.findings}
    assert by["renamed.dat"].copy_of.endswith("plain.bin") and by["renamed.dat"].on_removable is True
    assert by["bao-cao.docx"].in_marked_folder is True and by["bao-cao.docx"].copy_of is None
    result = evaluate(F.Facts(documents=facts, collected=("documents", "network")), load_bundle(),
                      now=dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc))
    r = next(r for r in result.results if r.check_id == "BMNN-DOC-001")
    assert r.status == "fail"


def test_marked_folder_only_is_pass(tmp_path):
    marked = tmp_path / "marked"
    marked.mkdir()
    (marked / "a.docx").write_bytes(STAMP)
    facts = scan_paths([], marked_folders=[str(marked)])
    result = evaluate(F.Facts(documents=facts, collected=("documents", "network")), load_bundle(),
                      now=dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc))
    assert next(r for r in result.results if r.check_id == "BMNN-DOC-001").status == "pass"


def test_copy_index_round_trip_and_size_filter():
    from bmnn_guard.scanner.content.copyindex import CopyIndex
    idx = CopyIndex.build([("/m/a", "aa", 10), ("/m/e", "e3", 0)])
    again = CopyIndex.loads(idx.dumps())
    assert again.source_of("aa", 10) == "/m/a" and again.may_hold(10) and not again.may_hold(11)
    assert again.source_of("e3", 0) is None


def test_copy_index_forgets_a_path_and_a_tree_and_keeps_the_rest():
    from bmnn_guard.scanner.content.copyindex import CopyIndex
    idx = CopyIndex.loads(CopyIndex.build([("/m/a", "aa", 10), ("/m/d/b", "bb", 10), ("/m/d/e/c", "cc", 10),
                                           ("/m/dx", "dd", 10), ("/m/same", "aa", 10)]).dumps())
    idx.remove_path("/m/same")  # not the path "aa" is indexed under: "aa" stays
    assert idx.source_of("aa", 10) == "/m/a"
    idx.remove_trees(["/m/d/"])
    assert idx.source_of("bb", 10) is None and idx.source_of("cc", 10) is None
    assert idx.source_of("dd", 10) == "/m/dx"  # /m/dx is not below /m/d
    idx.remove_path("/m/a")
    assert idx.source_of("aa", 10) is None
    idx.add("aa", "/m/new", 10)  # indexed again under the new path, and forgettable there
    idx.remove_path("/m/new")
    assert idx.by_hash == {"dd": "/m/dx"}


def test_forgetting_many_files_of_a_large_index_is_linear():
    """A burst of new files in a large marked folder: each is forgotten before it is scanned
    again. One pass over every hash per file made 20,000 files in a folder of 200,000 take
    4*10^9 comparisons (hours); by path it is 20,000 lookups."""
    import time
    from bmnn_guard.agent.content import ContentWatch
    cw = ContentWatch(lambda facts: None)  # not started: no thread, no worker
    for i in range(200_000):
        cw.index.add(f"{i:064x}", f"/m/f{i}", 100)
    t = time.monotonic()
    cw._drop([f"/m/f{i}" for i in range(0, 200_000, 10)])  # changed files
    cw._drop([], trees=[f"/m/f{i}" for i in range(1, 200_000, 10)])  # deleted (file or folder: not known)
    assert time.monotonic() - t < 2.0
    assert len(cw.index.by_hash) == 160_000 and cw.index.source_of(f"{2:064x}", 100) == "/m/f2"
    assert cw.index.source_of(f"{1:064x}", 100) is None and cw.index.source_of(f"{10:064x}", 100) is None
