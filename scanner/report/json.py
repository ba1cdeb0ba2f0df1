"""JSON report: the scan document itself (schema in docs/scan-format.md)."""

import json


def report(doc: dict, lang: str = "vi") -> str:
    """The document as pretty UTF-8 JSON."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=False) + "\n"
