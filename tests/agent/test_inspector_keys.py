"""`bmnn keys` and the inspector's directory through the real command: add, list, remove, the
rules of the directory (yours only, never the host's /etc/bmnn), keygen --inspector, and what
`snapshot export` names its file."""

import json
import os

from bmnn_guard.agent import keys
from tests.agent.snapfixture import KEY_TIME, Host, bmnn, bmnn_json


def test_add_list_remove_and_roles(tmp_path):
    host = Host(tmp_path / "host")
    insp = tmp_path / "inspector"
    p = bmnn("keys", "add", host.pub_path, "--label", "VT-01 Sở Nội vụ", inspector=insp)
    assert p.returncode == 0 and host.fingerprint in p.stdout, p.stderr
    assert oct(os.stat(insp).st_mode & 0o777) == "0o700" and oct(os.stat(insp / "keys.json").st_mode & 0o777) == "0o600"
    p = bmnn("keys", "add", host.pub_path, inspector=insp)
    assert p.returncode == 0 and "already registered" in p.stdout
    p = bmnn("keys", "add", host.pub_path, "--inspector", inspector=insp)
    assert p.returncode == 1 and "already registered as a host key" in p.stderr
    keys.generate(str(tmp_path), stem="thanh-tra", name="Lê Văn C", days=30, now=KEY_TIME)
    p = bmnn("keys", "add", tmp_path / "thanh-tra.pub", "--inspector", inspector=insp)
    assert p.returncode == 0 and "Lê Văn C" in p.stdout, p.stderr  # the name comes from thanh-tra.json
    code, out = bmnn_json("keys", "list", inspector=insp)
    assert code == 0 and [(k["role"], k["label"]) for k in out["keys"]] == [("host", "VT-01 Sở Nội vụ"),
                                                                          ("inspector", "Lê Văn C")]
    assert out["keys"][1]["not_after"] == (KEY_TIME.date().fromordinal(KEY_TIME.date().toordinal() + 30)).isoformat()
    p = bmnn("keys", "list", inspector=insp)
    assert p.returncode == 0 and "VT-01 Sở Nội vụ" in p.stdout and "inspector key" in p.stdout
    p = bmnn("keys", "remove", "12", inspector=insp)
    assert p.returncode == 1 and "at least its first 8 hex digits" in p.stderr
    p = bmnn("keys", "remove", host.fingerprint.replace(" ", "")[:12], inspector=insp)
    assert p.returncode == 0 and "Removed" in p.stdout
    code, out = bmnn_json("keys", "list", inspector=insp)
    assert [k["role"] for k in out["keys"]] == ["inspector"]
    assert sorted(os.listdir(insp)) == [".lock", "keys.json"]


def test_not_a_key_and_not_a_file(tmp_path):
    (tmp_path / "x.pub").write_text("not a key\n")
    p = bmnn("keys", "add", tmp_path / "x.pub", inspector=tmp_path / "i")
    assert p.returncode == 1 and "not a PEM public key" in p.stderr
    p = bmnn("keys", "add", tmp_path / "missing.pub", inspector=tmp_path / "i")
    assert p.returncode == 1 and "not found" in p.stderr
    os.mkfifo(tmp_path / "fifo.pub")
    p = bmnn("keys", "add", tmp_path / "fifo.pub", inspector=tmp_path / "i", timeout=30)
    assert p.returncode == 1 and "not a regular file" in p.stderr


def test_directory_others_can_write_or_inside_the_host_config_is_refused(tmp_path):
    host = Host(tmp_path / "host")
    insp = tmp_path / "inspector"
    insp.mkdir(mode=0o700)
    os.chmod(insp, 0o770)
    p = bmnn("keys", "list", inspector=insp)
    assert p.returncode == 1 and "writable by group or others" in p.stderr and "chmod go-w" in p.stderr
    p = bmnn("snapshot", "verify", tmp_path / "any.bmnnsnap", inspector=insp)
    assert p.returncode == 1 and "writable by group or others" in p.stderr
    p = bmnn("keys", "add", host.pub_path, inspector=os.path.join(host.cfg, "inspector"), host=host)
    assert p.returncode == 1 and "host's configuration directory" in p.stderr
    assert not os.path.exists(os.path.join(host.cfg, "inspector"))


