"""What the inspector's side says, in Vietnamese and English: one table, whole sentences.

Every problem, warning and note of ``snapshot verify``, ``report fleet`` and ``bmnn keys`` is a
code here with ``{named}`` placeholders, so that a later move to one gettext catalog is a copy of
this table, and so that scripts can match the code while people read the sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # ---- reading the file
    "not_found": ("Không có tệp {path}", "{path}: not found"),
    "not_regular": ("{path} không phải tệp thường ({type}): không đọc", "{path} is not a regular file ({type}): not read"),
    "unreadable": ("Không đọc được tệp: {detail}", "Unreadable: {detail}"),
    "not_snapshot": ("Không phải ảnh chụp bmnn: {detail}", "Not a bmnn snapshot: {detail}"),
    "no_manifest": ("Thiếu manifest.json", "manifest.json is missing"),
    "bad_manifest": ("manifest.json không hợp lệ: {detail}", "manifest.json is not a bmnn snapshot manifest: {detail}"),
    "manifest_not_canonical": ("manifest.json đã bị chỉnh sửa (không ở dạng chuẩn)",
                               "manifest.json was edited (not in canonical form)"),
    "format_old": ("Ảnh chụp định dạng {version} (cũ): đầu nhật ký lấy từ đoạn trích, mã máy có thể thiếu; "
                   "chứng minh được ít hơn định dạng {current}",
                   "Snapshot format {version} (older): the journal head is taken from the excerpt and the machine id "
                   "may be missing; it proves less than format {current}"),
    "format_new": ("Ảnh chụp định dạng {version} mới hơn bản bmnn này ({current}): hãy cập nhật bmnn",
                   "Snapshot format {version} is newer than this bmnn ({current}): update bmnn"),
    # ---- the host signature and key
    "no_signature": ("Thiếu chữ ký hoặc khóa công khai của máy", "manifest.sig or host.pub is missing"),
    "bad_key": ("host.pub không hợp lệ: {detail}", "host.pub is not valid: {detail}"),
    "key_mismatch": ("Dấu vân tay khóa trong manifest không khớp host.pub",
                     "The key fingerprint in the manifest does not match host.pub"),
    "wrong_key": ("Ký bằng khóa khác khóa đã chỉ định: {fingerprint} ≠ {pinned}",
                  "Signed by a different key than the pinned one: {fingerprint} ≠ {pinned}"),
    "bad_signature": ("Chữ ký của máy không hợp lệ: manifest đã bị sửa",
                      "The host signature does not verify: the manifest was altered"),
    "key_expired": ("Khóa đã hết hạn ngày {date} trước khi ký", "The key expired on {date}, before signing"),
    "key_not_yet_valid": ("Ảnh chụp có thời điểm trước khi khóa được tạo", "The snapshot predates its signing key"),
    "unknown_host": ("Máy lạ: khóa {fingerprint} chưa được đăng ký. Đối chiếu với sổ tài sản rồi "
                     "`bmnn keys add HOST.pub`, hoặc kiểm tra lại với --trust-new",
                     "Unknown host: key {fingerprint} is not registered. Check it against the asset register, then "
                     "`bmnn keys add HOST.pub`, or verify again with --trust-new"),
    "key_is_inspector": ("Ký bằng khóa {fingerprint} đã đăng ký là khóa của cán bộ kiểm tra, không phải khóa máy",
                         "Signed with {fingerprint}, which is registered as an inspector's key, not a host key"),
    "key_retired": ("Ký bằng khóa đã bị thay ngày {date} ({current} là khóa hiện hành)",
                    "Signed with a key retired on {date} ({current} is the current key)"),
    "key_retired_journal": ("Ký bằng khóa đã bị thay theo bản ghi nhật ký #{seq} ({current} là khóa hiện hành)",
                            "Signed with a key retired by journal record #{seq} ({current} is the current key)"),
    "rotation_fork": ("Khóa {old} đã được thay bằng {known}, nay có văn bản thay nó bằng {other}: "
                      "chủ khóa cũ đã ký hai lần thay khóa",
                      "Key {old} was already rotated to {known}, and a statement now rotates it to {other}: "
                      "the holder of the old key signed two rotations"),
    "rotation_after_snapshot": ("Khóa {fingerprint} được tạo ({date}) sau thời điểm lập ảnh chụp",
                                "Key {fingerprint} was rotated in ({date}) after the snapshot was made"),
    "rotation_invalid": ("Văn bản thay khóa số {index} trong ảnh chụp không hợp lệ, bỏ qua: {detail}",
                         "Key rotation statement {index} in the snapshot does not verify and is ignored: {detail}"),
    "rotation_unsigned": ("Bản ghi key_rotated #{seq} không có văn bản thay khóa do khóa cũ ký: không được tính",
                          "key_rotated record #{seq} is not backed by a rotation signed with the old key: it does not count"),
    "key_pinned": ("Khóa {fingerprint} được chỉ định bằng --pubkey, chưa có trong sổ khóa (bmnn keys add)",
                   "Key {fingerprint} pinned with --pubkey; it is not in the key registry (bmnn keys add)"),
    "key_registered": ("Khóa máy đã đăng ký: {label} ({fingerprint})", "Registered host key: {label} ({fingerprint})"),
    "key_rotated_ok": ("Khóa máy đã được thay từ {old} (đã đăng ký) sang {fingerprint}, do khóa cũ ký; đã ghi vào sổ khóa",
                       "Host key rotated from the registered {old} to {fingerprint}, signed by the old key; "
                       "recorded in the key registry"),
    "key_trusted_new": ("Đã đăng ký khóa máy mới {fingerprint} ({label}) theo --trust-new: hãy đối chiếu với sổ tài sản",
                        "Registered the new host key {fingerprint} ({label}) because of --trust-new: check it against "
                        "the asset register"),
    "key_would_trust": ("Khóa máy mới {fingerprint} được chấp nhận theo --trust-new (sẽ đăng ký nếu ảnh chụp hợp lệ)",
                        "New host key {fingerprint} accepted because of --trust-new (registered if the snapshot is valid)"),
    # ---- members and journal
    "member_missing": ("Thiếu thành phần {name}", "Member {name} is missing"),
    "member_altered": ("Thành phần {name} đã bị sửa (SHA-256 {actual}… ≠ {expected}…)",
                       "Member {name} was altered (SHA-256 {actual}… ≠ {expected}…)"),
    "member_added": ("Thành phần {name} không có trong manifest", "Member {name} is not in the manifest"),
    "journal_line": ("journal.ndjson dòng {line} không hợp lệ", "journal.ndjson line {line} is not JSON"),
    "journal_record": ("Bản ghi nhật ký {seq} không hợp lệ", "Journal record {seq} is malformed"),
    "journal_gap": ("Nhật ký thiếu bản ghi {first}…{last}", "Journal records {first}…{last} are missing"),
    "journal_link": ("Chuỗi băm nhật ký đứt tại bản ghi {seq}", "Journal hash chain broken at record {seq}"),
    "journal_record_altered": ("Bản ghi nhật ký {seq} đã bị sửa", "Journal record {seq} was altered"),
    "journal_head": ("Bản ghi cuối của nhật ký không khớp đầu nhật ký trong manifest",
                     "The last journal record does not match the head in the manifest"),
    "journal_count": ("Số bản ghi nhật ký không khớp manifest", "Journal record count does not match the manifest"),
    "host_journal_bad": ("Nhật ký trên máy không toàn vẹn: {reason} (bản ghi {seq}): ảnh chụp không được dùng làm căn cứ",
                         "The host's journal does not verify: {reason} (record {seq}); the snapshot cannot be relied on"),
    "host_journal_unknown": ("Thiếu kết quả kiểm chứng nhật ký của máy (journal-verify.json)",
                             "The host's journal verification (journal-verify.json) is missing or unreadable"),
    "host_journal_chain_only": ("Máy chỉ kiểm tra được chuỗi băm (không có khóa ban đầu của nhật ký trên máy)",
                                "The host checked the hash chain only (the journal's initial key is not on the host)"),
    "no_journal": ("Máy không có nhật ký giám sát", "The machine has no monitoring journal"),
    # ---- co-signature
    "bad_cosign": ("Chữ ký của cán bộ kiểm tra không hợp lệ", "The inspector's co-signature does not verify"),
    "cosign_other": ("Chữ ký của cán bộ kiểm tra thuộc manifest khác", "The co-signature belongs to another manifest"),
    "cosign_key": ("Khóa của cán bộ kiểm tra không khớp", "The co-signer key does not match its fingerprint"),
    "cosign_expired": ("Khóa của cán bộ kiểm tra đã hết hạn ngày {date}", "The inspector's key expired on {date}"),
    "cosign_unverified": ("Chữ ký kèm CHƯA XÁC MINH: ghi tên '{name}' nhưng khóa {fingerprint} không phải khóa cán bộ "
                          "kiểm tra đã đăng ký (bmnn keys add --inspector KHÓA.pub)",
                          "UNVERIFIED co-signature: it names '{name}' but key {fingerprint} is not a registered "
                          "inspector key (bmnn keys add --inspector KEY.pub)"),
    "cosign_name_differs": ("Chữ ký kèm ghi tên '{claimed}'; khóa đã đăng ký thuộc về '{name}'",
                            "The co-signature names '{claimed}'; the registered key belongs to '{name}'"),
    "cosigned": ("Ký kèm bởi {name} (khóa cán bộ kiểm tra đã đăng ký {fingerprint})",
                 "Co-signed by {name} (registered inspector key {fingerprint})"),
    # ---- order and continuity
    "previous_invalid": ("Ảnh chụp trước ({path}) không hợp lệ: {detail}", "The previous snapshot ({path}) is invalid: {detail}"),
    "other_host": ("Hai ảnh chụp không cùng một máy ({a} / {b})", "The snapshots are not from the same machine ({a} / {b})"),
    "other_key": ("Hai ảnh chụp được ký bằng hai khóa không liên quan ({a} / {b}): không cùng một máy, hoặc khóa bị thay "
                  "mà không có văn bản thay khóa nào chứng minh",
                  "The snapshots are signed by unrelated keys ({a} / {b}): not the same host, or a key change that no "
                  "rotation statement proves"),
    "machine_id_missing": ("Một ảnh chụp không có mã máy: chỉ đối chiếu được theo khóa",
                           "A snapshot has no machine id: matched by key only"),
    "same_snapshot": ("Cùng một ảnh chụp với {other}: không phải bằng chứng mới", "The same snapshot as {other}: no new evidence"),
    "not_later": ("Ảnh chụp lập lúc {created} không muộn hơn ảnh chụp trước ({previous}, lúc {previous_created}): "
                  "phát lại hoặc sai thứ tự",
                  "The snapshot made at {created} is not later than the previous one ({previous}, made at "
                  "{previous_created}): a replay or out of order"),
    "rollback": ("Nhật ký bị quay lui: đầu nhật ký #{seq} ({hash}…) trước đầu đã thấy #{previous_seq} ({previous_hash}…) "
                 "ở {previous}",
                 "Journal rolled back: head #{seq} ({hash}…) is before the head #{previous_seq} ({previous_hash}…) "
                 "seen in {previous}"),
    "branch": ("Nhật ký rẽ nhánh: #{seq} có băm {hash}…, còn {previous} có #{previous_seq} với băm {previous_hash}…",
               "Journal branched: #{seq} has hash {hash}…, while {previous} has #{previous_seq} with hash {previous_hash}…"),
    "deleted_range": ("Không chứng minh được nhật ký nối tiếp {previous}: thiếu bản ghi {first}…{last} giữa hai lần kiểm tra",
                      "Cannot prove the journal extends {previous}: records {first}…{last} between the snapshots are "
                      "missing"),
    "deleted_range_checkpoint": ("Bản ghi #{seq} là mốc lưu trữ: đã xóa {first}…{last} ({reason})",
                                 "Record #{seq} is a checkpoint: records {first}…{last} were removed ({reason})"),
    "journal_reset": ("Nhật ký được tạo lại bằng `bmnn journal reset` (bản ghi #{seq}, lúc {time}, lý do: {reason}): "
                      "nhật ký cũ có đầu #{old_seq} ({old_hash}…), không trước đầu đã thấy #{previous_seq} "
                      "({previous_hash}…). Hãy xem các tệp cũ máy đã giữ lại",
                      "The journal was started anew by `bmnn journal reset` (record #{seq}, at {time}, reason: "
                      "{reason}): the old journal's head was #{old_seq} ({old_hash}…), not before the head seen, "
                      "#{previous_seq} ({previous_hash}…). Ask for the old files the host kept aside"),
    "no_new_records": ("Nhật ký không có bản ghi mới kể từ {previous} (đầu #{seq}): dịch vụ giám sát có chạy không?",
                       "No journal record since {previous} (head #{seq}): was the monitoring daemon running?"),
    "previous_no_journal": ("Ảnh chụp trước không có nhật ký: không đối chiếu được tính liên tục",
                            "The previous snapshot has no journal: continuity cannot be checked"),
    "journal_gone": ("Ảnh chụp trước có nhật ký (đầu #{previous_seq}), ảnh chụp này không có: nhật ký đã bị xóa",
                     "The previous snapshot had a journal (head #{previous_seq}), this one has none: the journal was removed"),
    "key_changed": ("Mã máy {machine_id} đã được thấy với khóa khác ({other}) ở lần tổng hợp {date}: máy được cấp khóa "
                    "lại hoặc bị nhân bản",
                    "Machine id {machine_id} was seen with another key ({other}) at the review of {date}: the machine "
                    "was re-keyed or cloned"),
    "already_accepted": ("Ảnh chụp này đã được chấp nhận ở lần tổng hợp {date}: không có bằng chứng mới từ máy này",
                         "This snapshot was already accepted at the review of {date}: no newer evidence from this host"),
    "superseded": ("Đã có ảnh chụp mới hơn của máy này trong thư mục ({other}): số liệu của ảnh chụp này là cũ",
                   "A newer snapshot of this host is in the folder ({other}): the figures of this one are older"),
    "history_previous": ("lần tổng hợp {date}", "the review of {date}"),
    # ---- fleet
    "fleet_not_regular": ("Không phải tệp thường ({type}): không đọc", "Not a regular file ({type}): not read"),
    "fleet_too_deep": ("Thư mục lồng quá sâu: không đọc", "Folder nested too deep: not read"),
    # ---- the registry
    "registry_added": ("Đã đăng ký {role} {fingerprint} ({label})", "Registered {role} {fingerprint} ({label})"),
    "registry_exists": ("{fingerprint} đã có trong sổ khóa ({label})", "{fingerprint} is already registered ({label})"),
    "registry_removed": ("Đã xóa {fingerprint} ({label}) khỏi sổ khóa", "Removed {fingerprint} ({label}) from the registry"),
    "registry_empty": ("Sổ khóa trống ({path})", "The key registry is empty ({path})"),
    "role.host": ("khóa máy", "host key"),
    "role.inspector": ("khóa cán bộ kiểm tra", "inspector key"),
}


def say(code: str, lang: str = "vi", **kw: Any) -> str:
    """The sentence for ``code`` in ``lang`` with its placeholders filled (a placeholder may be a
    ``Problem`` itself: a phrase that has both languages, such as "the review of DATE")."""
    vi, en = MESSAGES[code]
    return (en if lang == "en" else vi).format(**{k: v.get(lang) if isinstance(v, Problem) else v for k, v in kw.items()})


@dataclass(frozen=True)
class Problem:
    """One thing that does not match (or is worth saying), in both languages."""

    code: str
    """Stable identifier for scripts (``unknown_host``, ``rollback``...)."""
    vi: str
    """The sentence in Vietnamese."""
    en: str
    """The sentence in English."""

    @classmethod
    def of(cls, code: str, **kw: Any) -> "Problem":
        """The problem ``code`` with its placeholders filled in both languages."""
        return cls(code, say(code, "vi", **kw), say(code, "en", **kw))

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi
