"""What an attacker tries against `bmnn snapshot verify` and `bmnn report fleet`, through the real
command: one parametrised suite, each case a scenario built on real key files, journals and tar
files, judged by the exit code and the problem codes of the command's JSON output.

Roles: ``host`` is the genuine machine, registered with the inspector; ``evil`` is a forger with
a key of their own (or root on the host, who can restore an older journal.db).
"""

import base64
import hashlib
import json
import os
import sqlite3

import pytest

from bmnn_guard.agent import keys
from bmnn_guard.agent.snapshot.manifest import canonical
from bmnn_guard.agent.snapshot import archive, registry
from tests.agent.snapfixture import (KEY_TIME, LONG_AGO, NOW, Host, bmnn, bmnn_json, genuine_host, host_entry, inspector_dir,
                                     pause, rewrite)


@pytest.fixture
def world(tmp_path):
    host = genuine_host(tmp_path / "host")
    idir = inspector_dir(tmp_path / "inspector", host)
    return host, idir, tmp_path


def _forger(tmp, host, *, rotated_record=False, fake_statement=False):
    """A forger's machine with the host's name and machine id, violations removed, key of its own."""
    evil = Host(tmp / "evil", name=host.name, machine_id=host.machine_id)
    evil.doc["results"] = [r for r in evil.doc["results"] if r["status"] != "fail"]
    evil.doc["summary"]["verdict"] = "COMPLIANT"
    evil.append(11)
    if rotated_record:
        evil.append(1, "state", message="host key rotated",
                    evidence={"event": "key_rotated", "old_fingerprint": host.fingerprint,
                              "new_fingerprint": evil.fingerprint})
    if fake_statement:  # a rotation statement "by" the host key, signed with the forger's own key
        statement = keys.rotation_statement(keys.load_private(os.path.join(evil.cfg, keys.PRIVATE)),
                                            keys.load_public(evil.pub), NOW)
        statement.update(old_fingerprint=host.fingerprint, old_public_key=host.pub.decode())
        with open(os.path.join(evil.cfg, keys.ROTATIONS), "w") as fh:
            json.dump([statement], fh)
    return evil


