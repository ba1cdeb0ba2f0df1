"""The incident report: what the journal says happened on this machine in a window, ready for the
security officer to complete and send on when a leak or a loss is suspected.

From the journal records of the window (``--since/--until`` times, ``--seq A-B``, or both): the
timeline; the violations with what cleared, acknowledged and enforced them; the devices, files
(with their hashes and who acted on them, see ``bmnn_guard.agent.records``), network state, enforcement,
acknowledgements and monitoring gaps (gap records, downtime between a stop and the next start, and
silences longer than three heartbeats); who was logged in (wtmp/utmp, ``bmnn_guard.scanner.sessions``); and
the checks involved with their legal basis as the policy catalog renders it. Plus whether the
journal verifies, and the hashes that anchor the window in its chain, so that anyone holding the
journal can tell the report was drawn from it.

``write_incident_draft`` is what the daemon calls (off its main loop) when a critical violation
opens with ``incident_reports: true``: it writes the signed JSON draft into the state directory.
This module imports no rich, Jinja2 or report code: the daemon imports it.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

from .errors import AgentError
from .records import actor_of, file_event, items_of, journal_state, plain_item
from .wording import words

FORMAT = "bmnn-incident"
VERSION = 1
MAX_RECORDS = 20000
"""Records of a window taken into a report (beyond that the report says how many were left out)."""
DRAFT_MAX_RECORDS = 5000
"""A draft the daemon writes holds fewer: it is built inside the daemon, whose memory stays small."""
DRAFT_WINDOW_S = 3600
"""A draft written by the daemon covers the hour before the violation, and everything after it."""
DRAFTS = "incidents"
SILENCE_BEATS = 3
NETWORK_KEYS = ("name", "kind", "addresses", "address", "gateway", "destination", "interface", "carrier", "ssid",
                "driver", "bus", "cellular", "radio", "host", "port", "fact")
DEVICE_KEYS = ("vendor_id", "product_id", "vendor", "product", "serial", "sys_path", "devnode", "fs_type",
               "mountpoint", "name", "kind", "bus", "fact")
DOCUMENT_KEYS = ("path", "level", "sha256", "copy_of", "in_marked_folder", "on_removable", "fact")


@dataclass(frozen=True)
class Window:
    """Which records a report covers: ``first_seq <= seq <= last_seq`` and ``since <= time <= until``
    (journal UTC times), each bound optional."""

    first_seq: Optional[int] = None
    last_seq: Optional[int] = None
    since: Optional[str] = None
    until: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {"first_seq": self.first_seq, "last_seq": self.last_seq, "since": self.since, "until": self.until}


def parse_seq(text: str, lang: str = "vi") -> tuple[Optional[int], Optional[int]]:
    """``--seq``: "A-B", "A-" (to the end), "-B" (from the start) or "A" (one record)."""
    from bmnn_guard.scanner.i18n import t as tr
    t = text.strip()
    try:
        if "-" in t:
            a, b = t.split("-", 1)
            first, last = (int(a) if a.strip() else None), (int(b) if b.strip() else None)
        else:
            first = last = int(t)
    except ValueError:
        raise AgentError(tr("incident.bad_seq", lang, text=repr(text)), kind="usage") from None
    if (first is not None and first < 1) or (first is not None and last is not None and last < first):
        raise AgentError(tr("incident.bad_seq_order", lang, text=repr(text)), kind="usage")
    return first, last


def _select(j, w: Window, limit: int = MAX_RECORDS, tail: bool = False) -> tuple[list, int]:
    """Records of the window (at most ``limit``: the first ones, or with ``tail`` the last ones)
    and how many more there were."""
    from collections import deque
    out: deque = deque(maxlen=limit if tail else None)
    seen = 0
    since_seq = (w.first_seq - 1) if w.first_seq else None
    for r in j.records(since_seq=since_seq, since_time=w.since):
        if w.last_seq is not None and r.seq > w.last_seq:
            break
        if w.until is not None and r.time > w.until:
            break
        seen += 1
        if tail or len(out) < limit:
            out.append(r)
    return list(out), seen - len(out)


def _ack_reason(ev: Mapping[str, Any]) -> Optional[str]:
    """The reason an ack gives (``bmnn events ack --reason``; ``note`` in acks journaled before)."""
    text = ev.get("reason") or ev.get("note")
    return str(text)[:2000] if text else None


def _user(uid: Any) -> Optional[str]:
    if not isinstance(uid, int) or isinstance(uid, bool):
        return None
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return None


def _category(bundle, cid: Optional[str]) -> Optional[str]:
    if bundle is None or not cid or cid not in bundle.checks:
        return None
    return bundle.checks[cid].spec.category


def _ev(r) -> Mapping[str, Any]:
    return r.evidence if isinstance(r.evidence, Mapping) else {}


def _entry(r) -> dict[str, Any]:
    return {"seq": r.seq, "time": r.time, "kind": r.kind, "check_id": r.check_id, "severity": r.severity,
            "message": (r.message or "")[:2000] or None, "words": words(r.message, r.evidence, r.kind)}


def _state_before(j, first_seq: int) -> dict[str, dict]:
    """Violations already open when the window starts (check id -> violation entry)."""
    state: dict[str, dict] = {}
    for r in j.records(kinds=("violation", "cleared", "ack")):
        if r.seq >= first_seq:
            break
        if not r.check_id:
            continue
        if r.kind == "violation":
            state[r.check_id] = {**_entry(r), "acknowledged": False}
        elif r.kind == "cleared":
            state.pop(r.check_id, None)
        elif r.kind == "ack" and r.check_id in state:
            state[r.check_id]["acknowledged"] = True
    return state


def _after(j, last_seq: int, ids: set[str]) -> dict[str, dict]:
    """For each check id, the first clearing after the window (the report says when it ended)."""
    out: dict[str, dict] = {}
    if not ids:
        return out
    for r in j.records(since_seq=last_seq, kinds=("cleared",)):
        if r.check_id in ids and r.check_id not in out:
            out[r.check_id] = {"seq": r.seq, "time": r.time}
            if len(out) == len(ids):
                break
    return out


def _gaps(records: Sequence, heartbeat_s: float) -> list[dict[str, Any]]:
    """Gap records, downtime (a stop, or a crash, until the next start) and silences."""
    from bmnn_guard.scanner.localtime import parse
    out: list[dict[str, Any]] = []
    prev = None
    for r in records:
        ev = _ev(r)
        if r.kind == "gap":
            out.append({**_entry(r), "what": "gap", "source": str(ev.get("source") or "")[:200] or None})
        elif r.kind == "policy_loaded" and ev.get("ok") is False:
            out.append({**_entry(r), "what": "policy_rejected"})
        if prev is not None:
            a, b = parse(prev.time), parse(r.time)
            if a and b:
                span = (b - a).total_seconds()
                if prev.kind == "agent_stop" and r.kind == "agent_start":
                    out.append({"what": "downtime", "from_seq": prev.seq, "to_seq": r.seq, "from": prev.time,
                                "to": r.time, "seconds": round(span)})
                elif prev.kind != "agent_stop" and span > SILENCE_BEATS * heartbeat_s:
                    out.append({"what": "silence", "from_seq": prev.seq, "to_seq": r.seq, "from": prev.time,
                                "to": r.time, "seconds": round(span)})
        prev = r
    return out


def _sessions(logins, first: Optional[str], last: Optional[str]) -> tuple[list, list]:
    from bmnn_guard.scanner.localtime import parse
    from bmnn_guard.scanner.sessions import to_dict
    a, b = parse(first), parse(last)
    shown = [s for s in logins.sessions if s.overlaps(a, b)]
    sources = [{"path": x.path, "present": x.present, "records": len(x.entries), "error": x.error,
                "notes": list(x.notes)} for x in logins.sources]
    return [to_dict(s) for s in shown], sources


def build(journal_path: str, window: Window, *, now: dt.datetime, bundle=None, tailoring=None,
          heartbeat_s: float = 60.0, logins=None, trigger: Optional[int] = None,
          number: Optional[str] = None, tz_name: str = "Asia/Ho_Chi_Minh",
          max_records: int = MAX_RECORDS, keep_last: bool = False, lang: str = "vi") -> dict[str, Any]:
    """The unsigned report of ``window`` (see docs/handover-incident.md for every field).
    ``logins``: ``bmnn_guard.scanner.sessions.Logins`` (default: this machine's wtmp and utmp). Beyond
    ``max_records`` the first ones are kept, or with ``keep_last`` the last ones (a draft ends at
    the violation that caused it); ``window.left_out`` says how many were not."""
    from bmnn_guard.scanner.document import TOOL_NAME, tool_version
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.localtime import parse
    from bmnn_guard.scanner.policyview import ref_document
    from bmnn_guard.scanner.sessions import read_logins
    from .journal import Journal
    if not os.path.exists(journal_path):
        raise AgentError(t("incident.no_journal", lang, path=journal_path), kind="io")
    with Journal.open(journal_path, readonly=True) as j:
        recs, more = _select(j, window, max_records, keep_last)
        if not recs:
            raise AgentError(t("incident.empty", lang), kind="usage")
        first, last = recs[0], recs[-1]
        before = _state_before(j, first.seq)
        ids = {r.check_id for r in recs if r.kind == "violation" and r.check_id}
        cleared_later = _after(j, last.seq, ids)
        host = first.host
    logins = logins if logins is not None else read_logins()
    timeline, files, devices, network, enforcement, acks = [], [], [], [], [], []
    violations: dict[int, dict] = {}
    open_by_check: dict[str, dict] = {}
    beats = {"count": 0, "first": None, "last": None}
    for r in recs:
        ev = _ev(r)
        if r.kind == "heartbeat":
            beats["count"] += 1
            beats["first"] = beats["first"] or r.time
            beats["last"] = r.time
            continue
        timeline.append(_entry(r))
        cat = _category(bundle, r.check_id)
        if r.kind == "violation":
            v = {**_entry(r), "category": cat, "cleared": None, "acknowledged": [], "enforced": [],
                 "items": [plain_item(i, DOCUMENT_KEYS + NETWORK_KEYS + DEVICE_KEYS) for i in items_of(ev, 200)],
                 "actor": actor_of(ev)}
            violations[r.seq] = v
            open_by_check[r.check_id or ""] = v
        elif r.kind == "cleared":
            v = open_by_check.pop(r.check_id or "", None)
            if v is not None:
                v["cleared"] = {"seq": r.seq, "time": r.time}
        elif r.kind == "ack":
            a = {**_entry(r), "violation_seq": ev.get("violation_seq") if isinstance(ev.get("violation_seq"), int)
                 else None, "uid": ev.get("uid") if isinstance(ev.get("uid"), int) else None,
                 "user": _user(ev.get("uid")), "note": _ack_reason(ev)}
            acks.append(a)
            v = violations.get(a["violation_seq"]) or open_by_check.get(r.check_id or "")
            if v is not None:
                v["acknowledged"].append(a["seq"])
        elif r.kind == "enforced":
            e = {**_entry(r), **{k: ev.get(k) for k in ("target", "action", "ok") if isinstance(ev.get(k), (str, bool))},
                 "detail": str(ev.get("detail"))[:500] if ev.get("detail") is not None else None}
            enforcement.append(e)
            v = open_by_check.get(r.check_id or "")
            if v is not None:
                v["enforced"].append(r.seq)
        elif r.kind == "file":
            fe = file_event(r)
            if fe is not None:
                files.append({"seq": r.seq, "time": r.time, "event": fe.event, "path": fe.path,
                              "from": ev.get("path") if fe.event == "moved" and isinstance(ev.get("path"), str) else None,
                              "sha256": fe.sha256, "size": fe.size, "owner": fe.owner, "actor": fe.actor,
                              "actor_recorded": fe.actor is not None,
                              "reason": str(ev.get("reason"))[:2000] if fe.event == "destroyed" and ev.get("reason") else None})
        elif r.kind == "media":
            devices.append({**_entry(r), "event": str(ev.get("event") or "")[:40] or None,
                            "mountpoint": ev.get("mountpoint") if isinstance(ev.get("mountpoint"), str) else None})
        if r.kind in ("violation", "cleared") and cat == "network":
            for i in items_of(ev, 200):
                network.append({"seq": r.seq, "time": r.time, "kind": r.kind, "check_id": r.check_id,
                                **plain_item(i, NETWORK_KEYS)})
        if r.kind in ("violation", "cleared") and cat in ("usb", "storage", "recording"):
            for i in items_of(ev, 200):
                devices.append({"seq": r.seq, "time": r.time, "kind": r.kind, "check_id": r.check_id,
                                **plain_item(i, DEVICE_KEYS)})
    for cid, v in open_by_check.items():
        if v["cleared"] is None and cid in cleared_later:
            v["cleared"] = {**cleared_later[cid], "after_window": True}
    sessions, login_sources = _sessions(logins, first.time, last.time)
    for v in violations.values():
        t = parse(v["time"])
        v["logged_in"] = [f"{s.user}@{s.line}" for s in logins.sessions if t is not None and s.at(t)]
    day = (parse(first.time) or now).date()
    check_ids = sorted({r.check_id for r in recs if r.check_id} | set(before))
    checks = []
    for cid in check_ids:
        if bundle is not None and cid in bundle.checks:
            spec = bundle.checks[cid].spec
            checks.append({"check_id": cid, "title": {"vi": spec.title.vi, "en": spec.title.en},
                           "severity": spec.severity, "category": spec.category,
                           "legal_refs": [ref_document(bundle, ref, day) for ref in spec.legal_refs]})
        else:
            checks.append({"check_id": cid, "title": None, "severity": None, "category": None, "legal_refs": [],
                           "unknown": True})
    rec = getattr(tailoring, "record", None)
    gaps = _gaps(recs, heartbeat_s)
    return {
        "format": FORMAT, "version": VERSION, "draft": True, "number": number,
        "created_at": now.isoformat(timespec="seconds"), "timezone": tz_name,
        "tool": {"name": TOOL_NAME, "version": tool_version()},
        "host": {"hostname": host, "machine_id": _machine_id()},
        "unit": getattr(tailoring, "unit", None),
        "record": {"parent_unit": getattr(rec, "parent_unit", None), "place": getattr(rec, "place", None),
                   "head_of_unit": getattr(rec, "head_of_unit", None),
                   "security_officer": getattr(rec, "security_officer", None)},
        "trigger": {"violation_seq": trigger} if trigger is not None else None,
        "window": {"asked": window.to_dict(), "records": len(recs), "left_out": more, "first_seq": first.seq,
                   "last_seq": last.seq, "first_time": first.time, "last_time": last.time,
                   "prev_hash": first.prev_hash, "first_hash": first.hash, "last_hash": last.hash},
        "journal": journal_state(journal_path),
        "policy_bundle": {"sha256": bundle.sha256} if bundle is not None else None,
        "open_at_start": sorted(before.values(), key=lambda v: v["seq"]),
        "timeline": timeline, "violations": sorted(violations.values(), key=lambda v: v["seq"]),
        "devices": devices, "files": files, "network": network, "enforcement": enforcement,
        "acknowledgements": acks, "gaps": gaps, "heartbeats": beats,
        "sessions": sessions, "login_sources": login_sources, "checks": checks,
        "summary": {"records": len(recs), "violations": len(violations),
                    "critical": sum(1 for v in violations.values() if v["severity"] == "critical"),
                    "still_open": sum(1 for v in violations.values() if v["cleared"] is None),
                    "files": len(files), "devices": len(devices), "gaps": len(gaps), "sessions": len(sessions)},
    }


def _machine_id() -> Optional[str]:
    try:
        with open("/etc/machine-id", encoding="ascii", errors="replace") as fh:
            return fh.read(64).strip() or None
    except OSError:
        return None


# ---------------------------------------------------------------- the daemon's draft


def drafts_dir(state_dir: str) -> str:
    return os.path.join(state_dir, DRAFTS)


def latest_draft(state_dir: str) -> Optional[str]:
    """Path of the newest draft in the state directory (what ``bmnn status`` points to), or None."""
    d = drafts_dir(state_dir)
    try:
        names = sorted(n for n in os.listdir(d) if n.startswith("incident-") and n.endswith(".json"))
    except OSError:
        return None
    if not names:
        return None
    return os.path.join(d, max(names, key=lambda n: os.stat(os.path.join(d, n), follow_symlinks=False).st_mtime_ns))


def write_incident_draft(journal_path: str, state_dir: str, violation_seq: int, now: dt.datetime, *,
                         key_dir: Optional[str] = None, config_dir: Optional[str] = None,
                         policy_dir: Optional[str] = None, window_s: float = DRAFT_WINDOW_S) -> str:
    """Write the signed draft report of the critical violation ``violation_seq`` into
    ``state_dir/incidents/`` and return its path. The window is the hour before the violation and
    everything journaled since. Call it off the daemon's main loop: it reads the whole journal
    once to verify it. ``key_dir``/``config_dir``: where the host key and local.d are (default
    $BMNN_CONFIG_DIR). Raises AgentError; the caller logs it, the violation stays journaled."""
    from bmnn_guard.policies.loader import load_bundle, load_tailoring
    from bmnn_guard.scanner.atomic import write_atomic
    from bmnn_guard.scanner.localtime import parse
    from .config import load_config
    from .journal import Journal, iso
    from .paths import from_env
    from . import signed
    paths = from_env(config_dir=config_dir)
    key_dir = key_dir or str(paths.config_dir)
    with Journal.open(journal_path, readonly=True) as j:
        rec = next(iter(j.records(since_seq=violation_seq - 1, limit=1)), None)
    if rec is None or rec.seq != violation_seq:
        raise AgentError(f"journal record #{violation_seq} not found", kind="usage")
    t = parse(rec.time) or now
    bundle = tailoring = None
    try:
        bundle = load_bundle(policy_dir)
        tailoring = load_tailoring(paths.local_d, bundle).tailoring
    except Exception:  # the draft is still worth writing without titles and citations
        pass
    try:
        hb = load_config(paths.agent_config).heartbeat_seconds
    except AgentError:
        hb = 60.0
    tz_name = (getattr(getattr(tailoring, "record", None), "timezone", None)) or "Asia/Ho_Chi_Minh"
    doc = build(journal_path, Window(since=iso(t - dt.timedelta(seconds=window_s))), now=now, bundle=bundle,
                       tailoring=tailoring, heartbeat_s=hb, trigger=violation_seq, tz_name=tz_name,
                       max_records=DRAFT_MAX_RECORDS, keep_last=True)
    data = signed.dumps(signed.sign(doc, key_dir))
    d = drafts_dir(state_dir)
    os.makedirs(d, mode=0o700, exist_ok=True)
    path = os.path.join(d, f"incident-{violation_seq:08d}-{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}.json")
    try:
        write_atomic(path, data, 0o600)
    except OSError as exc:
        raise AgentError(f"cannot write the incident draft {path}: {exc.strerror}", kind="io") from None
    return path
