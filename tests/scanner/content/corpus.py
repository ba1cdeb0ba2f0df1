"""Generated documents for the content tests and the benchmark: no binary blobs in the repo.

Each builder returns bytes. Paragraphs are lists of runs; a run is a str or a dict with
``text`` and optional ``bold``, ``color`` (hex), ``font``, ``bdr`` (run border). A paragraph may be
a dict ``{"runs": [...], "border": True, "textbox": True}``.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

NS_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

LETTERHEAD = [
    "BỘ CÔNG AN", "Số: 123/BC-BCA", None,  # None: the stamp goes here
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
    "Hà Nội, ngày 01 tháng 3 năm 2026", "BÁO CÁO", "Về tình hình công tác bảo vệ bí mật nhà nước",
]
PROSE = ("Căn cứ Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, cơ quan báo cáo kết quả thực hiện "
         "công tác bảo vệ bí mật nhà nước trong năm, việc quản lý mật khẩu và thiết bị lưu trữ.")


def _run_xml(run) -> str:
    if isinstance(run, str):
        run = {"text": run}
    rpr = []
    if run.get("font"):
        f = escape(run["font"], {'"': "&quot;"})
        rpr.append(f'<w:rFonts w:ascii="{f}" w:hAnsi="{f}"/>')
    if run.get("bold"):
        rpr.append("<w:b/>")
    if run.get("bdr"):
        rpr.append('<w:bdr w:val="double" w:sz="4" w:space="0" w:color="FF0000"/>')
    if run.get("color"):
        rpr.append(f'<w:color w:val="{run["color"]}"/>')
    if run.get("spacing"):
        rpr.append(f'<w:spacing w:val="{run["spacing"]}"/>')
    props = f"<w:rPr>{''.join(rpr)}</w:rPr>" if rpr else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{escape(run["text"])}</w:t></w:r>'


def _para_xml(p) -> str:
    if isinstance(p, (str, dict)) and not (isinstance(p, dict) and "runs" in p):
        p = {"runs": [p]}
    elif isinstance(p, list):
        p = {"runs": p}
    ppr = ""
    if p.get("border"):
        side = '<w:{s} w:val="double" w:sz="4" w:space="1" w:color="FF0000"/>'
        ppr = "<w:pPr><w:pBdr>" + "".join(side.format(s=s) for s in ("top", "left", "bottom", "right")) + "</w:pBdr></w:pPr>"
    runs = "".join(_run_xml(r) for r in p["runs"])
    if p.get("textbox"):
        inner = f"<w:p>{ppr}{runs}</w:p>"
        return ("<w:p><w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><wp:anchor><a:graphic><a:graphicData>"
                "<wps:wsp><wps:spPr><a:ln w=\"12700\"><a:solidFill><a:srgbClr val=\"FF0000\"/></a:solidFill></a:ln></wps:spPr>"
                f"<wps:txbx><w:txbxContent>{inner}</w:txbxContent></wps:txbx></wps:wsp>"
                "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>"
                f"<mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent>{inner}</w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback>"
                "</mc:AlternateContent></w:r></w:p>")
    return f"<w:p>{ppr}{runs}</w:p>"


_DOC_NS = (f'xmlns:w="{NS_W}" xmlns:r="{NS_R}" '
           'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
           'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
           'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
           'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
           'xmlns:v="urn:schemas-microsoft-com:vml" mc:Ignorable="wps"')


def docx(paragraphs, header=(), tables=()) -> bytes:
    """A minimal valid .docx; ``tables``: list of rows of cell texts, placed before the paragraphs."""
    body = []
    for rows in tables:
        body.append("<w:tbl><w:tblPr/>" + "".join(
            "<w:tr>" + "".join(f"<w:tc>{_para_xml(c)}</w:tc>" for c in row) + "</w:tr>" for row in rows) + "</w:tbl>")
    body += [_para_xml(p) for p in paragraphs]
    sect = ""
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">')
    ct_extra = ""
    files = {}
    if header:
        sect = '<w:sectPr><w:headerReference w:type="default" r:id="rIdH1"/></w:sectPr>'
        rels += ('<Relationship Id="rIdH1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/header" '
                 'Target="header1.xml"/>')
        ct_extra = ('<Override PartName="/word/header1.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"/>')
        files["word/header1.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:hdr {_DOC_NS}>'
                                     + "".join(_para_xml(p) for p in header) + "</w:hdr>")
    rels += "</Relationships>"
    files["word/document.xml"] = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {_DOC_NS}>'
                                  f'<w:body>{"".join(body)}{sect}</w:body></w:document>')
    files["word/_rels/document.xml.rels"] = rels
    files["[Content_Types].xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/word/document.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
        f'{ct_extra}</Types>')
    files["_rels/.rels"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="word/document.xml"/></Relationships>')
    return _zip(files)


def _zip(files: dict, first: tuple = ()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in first:
            zf.writestr(zipfile.ZipInfo(name), files.pop(name), compress_type=zipfile.ZIP_STORED)
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def letter(stamp, extra=(), header=()) -> bytes:
    """A docx letter: letterhead with ``stamp`` (a paragraph) under "Số:", then prose."""
    paras = [stamp if p is None else p for p in LETTERHEAD if p is not None or stamp is not None]
    return docx(paras + list(extra) + [PROSE] * 3, header=header)


def xlsx(cells, rich=()) -> bytes:
    """A .xlsx whose first sheet holds ``cells`` (shared strings, one per row) and ``rich`` runs."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sis = [f"<si><t xml:space=\"preserve\">{escape(c)}</t></si>" for c in cells]
    for runs in rich:
        parts = []
        for r in runs:
            rpr = ""
            if isinstance(r, dict):
                rpr = "<rPr>" + (f'<rFont val="{r["font"]}"/>' if r.get("font") else "") + \
                      ("<b/>" if r.get("bold") else "") + \
                      (f'<color rgb="FF{r["color"]}"/>' if r.get("color") else "") + "</rPr>"
                r = r["text"]
            parts.append(f"<r>{rpr}<t xml:space=\"preserve\">{escape(r)}</t></r>")
        sis.append("<si>" + "".join(parts) + "</si>")
    rows = "".join(f'<row r="{i + 1}"><c r="A{i + 1}" t="s"><v>{i}</v></c></row>' for i in range(len(sis)))
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '</Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            '</Relationships>'),
        "xl/workbook.xml": (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{ns}" xmlns:r="{NS_R}">'
                            '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>'),
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>',
        "xl/sharedStrings.xml": (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{ns}" count="{len(sis)}" '
                                 f'uniqueCount="{len(sis)}">{"".join(sis)}</sst>'),
    }
    return _zip(files)


