"""`bmnn report fleet DIR`: many snapshots -> one review, worst machines first.

Every snapshot is verified first; an invalid one is listed as invalid with its problems and its
content is never merged into the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from .verify import verify

VERDICT_RANK = {"NON_COMPLIANT": 0, "INCOMPLETE": 1, "COMPLIANT_WITH_EXCEPTIONS": 2, "COMPLIANT": 3, None: 1}
SEV_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
HEARTBEAT_SLACK_S = 180


@dataclass
class Machine:
    """The review line of one snapshot."""

    path: str
    valid: bool
    problems: list[str] = field(default_factory=list)
    hostname: Optional[str] = None
    machine_id: Optional[str] = None
    created_at: Optional[str] = None
    age_days: Optional[float] = None
    verdict: Optional[str] = None
    violations: list[dict[str, Any]] = field(default_factory=list)
    unapproved_devices: list[str] = field(default_factory=list)
    network_events: int = 0
    gaps: int = 0
    downtime_hours: float = 0.0
    journal_records: int = 0


def _parse_time(s: Optional[str]) -> Optional[dt.datetime]:
    if not s:
        return None
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def summarize(path: str, now: dt.datetime, lang: str = "vi", pubkeys: Optional[dict[str, bytes]] = None) -> Machine:
    """Verify one snapshot and extract its review line."""
    rep = verify(path)
    m = Machine(path=path, valid=rep.ok, problems=[p.get(lang) for p in rep.problems])
    host = rep.manifest.get("host") or {}
    m.hostname, m.machine_id, m.created_at = host.get("hostname"), host.get("machine_id"), rep.manifest.get("created_at")
    if not rep.ok:
        return m
    created = _parse_time(m.created_at)
    m.age_days = round((now - created).total_seconds() / 86400, 1) if created else None
    try:
        scan = json.loads(rep.members.get("scan.json", b"{}"))
    except ValueError:
        scan = {}
    m.verdict = (scan.get("summary") or {}).get("verdict")
    devices = set()
    for r in scan.get("results", []):
        if r.get("status") == "fail":
            m.violations.append({"check_id": r["check_id"], "severity": r.get("severity"), "source": "scan"})
        if r.get("check_id") == "BMNN-USB-001" and r.get("status") in ("fail", "waived"):
            for ev in r.get("evidence") or []:
                devices.add(f"{ev.get('vendor_id') or '?'}:{ev.get('product_id') or '?'}:{ev.get('serial') or ev.get('name') or '?'}")
    times = []
    for d in rep.records:
        m.journal_records += 1
        kind, cid = d.get("kind"), d.get("check_id") or ""
        if kind == "gap":
            m.gaps += 1
        if kind == "violation" and cid.startswith("BMNN-NET-"):
            m.network_events += 1
        if kind == "violation" and cid == "BMNN-USB-001":
            for ev in (d.get("evidence") or {}).get("items", []) if isinstance(d.get("evidence"), dict) else []:
                devices.add(f"{ev.get('vendor_id') or '?'}:{ev.get('product_id') or '?'}:{ev.get('serial') or '?'}")
        if kind == "violation" and cid and not any(v["check_id"] == cid for v in m.violations):
            m.violations.append({"check_id": cid, "severity": d.get("severity"), "source": "journal"})
        t = _parse_time(d.get("time"))
        if t:
            times.append(t)
    times.sort()
    down = 0.0
    for a, b in zip(times, times[1:]):
        gap = (b - a).total_seconds()
        if gap > HEARTBEAT_SLACK_S:
            down += gap
    m.downtime_hours = round(down / 3600, 2)
    m.unapproved_devices = sorted(devices)
    m.violations.sort(key=lambda v: (SEV_RANK.get(v["severity"], 9), v["check_id"]))
    return m


def review(directory: str, *, now: Optional[dt.datetime] = None, lang: str = "vi") -> list[Machine]:
    """Every snapshot below ``directory`` (``*.bmnnsnap``, ``*.tar``), worst first, invalid ones on top."""
    now = now or dt.datetime.now().astimezone()
    paths = []
    for base, _dirs, files in os.walk(directory):
        for name in files:
            if name.endswith((".bmnnsnap", ".tar")):
                paths.append(os.path.join(base, name))
    machines = [summarize(p, now, lang) for p in sorted(paths)]

    def key(m: Machine):
        worst = min((SEV_RANK.get(v["severity"], 9) for v in m.violations), default=9)
        return (m.valid, VERDICT_RANK.get(m.verdict, 1), worst, -len(m.violations), -m.network_events, -m.gaps,
                -(m.downtime_hours or 0), -(m.age_days or 0), m.hostname or "")
    return sorted(machines, key=key)
