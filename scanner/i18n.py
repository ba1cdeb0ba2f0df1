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
    # scan / record
    "record.title": ("BIÊN BẢN KIỂM TRA AN NINH, AN TOÀN THIẾT BỊ TRƯỚC KHI ĐƯA VÀO SỬ DỤNG",
                     "RECORD OF THE SECURITY AND SAFETY INSPECTION OF EQUIPMENT BEFORE USE"),
    "record.nation": ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SOCIALIST REPUBLIC OF VIET NAM"),
    "record.motto": ("Độc lập - Tự do - Hạnh phúc", "Independence - Freedom - Happiness"),
    "record.basis": ("Căn cứ Luật Bảo vệ bí mật nhà nước số 117/2025/QH15 và Chỉ thị số 32/CT-TTg ngày 21/10/2025 của Thủ tướng Chính phủ.",
                     "Pursuant to the Law on Protection of State Secrets No. 117/2025/QH15 and Directive No. 32/CT-TTg of 21/10/2025."),
    "record.unit": ("Đơn vị", "Unit"),
    "record.device": ("Thông tin thiết bị", "Device identity"),
    "record.hostname": ("Tên máy", "Host name"),
    "record.machine_id": ("Mã máy (machine-id)", "Machine id"),
    "record.vendor": ("Nhà sản xuất", "Manufacturer"),
    "record.product": ("Model", "Model"),
    "record.serial": ("Số sê-ri", "Serial number"),
    "record.os": ("Hệ điều hành", "Operating system"),
    "record.kernel": ("Nhân Linux", "Kernel"),
    "record.nics": ("Giao diện mạng", "Network interfaces"),
    "record.disks": ("Ổ đĩa", "Disks"),
    "record.inspector": ("Cán bộ kiểm tra", "Inspector"),
    "record.time": ("Thời gian kiểm tra", "Time of inspection"),
    "record.profile": ("Hồ sơ áp dụng", "Profile"),
    "record.policy": ("Bộ chính sách (SHA-256)", "Policy bundle (SHA-256)"),
    "record.results": ("Kết quả kiểm tra", "Results"),
    "record.no": ("STT", "No."),
    "record.check": ("Nội dung kiểm tra", "Check"),
    "record.result": ("Kết quả", "Result"),
    "record.evidence": ("Chi tiết", "Details"),
    "record.legal": ("Căn cứ pháp lý", "Legal basis"),
    "record.conclusion": ("Kết luận", "Conclusion"),
    "record.counts": ("Tổng hợp", "Summary"),
    "record.sign_inspector": ("CÁN BỘ KIỂM TRA", "INSPECTOR"),
    "record.sign_security": ("CÁN BỘ BẢO MẬT", "SECURITY OFFICER"),
    "record.sign_head": ("THỦ TRƯỞNG ĐƠN VỊ", "HEAD OF UNIT"),
    "record.sign_hint": ("(Ký, ghi rõ họ tên)", "(Signature and full name)"),
    "record.not_selected_hidden": ("{n} kiểm tra không thuộc hồ sơ này không được liệt kê.", "{n} checks outside this profile are not listed."),
    "record.waiver": ("Miễn trừ", "Waiver"),
    "record.answer": ("Trả lời", "Answer"),
    "record.generated": ("Lập bằng {tool} {version}", "Produced by {tool} {version}"),
    "scan.collecting": ("Đang thu thập", "Collecting"),
    "scan.done": ("xong", "done"),
    "scan.doc_progress": ("Đang đọc tài liệu: {done}/{total} tệp, {rate:.1f} MB/s",
                          "Reading documents: {done}/{total} files, {rate:.1f} MB/s"),
    "scan.doc_progress_eta": ("Đang đọc tài liệu: {done}/{total} tệp, {rate:.1f} MB/s, còn khoảng {s} giây",
                              "Reading documents: {done}/{total} files, {rate:.1f} MB/s, about {s} s left"),
    "scan.verdict": ("Kết luận", "Verdict"),
    "scan.status": ("Trạng thái", "Status"),
    "domain.host": ("thông tin máy", "host identity"),
    "domain.network": ("mạng", "network"),
    "domain.devices": ("thiết bị", "devices"),
    "domain.software": ("phần mềm", "software"),
    "domain.storage": ("lưu trữ", "storage"),
    "domain.folders": ("thư mục mật", "marked folders"),
    "domain.documents": ("tài liệu", "documents"),
    "domain.agent": ("dịch vụ giám sát", "agent"),
    # fleet
    "fleet.title": ("TỔNG HỢP KẾT QUẢ KIỂM TRA CÁC MÁY", "FLEET INSPECTION REVIEW"),
    "fleet.machine": ("Máy", "Machine"),
    "fleet.verdict": ("Kết luận", "Verdict"),
    "fleet.violations": ("Vi phạm", "Violations"),
    "fleet.devices": ("Thiết bị chưa đăng ký", "Unapproved devices"),
    "fleet.network": ("Sự kiện mạng", "Network events"),
    "fleet.gaps": ("Gián đoạn giám sát", "Monitoring gaps"),
    "fleet.downtime": ("Thời gian ngừng (giờ)", "Downtime (h)"),
    "fleet.age": ("Tuổi ảnh chụp (ngày)", "Snapshot age (days)"),
    "fleet.invalid": ("ẢNH CHỤP KHÔNG HỢP LỆ", "INVALID SNAPSHOTS"),
    "fleet.count": ("{n} ảnh chụp, {bad} không hợp lệ", "{n} snapshots, {bad} invalid"),
    "fleet.none": ("Không có", "None"),
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