def pptx(slides) -> bytes:
    """A minimal .pptx-shaped container: one slide per list of (text, {bold, color}) paragraphs."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    files = {"[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
             "ppt/presentation.xml": f'<?xml version="1.0"?><p:presentation xmlns:p="{p}"/>'}
    for i, paras in enumerate(slides, 1):
        body = ""
        for text, fmt in paras:
            bold = ' b="1"' if fmt.get("bold") else ""
            rpr = f'<a:rPr lang="vi-VN"{bold}>' + \
                  (f'<a:solidFill><a:srgbClr val="{fmt["color"]}"/></a:solidFill>' if fmt.get("color") else "") + "</a:rPr>"
            ln = '<a:ln><a:solidFill><a:srgbClr val="FF0000"/></a:solidFill></a:ln>' if fmt.get("frame") else ""
            body += (f'<p:sp><p:spPr>{ln}</p:spPr><p:txBody><a:p><a:r>{rpr}<a:t>{escape(text)}</a:t></a:r></a:p></p:txBody></p:sp>')
        files[f"ppt/slides/slide{i}.xml"] = f'<?xml version="1.0"?><p:sld xmlns:a="{a}" xmlns:p="{p}"><p:cSld><p:spTree>{body}</p:spTree></p:cSld></p:sld>'
    return _zip(files)


def odt(paragraphs, header=()) -> bytes:
    """An .odt: paragraphs are str or (text, {bold, color, border, font}); ``header`` in styles.xml."""
    office = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
              'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
              'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
              'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
              'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
              'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.2"')
    styles, body, fonts = [], [], set()
    for i, p in enumerate(paragraphs):
        text, fmt = (p, {}) if isinstance(p, str) else p
        if fmt:
            tp = ""
            if fmt.get("bold"):
                tp += ' fo:font-weight="bold"'
            if fmt.get("color"):
                tp += f' fo:color="#{fmt["color"]}"'
            if fmt.get("font"):
                tp += f' style:font-name="{fmt["font"]}"'
                fonts.add(fmt["font"])
            pp = '<style:paragraph-properties fo:border="0.06pt double #ff0000"/>' if fmt.get("border") else ""
            styles.append(f'<style:style style:name="P{i}" style:family="paragraph">{pp}<style:text-properties{tp}/></style:style>')
            body.append(f'<text:p text:style-name="P{i}">{escape(text)}</text:p>')
        else:
            body.append(f"<text:p>{escape(text)}</text:p>")
    decls = "".join(f'<style:font-face style:name="{f}" svg:font-family="{f}"/>' for f in sorted(fonts))
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {office}>'
               f'<office:font-face-decls>{decls}</office:font-face-decls>'
               f'<office:automatic-styles>{"".join(styles)}</office:automatic-styles>'
               f'<office:body><office:text>{"".join(body)}</office:text></office:body></office:document-content>')
    hdr = "".join(f"<text:p>{escape(h)}</text:p>" for h in header)
    styles_xml = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {office}><office:master-styles>'
                  f'<style:master-page style:name="Standard"><style:header>{hdr}</style:header></style:master-page>'
                  '</office:master-styles></office:document-styles>')
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.text"/>'
                '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                '<manifest:file-entry manifest:full-path="styles.xml" manifest:media-type="text/xml"/></manifest:manifest>')
    return _zip({"mimetype": "application/vnd.oasis.opendocument.text", "content.xml": content,
                 "styles.xml": styles_xml, "META-INF/manifest.xml": manifest}, first=("mimetype",))


def rtf_escape(text: str) -> str:
    """Unicode text as RTF \\uN? escapes."""
    out = []
    for ch in text:
        o = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif o < 128:
            out.append(ch)
        else:
            out.append(f"\\u{o if o < 32768 else o - 65536}?")
    return "".join(out)


def rtf(body: str, fonts=("Times New Roman",)) -> bytes:
    """An RTF document; ``body`` is raw RTF using \\f0.. for ``fonts``."""
    fonttbl = "".join(f"{{\\f{i}\\fnil {f};}}" for i, f in enumerate(fonts))
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl" + fonttbl + "}"
            "{\\colortbl;\\red0\\green0\\blue0;\\red255\\green0\\blue0;}\n" + body + "}").encode("latin-1")


def to_cp1258(text: str) -> bytes:
    """Windows-1258 bytes: precomposed base letters (Â, Ơ...) followed by combining tone marks."""
    import unicodedata
    tones = "\u0300\u0301\u0303\u0309\u0323"
    out = []
    for ch in text:
        d = unicodedata.normalize("NFD", ch)
        tone = "".join(c for c in d if c in tones)
        out.append(unicodedata.normalize("NFC", "".join(c for c in d if c not in tones)) + tone)
    return "".join(out).encode("cp1258")


def html(body: str, charset="utf-8") -> bytes:
    """An HTML page."""
    page = f'<!DOCTYPE html><html><head><meta charset="{charset}"><title>t</title></head><body>{body}</body></html>'
    return to_cp1258(page) if charset == "windows-1258" else page.encode(charset)


def pdf(pages, font_path="/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", annotations=()) -> bytes:
    """A PDF drawn with pypdfium2: pages are lists of (text, {"color": (r,g,b), "y": from top}).
    ``annotations``: (page, subtype name "freetext"|"stamp", contents)."""
    import ctypes
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    doc = pdfium.PdfDocument.new()
    with open(font_path, "rb") as fh:
        font_data = fh.read()
    buf = (ctypes.c_uint8 * len(font_data)).from_buffer_copy(font_data)
    font = c.FPDFText_LoadFont(doc.raw, buf, len(font_data), c.FPDF_FONT_TRUETYPE, 1)
    for lines in pages:
        page = doc.new_page(595, 842)
        y = 800
        for text, fmt in lines:
            size = fmt.get("size", 12)
            obj = c.FPDFPageObj_CreateTextObj(doc.raw, font, size)
            wide = (text + "\0").encode("utf-16-le")
            c.FPDFText_SetText(obj, ctypes.cast(ctypes.create_string_buffer(wide, len(wide)), ctypes.POINTER(c.FPDF_WCHAR)))
            if fmt.get("color"):
                r, g, b = fmt["color"]
                c.FPDFPageObj_SetFillColor(obj, r, g, b, 255)
            yy = 842 - fmt["y"] if "y" in fmt else y
            c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, fmt.get("x", 60), yy)
            c.FPDFPage_InsertObject(page.raw, obj)
            y -= size * 2
        c.FPDFPage_GenerateContent(page.raw)
    for pno, kind, contents in annotations:
        page = doc[pno]
        sub = {"freetext": c.FPDF_ANNOT_FREETEXT, "stamp": c.FPDF_ANNOT_STAMP}[kind]
        annot = c.FPDFPage_CreateAnnot(page.raw, sub)
        rect = c.FS_RECTF(60, 700, 200, 730)
        c.FPDFAnnot_SetRect(annot, rect)
        wide = (contents + "\0").encode("utf-16-le")
        c.FPDFAnnot_SetStringValue(annot, b"Contents", ctypes.cast(ctypes.create_string_buffer(wide, len(wide)), ctypes.POINTER(c.FPDF_WCHAR)))
        c.FPDFPage_CloseAnnot(annot)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
