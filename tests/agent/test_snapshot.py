"""Snapshot round trip, keys and rotation, order between snapshots, the fleet review over 50
snapshots, format 1 still verifying, archive bounds, openssl interop.

The tamper cases as an attacker would try them through the real command are in
test_snapshot_tamper.py."""

import dataclasses
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import tarfile

import pytest

from bmnn_guard.agent import keys
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.snapshot import archive, registry
from bmnn_guard.agent.snapshot.fleet import review
from bmnn_guard.agent.snapshot.heads import STATE_FILE, head_of
from bmnn_guard.agent.snapshot.inspector import InspectorDir
from bmnn_guard.agent.snapshot.verify import verify
from bmnn_guard.scanner.report import fleet_html
from tests.agent.snapfixture import (KEY_TIME, NOW, Host, at, codes, genuine_host, inspector_dir, registry_of, resign,
                                     rewrite, tar_with_size_field, warning_codes)


@pytest.fixture
def host(tmp_path):
    return genuine_host(tmp_path / "h1")


def test_round_trip_registered_pinned_and_unknown(host, tmp_path):
    snap = tmp_path / "a.bmnnsnap"
    res = host.export(snap)
    assert res.records == 11
    rep = verify(str(snap), registry=registry_of(host))
    assert rep.ok, rep.problems
    assert rep.key["status"] == "registered" and not rep.warnings
    assert rep.manifest["version"] == 2 and head_of(rep.manifest).seq == 11
    assert rep.manifest["journal"]["first_seq"] == 1 and rep.manifest["journal"]["last_seq"] == 11
    rep = verify(str(snap), pubkey=host.pub)
    assert rep.ok and rep.key["status"] == "pinned" and warning_codes(rep) == {"key_pinned"}
    rep = verify(str(snap))  # nothing registered, nothing pinned: an unknown host
    assert not rep.ok and codes(rep) == {"unknown_host"} and host.fingerprint in rep.problems[0].en
    rep = verify(str(snap), trust_new=True, now=NOW)
    assert rep.ok and rep.key["status"] == "new" and [c.fingerprint for c in rep.changes] == [host.fingerprint]


def test_member_byte_changed(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def flip(m):
        b = bytearray(m["scan.json"]); b[100] ^= 1; m["scan.json"] = bytes(b)
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", flip)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host))
    assert not rep.ok and codes(rep) == {"member_altered"}
    assert "scan.json" in rep.problems[0].en


def test_manifest_edited(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def edit(m):
        man = json.loads(m["manifest.json"]); man["verdict"] = "COMPLIANT"
        m["manifest.json"] = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", edit)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host))
    assert "bad_signature" in codes(rep)


def test_journal_record_removed_inside_excerpt_is_caught(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    def drop(m):
        lines = m["journal.ndjson"].splitlines(keepends=True); del lines[3]; m["journal.ndjson"] = b"".join(lines)
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "b.bmnnsnap", drop)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host))
    assert {"member_altered", "journal_gap"} <= codes(rep)


def test_deleted_range_between_snapshots(host, tmp_path):
    reg = registry_of(host)
    host.export(tmp_path / "a.bmnnsnap")
    host.append(10)
    host.export(tmp_path / "b.bmnnsnap", since=16, minutes=10)  # records 12..15 withheld
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=reg, previous=str(tmp_path / "a.bmnnsnap"))
    assert codes(rep) == {"deleted_range"}
    assert "12…15" in rep.problems[0].en
    host.export(tmp_path / "c.bmnnsnap", since=12, minutes=20)
    assert verify(str(tmp_path / "c.bmnnsnap"), registry=reg, previous=str(tmp_path / "a.bmnnsnap")).ok


def test_since_last_continues_from_previous_export(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.append(5)
    res = host.export(tmp_path / "b.bmnnsnap", minutes=5)  # default since=last
    assert res.records == 5
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host), previous=str(tmp_path / "a.bmnnsnap"))
    assert rep.ok and not rep.warnings, (rep.problems, rep.warnings)


def test_no_new_record_is_a_warning_not_a_failure(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.export(tmp_path / "b.bmnnsnap", minutes=60)  # the daemon wrote nothing in between
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host), previous=str(tmp_path / "a.bmnnsnap"))
    assert rep.ok and warning_codes(rep) == {"no_new_records"}


