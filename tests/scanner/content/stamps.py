"""Generated scanned pages for the OCR tests and ``bench ocr``: no pictures in the repo.

``page()`` draws an A4 administrative document (Decree 30/2020 layout) with Pillow: the agency
block top left with its "Số:" line, the national header top right, a title, body text in black and
a signature block; the secrecy stamp (a red rectangle with a double border, bold capitals) goes
under the "Số:" line. Every look-alike the detector must leave alone can be drawn instead or as
well: the round red seal over the signature, single-border urgency stamps, a red "GIẢI MẬT", red
headings, red signatures and margin notes, a red "MẶT TRẬN TỔ QUỐC VIỆT NAM" letterhead.
``variant()`` turns a clean page into what a scanner or a phone makes of it.
"""

from __future__ import annotations

import io
import math
import random
from typing import Optional

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"
SERIF = FONT_DIR + "DejaVuSerif.ttf"
SERIF_BOLD = FONT_DIR + "DejaVuSerif-Bold.ttf"
RED = (218, 37, 29)
INK = (25, 25, 30)
A4_MM = (210, 297)

BODY = ("Căn cứ Luật Bảo vệ bí mật nhà nước số 117/2025/QH15 và các văn bản hướng dẫn thi hành, "
        "Sở Nội vụ báo cáo kết quả thực hiện công tác bảo vệ bí mật nhà nước trong năm như sau: việc "
        "quản lý mật khẩu, thiết bị lưu trữ, máy tính soạn thảo tài liệu mật được thực hiện đúng quy "
        "định; các đơn vị đã rà soát, thống kê tài liệu, vật chứa bí mật nhà nước và lập sổ theo dõi.")


def _font(path: str, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, max(6, size_px))


