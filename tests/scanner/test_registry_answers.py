"""Approved-device registry round trip and manual answers, through the real files."""

import datetime as dt
import os

import pytest

from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.scanner import registry
from bmnn_guard.scanner.answers import ask, load_answers
from bmnn_guard.scanner.errors import ScanError


def test_registry_round_trip(tmp_path):
    cfg = str(tmp_path)
    assert registry.load(cfg) == []
    e = registry.approve(cfg, vendor_id="0781", product_id="5567", serial="4C53", label="USB-VT-07",
                         approved_by="Trần Văn B", reference="BB-12/2026")
    assert e.vendor_id == "0781"
    registry.approve(cfg, vendor_id="0781", product_id="5567", serial="4C53", label="USB-VT-07b",
                     approved_by="Trần Văn B", reference=None)
    loaded = registry.load(cfg)
    assert [d.label for d in loaded] == ["USB-VT-07b"]
    assert registry.identities(loaded) == [("0781", "5567", "4C53")]
    text = open(registry.registry_path(cfg), encoding="utf-8").read()
    assert "Trần Văn B" in text
    registry.revoke(cfg, "4C53")
    assert registry.load(cfg) == []
    with pytest.raises(ScanError, match="no approved device"):
        registry.revoke(cfg, "4C53")


def test_registry_refuses_device_without_serial(tmp_path):
    with pytest.raises(ScanError, match="no serial"):
        registry.approve(str(tmp_path), vendor_id="0781", product_id="5567", serial="", label="x", approved_by="y", reference=None)


def test_bad_registry_names_file_and_line(tmp_path):
    path = registry.registry_path(str(tmp_path))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("devices:\n  - vendor_id: '0781'\n    product_id: '5567'\n    serial: S\n    lable: x\n")
    with pytest.raises(PolicyError) as info:
        registry.load(str(tmp_path), enforce_permissions=False)
    assert f"{path}:5:5: unknown key 'lable'" in info.value.render()


MANUAL = ["BMNN-MAN-001", "BMNN-MAN-002"]


def test_answers_file(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("BMNN-MAN-001: đạt\nbmnn-man-002: {answer: fail, note: Tem rách}\n", encoding="utf-8")
    a = load_answers(str(f), MANUAL)
    assert a["BMNN-MAN-001"].status == "pass"
    assert (a["BMNN-MAN-002"].status, a["BMNN-MAN-002"].note) == ("fail", "Tem rách")


@pytest.mark.parametrize("body,where", [
    ("BMNN-MAN-009: pass\n", ":1:1: 'BMNN-MAN-009' is not a manual check"),
    ("BMNN-MAN-001: maybe\n", ":1:15: not an answer: 'maybe'"),
    ("BMNN-MAN-001: {answr: pass}\n", ":1:16: unknown key 'answr'"),
])
def test_bad_answers_name_file_line(tmp_path, body, where):
    f = tmp_path / "a.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ScanError) as info:
        load_answers(str(f), MANUAL)
    assert f"{f}{where}" in str(info.value)


def test_interactive_ask_skips_on_empty_and_retries_on_nonsense():
    replies = iter(["", "hmm", "k", "Tem rách"])
    asked = []

    def prompt(text):
        asked.append(text)
        return next(replies)

    out = ask([("BMNN-MAN-001", "Q1?"), ("BMNN-MAN-002", "Q2?")], prompt, "vi")
    assert "BMNN-MAN-001" not in out
    assert out["BMNN-MAN-002"].status == "fail" and out["BMNN-MAN-002"].note == "Tem rách"
