"""agent/handover.py on files the test lays out (its own user, its own "home", temporary folder
and media): hostile names, links that must not be followed, unreadable documents, copies, the
journal's writers, devices issued to the person, and every fate ``--check`` can report."""

import datetime as dt
import hashlib
import json
import os
import pwd

import pytest

from bmnn_guard.agent import handover as H
from bmnn_guard.agent.journal import Journal
from bmnn_guard.policies import facts as F
from bmnn_guard.policies.citation import resolve
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.policies.schema import Tailoring
from bmnn_guard.scanner import registry
from bmnn_guard.scanner.localtime import zone
from bmnn_guard.scanner.treewalk import WalkNotes, open_beneath, walk
from tests.scanner.content import corpus as C

TZ = zone(None)
NOW = dt.datetime(2026, 12, 1, 16, 0, tzinfo=TZ)
STAMP = {"runs": [{"text": "MẬT", "bold": True, "color": "FF0000"}], "border": True}
ME = pwd.getpwuid(os.getuid())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def place(tmp_path):
    """Home, temporary folder, a medium, a second medium with a serial, a marked folder, config."""
    d = {k: tmp_path / k for k in ("home", "tmp", "usb", "usb2", "mat", "etc", "state")}
    for p in d.values():
        p.mkdir()
    d["person"] = H.Person(ME.pw_name, ME.pw_uid, ME.pw_gid, str(d["home"]), "Nguyễn Văn An")
    d["facts"] = F.Facts(host=F.HostFacts(hostname="may-mat-01", machine_id="0123"),
                         devices=F.DeviceFacts(block=(F.BlockDevice("loop7", mountpoints=(str(d["usb"]),)),
                                                      F.BlockDevice("sdz1", devtype="partition", bus="usb",
                                                                    serial="SER-77", mountpoints=(str(d["usb2"]),)))))
    d["journal"] = str(d["state"] / "journal.db")
    return d


def collect(place, **kw):
    return H.collect(place["person"], config_dir=str(place["etc"]), journal_path=place["journal"], marked=[str(place["mat"])],
                     tz=TZ, facts=place["facts"], temp_roots=[str(place["tmp"])], **kw)


def test_the_commitment_cites_only_verified_provisions():
    bundle = load_bundle()
    for source, article, clause in H.COMMITMENT_REFS:
        c = resolve(bundle.sources, source, article, clause, "vi", day=NOW.date())
        assert c.verified and c.in_force, c.label
    text = H.commitment(bundle, NOW.date(), "retirement", "Nguyễn Văn An")
    assert "nghỉ hưu" in text["vi"] and "retire" in text["en"] and "chưa xác minh" not in text["vi"]
    assert "Bộ luật Hình sự số 100/2015/QH13, Điều 338 khoản 1" in text["vi"]


def test_hostile_names_links_and_unreadable_files(place):
    home, tmp = place["home"], place["tmp"]
    doc = C.letter(STAMP)
    names = ["bình\nthường.docx", "txt\u202eexe.docx", os.fsdecode(b"bad-\xff.docx")]
    for n in names:
        (home / n).write_bytes(doc)
    (home / "hỏng.docx").write_bytes(b"PK\x03\x04 truncated")           # a document that cannot be read
    (tmp / "shadow.docx").symlink_to("/etc/shadow")                     # never opened as root
    os.mkfifo(tmp / "pipe.docx")                                        # never blocks the walk
    (home / "outside.docx").symlink_to(place["mat"] / "nothing")
    h = collect(place)
    shown = json.dumps(H.record(h, bundle=load_bundle(), tailoring=Tailoring(), now=NOW, tz_name="Asia/Ho_Chi_Minh",
                                number=None, occasion=None, receiver=None, officer=None, full_name=None),
                       ensure_ascii=False)  # serialises: no lone surrogate reaches the JSON
    held = [d for d in h.documents if d["held"]]
    assert len(held) == 3 and all(d["sha256"] == sha(doc) for d in held), held
    assert any(d["path"].endswith("bad-\\xff.docx") for d in json.loads(shown)["documents"])
    assert [u["path"] for u in h.unreadable] == [str(home / "hỏng.docx")]
    assert H.summary(h)["verdict"] == "holds"
    for n in names:
        (home / n).unlink()
    h = collect(place)
    assert H.summary(h)["verdict"] == "incomplete" and H.EXIT_BY_VERDICT["incomplete"] == 3


