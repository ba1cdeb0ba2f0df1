"""Legacy Word 97-2003 (.doc) and Excel 97-2003 (.xls) with olefile and small stream readers.

.doc: the piece table (CLX) of the Table stream gives the text, 8-bit cp1252 or UTF-16LE per
piece; paragraphs end with CR, cells with 0x07; field instructions are dropped. Text after the
main document (headers, footnotes, text boxes) is kept, as part ``header``/``textbox``.
.xls: strings of the shared string table (SST, with CONTINUE records) and LABEL records.
Fonts and formatting of the binary formats are not read: legacy-font text (``MËT``) is caught
by the detector's legacy decodings of short segments; bold/red/framed hints are absent.
"""

from __future__ import annotations

import io
import re
import struct

from .detect import lines
from .limits import Limits, Unreadable
from .segments import Segment

_FIELD = re.compile(r"\x13[^\x13\x14\x15]*\x14?|\x15")


def _word_text(ole) -> tuple[str, int]:
    wd = ole.openstream("WordDocument").read()
    if len(wd) < 0x1AA:
        raise Unreadable("WordDocument stream too short")
    ident, = struct.unpack_from("<H", wd, 0)
    if ident not in (0xA5EC, 0xA5DC):
        raise Unreadable("not a Word 97-2003 document")
    flags, = struct.unpack_from("<H", wd, 0x0A)
    if flags & 0x0100:
        raise Unreadable("encrypted Word document")
    table = "1Table" if flags & 0x0200 else "0Table"
    if not ole.exists(table):
        raise Unreadable(f"Word document without its {table} stream")
    ccp_text, = struct.unpack_from("<i", wd, 0x4C)
    fc_clx, lcb_clx = struct.unpack_from("<II", wd, 0x1A2)
    tbl = ole.openstream(table).read()
    clx = tbl[fc_clx:fc_clx + lcb_clx]
    pos = 0
    while pos < len(clx) and clx[pos] == 0x01:
        cb, = struct.unpack_from("<H", clx, pos + 1)
        pos += 3 + cb
    if pos >= len(clx) or clx[pos] != 0x02:
        raise Unreadable("Word piece table not found")
    lcb, = struct.unpack_from("<I", clx, pos + 1)
    plc = clx[pos + 5:pos + 5 + lcb]
    n = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    parts = []
    for i in range(n):
        pcd = plc[4 * (n + 1) + 8 * i: 4 * (n + 1) + 8 * i + 8]
        fc, = struct.unpack_from("<I", pcd, 2)
        count = cps[i + 1] - cps[i]
        if count <= 0:
            continue
        if count > 50_000_000:
            raise Unreadable("Word piece table names a piece of more than 50,000,000 characters: not fully read")
        if fc & 0x40000000:
            off = (fc & 0x3FFFFFFF) // 2
            raw, want = wd[off:off + count], count
            parts.append(raw.decode("cp1252", errors="replace"))
        else:
            raw, want = wd[fc:fc + 2 * count], 2 * count
            parts.append(raw.decode("utf-16-le", errors="replace"))
        if len(raw) < want:
            raise Unreadable("Word text stream ends before its piece table says (truncated): not fully read")
    return "".join(parts), ccp_text


def doc_segments(ole) -> list[Segment]:
    """Segments of a .doc: main text, then the other stories (headers, text boxes...)."""
    text, ccp = _word_text(ole)
    text = _FIELD.sub("", text).replace("\x07", "\r").replace("\x0b", "\r").replace("\x0c", "\r")
    main, rest = text[:ccp], text[ccp:]
    segs = lines(main.replace("\r", "\n"), "unicode")
    extra = lines(rest.replace("\r", "\n"), "unicode")
    return segs + [Segment(s.text, len(segs) + i, 0, "header", encoding=s.encoding) for i, s in enumerate(extra)]


def _biff_records(data: bytes):
    pos = 0
    while pos + 4 <= len(data):
        rid, size = struct.unpack_from("<HH", data, pos)
        yield rid, data[pos + 4:pos + 4 + size]
        pos += 4 + size