def test_same_second_counts_as_later_only_with_a_longer_journal(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.append(1)
    host.export(tmp_path / "b.bmnnsnap")  # same signed second, one more record
    reg = registry_of(host)
    assert verify(str(tmp_path / "b.bmnnsnap"), registry=reg, previous=str(tmp_path / "a.bmnnsnap")).ok
    rep = verify(str(tmp_path / "a.bmnnsnap"), registry=reg, previous=str(tmp_path / "b.bmnnsnap"))
    assert {"not_later", "rollback"} <= codes(rep)


def test_snapshot_from_another_host(host, tmp_path):
    other = Host(tmp_path / "h2", name="may-khac", machine_id="m-9999")
    other.append(3)
    other.export(tmp_path / "x.bmnnsnap", minutes=5)
    host.export(tmp_path / "a.bmnnsnap")
    rep = verify(str(tmp_path / "x.bmnnsnap"), pubkey=host.pub)
    assert "wrong_key" in codes(rep)
    rep = verify(str(tmp_path / "x.bmnnsnap"), registry=registry_of(host, other), previous=str(tmp_path / "a.bmnnsnap"))
    assert codes(rep) == {"other_host"}


def test_same_key_other_machine_id_is_another_host(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")
    host.append(1)
    host.doc["target"]["machine_id"] = "m-cloned"
    host.export(tmp_path / "b.bmnnsnap", minutes=5)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host), previous=str(tmp_path / "a.bmnnsnap"))
    assert codes(rep) == {"other_host"}


def test_expired_host_key(tmp_path):
    h = Host(tmp_path / "h3")
    keys.generate(h.cfg, days=10, now=dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    h.append(2)
    h.export(tmp_path / "e.bmnnsnap")
    rep = verify(str(tmp_path / "e.bmnnsnap"), registry=registry_of(h))
    assert codes(rep) == {"key_expired"} and "2020-01-11" in rep.problems[0].en


def test_rotation_signed_by_the_registered_key_is_learned(host, tmp_path):
    idir = inspector_dir(tmp_path / "insp", host)
    old_fp = host.fingerprint
    host.export(tmp_path / "a.bmnnsnap")
    stolen = tmp_path / "stolen"
    shutil.copytree(host.cfg, stolen)
    old, new = keys.rotate(host.cfg, now=at(30))
    assert (old.fingerprint, new.fingerprint) == (old_fp, host.fingerprint)
    host.append(1, "state", message="host key rotated",
                evidence={"event": "key_rotated", "old_fingerprint": old.fingerprint, "new_fingerprint": new.fingerprint})
    host.export(tmp_path / "new.bmnnsnap", minutes=60)
    rep = verify(str(tmp_path / "new.bmnnsnap"), registry=registry.Registry.load(idir), now=at(61),
                 previous=str(tmp_path / "a.bmnnsnap"))
    assert rep.ok, rep.problems
    assert rep.key["status"] == "rotated" and rep.key["rotated_from"] == old_fp
    registry.update(idir, rep.changes)
    reg = registry.Registry.load(idir)
    assert reg.get(new.fingerprint).rotated_from == old_fp and reg.get(old_fp).retired_by == new.fingerprint
    assert reg.lineage(new.fingerprint) == registry.normalise(old_fp)
    assert verify(str(tmp_path / "new.bmnnsnap"), registry=reg).key["status"] == "registered"
    # the old key, kept by someone, signs after the rotation: refused by the registry's memory of it
    host.export(tmp_path / "old.bmnnsnap", key_dir=str(stolen), since=1, minutes=90)
    rep = verify(str(tmp_path / "old.bmnnsnap"), registry=reg)
    assert "key_retired" in codes(rep)
    # and by the journal's key_rotated record even without the registry's memory of the rotation
    rep = verify(str(tmp_path / "old.bmnnsnap"), registry=registry.Registry(
        {registry.normalise(old_fp): registry.entry_for(open(os.path.join(stolen, keys.PUBLIC), "rb").read(),
                                                         role="host", now=NOW)}))
    assert codes(rep) == {"key_retired_journal"}


def test_two_rotations_from_one_key_are_a_fork(host, tmp_path):
    idir = inspector_dir(tmp_path / "insp", host)
    twin = tmp_path / "twin"
    shutil.copytree(host.cfg, twin)  # someone kept the key and rotates it their own way
    keys.rotate(host.cfg, now=at(10))
    keys.rotate(str(twin), now=at(11))
    host.export(tmp_path / "a.bmnnsnap", minutes=20)
    rep = verify(str(tmp_path / "a.bmnnsnap"), registry=registry.Registry.load(idir), now=at(21))
    assert rep.ok and rep.key["status"] == "rotated", rep.problems
    registry.update(idir, rep.changes)
    host.export(tmp_path / "b.bmnnsnap", key_dir=str(twin), minutes=30)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry.Registry.load(idir), now=at(31))
    assert "rotation_fork" in codes(rep)


