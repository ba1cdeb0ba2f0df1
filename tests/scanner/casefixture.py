"""A hand-over record and an incident report with fixed content, for the renderer tests and the
pictures in docs/ (the documents as agent/handover.py and agent/incident.py write them)."""

import datetime as dt

from bmnn_guard.agent import handover as H
from bmnn_guard.agent import incident as I
from bmnn_guard.agent.journal import Journal
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.scanner.sessions import Logins, Session

TZ = dt.timezone(dt.timedelta(hours=7))
NOW = dt.datetime(2026, 12, 1, 16, 5, tzinfo=TZ)
HOSTILE = 'Báo cáo\u202efdp.exe <script>alert(1)</script>.docx'
RECORD = {"parent_unit": "UBND tỉnh Bắc Ninh", "place": "Bắc Ninh", "head_of_unit": "Phạm Minh Đức"}


def handover_doc() -> dict:
    bundle = load_bundle()
    doc = {
        "format": H.FORMAT, "version": H.VERSION, "number": "07/BB-BM", "created_at": NOW.isoformat(),
        "timezone": "Asia/Ho_Chi_Minh", "tool": {"name": "bmnn-guard", "version": "0.1.0"},
        "host": {"hostname": "may-mat-01", "machine_id": "0123456789abcdef0123456789abcdef"},
        "unit": "Phòng Văn thư, Sở Nội vụ", "record": RECORD, "occasion": "retirement",
        "people": {"leaving": "Nguyễn Văn An", "receiver": "Trần Thị Bình", "security_officer": "Lê Thị Cúc"},
        "user": {"name": "an", "uid": 1001, "gid": 1001, "home": "/home/an", "full_name": "Nguyễn Văn An"},
        "areas": {"home": "/home/an", "home_owned": True, "temp": ["/tmp", "/var/tmp", "/dev/shm"],
                  "marked_folders": ["/srv/mat"],
                  "media": [{"mountpoint": "/media/an/USB-07", "device": "/dev/sdb1", "serial": "4C530001",
                             "label": "USB-07", "theirs": True, "why": ["registered", "mounted_for_user"]}]},
        "documents": [
            {"path": "/home/an/Tài liệu/bao-cao-quy-IV.docx", "area": "home", "personal": True, "verdict": "classified",
             "level": "mat", "held": True, "copy_of": None, "medium": None, "size": 48213,
             "sha256": "0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e",
             "modified": "2026-11-28T09:12:40+07:00", "owner": "an", "actor": None, "actor_recorded": False},
            {"path": f"/home/an/{HOSTILE}", "area": "home", "personal": True, "verdict": "classified", "level": "toi_mat",
             "held": True, "copy_of": None, "medium": None, "size": 1734,
             "sha256": "f5eb814bf3abb02e985cc3bfe1be6fa119573b9c2680659083636c54a97a2a5c",
             "modified": "2026-11-30T14:02:11+07:00", "owner": "an", "actor": None, "actor_recorded": False},
            {"path": "/media/an/USB-07/ke-hoach.pdf", "area": "media", "personal": True, "verdict": "classified",
             "level": "tuyet_mat", "held": True, "copy_of": "/srv/mat/ke-hoach.pdf", "medium": "/media/an/USB-07",
             "size": 421162, "sha256": "9b3f1d0c5a7e4b2c8d6f0e1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c",
             "modified": "2026-12-01T08:47:03+07:00", "owner": "an",
             "actor": {"pid": 4242, "uid": 1001, "user": "an", "exe": "/usr/bin/cp"}, "actor_recorded": True},
            {"path": "/tmp/du-thao.odt", "area": "temp", "personal": True, "verdict": "review", "level": None, "held": False,
             "copy_of": None, "medium": None, "size": 9120,
             "sha256": "1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d",
             "modified": "2026-12-01T10:30:00+07:00", "owner": "an", "actor": None, "actor_recorded": False},
        ],
        "marked_files": [
            {"path": "/srv/mat/ke-hoach.pdf", "present": True, "source": ["walk", "journal"], "level": "tuyet_mat",
             "verdict": "classified", "size": 421162,
             "sha256": "9b3f1d0c5a7e4b2c8d6f0e1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c",
             "modified": "2026-11-20T15:00:00+07:00", "owner": "an", "actor": None, "actor_recorded": False,
             "journal": {"seq": 4811, "time": "2026-11-20T08:00:00.000000Z", "event": "closed"}}],
        "devices": [{"label": "USB-07", "vendor_id": "0781", "product_id": "5567", "serial": "4C530001", "kind": "usb",
                     "approved_by": "Lê Thị Cúc", "approved_at": "2026-03-02T09:00:00+07:00", "reference": "05/BB-CNTT",
                     "attached": True, "mountpoints": ["/media/an/USB-07"]}],
        "violations": [{"seq": 5120, "time": "2026-12-01T01:47:05.000000Z", "check_id": "BMNN-DOC-001",
                        "severity": "critical", "message": "1 secret document(s) in the wrong place: /media/an/USB-07/ke-hoach.pdf",
                        "acknowledged": True, "why": ["area", "device"],
                        "items": [{"path": "/media/an/USB-07/ke-hoach.pdf", "copy_of": "/srv/mat/ke-hoach.pdf",
                                   "level": "tuyet_mat"}]}],
        "unreadable": [], "notes": [],
        "scan": {"files_scanned": 318, "skipped": 12, "roots": ["/home/an"]},
        "journal": {"present": True, "verified": True, "head_seq": 5188, "mac_checked": False},
        "policy_bundle": {"sha256": bundle.sha256},
        "commitment": H.commitment(bundle, NOW.date(), "retirement", "Nguyễn Văn An"),
        "summary": {"held_personal": 3, "review_personal": 1, "stamped_marked": 1, "marked_files": 1, "devices": 1,
                    "violations": 1, "unreadable": 0, "verdict": "holds"},
    }
    return doc


