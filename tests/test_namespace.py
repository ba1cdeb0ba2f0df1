"""The wheel installs one top-level name, bmnn_guard (issue 17): nothing named agent, scanner, policies
or cli lands in site-packages, and the commands resolve inside the namespace."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_has_one_top_level_name(tmp_path):
    # from a clean copy: setuptools' build/ keeps modules that are gone from the tree
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__"))
    p = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                        str(src)], capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {n.split("/")[0] for n in names if ".dist-info/" not in n} == {"bmnn_guard"}
    for sub in ("agent/__init__.py", "scanner/__init__.py", "policies/__init__.py", "cli.py"):
        assert f"bmnn_guard/{sub}" in names
    assert [n for n in names if n.count("/") == 1 and not n.startswith("bmnn_guard-")] == ["bmnn_guard/cli.py"]
    assert any(n.startswith("bmnn_guard/policies/data/") and n.endswith(".yaml") for n in names)
    assert any(n.startswith("bmnn_guard/scanner/report/templates/") for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    scripts = zipfile.ZipFile(wheel).read(entry).decode()
    assert "= bmnn_guard.cli:" in scripts and "= bmnn_guard.agent." in scripts