def test_inspector_cosign_registered_unregistered_and_expired(host, tmp_path):
    keys.generate(str(tmp_path), stem="thanh-tra", name="Lê Văn C", days=30, now=KEY_TIME)
    host.export(tmp_path / "a.bmnnsnap", cosign_key=str(tmp_path / "thanh-tra.pem"))
    rep = verify(str(tmp_path / "a.bmnnsnap"), registry=registry_of(host))
    assert rep.ok and rep.cosigner["verified"] is False and rep.cosigner["name"] is None
    assert rep.cosigner["claimed_name"] == "Lê Văn C" and "cosign_unverified" in warning_codes(rep)
    reg = registry_of(host, inspectors=[(tmp_path / "thanh-tra.pub", "Lê Văn C")])
    rep = verify(str(tmp_path / "a.bmnnsnap"), registry=reg)
    assert rep.ok and rep.cosigner == {"verified": True, "claimed_name": "Lê Văn C", "name": "Lê Văn C",
                                       "fingerprint": keys.info(str(tmp_path), "thanh-tra").fingerprint,
                                       "signed_at": rep.manifest["created_at"]}
    assert not rep.warnings
    keys.generate(str(tmp_path), stem="cu", name="Cũ", days=1, now=dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc))
    host.export(tmp_path / "b.bmnnsnap", cosign_key=str(tmp_path / "cu.pem"), minutes=5)
    assert "cosign_expired" in codes(verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host)))


def test_host_journal_that_fails_makes_the_snapshot_invalid(host, tmp_path):
    import sqlite3
    conn = sqlite3.connect(host.journal)
    conn.execute("UPDATE records SET message = 'edited' WHERE seq = 3")
    conn.commit()
    conn.close()
    host.export(tmp_path / "a.bmnnsnap")
    rep = verify(str(tmp_path / "a.bmnnsnap"), registry=registry_of(host))
    assert not rep.ok and "host_journal_bad" in codes(rep) and "record 3" in " ".join(p.en for p in rep.problems)


def test_no_scan_snapshot_reads_the_machine_id_itself(host, tmp_path):
    from bmnn_guard.agent.snapshot.export import host_identity
    from bmnn_guard.scanner.collect.host import collect_host
    assert host_identity(None)["machine_id"] == collect_host().machine_id
    host.export(tmp_path / "a.bmnnsnap")
    host.append(1)
    host.export(tmp_path / "b.bmnnsnap", scan=False, minutes=5)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host), previous=str(tmp_path / "a.bmnnsnap"))
    assert rep.ok and not rep.warnings, (rep.problems, rep.warnings)


def test_format_1_still_verifies_with_a_warning(host, tmp_path):
    host.export(tmp_path / "a.bmnnsnap")

    def to_v1(manifest, members):
        manifest["version"] = 1
        del manifest["journal"]["head"]
    resign(tmp_path / "a.bmnnsnap", tmp_path / "v1.bmnnsnap", host.cfg, to_v1)
    rep = verify(str(tmp_path / "v1.bmnnsnap"), registry=registry_of(host))
    assert rep.ok and warning_codes(rep) == {"format_old"}
    assert head_of(rep.manifest).seq == 11
    host.append(2)
    host.export(tmp_path / "b.bmnnsnap", minutes=5)
    rep = verify(str(tmp_path / "b.bmnnsnap"), registry=registry_of(host), previous=str(tmp_path / "v1.bmnnsnap"))
    assert rep.ok, rep.problems

    def to_v9(manifest, members):
        manifest["version"] = 9
    resign(tmp_path / "a.bmnnsnap", tmp_path / "v9.bmnnsnap", host.cfg, to_v9)
    assert codes(verify(str(tmp_path / "v9.bmnnsnap"), registry=registry_of(host))) == {"format_new"}


def test_unsafe_archive_is_refused(tmp_path):
    bad = tmp_path / "evil.bmnnsnap"
    with tarfile.open(bad, "w") as tar:
        ti = tarfile.TarInfo("../../etc/passwd"); ti.size = 1
        tar.addfile(ti, io.BytesIO(b"x"))
    rep = verify(str(bad))
    assert not rep.ok and codes(rep) == {"unreadable"} and "unsafe member name" in rep.problems[0].en


@pytest.mark.parametrize("claimed", [200 << 30, 300 << 20, 1 << 20])
def test_absurd_member_size_is_refused_before_reading(tmp_path, claimed):
    bad = tmp_path / "big.bmnnsnap"
    tar_with_size_field(bad, "manifest.json", claimed)
    assert bad.stat().st_size <= 10240
    with pytest.raises(AgentError, match="claims"):
        archive.read(str(bad))