def incident_doc(tmp_path) -> dict:
    path = str(tmp_path / "journal.db")
    z = lambda h, m, s=0: f"2026-12-01T{h:02d}:{m:02d}:{s:02d}.000000Z"  # noqa: E731
    with Journal.open(path, host="may-mat-01") as j:
        j.append("agent_start", severity="info", evidence={}, message="bmnn-agent started, policy 3f2a…", time=z(1, 0))
        j.append("heartbeat", evidence={}, time=z(1, 1))
        j.append("media", evidence={"mountpoint": "/media/an/USB", "event": "mounted"},
                 message="removable medium mounted: /media/an/USB; scanning it", time=z(1, 2))
        j.append("violation", check_id="BMNN-USB-001", severity="critical", message="Unapproved removable storage: Cruzer 4C53",
                 evidence={"items": [{"fact": "devices.usb", "vendor_id": "0781", "product_id": "5567", "serial": "4C53",
                                      "product": "Cruzer Blade"}]}, time=z(1, 2, 1))
        j.append("file", evidence={"event": "closed", "path": "/media/an/USB/bao-cao.docx", "size": 48213, "owner": "an",
                                   "sha256": "0d01700851d1e24666149deefa8ac38305bb9b1bd90f98219507a9a22074165e"},
                 message="closed /media/an/USB/bao-cao.docx", time=z(1, 2, 30))
        j.append("violation", check_id="BMNN-DOC-001", severity="critical",
                 message="1 secret document(s) in the wrong place: /media/an/USB/bao-cao.docx",
                 evidence={"items": [{"fact": "documents.findings", "path": "/media/an/USB/bao-cao.docx", "level": "mat",
                                      "copy_of": "/srv/mat/bao-cao.docx", "on_removable": True}]}, time=z(1, 2, 31))
        j.append("enforced", check_id="BMNN-USB-001", severity="critical",
                 evidence={"target": "/sys/devices/pci0000:00/usb1/1-2", "action": "deauthorize", "ok": True},
                 message="deauthorize ok", time=z(1, 2, 32))
        j.append("ack", check_id="BMNN-DOC-001", severity="critical", evidence={"violation_seq": 6, "uid": 0,
                                                                                "note": "Đang xác minh với người dùng"},
                 message="violation #6 acknowledged by uid 0", time=z(1, 9))
        j.append("cleared", check_id="BMNN-DOC-001", severity="critical", evidence={}, message="cleared", time=z(1, 15))
    logins = Logins((Session("an", "tty2", "", dt.datetime(2026, 12, 1, 0, 40, tzinfo=dt.timezone.utc), None, "logged_in"),))
    from bmnn_guard.policies.schema import RecordSettings, Tailoring
    tail = Tailoring(unit="Phòng Văn thư, Sở Nội vụ", record=RecordSettings(parent_unit="UBND tỉnh Bắc Ninh", place="Bắc Ninh",
                                                                             security_officer="Lê Thị Cúc",
                                                                             head_of_unit="Phạm Minh Đức"))
    doc = I.build(path, I.Window(first_seq=1, last_seq=9), now=NOW, bundle=load_bundle(), tailoring=tail, logins=logins)
    doc["host"]["machine_id"] = "0123456789abcdef0123456789abcdef"
    doc["tool"]["version"] = "0.1.0"
    return doc
