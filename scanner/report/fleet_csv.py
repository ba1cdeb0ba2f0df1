"""Fleet review as CSV (UTF-8 with BOM), one row per file (a file that is no snapshot has kind
``not_snapshot``)."""

import csv
import io


def report(machines: list[dict], lang: str = "vi") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["path", "kind", "valid", "problems", "warnings", "hostname", "machine_id", "created_at", "age_days",
                "verdict", "violations", "unapproved_devices", "network_events", "gaps", "downtime_hours",
                "journal_records"])
    for m in machines:
        w.writerow([m["path"], m.get("kind", "snapshot"), m["valid"], " | ".join(m["problems"]),
                    " | ".join(m.get("warnings") or []), m["hostname"], m["machine_id"], m["created_at"],
                    m["age_days"], m["verdict"], " ".join(f"{v['check_id']}({v['severity']})" for v in m["violations"]),
                    " ".join(m["unapproved_devices"]), m["network_events"], m["gaps"], m["downtime_hours"],
                    m["journal_records"]])
    return "\ufeff" + buf.getvalue()
