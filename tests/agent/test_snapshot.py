"""Snapshot round trip and every tamper case, fleet review over 50 snapshots, openssl interop."""

import copy
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from agent import keys
from agent.journal import Journal
from agent.snapshot import archive
from agent.snapshot.export import export
from agent.snapshot.fleet import review
from agent.snapshot.verify import verify
from scanner.report import fleet_html, html as html_report
from tests.scanner.docfixture import make_document

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
KEY_TIME = NOW - dt.timedelta(days=30)
"""When the test keys are made: every clock in these tests is pinned, none reads today's date."""


class Host:
    """One machine's directories, key and journal."""

    def __init__(self, base, name="may-mat-01", machine_id="m-0001"):
        self.cfg, self.state = str(base / "etc"), str(base / "state")
        os.makedirs(self.cfg), os.makedirs(self.state)
        self.info = keys.generate(self.cfg, now=KEY_TIME)
        self.journal = os.path.join(self.state, "journal.db")
        self.doc = make_document()
        self.doc["target"]["hostname"], self.doc["target"]["machine_id"] = name, machine_id

    def append(self, n, kind="heartbeat", **kw):
        with Journal.open(self.journal) as j:
            for _ in range(n):
                j.append(kind, **kw)

    def export(self, path, **kw):
        args = dict(out_path=str(path), key_dir=self.cfg, journal_path=self.journal, state_dir=self.state,
                    config_dir=self.cfg, scan_doc=self.doc, scan_html=html_report.report(self.doc), now=NOW)
        args.update(kw)
        return export(**args)

    @property
    def pub(self):
        return open(os.path.join(self.cfg, keys.PUBLIC), "rb").read()


def rewrite(src, dst, change):
    members = archive.read(str(src))
    change(members)
    with open(dst, "wb") as fh:
        archive.write(fh, members)


def codes(rep):
    return {p.code for p in rep.problems}


@pytest.fixture
def host(tmp_path):
    h = Host(tmp_path / "h1")
    h.append(10)
    h.append(1, "violation", check_id="BMNN-USB-001", severity="critical",
             evidence={"items": [{"vendor_id": "0781", "product_id": "5567", "serial": "4C53"}]})
    return h


def test_round_trip_valid_and_pinned(host, tmp_path):
    snap = tmp_path / "a.bmnnsnap"
    res = host.export(snap)
    assert res.records == 11
    rep = verify(str(snap))
    assert rep.ok, rep.problems
    assert "key_not_pinned" in {w.code for w in rep.warnings}
    rep = verify(str(snap), pubkey=host.pub)
    assert rep.ok and not rep.warnings
    assert rep.manifest["journal"]["first_seq"] == 1 and rep.manifest["journal"]["last_seq"] == 11