def test_the_walk_and_open_never_follow_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a/f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "a")
    (tmp_path / "etc").symlink_to("/etc")
    notes = WalkNotes()
    found = sorted(p for p, _ in walk(str(tmp_path), notes))
    assert found == [str(tmp_path / "a/f")]
    assert {p for p, _ in notes.skipped} == {str(tmp_path / "link"), str(tmp_path / "etc")}
    with open_beneath(str(tmp_path), str(tmp_path / "a/f")) as o:
        assert os.pread(o.fd, 1, 0) == b"x"
    for path in (tmp_path / "etc/shadow", tmp_path / "link/f"):
        with pytest.raises(OSError):
            open_beneath(str(tmp_path), str(path))
    with pytest.raises(ValueError):
        open_beneath(str(tmp_path / "a"), "/etc/shadow")


def test_a_tree_changing_under_the_walk_is_not_an_error(tmp_path):
    """Other users' folders come and go in /tmp while it is walked: gone is not unreadable."""
    for i in range(50):
        (tmp_path / f"d{i}").mkdir()
        (tmp_path / f"d{i}" / "f").write_text("x")
    notes = WalkNotes()
    it = walk(str(tmp_path), notes)
    first = next(it)
    import shutil as sh
    for i in range(50):
        sh.rmtree(tmp_path / f"d{i}", ignore_errors=True)
    (tmp_path / "d7").symlink_to("/etc")  # a folder swapped for a link mid-walk
    rest = list(it)
    assert not notes.errors, notes.errors
    assert all(not p.startswith("/etc") for p, _ in [first] + rest)


def test_areas_media_devices_and_the_journal(place):
    usb, usb2, mat = place["usb"], place["usb2"], place["mat"]
    registry.approve(str(place["etc"]), vendor_id="0781", product_id="5567", serial="SER-77", label="USB-07",
                     approved_by="Lê Thị Cúc", reference="05/BB", holder=ME.pw_name)
    copy_src = C.letter(STAMP, extra=["Bản gốc trong thư mục mật"])
    (mat / "goc.docx").write_bytes(copy_src)
    (place["home"] / "ban-sao-khong-dau.bin").write_bytes(copy_src)       # a copy under any name
    (usb / "tren-usb.docx").write_bytes(C.letter(STAMP, extra=["Trên USB"]))
    (usb2 / "usb-da-dang-ky.docx").write_bytes(C.letter(STAMP, extra=["USB đã đăng ký"]))
    (place["home"] / "can-xem.docx").write_bytes(C.letter({"runs": [{"text": "Mật"}]}))
    with Journal.open(place["journal"]) as j:
        j.append("file", evidence={"event": "closed", "path": str(mat / "viet.docx"), "owner": "someone-else",
                                   "actor": {"pid": 42, "uid": ME.pw_uid, "user": ME.pw_name, "exe": "/usr/bin/cp"},
                                   "sha256": "ab" * 32, "size": 10})
        j.append("file", evidence={"event": "deleted", "path": str(mat / "viet.docx")})
        j.append("violation", check_id="BMNN-USB-001", severity="critical",
                 evidence={"items": [{"fact": "devices.usb", "serial": "SER-77", "vendor_id": "0781"}]}, message="usb")
        j.append("violation", check_id="BMNN-NET-001", severity="critical",
                 evidence={"items": [{"fact": "network.interfaces", "name": "eth0"}]}, message="net")
    h = collect(place)
    docs = {os.path.basename(d["path"]): d for d in h.documents}
    assert docs["ban-sao-khong-dau.bin"]["copy_of"] == str(mat / "goc.docx") and docs["ban-sao-khong-dau.bin"]["held"]
    assert docs["tren-usb.docx"]["area"] == "media" and docs["usb-da-dang-ky.docx"]["medium"] == str(usb2)
    assert docs["can-xem.docx"]["verdict"] == "review" and not docs["can-xem.docx"]["held"]
    assert H.summary(h)["review_personal"] == 1
    media = {m.mountpoint: m for m in h.areas.media}
    assert "registered" in media[str(usb2)].why
    (dev,) = h.devices
    assert dev["serial"] == "SER-77" and dev["attached"] and dev["mountpoints"] == [str(usb2)]
    # a file they wrote (the acting process says so) and that was deleted since: listed, not present
    gone = next(m for m in h.marked_files if m["path"] == str(mat / "viet.docx"))
    assert not gone["present"] and gone["sha256"] == "ab" * 32 and gone["actor"]["exe"] == "/usr/bin/cp"
    assert [v["check_id"] for v in h.violations] == ["BMNN-USB-001"] and h.violations[0]["why"] == ["device"]
    # a second name for a marked-folder file (a hard link into the home) is said on the record
    os.link(mat / "goc.docx", place["home"] / "lien-ket")
    goc = next(m for m in collect(place).marked_files if m["path"] == str(mat / "goc.docx"))
    assert goc["links"] == 2
    from bmnn_guard.scanner.report.handover import _marked
    assert any("liên kết cứng" in n for n in _marked(goc, TZ, "vi")["notes"])


