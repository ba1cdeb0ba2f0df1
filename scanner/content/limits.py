"""Limits for reading untrusted files, and the guards that enforce them inside the parsers.

The worker process also runs under RLIMIT_AS / RLIMIT_CPU and a wall-clock timeout (see
``worker.py``); these guards stop the known attacks early and with a clear reason.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass


class Unreadable(Exception):
    """The file cannot be checked; the message is the reason listed for it (English, no content)."""


class NotDocument(Exception):
    """The file is of a kind that holds no document (a Java or Python package, a program): it is
    counted as "not a document", neither clean nor an error. The message says what it is."""

    def __init__(self, reason: str, kind: str = "package"):
        super().__init__(reason)
        self.kind = kind


@dataclass(frozen=True)
class Limits:
    """Per-file limits."""

    max_file_bytes: int = 256 * 1024 * 1024
    """Larger files are hashed but their content is not read (listed as an error)."""
    max_hash_bytes: int = 16 * 1024 * 1024 * 1024
    """Largest file hashed for copy detection (past it: "not hashed")."""
    max_part_bytes: int = 64 * 1024 * 1024
    """Largest decompressed member of a zip container we read."""
    max_total_bytes: int = 256 * 1024 * 1024
    """Largest sum of decompressed members read from one container."""
    max_ratio: int = 200
    """Largest compression ratio accepted for a member bigger than 1 MiB."""
    max_members: int = 20000
    """Most members a container may list."""
    max_pages: int = 2000
    """Most PDF pages read."""
    max_image_pixels: int = 40_000_000
    """Pixels of one image page (A4 at 600 dpi is 35 million): an image or PDF page declaring more
    is refused before any pixel is decoded (decompression bomb guard) and listed as not read."""
    max_ocr_pages: int = 100
    """Image pages (image file pages, image-only PDF pages, pictures in office files) read per file;
    the rest are listed as not read."""
    ocr_page_seconds: float = 10.0
    """Time one image page may take (mask, crops and Tesseract); past it the page is listed as not read."""
    cpu_seconds: int = 30
    """CPU time one file may use in the worker."""
    wall_seconds: float = 60.0
    """Wall time one file may take before its worker is killed."""
    address_space: int = 2 * 1024 * 1024 * 1024
    """RLIMIT_AS of a worker process."""
    nice: int = 0
    """Added to the worker's nice value (the daemon uses 10: its own event loop comes first)."""
    max_rss: int = 300 * 1024 * 1024
    """Resident memory a worker may reach: the parent reads it every ``RSS_POLL_S`` and kills the
    worker above it (RLIMIT_AS bounds address space, which pdfium and Python reserve freely, not
    what a hostile file makes the worker really use)."""


class ZipReader:
    """Reads members of an untrusted zip with size, ratio and count guards."""

    def __init__(self, zf: zipfile.ZipFile, limits: Limits):
        self.xml_cache: dict[str, bytes] = {}
        self.zf = zf
        self.limits = limits
        self.total = 0
        infos = zf.infolist()
        if len(infos) > limits.max_members:
            raise Unreadable(f"zip container lists {len(infos)} members (limit {limits.max_members})")
        self.infos = {i.filename: i for i in infos}

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        info = self.infos[name]
        lim = self.limits
        if info.file_size > lim.max_part_bytes:
            raise Unreadable(f"zip member {name} declares {info.file_size} bytes (limit {lim.max_part_bytes}): zip bomb guard")
        if info.file_size > 1 << 20 and info.compress_size and info.file_size / info.compress_size > lim.max_ratio:
            raise Unreadable(f"zip member {name} compression ratio over {lim.max_ratio}: zip bomb guard")
        budget = min(lim.max_part_bytes, lim.max_total_bytes - self.total)
        try:
            with self.zf.open(info) as fh:
                data = fh.read(budget + 1)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            raise Unreadable(f"zip member {name} cannot be read: {exc}") from None
        if len(data) > budget:
            raise Unreadable(f"zip member {name} expands past {budget} bytes: zip bomb guard")
        self.total += len(data)
        return data


    def read_xml(self, name: str) -> bytes:
        """A member that is XML, as UTF-8 bytes checked by ``xml_utf8`` (cached: parts are read
        once even when a pre-filter and the parser both need them)."""
        if name not in self.xml_cache:
            self.xml_cache[name] = xml_utf8(self.read(name), name)
        return self.xml_cache[name]


def open_zip(data, limits: Limits) -> ZipReader:
    """A guarded reader over zip bytes (or a seekable binary file)."""
    import io
    try:
        return ZipReader(zipfile.ZipFile(io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data), limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable(f"damaged or truncated zip container: {exc}") from None


_XML_DECL = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._\-]+)["'][^>]*\?>""")
_UTF16_START = {b"<\x00?\x00": "utf-16-le", b"\x00<\x00?": "utf-16-be"}
_ASCII_SAFE = {"utf-8", "utf8", "us-ascii", "ascii"}


def xml_utf8(data: bytes, name: str) -> bytes:
    """The XML part ``data`` as UTF-8 bytes, refusing what cannot be read safely.

    Word, Excel and LibreOffice read parts in UTF-16 (with a BOM, or declared) and in other
    declared encodings; our byte pre-filters and entity guard look at UTF-8, so every part is
    transcoded first (the declaration rewritten to match). A part that cannot be decoded, or that
    carries a DTD or entity declarations (the billion-laughs expansion; office XML never needs
    them), raises ``Unreadable``: the file is then "not fully read", never clean.
    """
    enc = None
    body = data
    if data.startswith(b"\xef\xbb\xbf"):
        body = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc = "utf-16"
    elif data[:4] in _UTF16_START:
        enc = _UTF16_START[data[:4]]
    elif data.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        enc = "utf-32"
    else:
        m = _XML_DECL.match(data[:512].lstrip())
        if m and m.group(1).decode("ascii").lower() not in _ASCII_SAFE:
            enc = m.group(1).decode("ascii").lower()
    if enc is not None:
        try:
            text = data.decode(enc)
        except LookupError:
            raise Unreadable(f"{name}: XML in an unknown encoding ({enc}): not read") from None
        except UnicodeDecodeError as exc:
            raise Unreadable(f"{name}: XML that does not decode as {enc} ({exc.reason}): not read") from None
        text = text.lstrip("\ufeff")
        text = re.sub(r"""^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*["'][^"']*["']""", r"\1", text, count=1)
        body = text.encode("utf-8", errors="surrogatepass")
    check_xml(body, name)
    return body


def check_xml(data: bytes, name: str) -> None:
    """Office XML never needs a DTD: refuse any, which stops entity expansion (billion laughs).
    ``data`` is UTF-8 (see ``xml_utf8``)."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unreadable(f"{name}: XML with a DTD or entity declarations: entity declarations refused")


def parse_xml(data: bytes, name: str):
    """ElementTree root of guarded XML bytes (UTF-8 from ``xml_utf8``, or checked here)."""
    import xml.etree.ElementTree as ET
    data = xml_utf8(data, name)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise Unreadable(f"{name}: malformed XML ({exc})") from None