def test_member_byte_changed(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def flip(m):
        b = bytearray(m["scan.json"]); b[100] ^= 1; m["scan.json"] = bytes(b)
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", flip)
    rep = verify(str(tmp_path / "b.bmnnsnap"), pubkey=host.pub)
    assert not rep.ok and codes(rep) == {"member_altered"}
    assert "scan.json" in rep.problems[0].en


def test_manifest_edited(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def edit(m):
        man = json.loads(m["manifest.json"]); man["verdict"] = "COMPLIANT"
        m["manifest.json"] = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", edit)
    rep = verify(str(tmp_path / "b.bmnnsnap"), pubkey=host.pub)
    assert "bad_signature" in codes(rep)


def test_journal_record_removed_inside_excerpt_is_caught(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def drop(m):
        lines = m["journal.ndjson"].splitlines(keepends=True); del lines[3]; m["journal.ndjson"] = b"".join(lines)
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", drop)
    rep = verify(str(tmp_path / "b.bmnnsnap"), pubkey=host.pub)
    assert {"member_altered", "journal_gap"} <= codes(rep)


def test_deleted_range_between_snapshots(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.append(10)
    host.export(tmp_path / "b.bmnnsnap", since=16)  # records 12..15 withheld
    rep = verify(str(tmp_path / "b.bmnnsnap"), pubkey=host.pub, previous=str(tmp_path / "a.bmnnsnap"))
    assert codes(rep) == {"deleted_range"}
    assert "12…15" in rep.problems[0].en
    host.export(tmp_path / "c.bmnnsnap", since=12)
    assert verify(str(tmp_path / "c.bmnnsnap"), pubkey=host.pub, previous=str(tmp_path / "a.bmnnsnap")).ok


def test_since_last_continues_from_previous_export(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.append(5)
    res = host.export(tmp_path / "b.bmnnsnap")  # default since=last
    assert res.records == 5
    assert verify(str(tmp_path / "b.bmnnsnap"), previous=str(tmp_path / "a.bmnnsnap")).ok


def test_snapshot_from_another_host(host, tmp_path):
    other = Host(tmp_path / "h2", name="may-khac", machine_id="m-9999")
    other.append(3)
    other.export(tmp_path / "x.bmnnsnap")
    host.export(tmp_path / "a.bmnnsnap")
    rep = verify(str(tmp_path / "x.bmnnsnap"), pubkey=host.pub)
    assert "wrong_key" in codes(rep)
    rep = verify(str(tmp_path / "x.bmnnsnap"), previous=str(tmp_path / "a.bmnnsnap"))
    assert "other_host" in codes(rep)


def test_expired_host_key(tmp_path):
    h = Host(tmp_path / "h3")
    keys.generate(h.cfg, days=10, now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    h.append(2)
    h.export(tmp_path / "e.bmnnsnap")
    rep = verify(str(tmp_path / "e.bmnnsnap"))
    assert "key_expired" in codes(rep) and "2020-01-11" in rep.problems[0].en


def test_rotated_key_cannot_sign_after_rotation(host, tmp_path):
    stolen = tmp_path / "stolen"
    shutil.copytree(host.cfg, stolen)
    old, new = keys.rotate(host.cfg, now=KEY_TIME + dt.timedelta(days=1))
    host.append(1, "state", message="host key rotated",
                evidence={"event": "key_rotated", "old_fingerprint": old.fingerprint, "new_fingerprint": new.fingerprint})
    host.export(tmp_path / "new.bmnnsnap")
    assert verify(str(tmp_path / "new.bmnnsnap")).ok
    host.export(tmp_path / "old.bmnnsnap", key_dir=str(stolen), since=1)
    rep = verify(str(tmp_path / "old.bmnnsnap"))
    assert "key_retired" in codes(rep)


def test_inspector_cosign_and_expired_inspector_key(host, tmp_path):
    keys.generate(str(tmp_path), stem="thanh-tra", name="Lê Văn C", days=30, now=KEY_TIME)
    host.export(tmp_path / "a.bmnnsnap", cosign_key=str(tmp_path / "thanh-tra.pem"))
    rep = verify(str(tmp_path / "a.bmnnsnap"), pubkey=host.pub)
    assert rep.ok and rep.cosigner["name"] == "Lê Văn C"
    keys.generate(str(tmp_path), stem="cu", name="Cũ", days=1, now=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))
    host.export(tmp_path / "b.bmnnsnap", cosign_key=str(tmp_path / "cu.pem"))
    assert "cosign_expired" in codes(verify(str(tmp_path / "b.bmnnsnap"), pubkey=host.pub))


def test_unsafe_archive_is_refused(tmp_path):
    bad = tmp_path / "evil.bmnnsnap"
    with tarfile.open(bad, "w") as tar:
        ti = tarfile.TarInfo("../../etc/passwd"); ti.size = 1
        tar.addfile(ti, io.BytesIO(b"x"))
    rep = verify(str(bad))
    assert not rep.ok and codes(rep) == {"unreadable"} and "unsafe member name" in rep.problems[0].en


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_alone_verifies_the_signature(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    out = tmp_path / "x"
    out.mkdir()
    with tarfile.open(tmp_path / "a.bmnnsnap") as tar:
        tar.extractall(out, filter="data")
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(out / "host.pub"), "-rawin",
                        "-in", str(out / "manifest.json"), "-sigfile", str(out / "manifest.sig")],
                       capture_output=True, text=True)
    assert p.returncode == 0 and "Signature Verified Successfully" in p.stdout
    man = json.loads((out / "manifest.json").read_text())
    p = subprocess.run(["sha256sum", "scan.json"], cwd=out, capture_output=True, text=True)
    assert p.stdout.split()[0] == man["members"]["scan.json"]["sha256"]


def test_fleet_of_50_worst_first(tmp_path):
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    verdicts = ["COMPLIANT", "NON_COMPLIANT", "INCOMPLETE", "COMPLIANT_WITH_EXCEPTIONS"]
    for i in range(50):
        h = Host(tmp_path / f"m{i}", name=f"may-{i:02d}", machine_id=f"id-{i}")
        h.doc["summary"]["verdict"] = verdicts[i % 4]
        if verdicts[i % 4] != "NON_COMPLIANT":
            h.doc["results"] = [r for r in h.doc["results"] if r["status"] != "fail"]
        h.append(2 + i % 3)
        if i % 7 == 0:
            h.append(1, "gap", message="netlink ENOBUFS")
        h.export(fleet / f"may-{i:02d}.bmnnsnap")
    rewrite(fleet / "may-03.bmnnsnap", fleet / "may-03.bmnnsnap",
            lambda m: m.__setitem__("scan.json", m["scan.json"].replace(b"may-03", b"may-33")))
    machines = review(str(fleet), now=NOW + dt.timedelta(days=3))
    assert len(machines) == 50
    assert machines[0].hostname == "may-03" and not machines[0].valid
    assert machines[1].verdict == "NON_COMPLIANT" and machines[1].violations
    assert machines[-1].verdict == "COMPLIANT"
    assert any(m.gaps for m in machines)
    assert machines[1].unapproved_devices
    import dataclasses
    page = fleet_html.report([dataclasses.asdict(m) for m in machines], "vi")
    assert "TỔNG HỢP KẾT QUẢ KIỂM TRA CÁC MÁY" in page and "ẢNH CHỤP KHÔNG HỢP LỆ" in page
    assert page.count("<tr>") >= 51


def test_journal_health_check_for_agt001(host, tmp_path):
    from agent.journal import health_check
    ok, last, problem = health_check(host.journal)
    assert (ok, problem) == (True, None) and last is not None
    assert health_check(tmp_path / "none.db")[2].startswith("no journal at")
    import sqlite3
    conn = sqlite3.connect(host.journal)
    conn.execute("UPDATE records SET message = 'edited' WHERE seq = 3")
    conn.commit()
    conn.close()
    assert health_check(host.journal)[0] is False