def test_every_fate_check_reports(place):
    home, usb, mat = place["home"], place["usb"], place["mat"]
    docs = {n: C.letter(STAMP, extra=[n]) for n in ("a", "b", "c", "d", "e")}
    (home / "a.docx").write_bytes(docs["a"])      # stays: remains
    (home / "b.docx").write_bytes(docs["b"])      # goes into the marked folder: recovered
    (home / "c.docx").write_bytes(docs["c"])      # destroyed, journaled
    (home / "d.docx").write_bytes(docs["d"])      # just deleted: missing
    (usb / "e.docx").write_bytes(docs["e"])       # its medium is taken away: not checked
    bundle = load_bundle()
    rec = H.record(collect(place), bundle=bundle, tailoring=Tailoring(), now=NOW, tz_name="Asia/Ho_Chi_Minh",
                   number="01/BB", occasion="leaving", receiver="B", officer="C", full_name=None)
    assert rec["summary"]["held_personal"] == 5
    os.replace(home / "b.docx", mat / "b.docx")
    res = H.record_destroyed(place["journal"], place["person"], str(home / "c.docx"), reason="Nghiền giấy, biên bản 02/BB-TH",
                             minutes="02/BB-TH", rec=rec, tz=TZ, now=NOW + dt.timedelta(hours=1))
    assert res["sha256"] == sha(docs["c"]) and res["still_present"]
    # recorded as destroyed but still here: it remains until it is gone
    early = H.compare(rec, collect(place), tz=TZ)
    assert {i["path"]: i["status"] for i in early["items"]}[str(home / "c.docx")] == "remains"
    (home / "c.docx").unlink()
    (home / "d.docx").unlink()
    (home / "new.docx").write_bytes(C.letter(STAMP, extra=["mới"]))
    place["facts"] = F.Facts(host=place["facts"].host, devices=F.DeviceFacts())  # the stick is gone
    result = H.compare(rec, collect(place), tz=TZ)
    fate = {os.path.basename(i["path"]): i for i in result["items"]}
    assert {k: v["status"] for k, v in fate.items()} == {"a.docx": "remains", "b.docx": "recovered", "c.docx": "destroyed",
                                                         "d.docx": "missing", "e.docx": "unknown"}
    assert fate["b.docx"]["where"] == str(mat / "b.docx") and fate["e.docx"]["note"] == "medium_absent"
    assert [os.path.basename(n["path"]) for n in result["new"]] == ["new.docx"]
    assert result["verdict"] == "holds"
    (home / "a.docx").unlink()
    (home / "new.docx").unlink()
    os.replace(usb / "e.docx", mat / "e.docx")  # found by hash: recovered even with its medium gone
    result = H.compare(rec, collect(place), tz=TZ)
    assert result["counts"]["missing"] == 2 and result["verdict"] == "holds"  # a.docx and d.docx: gone, not recovered
    assert {i["status"] for i in result["items"] if os.path.basename(i["path"]) == "e.docx"} == {"recovered"}


def test_destruction_needs_a_reason_and_a_hash(place):
    with pytest.raises(Exception, match="reason"):
        H.record_destroyed(place["journal"], place["person"], str(place["home"] / "x.docx"), reason=" ", minutes=None,
                           rec=None, tz=TZ, lang="en")
    with pytest.raises(Exception, match="cannot tell"):
        H.record_destroyed(place["journal"], place["person"], str(place["home"] / "x.docx"), reason="r", minutes=None,
                           rec=None, tz=TZ, lang="en")


def test_person_lookup():
    assert H.person(ME.pw_name).uid == ME.pw_uid
    gone = H.person("4000000007")  # an account already removed: its files still count by uid
    assert gone.uid == 4000000007 and gone.home is None
    with pytest.raises(Exception, match="No user"):
        H.person("khong-co-nguoi-nay", "en")
    with pytest.raises(Exception, match="Không có tài khoản"):
        H.person("khong-co-nguoi-nay")
