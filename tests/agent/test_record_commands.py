"""`bmnn handover` and `bmnn incident` as people type them: the user-or-subcommand dispatch, clear
errors and their exit codes, `show` refusing an edited file, and a device issued to a person
(`devices approve --holder`, a umockdev stick) in their record."""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bmnn_guard.agent import keys, signed

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "scanner" / "fixtures" / "umockdev"


def env_for(cfg: Path) -> dict:
    return dict(os.environ, BMNN_CONFIG_DIR=str(cfg / "etc"), BMNN_STATE_DIR=str(cfg / "state"),
                BMNN_RUNTIME_DIR=str(cfg / "run"), PYTHONPATH=str(ROOT), BMNN_LANG="en")


def bmnn(cfg: Path, *args, prefix=()):
    return subprocess.run([*prefix, sys.executable, str(ROOT / "cli.py"), *args], capture_output=True, text=True,
                          env=env_for(cfg), timeout=600)


@pytest.fixture
def cfg(tmp_path):
    for d in ("etc", "state", "run"):
        (tmp_path / d).mkdir()
    return tmp_path


def test_help_lists_the_record_options_and_the_subcommands(cfg):
    p = bmnn(cfg, "handover", "--help")
    assert p.returncode == 0 and "USER [OPTIONS] | COMMAND" in p.stdout
    for part in ("--check", "--destroyed", "--receiver", "verify", "show"):
        assert part in p.stdout, part
    assert bmnn(cfg, "incident", "--help").stdout.count("--seq") >= 1


def test_errors_say_what_to_do(cfg):
    p = bmnn(cfg, "handover", f"khong-co-{uuid.uuid4().hex[:6]}")
    assert p.returncode == 1 and "No user" in p.stderr and "Traceback" not in p.stderr
    p = bmnn(cfg, "handover", "--", "verify")  # a user literally named "verify"
    assert p.returncode == 1 and "No user 'verify'" in p.stderr
    assert bmnn(cfg, "handover", "verify", str(cfg / "none.json")).returncode == 1
    p = bmnn(cfg, "handover", "nobody", "--format", "pdf")
    assert p.returncode == 1 and "-o" in p.stderr
    p = bmnn(cfg, "handover", "nobody", "-o", str(cfg / "no-such-folder" / "r.json"))
    assert p.returncode == 1 and "does not exist" in p.stderr
    p = bmnn(cfg, "handover", "nobody", "--check", "a.json", "--destroyed", "b")
    assert p.returncode == 1
    p = bmnn(cfg, "incident", "--seq", "9-2")
    assert p.returncode == 1 and "--seq" in p.stderr
    p = bmnn(cfg, "incident", "--seq", "1-2")
    assert p.returncode == 1 and "no journal" in p.stderr


def test_no_host_key_no_record(cfg):
    p = bmnn(cfg, "handover", "nobody", "-o", str(cfg / "r.json"))
    assert p.returncode == 1 and "bmnn init" in p.stderr and not (cfg / "r.json").exists()


def test_show_refuses_an_edited_file_and_renders_a_genuine_one(cfg):
    keys.generate(str(cfg / "etc"))
    p = bmnn(cfg, "handover", "nobody", "-o", str(cfg / "r.json"))
    assert p.returncode in (0, 2, 3), p.stderr
    doc = signed.read(str(cfg / "r.json"))
    assert signed.verify(doc).ok and doc["user"]["name"] == "nobody" and doc["areas"]["home"] is None
    p = bmnn(cfg, "handover", "show", str(cfg / "r.json"), "--format", "html", "-o", str(cfg / "r.html"))
    assert p.returncode == 0 and "HAND-OVER OF DOCUMENTS" in (cfg / "r.html").read_text(encoding="utf-8")
    doc["people"]["receiver"] = "someone else"
    (cfg / "edited.json").write_text(json.dumps(doc), encoding="utf-8")
    p = bmnn(cfg, "handover", "show", str(cfg / "edited.json"), "--format", "html", "-o", str(cfg / "e.html"))
    assert p.returncode == 4 and not (cfg / "e.html").exists()
    p = bmnn(cfg, "handover", "verify", str(cfg / "edited.json"), "--json")
    assert p.returncode == 4 and json.loads(p.stdout)["valid"] is False
    p = bmnn(cfg, "handover", "nobody", "--format", "html", "-o", str(cfg / "direct.html"))
    assert signed.verify(signed.read(str(cfg / "direct.json"))).ok, p.stderr  # the signed original beside the page
    assert signed.read(str(cfg / "direct.json"))["signed_by"]["fingerprint"] in (cfg / "direct.html").read_text()


@pytest.mark.skipif(shutil.which("umockdev-run") is None or os.geteuid() != 0 or shutil.which("useradd") is None,
                    reason="needs root, useradd and umockdev (apt-get install umockdev passwd)")
def test_a_device_issued_to_the_person_is_in_their_record(cfg):
    name = f"bmnndv{uuid.uuid4().hex[:8]}"
    subprocess.run(["useradd", "-m", name], check=True)
    try:
        keys.generate(str(cfg / "etc"))
        stick = ("umockdev-run", "-d", str(FIX / "usb-storage-stick.umockdev"), "--")
        p = bmnn(cfg, "devices", "approve", "--serial", "4C530001230405117153", "--label", "USB-VT-07", "--by", "Cuc",
                 "--holder", name, prefix=stick)
        assert p.returncode == 0 and name in p.stdout, p.stderr
        p = bmnn(cfg, "devices", "approve", "--serial", "4C530001230405117153", "--label", "X", "--by", "Cuc",
                 "--holder", f"{name}x", prefix=stick)
        assert p.returncode == 1 and "No user" in p.stderr
        assert json.loads(bmnn(cfg, "devices", "list", "--json").stdout)["devices"][0]["holder"] == name
        p = bmnn(cfg, "handover", name, "-o", str(cfg / "r.json"), prefix=stick)
        assert p.returncode == 0, p.stderr
        (dev,) = json.loads((cfg / "r.json").read_text())["devices"]
        assert (dev["label"], dev["serial"], dev["attached"]) == ("USB-VT-07", "4C530001230405117153", True)
        p = bmnn(cfg, "handover", name, "-o", str(cfg / "r2.json"))  # the stick taken away
        assert json.loads((cfg / "r2.json").read_text())["devices"][0]["attached"] is False
        text = bmnn(cfg, "handover", "show", str(cfg / "r2.json"), "--lang", "en").stdout
        assert "not attached when the record was made: recover the device" in text
    finally:
        subprocess.run(["userdel", "-r", "-f", name], capture_output=True)