def _sst_strings(chunks: list[bytes]) -> list[str]:
    """Strings of an SST record and its CONTINUE records (a string may cross a boundary)."""
    out: list[str] = []
    ci, pos = 0, 8
    data = chunks[0]

    def need(n):
        nonlocal ci, pos, data
        if pos + n <= len(data):
            return
        raise IndexError

    try:
        total, = struct.unpack_from("<I", data, 4)
        for _ in range(min(total, 1_000_000)):
            if pos >= len(data):
                ci += 1
                data, pos = chunks[ci], 0
            need(3)
            cch, grbit = struct.unpack_from("<HB", data, pos)
            pos += 3
            runs = ext = 0
            if grbit & 0x08:
                runs, = struct.unpack_from("<H", data, pos)
                pos += 2
            if grbit & 0x04:
                ext, = struct.unpack_from("<I", data, pos)
                pos += 4
            wide = grbit & 0x01
            chars = []
            left = cch
            while left:
                if pos >= len(data):
                    ci += 1
                    data, pos = chunks[ci], 1
                    wide = data[0] & 0x01
                avail = (len(data) - pos) // (2 if wide else 1)
                take = min(left, avail)
                if take <= 0:
                    raise IndexError
                raw = data[pos:pos + take * (2 if wide else 1)]
                chars.append(raw.decode("utf-16-le" if wide else "latin-1", errors="replace"))
                pos += len(raw)
                left -= take
            out.append("".join(chars))
            skip = 4 * runs + ext
            while skip:
                if pos >= len(data):
                    ci += 1
                    data, pos = chunks[ci], 0
                step = min(skip, len(data) - pos)
                pos += step
                skip -= step
    except (IndexError, struct.error):
        raise Unreadable("Excel shared string table ends early (damaged or truncated): not fully read") from None
    return out


def xls_segments(ole) -> list[Segment]:
    """Segments of an .xls: shared strings in order, then LABEL cells."""
    name = "Workbook" if ole.exists("Workbook") else "Book"
    data = ole.openstream(name).read()
    texts: list[str] = []
    sst: list[bytes] = []
    in_sst = False
    for rid, body in _biff_records(data):
        if rid == 0x00FC:
            sst, in_sst = [body], True
            continue
        if rid == 0x003C and in_sst:
            sst.append(body)
            continue
        if in_sst:
            texts += _sst_strings(sst)
            in_sst = False
        if rid == 0x0204 and len(body) >= 8:  # LABEL
            cch, = struct.unpack_from("<H", body, 6)
            if len(body) > 8 and body[8] in (0, 1):
                texts.append(body[9:9 + cch * (2 if body[8] else 1)].decode("utf-16-le" if body[8] else "latin-1", "replace"))
    if in_sst:
        texts += _sst_strings(sst)
    return [Segment(t, i, encoding="unicode") for i, t in enumerate(texts) if t.strip()]


def ole_segments(data: bytes, limits: Limits) -> tuple[str, list[Segment]]:
    """(kind, segments) of an OLE compound file."""
    import olefile
    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises plain OSError/struct errors on damage
        raise Unreadable(f"damaged OLE compound file: {exc}") from None
    try:
        if ole.exists("WordDocument"):
            return "doc", doc_segments(ole)
        if ole.exists("Workbook") or ole.exists("Book"):
            return "xls", xls_segments(ole)
        if ole.exists("EncryptedPackage"):
            raise Unreadable("encrypted Office document")
        streams = sorted("/".join(e) for e in ole.listdir())[:5]
        raise Unreadable("OLE compound file of a kind not read (PowerPoint 97-2003, Outlook, Visio...; streams: "
                         + ", ".join(streams) + "): not fully read")
    except (struct.error, OSError, IndexError, ValueError) as exc:
        raise Unreadable(f"damaged legacy Office file: {exc}") from None
    finally:
        ole.close()