def case_forged_signer(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    _forger(tmp, host).export(tmp / "forged.bmnnsnap", minutes=60)
    return (["snapshot", "verify", tmp / "forged.bmnnsnap", "--previous", tmp / "s1.bmnnsnap"], 4,
            {"unknown_host", "other_key"}, set())


def case_forged_key_rotated(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    _forger(tmp, host, rotated_record=True, fake_statement=True).export(tmp / "forged.bmnnsnap", minutes=60, since=1)
    return (["snapshot", "verify", tmp / "forged.bmnnsnap", "--previous", tmp / "s1.bmnnsnap"], 4,
            {"unknown_host", "other_key"}, {"rotation_unsigned", "rotation_invalid"})


def case_forged_cosign(host, idir, tmp):
    host.export(tmp / "genuine.bmnnsnap")
    keys.generate(str(tmp), stem="fake", name="Lê Văn C (Thanh tra Bộ)", days=30, now=KEY_TIME)
    host.export(tmp / "cosigned.bmnnsnap", cosign_key=str(tmp / "fake.pem"))
    # put that co-signature, made over the genuine manifest, on the genuine snapshot
    members = archive.read(str(tmp / "genuine.bmnnsnap"))
    c = json.loads(archive.read(str(tmp / "cosigned.bmnnsnap"))["cosign.json"])
    c["manifest_sha256"] = hashlib.sha256(members["manifest.json"]).hexdigest()
    body = {k: c[k] for k in ("manifest_sha256", "name", "fingerprint", "not_after", "signed_at")}
    c["signature"] = base64.b64encode(keys.load_private(str(tmp / "fake.pem")).sign(canonical(body))).decode()
    rewrite(tmp / "genuine.bmnnsnap", tmp / "forged-cosign.bmnnsnap",
            lambda m: m.__setitem__("cosign.json", canonical(c)))
    return ["snapshot", "verify", tmp / "forged-cosign.bmnnsnap"], 0, set(), {"cosign_unverified"}


def case_replay_at_next_review(host, idir, tmp):
    (tmp / "review1").mkdir()
    (tmp / "review2").mkdir()
    host.export(tmp / "review2" / "old.bmnnsnap")
    host.append(5)
    host.export(tmp / "review1" / "new.bmnnsnap", minutes=60)
    p = bmnn("report", "fleet", tmp / "review1", inspector=idir.path)
    assert p.returncode == 2, p.stderr  # valid; the scan fixture is non-compliant
    return ["report", "fleet", tmp / "review2", "--format", "json"], 4, {"not_later", "rollback"}, set()


def case_self_reference(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    return ["snapshot", "verify", tmp / "s1.bmnnsnap", "--previous", tmp / "s1.bmnnsnap"], 4, {"same_snapshot"}, set()


def case_older_after_newer(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    host.append(5)
    host.export(tmp / "s2.bmnnsnap", minutes=60)
    return (["snapshot", "verify", tmp / "s1.bmnnsnap", "--previous", tmp / "s2.bmnnsnap"], 4,
            {"not_later", "rollback"}, set())


def case_branch(host, idir, tmp):
    host.save_journal(tmp / "at-11.db")
    host.append(5, message="the real history")
    host.export(tmp / "s2.bmnnsnap", since=1)
    host.restore_journal(tmp / "at-11.db")
    host.append(8, message="another history")
    host.export(tmp / "s3.bmnnsnap", since=12, minutes=60)
    return ["snapshot", "verify", tmp / "s3.bmnnsnap", "--previous", tmp / "s2.bmnnsnap"], 4, {"branch"}, set()


def case_rollback_without_exported_records(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    host.save_journal(tmp / "at-11.db")
    host.append(16)
    host.export(tmp / "s2.bmnnsnap", minutes=60)  # head 27
    host.restore_journal(tmp / "at-11.db")  # root puts the older journal back
    host.export(tmp / "s3.bmnnsnap", minutes=120)  # --since last: nothing after 27 to export
    return ["snapshot", "verify", tmp / "s3.bmnnsnap", "--previous", tmp / "s2.bmnnsnap"], 4, {"rollback"}, set()


def _reset(host, reason):
    if os.geteuid() != 0:
        pytest.skip("bmnn journal reset needs root")
    p = bmnn("journal", "reset", "--reason", reason, host=host)
    assert p.returncode == 0, p.stderr


def case_documented_reset(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")  # head 11
    host.append(4)
    _reset(host, "ổ đĩa hỏng, đã thay")  # the old head (15) is in the new journal's first record
    host.append(3)
    host.export(tmp / "s2.bmnnsnap", minutes=60)
    return ["snapshot", "verify", tmp / "s2.bmnnsnap", "--previous", tmp / "s1.bmnnsnap"], 0, set(), {"journal_reset"}


def case_reset_after_rollback(host, idir, tmp):
    host.save_journal(tmp / "at-11.db")
    host.append(16)
    host.export(tmp / "s2.bmnnsnap", minutes=60)  # head 27
    host.restore_journal(tmp / "at-11.db")
    os.unlink(os.path.join(host.state, "journal.head"))  # root also hides what the host witnessed
    _reset(host, "routine")  # records the old head as 11: before the head the inspector saw
    host.export(tmp / "s3.bmnnsnap", minutes=120)
    return ["snapshot", "verify", tmp / "s3.bmnnsnap", "--previous", tmp / "s2.bmnnsnap"], 4, {"rollback"}, set()


def case_missing_file(host, idir, tmp):
    return ["snapshot", "verify", tmp / "no-such.bmnnsnap"], 1, None, None


def case_non_snapshots_in_fleet_folder(host, idir, tmp):
    d = tmp / "collected"
    d.mkdir()
    host.export(d / "may-mat-01.bmnn")  # any name is read
    (d / "ghi-chu.txt").write_text("ghi chú của đoàn\n", encoding="utf-8")
    os.symlink("/etc/shadow", d / "link.bmnnsnap")
    return ["report", "fleet", d, "--format", "json"], 4, {"not_snapshot"}, set()


def case_tampered_member_in_fleet(host, idir, tmp):
    d = tmp / "collected"
    d.mkdir()
    host.export(tmp / "s.bmnn")
    rewrite(tmp / "s.bmnn", d / "may-mat-01.bmnn",
            lambda m: m.__setitem__("scan.json", m["scan.json"].replace(b'"fail"', b'"pass"')))
    return ["report", "fleet", d, "--format", "json"], 4, {"member_altered"}, set()


def case_failing_journal_inside_snapshot(host, idir, tmp):
    host.export(tmp / "s1.bmnnsnap")
    host.append(3)
    conn = sqlite3.connect(host.journal)  # an older record, outside the next excerpt, is edited
    conn.execute("UPDATE records SET message = 'nothing happened' WHERE seq = 11")
    conn.commit()
    conn.close()
    d = tmp / "collected"
    d.mkdir()
    host.export(d / "s2.bmnnsnap", minutes=60)
    return ["report", "fleet", d, "--format", "json"], 4, {"host_journal_bad"}, set()


def case_no_scan_matched_by_machine_id_and_key(host, idir, tmp):
    host = Host(tmp / "real", key_time=LONG_AGO)  # exported below by the real command, on the real clock
    registry.add(idir, host_entry(host))
    host.append(3)
    p = bmnn("snapshot", "export", "-o", tmp / "scanned.bmnnsnap", host=host, inspector=idir.path)
    assert p.returncode == 0, p.stderr
    host.append(1)
    pause(1.1)  # snapshot times are signed to the second
    p = bmnn("snapshot", "export", "--no-scan", "-o", tmp / "quick.bmnnsnap", host=host, inspector=idir.path)
    assert p.returncode == 0, p.stderr
    return ["snapshot", "verify", tmp / "quick.bmnnsnap", "--previous", tmp / "scanned.bmnnsnap"], 0, set(), set()


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def _codes(out: dict, key: str) -> set[str]:
    if "machines" in out:  # report fleet --format json
        return {c for m in out["machines"] for c in m[key[:-1] + "_codes"]}
    return {p["code"] for p in out.get(key, [])}


@pytest.mark.parametrize("name", sorted(CASES))
def test_tamper_case(world, name):
    host, idir, tmp = world
    argv, exit_code, problems, warnings = CASES[name](host, idir, tmp)
    if problems is None:  # the file cannot be read at all: exit 1 and "not found", never "invalid"
        p = bmnn(*argv, inspector=idir.path)
        assert p.returncode == exit_code and "not found" in p.stderr, (p.returncode, p.stderr)
        code, out = bmnn_json(*argv, inspector=idir.path)
        assert code == exit_code and "not found" in out["error"]["message"]
        return
    if argv[0] == "snapshot":
        code, out = bmnn_json(*argv, inspector=idir.path)
    else:
        p = bmnn(*argv, inspector=idir.path)
        code, out = p.returncode, json.loads(p.stdout)
    assert code == exit_code, (name, code, out)
    got_p, got_w = _codes(out, "problems"), _codes(out, "warnings")
    assert problems <= got_p, (name, got_p, out)
    assert warnings <= got_w, (name, got_w)
    if exit_code == 0 and "machines" not in out:
        assert out["valid"] is True and not got_p
    if name == "forged_cosign":
        assert out["cosigner"]["verified"] is False and out["cosigner"]["name"] is None
        p = bmnn(*argv, inspector=idir.path)
        said = p.stdout + p.stderr
        assert "UNVERIFIED co-signature" in said and "Lê Văn C (Thanh tra Bộ)" in said and "Co-signed by" not in said
    if name == "non_snapshots_in_fleet_folder":
        assert out["files"] == 3 and out["not_snapshots"] == 2 and out["invalid"] == 2
        valid = [m for m in out["machines"] if m["valid"]]
        assert [os.path.basename(m["path"]) for m in valid] == ["may-mat-01.bmnn"]
