"""One file, inside a worker: read it once, hash it, pick the extractor by content, judge it.

Returns plain data (a dict) so that it crosses the process boundary as one JSON line; never any
text of the document.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any, Optional

from . import detect
from .magic import image_format
from .limits import Limits, NotDocument, Unreadable

_TEXT_EXT = {".txt", ".csv", ".md", ".tsv", ".log", ".text", ".markdown", ".ini", ".json", ".xml", ".vn"}
_HTML_EXT = {".htm", ".html", ".xhtml", ".mht"}


def sniff(data: bytes, path: str) -> str:
    """Format family by magic bytes first, extension second."""
    head = data[:1024]
    ext = os.path.splitext(path)[1].lower()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "odf" if head[30:38] == b"mimetype" else "ooxml"
    if head.startswith(b"Cr24"):
        return "crx"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{\\rtf"):
        return "rtf"
    if image_format(head):
        return "image"
    low = stripped[:256].lower()
    if ext in _HTML_EXT or low.startswith((b"<!doctype html", b"<html")):
        return "html"
    if ext in _TEXT_EXT or b"\x00" not in data[:8192] or data.startswith((b"\xff\xfe", b"\xfe\xff")) \
            or _utf16_text(data[:8192]):
        return "text"
    return "binary"


def _utf16_text(head: bytes) -> bool:
    """UTF-16 without a BOM: every other byte zero (Latin and Vietnamese letters alike sit in
    U+0000-U+1FFF, so the high byte is 0x00, 0x01 or 0x1E)."""
    if len(head) < 64:
        return False
    for hi, lo in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if (sum(hi.count(b) for b in (0, 1, 0x1E)) >= len(hi) * 0.9 and hi.count(0) >= len(hi) * 0.3
                and lo.count(0) <= len(lo) * 0.05):
            return True
    return False


def extract(data: bytes, path: str, limits: Limits, depth: int = 0) -> tuple[str, list, list[str]]:
    """(kind, segments, problems): problems make the file "not readable", not clean. ``depth``:
    1 for a member of an archive (an archive in it is not opened)."""
    family = sniff(data, path)
    problems: list[str] = []
    # OCR hook (scanner/content/ocr.py, imported only for a file with a picture or an image page):
    # ocr() is the file's Reader; its problems list the image pages not read
    readers: list = []

    def ocr():
        if not readers:
            from .ocr import Reader
            readers.append(Reader(limits))
        return readers[0]

    if family == "ooxml":
        from .containers import ArchiveOfDocuments, read_archive
        from .ooxml import ooxml_segments
        try:
            kind, segs = ooxml_segments(data, limits, ocr=ocr)
        except ArchiveOfDocuments as exc:
            if depth:
                raise Unreadable("an archive inside an archive: not opened, not fully read") from None
            segs, problems = read_archive(exc.reader, exc.members, limits, depth)
            kind = "zip"
    elif family == "odf":
        from .odf import odf_segments
        kind, segs = odf_segments(data, limits, ocr=ocr)
    elif family == "pdf":
        from .pdf import pdf_segments
        segs, image_pages = pdf_segments(data, limits, problems, ocr=ocr)
        if image_pages:  # only without an OCR reader
            pages = ", ".join(str(p + 1) for p in image_pages[:10]) + ("..." if len(image_pages) > 10 else "")
            problems.append(f"PDF page(s) {pages} hold only images: not readable without OCR")
        kind = "pdf"
    elif family == "image":
        kind, segs = "image", ocr().image_file(data)
    elif family == "ole":
        from .ole import ole_segments
        kind, segs = ole_segments(data, limits)
    elif family == "crx":
        raise NotDocument("browser extension (.crx): not a document")
    elif family == "rtf":
        from .rtf import rtf_segments
        kind, segs = "rtf", rtf_segments(data)
    elif family == "html":
        from .html import html_segments, proven_clean
        kind, segs = "html", [] if proven_clean(data) else html_segments(data)[1]
    elif family == "text":
        from .plain import plain_segments, proven_clean
        kind, segs = "text", [] if proven_clean(data) else plain_segments(data)[1]
    else:
        kind, segs = family, []
    problems.extend(p for r in readers for p in r.problems())
    return kind, segs, problems


DOCUMENT_EXT = {".doc", ".docx", ".docm", ".dot", ".dotx", ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".pptm",
                ".odt", ".ods", ".odp", ".ott", ".pdf", ".rtf", ".htm", ".html", ".xhtml", ".mht"}
"""Extensions of document formats: an empty file with one of these is listed (nothing to read)."""


def analyse(path: str, limits: Limits, need_hash: bool = True) -> dict[str, Any]:
    """``analyse_fd`` on ``path`` opened without following a link (tests and one-off use)."""
    from .. import safeio
    try:
        opened = safeio.open_regular(path)
    except OSError as exc:
        return {"error": f"cannot open: {exc.strerror}"}
    if isinstance(opened, safeio.NotRegular):
        return {"skip": f"{opened.type}: not opened"}
    with opened:
        return analyse_fd(opened.fd, os.path.basename(path), limits, need_hash)


def analyse_fd(fd: int, name: str, limits: Limits, need_hash: bool = True) -> dict[str, Any]:
    """Read, hash and judge one open regular file. Keys: size, sha256, kind, and one of
    verdict | error | skip | other ("not a document", counted, not read further).

    ``name`` is the base name (extension hints only). Without ``need_hash`` the hash is computed
    only for a classified or review verdict (a file whose size matches no marked-folder file
    cannot be a copy of one)."""
    return _hashed(_analyse(fd, name, limits, need_hash), need_hash)


def judge_text(data: bytes, name: str, limits: Limits, need_hash: bool = True) -> dict[str, Any]:
    """``analyse_fd`` for the bytes of a small plain-text file the scanning process has read
    (``scan.PARENT_JUDGE_BYTES``): the same extractor and detector, so the same verdict."""
    return _hashed(judge_bytes(data, name, limits), need_hash)


def _hashed(res: dict[str, Any], need_hash: bool) -> dict[str, Any]:
    data = res.pop("_data", None)
    if data is not None and "sha256" not in res:
        v = res.get("verdict")
        if need_hash or (v and v["verdict"] != "clean"):
            res["sha256"] = hashlib.sha256(data).hexdigest()
    return res


def read_whole(fd: int, size: int, limit: int) -> tuple[bytes, Optional[str]]:
    """The file's bytes as of its ``fstat`` size (at most ``limit``), and a problem when the file
    changed under us: what was read is then not the whole file."""
    from ..safeio import read_bounded
    data = read_bounded(fd, min(size, limit))
    if len(data) < size:
        return data, f"changed while read ({size} bytes at open, {len(data)} read): not fully read"
    if os.pread(fd, 1, len(data)):
        return data, f"grew while read (past {size} bytes at open): not fully read"
    return data, None


def _analyse(fd: int, name: str, limits: Limits, need_hash: bool) -> dict[str, Any]:
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return {"skip": "not a regular file"}
        if st.st_size > limits.max_file_bytes:
            out: dict[str, Any] = {"size": st.st_size, "kind": "large",
                                   "error": f"larger than {limits.max_file_bytes} bytes: content not read"}
            if need_hash:
                from ..safeio import hash_fd
                d = hash_fd(fd, st.st_size, limit=limits.max_hash_bytes)
                if d.sha256:
                    out["sha256"] = d.sha256
            return out
        if st.st_size > ZIP_PEEK_BYTES and not need_hash:
            other = _peek_package(fd, limits)
            if other is not None:
                return {"size": st.st_size, "kind": other[0], "other": other[1]}
        data, changed = read_whole(fd, st.st_size, limits.max_file_bytes)
    except OSError as exc:
        return {"error": f"cannot read: {exc.strerror}"}
    return judge_bytes(data, name, limits, changed)


ZIP_PEEK_BYTES = 1 << 20
"""A zip larger than this is first judged from its central directory: a package is then counted
without reading it whole (a Maven cache holds gigabytes of jars)."""


def _peek_package(fd: int, limits: Limits) -> Optional[tuple[str, str]]:
    """(kind, reason) when the zip open on ``fd`` is a package or holds no document; else None
    (then it is read whole as usual)."""
    if os.pread(fd, 4, 0) != b"PK\x03\x04" or os.pread(fd, 8, 30) == b"mimetype":
        return None
    from .containers import classify
    from .limits import open_zip
    try:
        with os.fdopen(os.dup(fd), "rb") as fh:
            names = open_zip(fh, limits).names()
    except Unreadable:
        return None
    if any(n.startswith(("word/", "xl/", "ppt/")) or n in ("_rels/.rels", "content.xml") for n in names):
        return None
    try:
        classify(names)
    except NotDocument as exc:
        return exc.kind, str(exc)
    except Unreadable:
        return None
    return None


def judge_bytes(data: bytes, name: str, limits: Limits, changed: Optional[str] = None) -> dict[str, Any]:
    """The result for a file's bytes (``changed``: a problem already met while reading)."""
    out: dict[str, Any] = {"size": len(data), "_data": data}
    if changed:
        out["error"] = changed
    if not data:
        out["kind"] = "empty"
        if os.path.splitext(name)[1].lower() in DOCUMENT_EXT:
            out["skip"] = "empty file (0 bytes): no document in it"
        else:
            out["verdict"] = _verdict(detect.Verdict())
        return out
    try:
        kind, segs, problems = extract(data, name, limits)
    except NotDocument as exc:
        out["kind"] = exc.kind
        out["other"] = str(exc)
        return out
    except Unreadable as exc:
        out["kind"] = sniff(data, name)
        out["error"] = str(exc)
        return out
    except MemoryError:
        raise
    except RecursionError:
        out["error"] = "document nesting too deep"
        return out
    except Exception as exc:  # a parser bug must not end the scan: report it as unreadable
        out["error"] = f"extractor failed: {type(exc).__name__}: {exc}"[:300]
        return out
    out["kind"] = kind
    if kind == "binary":
        out["other"] = "binary file of no document format"
        return out
    v = detect.judge(segs)
    out["verdict"] = _verdict(v)
    if problems and v.verdict != "classified":
        out["error"] = "; ".join(([out["error"]] if "error" in out else []) + problems)
    return out


def _verdict(v: detect.Verdict) -> dict[str, Any]:
    return {"verdict": v.verdict, "level": v.level, "score": v.score, "reasons": list(v.reasons),
            "encoding": v.encoding, "marks": list(v.marks)}
