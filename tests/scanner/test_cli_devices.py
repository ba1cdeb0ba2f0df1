"""The inspection flow through the real `bmnn` entry point, with devices simulated by umockdev."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "scanner" / "fixtures" / "umockdev"
pytestmark = pytest.mark.skipif(shutil.which("umockdev-run") is None, reason="umockdev not installed (apt-get install umockdev)")


def bmnn(cfg, fixture, *args):
    env = dict(os.environ, BMNN_CONFIG_DIR=str(cfg), BMNN_STATE_DIR=str(cfg / "state"),
               BMNN_RUNTIME_DIR=str(cfg / "run"), PYTHONPATH=str(ROOT))
    return subprocess.run(["umockdev-run", "-d", str(FIX / fixture), "--", sys.executable, str(ROOT / "cli.py"), *args],
                          capture_output=True, text=True, env=env, timeout=120)


def usb001(p):
    assert p.stdout, p.stderr
    doc = json.loads(p.stdout)
    return next(r for r in doc["results"] if r["check_id"] == "BMNN-USB-001")


def test_stick_fails_then_approved_passes(tmp_path):
    p = bmnn(tmp_path, "usb-storage-stick.umockdev", "scan", "--format", "json", "--no-input", "--no-content")
    r = usb001(p)
    assert p.returncode == 2 and r["status"] == "fail"
    ev = r["evidence"][0]
    assert (ev["vendor_id"], ev["product_id"], ev["serial"]) == ("0781", "5567", "4C530001230405117153")

    p = bmnn(tmp_path, "usb-storage-stick.umockdev", "devices", "approve", "--serial", "4C530001230405117153",
             "--label", "USB-VT-07", "--by", "Tran Van B", "--reference", "BB-12/2026")
    # (ASCII here: umockdev-run's GLib option parser rejects non-ASCII argv even after "--";
    #  Vietnamese names in the registry are covered by test_registry_answers.py)
    assert p.returncode == 0, p.stderr
    assert "0781:5567" in p.stdout

    r = usb001(bmnn(tmp_path, "usb-storage-stick.umockdev", "scan", "--format", "json", "--no-input", "--no-content"))
    assert r["status"] == "pass", r

    p = bmnn(tmp_path, "usb-storage-stick.umockdev", "devices", "list", "--json")
    assert [d["label"] for d in json.loads(p.stdout)["devices"]] == ["USB-VT-07"]
    p = bmnn(tmp_path, "usb-storage-stick.umockdev", "devices", "revoke", "4C530001230405117153")
    assert p.returncode == 0
    assert usb001(bmnn(tmp_path, "usb-storage-stick.umockdev", "scan", "--format", "json", "--no-input", "--no-content"))["status"] == "fail"


def test_keyboard_alone_gives_no_usb_finding(tmp_path):
    p = bmnn(tmp_path, "keyboard.umockdev", "scan", "--format", "json", "--no-input", "--no-content")
    doc = json.loads(p.stdout)
    usb = {r["check_id"]: r["status"] for r in doc["results"] if r["check_id"].startswith("BMNN-USB-")}
    assert usb == {"BMNN-USB-001": "pass", "BMNN-USB-002": "pass"}


def test_approve_names_what_is_attached_when_nothing_matches(tmp_path):
    p = bmnn(tmp_path, "usb-storage-stick.umockdev", "devices", "approve", "--serial", "NOPE", "--label", "x", "--by", "y")
    assert p.returncode == 1
    assert "no attached removable storage matches" in p.stderr and "4C530001230405117153" in p.stderr
