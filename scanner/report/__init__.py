"""Report formats of the scan document, one module per format, each with a single ``report()``."""

FORMATS = ("text", "json", "html", "pdf", "csv")

SYMBOLS = {"pass": "✔", "fail": "✘", "error": "!", "not_applicable": "–", "not_selected": "·",
           "not_reviewed": "?", "waived": "≈", "informational": "i"}
COLOURS = {"pass": "green", "fail": "red", "error": "magenta", "not_applicable": "dim", "not_selected": "dim",
           "not_reviewed": "yellow", "waived": "cyan", "informational": "blue"}
CATEGORY_ORDER = ("network", "usb", "recording", "software", "storage", "folders", "documents", "agent", "manual")


def shown(doc):
    """Results to list (not_selected are counted, not listed), in checklist order."""
    rows = [r for r in doc["results"] if r["status"] != "not_selected"]
    return sorted(rows, key=lambda r: (CATEGORY_ORDER.index(r["category"]) if r["category"] in CATEGORY_ORDER else 99, r["check_id"]))


def evidence_lines(result, limit: int = 5, lang: str = "vi", tz=None):
    """Short labelled lines for the evidence rows of one result (see ``evidence.lines``)."""
    from .evidence import lines
    return lines(result, lang, tz, limit)


def record_settings(doc) -> dict:
    """The ``record`` block of a scan document (empty for documents older than schema 1.1)."""
    return doc.get("record") or {}


def doc_zone(doc, lang: str = "vi"):
    """The time zone the document's times are shown in."""
    from ..localtime import zone
    return zone(record_settings(doc).get("timezone"), lang)


def primary_citation(result, lang: str) -> str:
    """The citations of one result, joined."""
    return "; ".join(ref["short"]["en" if lang == "en" else "vi"]
                     for ref in result["legal_refs"])