class _Page:
    def __init__(self, dpi: int, seed: int):
        self.dpi = dpi
        self.w, self.h = (round(mm / 25.4 * dpi) for mm in A4_MM)
        self.img = Image.new("RGB", (self.w, self.h), (250, 250, 247))
        self.d = ImageDraw.Draw(self.img)
        self.rnd = random.Random(seed)

    def mm(self, v: float) -> int:
        return round(v / 25.4 * self.dpi)

    def pt(self, v: float) -> int:
        return round(v / 72 * self.dpi)

    def text_c(self, cx: float, y: float, text: str, size_pt: float, bold=False, fill=INK) -> tuple[int, int, int, int]:
        """Text centred on x=cx mm, top at y mm; returns its box in pixels."""
        f = _font(SERIF_BOLD if bold else SERIF, self.pt(size_pt))
        box = self.d.textbbox((0, 0), text, font=f)
        x = self.mm(cx) - (box[2] - box[0]) // 2
        self.d.text((x - box[0], self.mm(y) - box[1]), text, font=f, fill=fill)
        return x, self.mm(y), x + box[2] - box[0], self.mm(y) + box[3] - box[1]

    def stamp(self, cx: float, y: float, text: str, color=RED, border: str = "double", size_pt: float = 14,
              height_mm: float = 10.0, angle: float = 0.0, font: str = SERIF_BOLD) -> None:
        """A rectangular stamp centred on x=cx mm, top at y mm: one line of bold capitals, a single or
        double border about four to five times as wide as high; ``angle``: turned by hand, degrees."""
        f = _font(font, self.pt(size_pt))
        tb = self.d.textbbox((0, 0), text, font=f)
        tw, th = tb[2] - tb[0], tb[3] - tb[1]
        h = self.mm(height_mm)
        w = max(tw + self.mm(8), round(h * 3.6))
        m = self.mm(2)
        layer = Image.new("RGBA", (w + 2 * m, h + 2 * m), (0, 0, 0, 0))
        d = ImageDraw.Draw(layer)
        ink = tuple(color) + (255,)
        lw = max(2, self.mm(0.45))
        d.rectangle((m, m, m + w, m + h), outline=ink, width=lw)
        if border == "double":
            g = lw + self.mm(1.0)
            d.rectangle((m + g, m + g, m + w - g, m + h - g), outline=ink, width=max(1, lw - 1))
        d.text((m + (w - tw) // 2 - tb[0], m + (h - th) // 2 - tb[1]), text, font=f, fill=ink)
        if angle:
            layer = layer.rotate(angle, resample=Image.BICUBIC, expand=True)
        x0 = self.mm(cx) - layer.width // 2
        y0 = self.mm(y) + (h + 2 * m) // 2 - layer.height // 2 - m
        self.img.paste(layer, (x0, y0), layer)

    def seal(self, cx: float, cy: float, radius_mm: float = 18) -> None:
        """The agency's round red seal: two rings, a star, text around the ring."""
        r = self.mm(radius_mm)
        c = (self.mm(cx), self.mm(cy))
        for rr, wd in ((r, self.mm(0.7)), (r - self.mm(2.2), self.mm(0.4)), (r * 0.42, self.mm(0.3))):
            self.d.ellipse((c[0] - rr, c[1] - rr, c[0] + rr, c[1] + rr), outline=RED, width=max(1, wd))
        f = _font(SERIF_BOLD, self.pt(7))
        label = "ỦY BAN NHÂN DÂN TỈNH HÀ NAM * SỞ NỘI VỤ *"
        for i, ch in enumerate(label):
            a = math.pi * 2 * i / len(label) - math.pi / 2
            rr = r - self.mm(4.5)
            glyph = Image.new("L", (self.pt(9), self.pt(9)), 0)
            ImageDraw.Draw(glyph).text((1, 0), ch, font=f, fill=255)
            glyph = glyph.rotate(-math.degrees(a) - 90, expand=True)
            px, py = c[0] + rr * math.cos(a) - glyph.width / 2, c[1] + rr * math.sin(a) - glyph.height / 2
            self.img.paste(RED, (round(px), round(py)), glyph)
        s = r * 0.3
        pts = [(c[0] + s * (1 if k % 2 == 0 else 0.4) * math.cos(-math.pi / 2 + k * math.pi / 5),
                c[1] + s * (1 if k % 2 == 0 else 0.4) * math.sin(-math.pi / 2 + k * math.pi / 5)) for k in range(10)]
        self.d.polygon(pts, fill=RED)

    def scribble(self, x0: float, y0: float, w_mm: float, h_mm: float, color, strokes: int = 5) -> None:
        """A handwritten signature or margin note: loops of a thick pen."""
        pts = []
        for i in range(strokes * 12):
            t = i / (strokes * 12)
            pts.append((self.mm(x0 + w_mm * t + self.rnd.uniform(-2, 2)),
                        self.mm(y0 + h_mm / 2 + h_mm / 2 * math.sin(t * strokes * 2 * math.pi) + self.rnd.uniform(-1.5, 1.5))))
        self.d.line(pts, fill=color, width=max(2, self.mm(0.5)), joint="curve")


def page(level: Optional[str] = "MẬT", dpi: int = 200, seed: int = 1, stamp_color=RED, border: str = "double",
         urgency: Optional[str] = None, seal: bool = True, declassified: bool = False, red_heading: bool = False,
         red_signature: bool = False, margin_note: bool = False, front_letterhead: bool = False,
         body_lines: int = 28, stamp_angle: float = 0.0, stamp_pt: float = 14, stamp_font: str = SERIF_BOLD,
         stamp_height_mm: float = 10.0) -> Image.Image:
    """An A4 page at ``dpi``. ``level``: the text of the secrecy stamp (None: no stamp);
    ``urgency``: KHẨN / THƯỢNG KHẨN / HỎA TỐC in a single-border red box under the "Số:" line too;
    ``declassified``: a red double-border "GIẢI MẬT" stamp there instead; ``stamp_angle``: the
    secrecy stamp turned by hand (degrees, counter-clockwise)."""
    p = _Page(dpi, seed)
    lc, rc = 50, 143  # centres of the left and right header blocks, mm
    if front_letterhead:
        p.text_c(lc, 12, "MẶT TRẬN TỔ QUỐC VIỆT NAM", 12, bold=True, fill=RED)
        p.text_c(lc, 18, "ỦY BAN TỈNH HÀ NAM", 12, bold=True, fill=RED)
    else:
        p.text_c(lc, 12, "ỦY BAN NHÂN DÂN TỈNH HÀ NAM", 11)
        p.text_c(lc, 18, "SỞ NỘI VỤ", 12, bold=True)
    p.d.line((p.mm(lc - 12), p.mm(24), p.mm(lc + 12), p.mm(24)), fill=INK, width=max(1, p.mm(0.25)))
    p.text_c(lc, 28, "Số: 12/BC-UBND", 13)
    y = 36.0
    if level:
        p.stamp(lc, y, level, color=stamp_color, border=border, angle=stamp_angle, size_pt=stamp_pt,
                font=stamp_font, height_mm=stamp_height_mm)
        y += 12
    if declassified:
        p.stamp(lc, y, "GIẢI MẬT", border="double")
        y += 12
    if urgency:
        p.stamp(lc, y, urgency, border="single")
        y += 12
    p.text_c(rc, 12, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 11, bold=True)
    p.text_c(rc, 18, "Độc lập - Tự do - Hạnh phúc", 13, bold=True)
    p.text_c(rc, 28, "Hà Nam, ngày 15 tháng 3 năm 2026", 13)
    top = max(y + 6, 62.0)
    p.text_c(105, top, "BÁO CÁO", 14, bold=True, fill=RED if red_heading else INK)
    p.text_c(105, top + 7, "Kết quả thực hiện công tác bảo vệ bí mật nhà nước", 13, bold=True,
             fill=RED if red_heading else INK)
    f = _font(SERIF, p.pt(13))
    words = BODY.split()
    yy = top + 17
    for i in range(body_lines):
        start = (i * 11) % len(words)
        line = " ".join((words * 2)[start:start + 12])
        p.d.text((p.mm(25), p.mm(yy)), line, font=f, fill=INK)
        yy += 6.5
        if yy > 235:
            break
    p.text_c(150, 245, "GIÁM ĐỐC", 13, bold=True)
    p.scribble(132, 252, 34, 10, RED if red_signature else (20, 40, 140))
    if seal:
        p.seal(135, 258)
    p.text_c(150, 272, "Nguyễn Văn An", 13, bold=True)
    if margin_note:
        p.scribble(150, 40, 45, 14, RED, strokes=7)
        p.scribble(20, 150, 4, 40, RED, strokes=3)
    return p.img


# ---------------------------------------------------------------- what scanners and phones do


def variant(img: Image.Image, kind: str, seed: int = 3) -> Image.Image:
    """``kind``: clean, rotated, blurred, jpeg, faded, perspective, photocopy (grey, no red)."""
    if kind == "clean":
        return img
    if kind == "rotated":
        return img.rotate(2.5, resample=Image.BICUBIC, expand=False, fillcolor=(250, 250, 247))
    if kind == "rotated-neg":
        return img.rotate(-4, resample=Image.BICUBIC, expand=False, fillcolor=(250, 250, 247))
    if kind == "blurred":
        return img.filter(ImageFilter.GaussianBlur(img.width / 1654 * 1.6))
    if kind == "jpeg":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=35)
        return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    if kind == "faded":
        # ink worn and paper yellowed: every colour pulled 45 % of the way to the paper
        paper = Image.new("RGB", img.size, (245, 238, 220))
        return Image.blend(img, paper, 0.45)
    if kind == "perspective":
        return _photo(img, seed)
    if kind == "photocopy":
        return img.convert("L").point(lambda v: 0 if v < 150 else min(255, v + 10)).convert("RGB")
    raise ValueError(kind)


def _photo(img: Image.Image, seed: int) -> Image.Image:
    """A phone photo at a slight angle: perspective, uneven light, a little blur."""
    rnd = random.Random(seed)
    w, h = img.size
    d = [rnd.uniform(0.01, 0.035) for _ in range(4)]
    # target quad (the page as photographed) -> source rectangle, as PERSPECTIVE coefficients
    quad = [(w * d[0], h * d[1]), (w * (1 - d[2]), 0), (w, h * (1 - d[3])), (0, h)]
    coeffs = _perspective_coeffs(quad, [(0, 0), (w, 0), (w, h), (0, h)])
    out = img.transform((w, h), Image.PERSPECTIVE, coeffs, Image.BICUBIC, fillcolor=(90, 85, 80))
    light = Image.linear_gradient("L").resize((w, h)).point(lambda v: 200 + v * 55 // 255)
    shade = Image.merge("RGB", (light, light, light))
    from PIL import ImageChops
    return ImageChops.multiply(out, shade).filter(ImageFilter.GaussianBlur(0.8))


def _perspective_coeffs(dst, src):
    """Coefficients for Image.transform(PERSPECTIVE) mapping dst points onto src points."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); rhs.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y]); rhs.append(v)
    return _solve(rows, rhs)


def _solve(a, b):
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for col in range(n):
        piv = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[piv] = m[piv], m[col]
        for r in range(n):
            if r != col:
                f = m[r][col] / m[col][col]
                for k in range(col, n + 1):
                    m[r][k] -= f * m[col][k]
    return [m[i][n] / m[i][i] for i in range(n)]


# ---------------------------------------------------------------- containers


def encode(img: Image.Image, fmt: str, exif_orientation: Optional[int] = None, dpi: int = 200) -> bytes:
    """PNG / JPEG / TIFF / BMP / PDF bytes of a page. With ``exif_orientation`` (JPEG only) the
    pixels are stored turned so that a viewer applying the tag shows the page upright, as a phone does."""
    buf = io.BytesIO()
    if exif_orientation:
        inverse = {3: Image.ROTATE_180, 6: Image.ROTATE_90, 8: Image.ROTATE_270}[exif_orientation]
        img = img.transpose(inverse)
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
        return buf.getvalue()
    if fmt == "JPEG":
        img.save(buf, "JPEG", quality=85, dpi=(dpi, dpi))
    elif fmt == "PDF":
        img.save(buf, "PDF", resolution=dpi)
    else:
        img.save(buf, fmt, dpi=(dpi, dpi))
    return buf.getvalue()


def tiff_pages(pages: list[Image.Image], dpi: int = 200) -> bytes:
    """A multi-page TIFF (LZW), the usual output of a document scanner."""
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(dpi, dpi))
    return buf.getvalue()


def pdf_pages(pages: list[Image.Image], dpi: int = 200) -> bytes:
    """An image-only PDF (Pillow's PDF writer: one JPEG per page, no text layer)."""
    buf = io.BytesIO()
    pages[0].save(buf, "PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buf.getvalue()


def docx_with_picture(picture: bytes, ext: str = "png", caption: str = "Bản chụp văn bản đến") -> bytes:
    """A .docx whose body is a caption and a scanned page pasted as an inline picture
    (word/media/image1.EXT, referenced from a w:drawing as Word writes it)."""
    import zipfile
    ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
          'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
          'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
          'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
          'xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture"')
    cx, cy = 5400000, 7630000  # EMU: 15 x 21.2 cm
    drawing = (f'<w:drawing><wp:inline><wp:extent cx="{cx}" cy="{cy}"/><wp:docPr id="1" name="Picture 1"/>'
               '<a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture"><pic:pic>'
               '<pic:nvPicPr><pic:cNvPr id="1" name="scan"/><pic:cNvPicPr/></pic:nvPicPr>'
               '<pic:blipFill><a:blip r:embed="rIdImg1"/><a:stretch><a:fillRect/></a:stretch></pic:blipFill>'
               f'<pic:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
               '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></pic:spPr></pic:pic></a:graphicData></a:graphic>'
               '</wp:inline></w:drawing>')
    doc = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {ns}><w:body>'
           f'<w:p><w:r><w:t>{caption}</w:t></w:r></w:p><w:p><w:r>{drawing}</w:r></w:p></w:body></w:document>')
    ctype = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff"}[ext]
    files = {
        "[Content_Types].xml": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                                '<Default Extension="xml" ContentType="application/xml"/>'
                                f'<Default Extension="{ext}" ContentType="{ctype}"/>'
                                '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                                '</Types>'),
        "_rels/.rels": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                        '</Relationships>'),
        "word/_rels/document.xml.rels": ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                                         '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                         '<Relationship Id="rIdImg1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" '
                                         f'Target="media/image1.{ext}"/></Relationships>'),
        "word/document.xml": doc,
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr(f"word/media/image1.{ext}", picture, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def odt_with_picture(picture: bytes) -> bytes:
    """An .odt holding a scanned page as a picture (Pictures/page.png in a draw:frame)."""
    import zipfile
    office = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
              'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
              'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
              'xmlns:xlink="http://www.w3.org/1999/xlink" '
              'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {office}><office:body><office:text>'
               '<text:p>Bản chụp văn bản đến<draw:frame draw:name="scan" svg:width="15cm" svg:height="21.2cm">'
               '<draw:image xlink:href="Pictures/page.png" xlink:type="simple"/></draw:frame></text:p>'
               '</office:text></office:body></office:document-content>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="Pictures/page.png" manifest:media-type="image/png"/></manifest:manifest>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text", compress_type=zipfile.ZIP_STORED)
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
        zf.writestr("Pictures/page.png", picture, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` pixels over a few bytes of data: decoding
    it would need tens of gigabytes."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096, 9))
            + chunk(b"IEND", b""))


def pdf_image_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A one-page PDF whose only image declares ``width`` x ``height`` RGB pixels over a few bytes of
    Flate data (no text layer): rendering it would need tens of gigabytes."""
    import zlib
    data = zlib.compress(b"\0" * 65536, 9)
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8 /ColorSpace /DeviceRGB "
        b"/Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, len(data)) + data + b"\nendstream",
    ]
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    objs.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)
