"""`bmnn snapshot verify`: check a snapshot without trusting the machine that made it.

Checks, in order: the archive is well formed; the manifest is signed by the key in ``host.pub``
(and that key is the pinned one, with ``--pubkey``); the key was valid at the snapshot's time and
not retired by a rotation recorded in the excerpt; every member's hash and size match the
manifest and nothing is missing or added; the journal excerpt is an unbroken hash chain from the
manifest's ``prev_hash`` to its ``head_hash``; with ``--previous``, that both snapshots come from
the same machine and the journal continues with no deleted range. Every mismatch is reported,
not just the first.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Optional

from cryptography.exceptions import InvalidSignature

from .. import keys
from ..errors import AgentError
from . import FORMAT, archive
from .manifest import SIGNATURE_MEMBERS, canonical


@dataclass(frozen=True)
class Problem:
    """One thing that does not match, in both languages."""

    code: str
    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


@dataclass
class Report:
    """Outcome of verifying one snapshot."""

    path: str
    ok: bool = True
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    manifest: dict = field(default_factory=dict)
    members: dict[str, bytes] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    cosigner: Optional[dict] = None

    def fail(self, code: str, vi: str, en: str) -> None:
        self.ok = False
        self.problems.append(Problem(code, vi, en))

    def warn(self, code: str, vi: str, en: str) -> None:
        self.warnings.append(Problem(code, vi, en))

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        m = self.manifest
        return {"path": self.path, "valid": self.ok,
                "problems": [{"code": p.code, "message": p.get(lang)} for p in self.problems],
                "warnings": [{"code": p.code, "message": p.get(lang)} for p in self.warnings],
                "host": m.get("host"), "created_at": m.get("created_at"),
                "key_fingerprint": (m.get("key") or {}).get("fingerprint"), "journal": m.get("journal"),
                "verdict": m.get("verdict"), "cosigner": self.cosigner}


def _date(s: Optional[str]) -> Optional[dt.date]:
    if not s:
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None


def verify(path: str, *, pubkey: Optional[bytes] = None, previous: Optional[str] = None,
           previous_pubkey: Optional[bytes] = None) -> Report:
    """Verify ``path``; with ``previous`` also the continuity from that earlier snapshot."""
    rep = Report(path)
    try:
        members = archive.read(path)
    except AgentError as exc:
        rep.fail("unreadable", f"Không đọc được tệp: {exc}", f"Unreadable: {exc}")
        return rep
    rep.members = members
    mbytes = members.get("manifest.json")
    if mbytes is None:
        rep.fail("no_manifest", "Thiếu manifest.json", "manifest.json is missing")
        return rep
    try:
        manifest = json.loads(mbytes)
        assert isinstance(manifest, dict) and manifest.get("format") == FORMAT
    except (ValueError, AssertionError):
        rep.fail("bad_manifest", "manifest.json không hợp lệ", "manifest.json is not a bmnn snapshot manifest")
        return rep
    rep.manifest = manifest
    if canonical(manifest) != mbytes:
        rep.fail("manifest_not_canonical", "manifest.json đã bị chỉnh sửa (không ở dạng chuẩn)",
                 "manifest.json was edited (not in canonical form)")
    _check_signature(rep, members, mbytes, manifest, pubkey)
    _check_members(rep, members, manifest)
    _check_journal(rep, members, manifest)
    _check_cosign(rep, members, mbytes, manifest)
    if previous:
        _check_previous(rep, previous, previous_pubkey or pubkey)
    return rep


def _check_signature(rep: Report, members, mbytes, manifest, pubkey) -> None:
    pem = members.get("host.pub")
    sig = members.get("manifest.sig")
    if pem is None or sig is None:
        rep.fail("no_signature", "Thiếu chữ ký hoặc khóa công khai của máy", "manifest.sig or host.pub is missing")
        return
    try:
        pub = keys.load_public(pem)
    except AgentError as exc:
        rep.fail("bad_key", f"host.pub không hợp lệ: {exc}", f"host.pub is not valid: {exc}")
        return
    fp = keys.fingerprint(pub)
    if (manifest.get("key") or {}).get("fingerprint") != fp:
        rep.fail("key_mismatch", "Dấu vân tay khóa trong manifest không khớp host.pub",
                 "The key fingerprint in the manifest does not match host.pub")
    if pubkey is not None:
        pinned = keys.fingerprint(keys.load_public(pubkey))
        if pinned != fp:
            rep.fail("wrong_key", f"Ký bằng khóa khác khóa đã đăng ký: {fp} ≠ {pinned}",
                     f"Signed by a different key than the pinned one: {fp} ≠ {pinned}")
    else:
        rep.warn("key_not_pinned", f"Chưa đối chiếu khóa: so dấu vân tay {fp} với sổ tài sản, hoặc dùng --pubkey",
                 f"Key not pinned: compare fingerprint {fp} with the asset register, or use --pubkey")
    try:
        pub.verify(sig, mbytes)
    except InvalidSignature:
        rep.fail("bad_signature", "Chữ ký của máy không hợp lệ: manifest đã bị sửa", "The host signature does not verify: the manifest was altered")
    key = manifest.get("key") or {}
    created = _date(manifest.get("created_at"))
    if created and _date(key.get("not_after")) and created > _date(key["not_after"]):
        rep.fail("key_expired", f"Khóa đã hết hạn ngày {key['not_after']} trước khi ký", f"The key expired on {key['not_after']}, before signing")
    if created and _date(key.get("created_at")) and created < _date(key["created_at"]):
        rep.fail("key_not_yet_valid", "Ảnh chụp có thời điểm trước khi khóa được tạo", "The snapshot predates its signing key")


def _check_members(rep: Report, members, manifest) -> None:
    table = manifest.get("members") or {}
    for name, meta in sorted(table.items()):
        data = members.get(name)
        if data is None:
            rep.fail("member_missing", f"Thiếu thành phần {name}", f"Member {name} is missing")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != meta.get("sha256") or len(data) != meta.get("size"):
            rep.fail("member_altered", f"Thành phần {name} đã bị sửa (SHA-256 {digest[:16]}… ≠ {str(meta.get('sha256'))[:16]}…)",
                     f"Member {name} was altered (SHA-256 {digest[:16]}… ≠ {str(meta.get('sha256'))[:16]}…)")
    for name in sorted(set(members) - set(table) - set(SIGNATURE_MEMBERS)):
        rep.fail("member_added", f"Thành phần {name} không có trong manifest", f"Member {name} is not in the manifest")


def _check_journal(rep: Report, members, manifest) -> None:
    from ..journal import Record
    meta = manifest.get("journal") or {}
    body = members.get("journal.ndjson", b"")
    records = []
    for i, line in enumerate(body.decode("utf-8", "replace").splitlines(), 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            rep.fail("journal_line", f"journal.ndjson dòng {i} không hợp lệ", f"journal.ndjson line {i} is not JSON")
            return
    rep.records = records
    prev = meta.get("prev_hash")
    expected_seq = meta.get("first_seq")
    for d in records:
        try:
            rec = Record.from_dict(d)
            actual = hashlib.sha256(rec.signed_bytes()).hexdigest()
        except Exception:
            rep.fail("journal_record", f"Bản ghi nhật ký {d.get('seq')} không hợp lệ", f"Journal record {d.get('seq')} is malformed")
            return
        if expected_seq is not None and rec.seq != expected_seq:
            rep.fail("journal_gap", f"Nhật ký thiếu bản ghi {expected_seq}…{rec.seq - 1}",
                     f"Journal records {expected_seq}…{rec.seq - 1} are missing")
            return
        if rec.prev_hash != prev:
            rep.fail("journal_link", f"Chuỗi băm nhật ký đứt tại bản ghi {rec.seq}", f"Journal hash chain broken at record {rec.seq}")
            return
        if actual != rec.hash:
            rep.fail("journal_record_altered", f"Bản ghi nhật ký {rec.seq} đã bị sửa", f"Journal record {rec.seq} was altered")
            return
        prev = rec.hash
        expected_seq = rec.seq + 1
    if records and prev != meta.get("head_hash"):
        rep.fail("journal_head", "Bản ghi cuối của nhật ký không khớp manifest", "The last journal record does not match the manifest head")
    if len(records) != (meta.get("count") or 0):
        rep.fail("journal_count", "Số bản ghi nhật ký không khớp manifest", "Journal record count does not match the manifest")
    try:
        hv = json.loads(members.get("journal-verify.json", b"{}"))
    except ValueError:
        hv = {}
    if meta.get("present") and not hv.get("ok"):
        rep.warn("host_journal_bad", f"Máy báo nhật ký không toàn vẹn: {hv.get('reason')} (bản ghi {hv.get('first_bad_seq')})",
                 f"The host reported its journal does not verify: {hv.get('reason')} (record {hv.get('first_bad_seq')})")
    if not meta.get("present"):
        rep.warn("no_journal", "Máy không có nhật ký giám sát", "The machine has no monitoring journal")
    # A rotation record inside the excerpt proves the rotation happened before this export, so a
    # signature by any key but the new one is a retired key at work (no clock comparison needed).
    fp = (manifest.get("key") or {}).get("fingerprint")
    rotations = [d.get("evidence") for d in records
                 if isinstance(d.get("evidence"), dict) and d["evidence"].get("event") == "key_rotated"]
    if rotations and rotations[-1].get("new_fingerprint") not in (None, fp):
        current = rotations[-1]["new_fingerprint"]
        rep.fail("key_retired", f"Ký bằng khóa đã bị thay ({current} là khóa hiện hành)",
                 f"Signed with a retired key ({current} is the current key)")


def _check_cosign(rep: Report, members, mbytes, manifest) -> None:
    raw = members.get("cosign.json")
    if raw is None:
        return
    try:
        c = json.loads(raw)
        pub = keys.load_public(c["public_key"].encode())
        body = {k: c.get(k) for k in ("manifest_sha256", "name", "fingerprint", "not_after", "signed_at")}
        pub.verify(base64.b64decode(c["signature"]), canonical(body))
    except (ValueError, KeyError, AgentError, InvalidSignature):
        rep.fail("bad_cosign", "Chữ ký của cán bộ kiểm tra không hợp lệ", "The inspector's co-signature does not verify")
        return
    if c["manifest_sha256"] != hashlib.sha256(mbytes).hexdigest():
        rep.fail("cosign_other", "Chữ ký của cán bộ kiểm tra thuộc manifest khác", "The co-signature belongs to another manifest")
    if keys.fingerprint(pub) != c.get("fingerprint"):
        rep.fail("cosign_key", "Khóa của cán bộ kiểm tra không khớp", "The co-signer key does not match its fingerprint")
    if _date(c.get("not_after")) and _date(c.get("signed_at")) and _date(c["signed_at"]) > _date(c["not_after"]):
        rep.fail("cosign_expired", f"Khóa của cán bộ kiểm tra đã hết hạn ngày {c['not_after']}",
                 f"The inspector's key expired on {c['not_after']}")
    rep.cosigner = {"name": c.get("name"), "fingerprint": c.get("fingerprint"), "signed_at": c.get("signed_at")}


def _check_previous(rep: Report, previous: str, pubkey: Optional[bytes]) -> None:
    prev = verify(previous, pubkey=pubkey)
    if not prev.ok:
        rep.fail("previous_invalid", f"Ảnh chụp trước ({previous}) không hợp lệ", f"The previous snapshot ({previous}) is invalid")
        return
    a, b = prev.manifest, rep.manifest
    ha, hb = a.get("host") or {}, b.get("host") or {}
    if ha.get("machine_id") != hb.get("machine_id") or (a.get("key") or {}).get("fingerprint") != (b.get("key") or {}).get("fingerprint"):
        rotated = any((d.get("evidence") or {}).get("event") == "key_rotated" for d in rep.records if isinstance(d.get("evidence"), dict))
        if ha.get("machine_id") != hb.get("machine_id") or not rotated:
            rep.fail("other_host", f"Hai ảnh chụp không cùng một máy ({ha.get('hostname')} / {hb.get('hostname')})",
                     f"The snapshots are not from the same machine ({ha.get('hostname')} / {hb.get('hostname')})")
            return
    ja, jb = a.get("journal") or {}, b.get("journal") or {}
    if not jb.get("first_seq") or not ja.get("last_seq"):
        return
    if jb["first_seq"] > ja["last_seq"] + 1:
        rep.fail("deleted_range", f"Nhật ký bị xóa đoạn {ja['last_seq'] + 1}…{jb['first_seq'] - 1} giữa hai lần kiểm tra",
                 f"Journal records {ja['last_seq'] + 1}…{jb['first_seq'] - 1} were deleted between the snapshots")
    elif jb["first_seq"] == ja["last_seq"] + 1 and jb.get("prev_hash") != ja.get("head_hash"):
        rep.fail("chain_fork", "Nhật ký không nối tiếp ảnh chụp trước (chuỗi băm khác)",
                 "The journal does not continue the previous snapshot (different hash chain)")
    elif jb["first_seq"] <= ja["last_seq"]:
        overlap = {d["seq"]: d.get("hash") for d in prev.records}
        for d in rep.records:
            if d["seq"] in overlap and overlap[d["seq"]] != d.get("hash"):
                rep.fail("history_rewritten", f"Bản ghi {d['seq']} khác với ảnh chụp trước: lịch sử đã bị viết lại",
                         f"Record {d['seq']} differs from the previous snapshot: history was rewritten")
                break
