"""Report formats of the scan document, one module per format, each with a single ``report()``."""

FORMATS = ("text", "json", "html", "csv")

SYMBOLS = {"pass": "✔", "fail": "✘", "error": "!", "not_applicable": "–", "not_selected": "·",
           "not_reviewed": "?", "waived": "≈", "informational": "i"}
COLOURS = {"pass": "green", "fail": "red", "error": "magenta", "not_applicable": "dim", "not_selected": "dim",
           "not_reviewed": "yellow", "waived": "cyan", "informational": "blue"}
CATEGORY_ORDER = ("network", "usb", "recording", "software", "storage", "folders", "documents", "agent", "manual")


def shown(doc):
    """Results to list (not_selected are counted, not listed), in checklist order."""
    rows = [r for r in doc["results"] if r["status"] != "not_selected"]
    return sorted(rows, key=lambda r: (CATEGORY_ORDER.index(r["category"]) if r["category"] in CATEGORY_ORDER else 99, r["check_id"]))


def evidence_lines(result, limit: int = 5):
    """Short human lines for the evidence rows of one result."""
    out = []
    for row in result.get("evidence") or []:
        parts = []
        for k, v in row.items():
            if k == "fact" or v in (None, [], ""):
                continue
            if isinstance(v, list):
                v = ", ".join(str(x) for x in v)
            parts.append(f"{k}={v}")
        out.append("; ".join(parts))
    more = len(out) - limit
    return out[:limit] + ([f"(+{more})"] if more > 0 else [])


def primary_citation(result, lang: str) -> str:
    """The citations of one result, joined."""
    return "; ".join(ref["short"]["en" if lang == "en" else "vi"]
                     for ref in result["legal_refs"])
