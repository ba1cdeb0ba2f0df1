"""`bmnn scan` runs the document step by default; `--no-content` leaves DOC-001/002 "not scanned"
(incomplete, not an error of the machine); `--json` output stays one JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bmnn_guard.scanner.scan import default_content_scope

from .content import corpus as C

ROOT = Path(__file__).resolve().parents[2]


def bmnn(tmp_path, *args):
    env = dict(os.environ, BMNN_CONFIG_DIR=str(tmp_path / "etc"), BMNN_STATE_DIR=str(tmp_path / "state"),
               BMNN_RUNTIME_DIR=str(tmp_path / "run"), PYTHONPATH=str(ROOT))
    (tmp_path / "etc").mkdir(exist_ok=True)
    (tmp_path / "state").mkdir(exist_ok=True, mode=0o700)
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), "--lang", "en", *args], capture_output=True,
                          text=True, env=env, timeout=300)


def doc_results(p):
    doc = json.loads(p.stdout)
    return {r["check_id"]: r for r in doc["results"] if r["check_id"] in ("BMNN-DOC-001", "BMNN-DOC-002")}, doc


def test_no_content_is_not_scanned_and_incomplete(tmp_path):
    p = bmnn(tmp_path, "scan", "--format", "json", "--no-input", "--no-content")
    assert p.returncode in (2, 3), p.stderr
    res, doc = doc_results(p)
    selected = [r for r in res.values() if r["status"] != "not_selected"]
    assert selected
    for r in selected:
        assert r["status"] == "not_reviewed", r
        assert r["reason"]["en"] == "Documents were not scanned (remove --no-content)"
    assert doc["summary"]["verdict"] != "COMPLIANT"


def test_document_step_runs_by_default_on_named_paths(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.docx").write_bytes(C.letter({"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}))
    (docs / "lib.jar").write_bytes(C._zip({"META-INF/MANIFEST.MF": "Manifest-Version: 1.0\n"}))
    for _ in range(2):  # the second run judges from the verdict cache
        p = bmnn(tmp_path, "scan", "--format", "json", "--no-input", str(docs))
        res, doc = doc_results(p)  # stdout is one JSON document: no progress, no notes in it
        assert res["BMNN-DOC-001"]["status"] == "fail", res["BMNN-DOC-001"]
    assert (tmp_path / "state" / "content-cache.json").exists()


def test_paths_without_the_document_step_are_a_usage_error(tmp_path):
    p = bmnn(tmp_path, "scan", "--no-content", str(tmp_path))
    assert p.returncode != 0 and "--no-content" in p.stderr


def test_default_scope_is_documented_and_includes_temporary_folders():
    scope = default_content_scope(("/srv/mat",), ("/media/usb",))
    assert scope[0] == "/srv/mat" and "/media/usb" in scope
    assert "/tmp" in scope and ("/home" in scope or not os.path.isdir("/home"))
    doc = (ROOT / "docs" / "content-detection.md").read_text(encoding="utf-8")
    for word in ("marked folders", "home folders", "/tmp", "/var/tmp", "removable media"):
        assert word in doc, word
