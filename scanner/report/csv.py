"""CSV report: one row per check, RFC 4180 quoting, UTF-8 with BOM for spreadsheet programs."""

import csv
import io

from ..i18n import t
from . import doc_zone, evidence_lines, primary_citation, shown


def report(doc: dict, lang: str = "vi") -> str:
    """CSV text starting with a BOM so that Excel/LibreOffice read Vietnamese correctly."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(["check_id", "check_version", "status", "status_text", "underlying_status", "severity",
                "category", "title", "reason", "evidence", "legal_basis", "waiver_expires"])
    lk = "en" if lang == "en" else "vi"
    tz = doc_zone(doc, lang)
    for r in shown(doc):
        w.writerow([r["check_id"], r["check_version"], r["status"], t("status." + r["status"], lang),
                    r["underlying_status"], r["severity"], r["category"], r["title"][lk], r["reason"][lk],
                    " | ".join(evidence_lines(r, 50, lang, tz)), primary_citation(r, lang),
                    (r["waiver"] or {}).get("expires", "")])
    return "\ufeff" + buf.getvalue()