def test_not_a_snapshot_and_not_a_regular_file(tmp_path):
    (tmp_path / "notes.txt").write_text("biên bản\n")
    rep = verify(str(tmp_path / "notes.txt"))
    assert rep.kind == "not_snapshot" and codes(rep) == {"not_snapshot"}
    with tarfile.open(tmp_path / "other.tar", "w") as tar:
        ti = tarfile.TarInfo("readme"); ti.size = 1
        tar.addfile(ti, io.BytesIO(b"x"))
    assert verify(str(tmp_path / "other.tar")).kind == "not_snapshot"
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(AgentError, match="not a regular file"):
        verify(str(tmp_path / "fifo"))
    with pytest.raises(AgentError, match="not found"):
        verify(str(tmp_path / "missing.bmnnsnap"))


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
    hosts = []
    for i in range(50):
        h = Host(tmp_path / f"m{i}", name=f"may-{i:02d}", machine_id=f"id-{i}")
        h.doc["summary"]["verdict"] = verdicts[i % 4]
        if verdicts[i % 4] != "NON_COMPLIANT":
            h.doc["results"] = [r for r in h.doc["results"] if r["status"] != "fail"]
        h.append(2 + i % 3)
        if i % 7 == 0:
            h.append(1, "gap", message="netlink ENOBUFS")
        h.export(fleet / f"may-{i:02d}.bmnnsnap")
        hosts.append(h)
    rewrite(fleet / "may-03.bmnnsnap", fleet / "may-03.bmnnsnap",
            lambda m: m.__setitem__("scan.json", m["scan.json"].replace(b"may-03", b"may-33")))
    done = review(str(fleet), now=NOW + dt.timedelta(days=3), registry=registry_of(*hosts))
    machines = done.machines
    assert len(machines) == 50 and done.invalid == 1 and done.not_snapshots == 0
    assert machines[0].hostname == "may-03" and not machines[0].valid
    assert machines[1].verdict == "NON_COMPLIANT" and machines[1].violations
    assert machines[-1].verdict == "COMPLIANT"
    assert any(m.gaps for m in machines)
    assert machines[1].unapproved_devices
    page = fleet_html.report([dataclasses.asdict(m) for m in machines], "vi")
    assert "TỔNG HỢP KẾT QUẢ KIỂM TRA CÁC MÁY" in page and "ẢNH CHỤP KHÔNG HỢP LỆ" in page
    assert page.count("<tr>") >= 51


def test_fleet_remembers_heads_and_learns_rotations(host, tmp_path):
    idir = inspector_dir(tmp_path / "insp", host)
    first, second, third = tmp_path / "r1", tmp_path / "r2", tmp_path / "r3"
    for d in (first, second, third):
        d.mkdir()
    host.export(first / "a.bmnnsnap")
    done = review(str(first), now=at(1), inspector=idir)
    assert done.invalid == 0
    state = idir.read_json(STATE_FILE)["hosts"]
    assert [v["head"]["seq"] for v in state.values()] == [11]
    host.append(3)
    keys.rotate(host.cfg, now=at(20))
    host.export(second / "b.bmnnsnap", minutes=30)
    shutil.copy(first / "a.bmnnsnap", second / "a.bmnnsnap")  # last review's snapshot again: no new evidence
    done = review(str(second), now=at(31), inspector=idir)
    assert done.invalid == 0, [m.problems for m in done.machines]
    by_name = {os.path.basename(m.path): m for m in done.machines}
    assert any("đã được chấp nhận" in w for w in by_name["a.bmnnsnap"].warnings)
    assert by_name["b.bmnnsnap"].key_status == "rotated" and done.learned
    assert list(idir.read_json(STATE_FILE)["hosts"].values())[0]["head"]["seq"] == 14
    shutil.copy(first / "a.bmnnsnap", third / "a.bmnnsnap")  # next review, only the older one: a replay
    done = review(str(third), now=at(40), inspector=idir, lang="en")
    assert done.invalid == 1
    text = " ".join(done.machines[0].problems)
    assert "not later than" in text and "rolled back" in text and "the review of" in text


def test_inspector_dir_is_refused_when_others_can_write_it(host, tmp_path):
    idir = inspector_dir(tmp_path / "insp", host)
    os.chmod(idir.path, 0o777)
    with pytest.raises(AgentError, match="writable by group or others"):
        registry.Registry.load(idir)
    os.chmod(idir.path, 0o700)
    os.chmod(os.path.join(idir.path, registry.FILE), 0o666)
    with pytest.raises(AgentError, match="writable by group or others"):
        registry.Registry.load(idir)
    os.chmod(os.path.join(idir.path, registry.FILE), 0o600)
    assert registry.Registry.load(idir).get(host.fingerprint)
    with pytest.raises(AgentError, match="host's configuration directory"):
        InspectorDir(os.path.join(host.cfg, "inspector"), host_config_dirs=(host.cfg,))
    os.symlink(idir.path, tmp_path / "link")
    with pytest.raises(AgentError, match="symbolic link"):
        registry.Registry.load(InspectorDir(str(tmp_path / "link")))
    assert sorted(os.listdir(idir.path)) == [".lock", "keys.json"]  # no temporary file left behind
