"""The content scan is never followed or raced (issue 10 item 1, content side).

An attacker who can write into a scanned folder swaps files and folders for symbolic links to a
stamped file outside, to ``/dev/zero`` and to a directory tree, and for FIFOs, for a few seconds
while scans run. The attacker runs as an unprivileged user (``setpriv`` to nobody) when the suite
runs as root. Every scan must finish, list what it met as what it is, and never read anything
outside the tree: the outside file carries a stamp, so one read of it would be a finding.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bmnn_guard.scanner.content.scan import run_scan

SECRET = "Số: 12/BC\nTUYỆT MẬT\n"
CLEAN = "Giấy mời họp giao ban\nmật khẩu wifi đã đổi\n"
RACE_S = 3.0

# The attacker: swaps names inside the tree as fast as it can until told to stop.
ATTACKER = textwrap.dedent("""
    import os, sys, time
    tree, outside, until = sys.argv[1], sys.argv[2], float(sys.argv[3])
    f, d = os.path.join(tree, "swap.txt"), os.path.join(tree, "swapdir")
    tmp_f, tmp_d = os.path.join(tree, ".swap-tmp"), os.path.join(tree, ".swapdir-tmp")
    real_d = os.path.join(tree, ".realdir")
    n = 0
    while time.time() < until:
        for target in (os.path.join(outside, "secret.txt"), "/dev/zero", os.path.join(outside, "pipe")):
            try:
                os.symlink(target, tmp_f)
                os.replace(tmp_f, f)          # swap.txt -> a link
                with open(tmp_f, "w") as fh:  # and back to a plain file
                    fh.write("plain text\\n")
                os.replace(tmp_f, f)
                os.symlink(outside, tmp_d)    # swapdir -> a link to the outside tree
                os.replace(tmp_d, d)
                os.unlink(d)
                os.rename(real_d, d)          # and back to the real directory
                os.rename(d, real_d)
                os.mkfifo(tmp_f)              # swap.txt -> a FIFO
                os.replace(tmp_f, f)
                n += 1
            except OSError:
                for p in (tmp_f, tmp_d):
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
                if not os.path.isdir(real_d):
                    try:
                        os.rename(d, real_d)
                    except OSError:
                        os.makedirs(real_d, exist_ok=True)
    print(n)
""")


def _as_nobody(cmd: list[str]) -> list[str]:
    setpriv = shutil.which("setpriv")
    if os.geteuid() == 0 and setpriv and os.path.exists("/usr/bin/python3"):
        return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", *cmd[1:]]
    return cmd


@pytest.fixture
def arena(tmp_path):
    """A tree the attacker can write (mode 0777 for nobody) and a stamped tree outside it."""
    base = Path(f"/tmp/bmnn-race-{os.getpid()}-{time.monotonic_ns()}")
    tree, outside = base / "tree", base / "outside"
    for d in (tree, outside, tree / ".realdir"):
        d.mkdir(parents=True)
    os.chmod(base, 0o755)
    os.chmod(tree, 0o777)
    os.chmod(tree / ".realdir", 0o777)
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    for i in range(30):
        (outside / f"o{i}.txt").write_text(SECRET, encoding="utf-8")
    os.mkfifo(outside / "pipe")
    for i in range(400):
        (tree / f"f{i:03d}.txt").write_text(CLEAN * (1 + i % 5), encoding="utf-8")
    (tree / "swap.txt").write_text("plain text\n", encoding="utf-8")
    for p in tree.iterdir():
        if p.is_file():
            os.chmod(p, 0o666)
    yield tree, outside
    shutil.rmtree(base, ignore_errors=True)


def test_symlink_fifo_and_directory_swaps_during_scans_never_read_outside(arena):
    tree, outside = arena
    until = time.time() + RACE_S
    attacker = subprocess.Popen(_as_nobody([sys.executable, "-c", ATTACKER, str(tree), str(outside), str(until)]),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scans, slowest = 0, 0.0
    try:
        while time.time() < until or scans < 2:
            t = time.monotonic()
            rep = run_scan([str(tree)], jobs=2)
            slowest = max(slowest, time.monotonic() - t)
            scans += 1
            facts = rep.facts
            # the outside file is stamped: any read of it through a link would be a finding
            assert not facts.findings, [(f.path, f.verdict) for f in facts.findings]
            listed = [e.source for e in facts.errors + facts.skipped]
            assert not any(str(outside) in s for s in listed), listed
            # nothing below the swapped directory's link target was ever walked
            for e in facts.errors:
                assert "swap" in e.source or ".realdir" in e.source, (e.source, e.message)
    finally:
        out, err = attacker.communicate(timeout=30)
    assert attacker.returncode == 0, err
    assert int(out.strip() or 0) > 10, "the attacker must really have raced the scans"
    assert scans >= 2
    assert slowest < 60, f"a scan took {slowest:.1f} s: something blocked"


def test_link_to_dev_zero_a_directory_tree_and_a_fifo_are_listed_never_opened(tmp_path):
    tree = tmp_path / "t"
    tree.mkdir()
    (tree / "zero.txt").symlink_to("/dev/zero")
    (tree / "etc").symlink_to("/etc")
    (tree / "usr").symlink_to("/usr/share")
    os.mkfifo(tree / "pipe.docx")
    (tree / "ok.txt").write_text(SECRET, encoding="utf-8")
    t = time.monotonic()
    rep = run_scan([str(tree)], jobs=1)
    took = time.monotonic() - t
    skipped = {os.path.basename(e.source): e.message for e in rep.facts.skipped}
    assert skipped["zero.txt"] == "symbolic link to /dev/zero: not followed"
    assert skipped["etc"] == "symbolic link to /etc: not followed"
    assert skipped["usr"] == "symbolic link to /usr/share: not followed"
    assert skipped["pipe.docx"] == "named pipe (FIFO): not opened"
    assert rep.files_total == 1, "only ok.txt: nothing under /etc or /usr/share was walked"
    assert [os.path.basename(f.path) for f in rep.facts.findings] == ["ok.txt"]
    assert took < 30, took


def test_a_named_root_that_is_a_link_is_followed_but_nothing_below_it(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "a.txt").write_text(SECRET, encoding="utf-8")
    (real / "out").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "b.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "named").symlink_to(real)
    rep = run_scan([str(tmp_path / "named")])
    assert [os.path.basename(f.path) for f in rep.facts.findings] == ["a.txt"]
    assert {os.path.basename(e.source) for e in rep.facts.skipped} == {"out"}


def test_daemon_style_single_file_is_reached_without_following_a_swapped_folder(tmp_path):
    """The daemon rescans a changed file by its path below a marked folder: a folder on the way
    that became a link to a stamped tree is not entered (``follow_roots=False``)."""
    marked, outside = tmp_path / "marked", tmp_path / "outside"
    marked.mkdir()
    outside.mkdir()
    (outside / "x.txt").write_text(SECRET, encoding="utf-8")
    (marked / "sub").symlink_to(outside)
    rep = run_scan([str(marked / "sub" / "x.txt")], marked_folders=[str(marked)], walk_marked=False,
                   follow_roots=False)
    assert not rep.facts.findings
    assert rep.files_total == 0
    assert any("symbolic link" in e.message or "not entered" in e.message for e in rep.facts.errors), rep.facts
