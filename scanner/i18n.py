"""User-facing words of the CLI and reports, Vietnamese first, English second.

Policy texts carry their own {vi, en} maps; this catalog holds the words of the tool itself.
A missing key falls back to the key so that a gap is visible, never a crash.
"""

from __future__ import annotations

import os

LANGS = ("vi", "en")

CATALOG: dict[str, tuple[str, str]] = {
    # statuses
    "status.pass": ("Đạt", "Pass"),
    "status.fail": ("Không đạt", "Fail"),
    "status.error": ("Lỗi kiểm tra", "Error"),
    "status.not_applicable": ("Không áp dụng", "Not applicable"),
    "status.not_selected": ("Không chọn", "Not selected"),
    "status.not_reviewed": ("Chưa kiểm tra", "Not reviewed"),
    "status.waived": ("Được miễn trừ", "Waived"),
    "status.informational": ("Thông tin", "Informational"),
    # severities
    "severity.critical": ("Nghiêm trọng", "Critical"),
    "severity.high": ("Cao", "High"),
    "severity.medium": ("Trung bình", "Medium"),
    "severity.low": ("Thấp", "Low"),
    "severity.info": ("Thông tin", "Info"),
    # verdicts
    "verdict.NON_COMPLIANT": ("KHÔNG ĐẠT YÊU CẦU", "NON-COMPLIANT"),
    "verdict.INCOMPLETE": ("CHƯA ĐỦ CĂN CỨ KẾT LUẬN", "INCOMPLETE"),
    "verdict.COMPLIANT_WITH_EXCEPTIONS": ("ĐẠT YÊU CẦU (CÓ NGOẠI LỆ)", "COMPLIANT WITH EXCEPTIONS"),
    "verdict.COMPLIANT": ("ĐẠT YÊU CẦU", "COMPLIANT"),
    # categories
    "category.network": ("Mạng", "Network"),
    "category.usb": ("Thiết bị USB và lưu trữ rời", "USB and removable storage"),
    "category.recording": ("Thiết bị ghi âm, ghi hình", "Recording devices"),
    "category.software": ("Phần mềm", "Software"),
    "category.storage": ("Lưu trữ", "Storage"),
    "category.folders": ("Thư mục mật", "Marked folders"),
    "category.documents": ("Tài liệu", "Documents"),
    "category.agent": ("Dịch vụ giám sát", "Monitoring agent"),
    "category.manual": ("Kiểm tra thủ công", "Manual checks"),
    # legal rendering
    "legal.article": ("Điều", "Article"),
    "legal.clause": ("khoản", "clause"),
    "legal.unverified": ("chưa xác minh", "unverified"),
    "legal.history": ("văn bản đã hết hiệu lực, dẫn để đối chiếu", "no longer in force, cited as history"),
    "legal.in_force_from": ("hiệu lực từ", "in force from"),
    # policy CLI
    "policy.id": ("Mã", "ID"),
    "policy.severity": ("Mức độ", "Severity"),
    "policy.category": ("Nhóm", "Category"),
    "policy.mode": ("Cách kiểm tra", "Mode"),
    "policy.title": ("Nội dung", "Title"),
    "policy.legal": ("Căn cứ pháp lý", "Legal basis"),
    "policy.valid": ("hợp lệ", "valid"),
    "policy.description": ("Mô tả", "Description"),
    "policy.rationale": ("Lý do", "Rationale"),
    "policy.remediation": ("Khắc phục", "Remediation"),
    "policy.question": ("Câu hỏi cho cán bộ kiểm tra", "Question for the inspector"),
    "policy.profiles": ("Thuộc hồ sơ", "In profiles"),
    "mode.automated": ("Tự động", "Automated"),
    "mode.manual": ("Thủ công", "Manual"),
    "mode.hybrid": ("Kết hợp", "Hybrid"),
    # errors
    "error.policy": ("Lỗi chính sách", "Policy error"),
    "error.usage": ("Lỗi cú pháp lệnh", "Usage error"),
    "error.internal": ("Lỗi nội bộ", "Internal error"),
    "error.unknown_check": ("Không có kiểm tra {id}; xem 'bmnn policy list'", "No check {id}; see 'bmnn policy list'"),
}


def default_lang() -> str:
    """BMNN_LANG, else Vietnamese."""
    lang = os.environ.get("BMNN_LANG", "vi")
    return lang if lang in LANGS else "vi"


def t(key: str, lang: str, **kw) -> str:
    """The text for ``key`` in ``lang``, formatted with ``kw``."""
    pair = CATALOG.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text
