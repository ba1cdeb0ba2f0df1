"""Signed JSON documents (agent/signed.py): every edit is caught, the canonical bytes are the
snapshots' and openssl verifies them without this tool."""

import base64
import copy
import datetime as dt
import json
import shutil
import subprocess

import pytest

from bmnn_guard.agent import keys, signed
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.snapshot.manifest import canonical

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
DOC = {"format": "bmnn-handover", "version": 1, "created_at": NOW.isoformat(), "user": {"name": "an", "uid": 1001},
       "documents": [{"path": "/home/an/Báo cáo\u202e.docx", "sha256": "ab" * 32, "size": 1734, "level": "mat"}],
       "summary": {"held_personal": 1}}


@pytest.fixture
def key_dir(tmp_path):
    keys.generate(str(tmp_path / "k"), now=NOW - dt.timedelta(days=1))
    return str(tmp_path / "k")


def test_round_trip_through_a_file_and_what_is_signed(key_dir, tmp_path):
    doc = signed.sign(DOC, key_dir)
    assert list(doc)[-1] == "signature" and doc["signed_by"]["fingerprint"] == keys.info(key_dir).fingerprint
    path = tmp_path / "r.json"
    path.write_bytes(signed.dumps(doc))
    back = signed.read(str(path))
    ver = signed.verify(back)
    assert ver.ok and ver.fingerprint == doc["signed_by"]["fingerprint"]
    assert [w.code for w in ver.warnings] == ["key_not_pinned"]
    assert signed.signed_bytes(back) == canonical({k: v for k, v in doc.items() if k != "signature"})
    assert ver.digest == signed.digest(doc)
    pub = open(f"{key_dir}/{keys.PUBLIC}", "rb").read()
    assert signed.verify(back, pubkey=pub).ok and not signed.verify(back, pubkey=pub).warnings


@pytest.mark.parametrize("edit", [
    lambda d: d["documents"][0].update(sha256="cd" * 32),
    lambda d: d["summary"].update(held_personal=0),
    lambda d: d["documents"].clear(),
    lambda d: d.update(created_at="2026-12-02T09:00:00+07:00"),
    lambda d: d["signed_by"].update(key_not_after="2099-12-31"),
    lambda d: d.update(extra=True),
])
def test_any_edit_is_a_bad_signature(key_dir, edit):
    doc = copy.deepcopy(signed.sign(DOC, key_dir))
    edit(doc)
    ver = signed.verify(doc)
    assert not ver.ok and "bad_signature" in [p.code for p in ver.problems]


def test_stripped_forged_and_re_signed_documents(key_dir, tmp_path):
    doc = signed.sign(DOC, key_dir)
    assert [p.code for p in signed.verify({k: v for k, v in doc.items() if k != "signature"}).problems] == ["not_signed"]
    bad = copy.deepcopy(doc)
    bad["signature"]["public_key"] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    assert [p.code for p in signed.verify(bad).problems] == ["bad_key"]
    bad = copy.deepcopy(doc)
    bad["signature"]["value"] = "not base64!"
    assert "bad_signature" in [p.code for p in signed.verify(bad).problems]
    # someone edits the record and signs it again with a key of their own: it verifies by itself,
    # but not against the pinned key nor as one of this machine's keys
    keys.generate(str(tmp_path / "other"), now=NOW - dt.timedelta(days=1))
    forged = signed.sign({**DOC, "summary": {"held_personal": 0}}, str(tmp_path / "other"))
    assert signed.verify(forged).ok
    pinned = signed.verify(forged, pubkey=open(f"{key_dir}/{keys.PUBLIC}", "rb").read())
    assert [p.code for p in pinned.problems] == ["wrong_key"]
    known = signed.verify(forged, known=signed.host_fingerprints(key_dir))
    assert [p.code for p in known.problems] == ["unknown_key"] and known.known_key is False
    assert signed.verify(doc, known=signed.host_fingerprints(key_dir)).known_key is True


def test_retired_host_keys_still_count_as_this_machines(key_dir):
    doc = signed.sign(DOC, key_dir)
    keys.rotate(key_dir, now=NOW)
    assert signed.verify(doc, known=signed.host_fingerprints(key_dir)).ok
    assert len(signed.host_fingerprints(key_dir)) == 2


def test_a_key_expired_or_not_yet_made_when_the_document_was_made(tmp_path):
    keys.generate(str(tmp_path / "k"), days=1, now=NOW - dt.timedelta(days=10))
    ver = signed.verify(signed.sign(DOC, str(tmp_path / "k")))
    assert [p.code for p in ver.problems] == ["key_expired"]
    keys.generate(str(tmp_path / "j"), now=NOW + dt.timedelta(days=10))
    assert [p.code for p in signed.verify(signed.sign(DOC, str(tmp_path / "j"))).problems] == ["key_not_yet_valid"]


@pytest.mark.parametrize("data, kind", [
    (b'{"a": 1, "a": 2}', "integrity"), (b'{"a": NaN}', "integrity"), (b'{"a": Infinity}', "integrity"),
    (b"\xff\xfe", "io"), (b"[1, 2]", "io"), (b'{"a": ', "io"), (b"[" * 100000, "io"),
])
def test_strict_parsing(data, kind):
    with pytest.raises(AgentError) as exc:
        signed.parse(data, "r.json")
    assert exc.value.kind == kind


def test_unreadable_files(tmp_path):
    for path in (tmp_path / "missing.json", tmp_path):
        with pytest.raises(AgentError) as exc:
            signed.read(str(path))
        assert exc.value.kind == "io"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_verifies_the_canonical_bytes(key_dir, tmp_path):
    doc = signed.sign(DOC, key_dir)
    (tmp_path / "body").write_bytes(signed.signed_bytes(doc))
    (tmp_path / "sig").write_bytes(base64.b64decode(doc["signature"]["value"]))
    (tmp_path / "pub.pem").write_text(doc["signature"]["public_key"])
    res = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
                          "-in", str(tmp_path / "body"), "-sigfile", str(tmp_path / "sig")], capture_output=True, text=True)
    assert res.returncode == 0 and "Signature Verified Successfully" in res.stdout, res.stdout + res.stderr
    (tmp_path / "body").write_bytes(signed.signed_bytes({**doc, "summary": {}}))
    res = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "pub.pem"), "-rawin",
                          "-in", str(tmp_path / "body"), "-sigfile", str(tmp_path / "sig")], capture_output=True, text=True)
    assert res.returncode != 0


def test_the_file_is_indented_json_people_can_read(key_dir):
    text = signed.dumps(signed.sign(DOC, key_dir)).decode()
    assert text.endswith("}\n") and "\n \"documents\"" in text and "Báo cáo" in text
    assert json.loads(text)["documents"][0]["path"] == DOC["documents"][0]["path"]