def test_keygen_inspector_registers_and_cosigns(tmp_path):
    host = Host(tmp_path / "host")
    host.append(2)
    insp = tmp_path / "inspector"
    p = bmnn("snapshot", "keygen", tmp_path / "thanh-tra", "--name", "Nguyễn Thị Hằng", "--inspector", inspector=insp)
    assert p.returncode == 0 and "Registered inspector key" in p.stdout, p.stderr
    assert bmnn("keys", "add", host.pub_path, inspector=insp).returncode == 0
    host.export(tmp_path / "a.bmnnsnap", cosign_key=str(tmp_path / "thanh-tra.pem"))
    code, out = bmnn_json("snapshot", "verify", tmp_path / "a.bmnnsnap", inspector=insp)
    assert code == 0 and out["cosigner"]["verified"] is True and out["cosigner"]["name"] == "Nguyễn Thị Hằng"
    p = bmnn("snapshot", "verify", tmp_path / "a.bmnnsnap", inspector=insp)
    said = p.stdout + p.stderr
    assert "Co-signed by Nguyễn Thị Hằng" in said and "UNVERIFIED" not in said


def test_trust_new_registers_only_a_valid_snapshot(tmp_path):
    host = Host(tmp_path / "host")
    host.append(2)
    insp = tmp_path / "inspector"
    host.export(tmp_path / "a.bmnnsnap")
    from tests.agent.snapfixture import rewrite
    rewrite(tmp_path / "a.bmnnsnap", tmp_path / "bad.bmnnsnap", lambda m: m.__setitem__("scan.json", b"{}"))
    code, out = bmnn_json("snapshot", "verify", tmp_path / "bad.bmnnsnap", "--trust-new", inspector=insp)
    assert code == 4 and out["registered"] == []
    assert not (insp / "keys.json").exists()
    code, out = bmnn_json("snapshot", "verify", tmp_path / "a.bmnnsnap", inspector=insp)
    assert code == 4 and [p["code"] for p in out["problems"]] == ["unknown_host"]
    code, out = bmnn_json("snapshot", "verify", tmp_path / "a.bmnnsnap", "--trust-new", inspector=insp)
    assert code == 0 and len(out["registered"]) == 1 and host.fingerprint in out["registered"][0]
    code, out = bmnn_json("snapshot", "verify", tmp_path / "a.bmnnsnap", inspector=insp)
    assert code == 0 and out["key"]["status"] == "registered"


def test_export_names_bmnnsnap_and_warns_on_another_suffix(tmp_path):
    host = Host(tmp_path / "host")
    host.append(1)
    out = tmp_path / "usb"
    out.mkdir()
    p = bmnn("snapshot", "export", "--no-scan", "-o", out, host=host)
    assert p.returncode == 0, p.stderr
    made = os.listdir(out)
    assert len(made) == 1 and made[0].endswith(".bmnnsnap") and "warning" not in p.stderr
    p = bmnn("snapshot", "export", "--no-scan", "-o", out / "vt01.bmnn", host=host)
    assert p.returncode == 0 and "does not end in .bmnnsnap" in p.stderr
    p = bmnn("snapshot", "export", "--no-scan", "-o", tmp_path / "unmounted" / "x.bmnnsnap", host=host)
    assert p.returncode == 1 and not (tmp_path / "unmounted").exists()
    with open(out / "vt01.bmnn", "rb") as fh:
        assert json.loads(__import__("tarfile").open(fileobj=fh).extractfile("manifest.json").read())["version"] == 2


def test_what_the_snapshot_says_reaches_the_terminal_escaped(tmp_path):
    host = Host(tmp_path / "host", name="may\x1b[2J-mat")
    host.append(1)
    insp = tmp_path / "inspector"
    assert bmnn("keys", "add", host.pub_path, inspector=insp).returncode == 0
    keys.generate(str(tmp_path), stem="fake", name="Lê Văn C\u202e\x1b[31m", days=30, now=KEY_TIME)
    host.export(tmp_path / "a.bmnnsnap", cosign_key=str(tmp_path / "fake.pem"))
    p = bmnn("snapshot", "verify", tmp_path / "a.bmnnsnap", inspector=insp)
    said = p.stdout + p.stderr
    assert p.returncode == 0 and "UNVERIFIED" in said, said
    assert "\x1b" not in said and "\u202e" not in said and "\\x1b" in said
