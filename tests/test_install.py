"""`sudo make install` / `make uninstall` into a staged tree: a working venv, the commands, the unit,
directories with their modes, the host key; a second install keeps local configuration and the
key; uninstall keeps configuration, journal and logs."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("make") is None, reason="needs root and make")
def test_install_reinstall_uninstall(tmp_path):
    dirs = {k: tmp_path / v for k, v in (("PREFIX", "opt/bmnn-guard"), ("BINDIR", "bin"), ("UNITDIR", "units"),
                                         ("CONFDIR", "etc/bmnn"), ("STATEDIR", "var/lib/bmnn"),
                                         ("LOGDIR", "var/log/bmnn"), ("RUNDIR", "run/bmnn"))}
    args = [f"{k}={v}" for k, v in dirs.items()]

    def make(target):
        p = subprocess.run(["make", "-C", str(ROOT), "--no-print-directory", target, *args], capture_output=True,
                           text=True, timeout=900)
        assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
        return p.stdout

    out = make("install")
    assert "systemctl enable --now bmnn-agent" in out
    v = subprocess.run([str(dirs["BINDIR"] / "bmnn"), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and "bmnn" in v.stdout, v.stderr
    # the package data came along (rules, legal catalog, report templates)
    pv = subprocess.run([str(dirs["BINDIR"] / "bmnn"), "policy", "validate"], capture_output=True, text=True)
    assert pv.returncode == 0, pv.stdout + pv.stderr
    html = subprocess.run([str(dirs["BINDIR"] / "bmnn"), "--config-dir", str(dirs["CONFDIR"]), "scan", "--no-content", "--format", "html",
                           "-o", str(tmp_path / "r.html")], capture_output=True, text=True)
    assert html.returncode in (0, 2, 3) and "</html>" in (tmp_path / "r.html").read_text(encoding="utf-8"), html.stderr
    assert (dirs["UNITDIR"] / "bmnn-agent.service").read_text() == (ROOT / "systemd/bmnn-agent.service").read_text()
    assert os.access(dirs["BINDIR"] / "bmnn-agent", os.X_OK)
    assert stat.S_IMODE(os.stat(dirs["STATEDIR"]).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(dirs["CONFDIR"]).st_mode) == 0o755
    keys = sorted(p.name for p in dirs["CONFDIR"].iterdir() if p.is_file())
    assert keys, "bmnn init made no host key"
    key_bytes = {n: (dirs["CONFDIR"] / n).read_bytes() for n in keys}

    local = dirs["CONFDIR"] / "local.d" / "10-agency.yaml"
    local.write_text("marked_folders: [{path: /srv/mat}]\n", encoding="utf-8")
    make("install")
    assert local.read_text(encoding="utf-8") == "marked_folders: [{path: /srv/mat}]\n"
    assert {n: (dirs["CONFDIR"] / n).read_bytes() for n in keys} == key_bytes, "a reinstall replaced the host key"

    (dirs["STATEDIR"] / "journal.db").write_bytes(b"journal")
    out = make("uninstall")
    assert not dirs["PREFIX"].exists() and not (dirs["BINDIR"] / "bmnn").exists()
    assert not (dirs["UNITDIR"] / "bmnn-agent.service").exists()
    assert local.exists() and (dirs["STATEDIR"] / "journal.db").exists() and "Kept" in out
