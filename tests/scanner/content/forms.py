"""The byte forms of the three secrecy marks in every encoding of shared/markings.md, and its
"not a mark" lines: the plain-text pre-filter tests and ``python -m bench plaintext`` (the corpus
and the equivalent ``rg`` search) share them."""

from __future__ import annotations

import unicodedata

LEVELS = ("MẬT", "TỐI MẬT", "TUYỆT MẬT")

LEGACY_FORMS = {
    # encoding: (upper-case MẬT, TỐI MẬT, TUYỆT MẬT), (lower case) as in markings.md's table
    "tcvn3": ((bytes.fromhex("4DCB54"), bytes.fromhex("54E849204DCB54"), bytes.fromhex("545559D654204DCB54")),
              (bytes.fromhex("6DCB74"), bytes.fromhex("74E869206DCB74"), bytes.fromhex("747579D674206DCB74"))),
    "vni": ((bytes.fromhex("4D41C454"), bytes.fromhex("544FC149204D41C454"), bytes.fromhex("54555945C454204D41C454")),
            (bytes.fromhex("6D61E474"), bytes.fromhex("746FE169206D61E474"), bytes.fromhex("74757965E474206D61E474"))),
    "viqr": ((b"MA^.T", b"TO^'I MA^.T", b"TUYE^.T MA^.T"), (b"ma^.t", b"to^'i ma^.t", b"tuye^.t ma^.t")),
    "cp1258": ((bytes.fromhex("4DC2F254"), bytes.fromhex("54D4EC49204DC2F254"), bytes.fromhex("545559CAF254204DC2F254")), ()),
    "viscii": ((bytes.fromhex("4D8754"), bytes.fromhex("548F49204D8754"), bytes.fromhex("5455598E54204D8754")), ()),
    "vn1": ((bytes.fromhex("4D8654"), bytes.fromhex("54FF49204D8654"), bytes.fromhex("5455598C54204D8654")), ()),
}


def unicode_forms(level: str) -> dict[str, str]:
    """A level as text in the Unicode forms of markings.md (NFC, NFD, Unikey composite)."""
    composite = level.replace("Ậ", "\u00c2\u0323").replace("Ố", "\u00d4\u0301").replace("Ệ", "\u00ca\u0323")
    return {"nfc": level, "nfd": unicodedata.normalize("NFD", level), "composite": composite,
            "lower": level.lower(), "title": level.title()}


NOT_MARKS = ("mật khẩu", "MẬT KHẨU", "bí mật", "BẢO MẬT", "cơ mật", "mật mã", "mật độ", "mật ong", "thân mật",
             "QUY CHẾ BẢO VỆ BÍ MẬT NHÀ NƯỚC", "đóng dấu “MẬT”", "Độ mật: Thường / Mật / Tối mật / Tuyệt mật",
             "GIẢI MẬT", "ĐỘ MẬT", "MẶT TRẬN TỔ QUỐC VIỆT NAM", "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC",
             "LƯU HÀNH NỘI BỘ", "DỰ THẢO")
"""Lines that are not a secrecy mark (markings.md, "What is *not* a mark")."""
