"""Limits for reading untrusted files, and the guards that enforce them inside the parsers.

The worker process also runs under RLIMIT_AS / RLIMIT_CPU and a wall-clock timeout (see
``worker.py``); these guards stop the known attacks early and with a clear reason.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass


class Unreadable(Exception):
    """The file cannot be checked; the message is the reason listed for it (English, no content)."""


@dataclass(frozen=True)
class Limits:
    """Per-file limits."""

    max_file_bytes: int = 256 * 1024 * 1024
    """Larger files are hashed but their content is not read (listed as an error)."""
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


def open_zip(data: bytes, limits: Limits) -> ZipReader:
    """A guarded reader over zip bytes."""
    import io
    try:
        return ZipReader(zipfile.ZipFile(io.BytesIO(data)), limits)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Unreadable(f"damaged zip container: {exc}") from None


def check_xml(data: bytes, name: str) -> None:
    """Office XML never needs a DTD: refuse any, which stops entity expansion (billion laughs)."""
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in data:
        raise Unreadable(f"{name}: XML with a DTD or entity declarations refused (entity expansion guard)")


def parse_xml(data: bytes, name: str):
    """ElementTree root of guarded XML bytes."""
    import xml.etree.ElementTree as ET
    check_xml(data, name)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise Unreadable(f"{name}: malformed XML ({exc})") from None
