"""The scan result document: one versioned JSON structure that every report format renders.

The schema is documented in docs/scan-format.md; ``SCHEMA_VERSION`` changes with it. Reports
(text, html, csv) and the inspector's snapshot read this document, never the evaluator's objects,
so that a saved JSON scan renders exactly like a fresh one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Optional

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.evaluator import Evaluation
from bmnn_guard.policies.loader import Bundle

from .policyview import ref_document

SCHEMA_VERSION = "1.1"
TOOL_NAME = "bmnn-guard"


def tool_version() -> str:
    """Installed version of bmnn-guard."""
    try:
        from importlib.metadata import version
        return version(TOOL_NAME)
    except Exception:
        return "0.0.0+unknown"


def _target(facts: F.Facts) -> dict[str, Any]:
    h = facts.host
    return {
        "hostname": h.hostname, "machine_id": h.machine_id,
        "dmi": {"vendor": h.dmi_vendor, "product": h.dmi_product, "serial": h.dmi_serial},
        "os": {"name": h.os_name, "version": h.os_version, "kernel": h.kernel, "virtualization": h.virtualization},
        "nics": [{"name": i.name, "kind": i.kind, "mac": i.mac, "driver": i.driver, "bus": i.bus}
                 for i in facts.network.interfaces if i.kind != "loopback"],
        "disks": [{"name": b.name, "bus": b.bus, "serial": b.serial, "size_bytes": b.size_bytes, "removable": b.removable}
                  for b in facts.devices.block if b.devtype == "disk"],
    }


def record_block(settings: Any = None, *, number: Optional[str] = None, timezone: Optional[str] = None,
                 holder: Optional[str] = None) -> dict[str, Any]:
    """The ``record`` object of the document from local.d ``record:`` (``settings``) and options.

    ``number`` is the printed number when one was given (``--number``) or taken from the counter;
    otherwise the record shows ``number_pattern`` with a blank for the hand.
    """
    def get(name: str) -> Optional[str]:
        return getattr(settings, name, None) if settings is not None else None
    return {"number": number, "number_pattern": get("number"), "place": get("place"),
            "parent_unit": get("parent_unit"), "timezone": timezone or get("timezone") or "Asia/Ho_Chi_Minh",
            "holder": holder, "head_of_unit": get("head_of_unit"), "security_officer": get("security_officer")}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def build(facts: F.Facts, evaluation: Evaluation, bundle: Bundle, *, started_at: dt.datetime,
          finished_at: dt.datetime, inspector: Optional[str], unit: Optional[str],
          record: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The scan document (see docs/scan-format.md). ``record``: how the record is headed and
    signed (``record_block``)."""
    prof = bundle.profiles[evaluation.profile_id]
    results = []
    for r in evaluation.results:
        spec = bundle.checks[r.check_id].spec
        day = started_at.date()  # the day the evaluation judged "in force" for (a snapshot: its export)
        refs = [ref_document(bundle, ref, day, ref.in_force) for ref in r.legal_refs]
        results.append({
            "check_id": r.check_id, "check_version": r.check_version, "status": r.status,
            "underlying_status": r.underlying_status, "severity": r.severity, "category": r.category,
            "mode": r.mode, "title": {"vi": spec.title.vi, "en": spec.title.en},
            "remediation": {"vi": spec.remediation.vi, "en": spec.remediation.en},
            "legal_refs": refs, "reason": {"vi": r.reason.vi, "en": r.reason.en},
            "evidence": _plain(list(r.evidence)), "waiver": _plain(r.waiver), "manual": _plain(r.manual),
            "severity_justification": r.severity_justification,
            "basis_in_force": r.basis_in_force,
            "exceptions": [{"kind": e.kind, "item": e.item, "name": e.name, "reference": e.reference,
                            "supplied_by": e.supplied_by,
                            "legal_refs": [ref_document(bundle, x, day, x.in_force) for x in e.legal_refs]}
                           for e in r.exceptions],
        })
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": tool_version()},
        "profile": {"id": prof.id, "version": prof.version, "title": {"vi": prof.title.vi, "en": prof.title.en}},
        "policy_bundle": {"sha256": bundle.sha256},
        "unit": unit,
        "record": record or record_block(),
        "target": _target(facts),
        "inspector": inspector,
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "facts": F.to_dict(facts),
        "results": results,
        "summary": {"counts": dict(evaluation.summary.counts), "verdict": evaluation.summary.verdict,
                    "threshold": evaluation.summary.threshold},
    }
