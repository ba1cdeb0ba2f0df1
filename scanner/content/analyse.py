"""One file, inside a worker: read it once, hash it, pick the extractor by content, judge it.

Returns plain data (a dict) so that it crosses the process boundary as one JSON line; never any
text of the document.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from typing import Any

from . import detect
from .magic import image_format
from .limits import Limits, Unreadable

_TEXT_EXT = {".txt", ".csv", ".md", ".tsv", ".log", ".text", ".markdown", ".ini", ".json", ".xml", ".vn"}
_HTML_EXT = {".htm", ".html", ".xhtml", ".mht"}


def sniff(data: bytes, path: str) -> str:
    """Format family by magic bytes first, extension second."""
    head = data[:1024]
    ext = os.path.splitext(path)[1].lower()
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "odf" if head[30:38] == b"mimetype" else "ooxml"
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
    if ext in _TEXT_EXT or b"\x00" not in data[:8192] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "text"
    return "binary"


def extract(data: bytes, path: str, limits: Limits) -> tuple[str, list, list[str]]:
    """(kind, segments, problems): problems make the file "not readable", not clean."""
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
        from .ooxml import ooxml_segments
        kind, segs = ooxml_segments(data, limits, ocr=ocr)
    elif family == "odf":
        from .odf import odf_segments
        kind, segs = odf_segments(data, limits, ocr=ocr)
    elif family == "pdf":
        from .pdf import pdf_segments
        segs, _ = pdf_segments(data, limits, ocr=ocr)
        kind = "pdf"
    elif family == "image":
        kind, segs = "image", ocr().image_file(data)
    elif family == "ole":
        from .ole import ole_segments
        kind, segs = ole_segments(data, limits)
    elif family == "rtf":
        from .rtf import rtf_segments
        kind, segs = "rtf", rtf_segments(data)
    elif family == "html":
        from .html import html_segments
        kind, (_, segs) = "html", html_segments(data)
    elif family == "text":
        from .plain import plain_segments
        kind, (_, segs) = "text", plain_segments(data)
    else:
        kind, segs = family, []
    problems.extend(p for r in readers for p in r.problems())
    return kind, segs, problems


def analyse(path: str, limits: Limits, need_hash: bool = True) -> dict[str, Any]:
    """Read, hash and judge one file. Keys: size, sha256, kind, and verdict | error | skip.

    Without ``need_hash`` the hash is computed only for a classified or review verdict (a file
    whose size matches no marked-folder file cannot be a copy of one)."""
    res = _analyse(path, limits)
    data = res.pop("_data", None)
    if data is not None and "sha256" not in res:
        v = res.get("verdict")
        if need_hash or (v and v["verdict"] != "clean"):
            res["sha256"] = hashlib.sha256(data).hexdigest()
    return res


def _analyse(path: str, limits: Limits) -> dict[str, Any]:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return {"skip": "symbolic link (not followed)"}
        return {"error": f"cannot open: {exc.strerror}"}
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return {"skip": "not a regular file"}
        if st.st_size > limits.max_file_bytes:
            h = hashlib.sha256()
            with os.fdopen(os.dup(fd), "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            return {"size": st.st_size, "sha256": h.hexdigest(), "kind": "large",
                    "error": f"larger than {limits.max_file_bytes} bytes: content not read"}
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(min(st.st_size, limits.max_file_bytes) + 1)
    except OSError as exc:
        return {"error": f"cannot read: {exc.strerror}"}
    finally:
        os.close(fd)
    out: dict[str, Any] = {"size": len(data), "_data": data}
    if not data:
        out["kind"] = "empty"
        out["verdict"] = _verdict(detect.Verdict())
        return out
    try:
        kind, segs, problems = extract(data, path, limits)
    except Unreadable as exc:
        out["kind"] = sniff(data, path)
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
        out["skip"] = "binary file of a format that holds no document text we read (hashed for copy detection)"
        return out
    v = detect.judge(segs)
    out["verdict"] = _verdict(v)
    if problems and v.verdict != "classified":
        out["error"] = "; ".join(problems)
    return out


def _verdict(v: detect.Verdict) -> dict[str, Any]:
    return {"verdict": v.verdict, "level": v.level, "score": v.score, "reasons": list(v.reasons),
            "encoding": v.encoding, "marks": list(v.marks)}
