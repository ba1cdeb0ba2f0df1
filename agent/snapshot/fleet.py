"""`bmnn report fleet DIR`: many snapshots -> one review, worst machines first.

Every regular file below DIR is tried, whatever its name (folders are entered, links are never
followed); a file that is no snapshot is listed as such and counted, so a folder of files can
never give an empty review. Every snapshot is verified against the inspector's key registry; an
invalid one is listed with its problems and its content is never merged into the figures. Then
each host's snapshots are put in time order and must follow one another and the head accepted
at the previous review (``heads.json``): a replay, a rollback or a branch is invalid.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from bmnn_guard.scanner.safeio import file_type, open_directory

from ..errors import AgentError
from .heads import Excerpt, Head, Seen, follows, head_of, load_state, remember, seen_of_state
from .inspector import InspectorDir
from .messages import Problem
from .registry import Registry, learn
from .verify import Report, verify

VERDICT_RANK = {"NON_COMPLIANT": 0, "INCOMPLETE": 1, "COMPLIANT_WITH_EXCEPTIONS": 2, "COMPLIANT": 3, None: 1}
SEV_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
HEARTBEAT_SLACK_S = 180
MAX_DEPTH = 8
MAX_FILES = 100_000
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_NO_HEAD = Head(-1, "")


@dataclass
class Machine:
    """The review line of one file in the folder."""

    path: str
    valid: bool
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = "snapshot"
    """``snapshot``, or ``not_snapshot`` for a file that is none (listed, counted, never merged)."""
    problem_codes: list[str] = field(default_factory=list)
    """The problems' stable codes (``unknown_host``, ``rollback``...), for scripts."""
    warning_codes: list[str] = field(default_factory=list)
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
    key_fingerprint: Optional[str] = None
    key_status: Optional[str] = None
    """registered, rotated, new (--trust-new) or unknown."""
    head_seq: Optional[int] = None
    """The journal head the snapshot witnesses."""
    cosigner: Optional[dict] = None


@dataclass
class Review:
    """The whole review: every file, and what the inspector's directory learned from it."""

    machines: list[Machine]
    """Invalid files first, then machines worst first."""
    learned: list[str] = field(default_factory=list)
    """Keys registered by this review (rotations, --trust-new), one sentence each."""

    @property
    def files(self) -> int:
        return len(self.machines)

    @property
    def not_snapshots(self) -> int:
        return sum(1 for m in self.machines if m.kind == "not_snapshot")

    @property
    def invalid(self) -> int:
        return sum(1 for m in self.machines if not m.valid)


def _parse_time(s: Optional[str]) -> Optional[dt.datetime]:
    if not s:
        return None
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return None


def _usb_items(evidence) -> list[dict]:
    """The USB devices a failing check names in its evidence (items of fact ``devices.usb`` with
    an id): what the review lists as unapproved devices, whichever check named them."""
    if not isinstance(evidence, list):
        return []
    return [x for x in evidence if isinstance(x, dict) and x.get("fact") == "devices.usb"
            and (x.get("vendor_id") or x.get("product_id"))]


def summarize(rep: Report, path: str, now: dt.datetime, lang: str = "vi") -> Machine:
    """The review line of one verified snapshot (figures only when it is valid)."""
    m = _said(Machine(path=path, valid=rep.ok, kind=rep.kind), rep, lang)
    host = rep.manifest.get("host") or {}
    m.hostname, m.machine_id, m.created_at = host.get("hostname"), host.get("machine_id"), rep.manifest.get("created_at")
    m.key_fingerprint, m.key_status = rep.key.get("fingerprint"), rep.key.get("status")
    head = head_of(rep.manifest) if rep.manifest else None
    m.head_seq, m.cosigner = (head.seq if head else None), rep.cosigner
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
        if r.get("status") in ("fail", "waived"):
            for ev in _usb_items(r.get("evidence")):
                devices.add(f"{ev.get('vendor_id') or '?'}:{ev.get('product_id') or '?'}:{ev.get('serial') or ev.get('name') or '?'}")
    times = []
    for d in rep.records:
        m.journal_records += 1
        kind, cid = d.get("kind"), d.get("check_id") or ""
        if kind == "gap":
            m.gaps += 1
        items = (d.get("evidence") or {}).get("items", []) if isinstance(d.get("evidence"), dict) else []
        if kind == "violation" and any(isinstance(x, dict) and str(x.get("fact", "")).startswith("network.")
                                       for x in items if isinstance(items, list)):
            m.network_events += 1
        if kind == "violation":
            for ev in _usb_items(items):
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


def _said(m: Machine, rep: Report, lang: str) -> Machine:
    """Copy the report's verdict and messages into the review line."""
    m.valid = rep.ok
    m.problems, m.problem_codes = [p.get(lang) for p in rep.problems], [p.code for p in rep.problems]
    m.warnings, m.warning_codes = [p.get(lang) for p in rep.warnings], [p.code for p in rep.warnings]
    return m


@dataclass
class _Read:
    """One snapshot read in the first pass: its line, and only what ordering needs of it."""

    path: str
    rep: Report
    """The report, without its members and records once summarised."""
    machine: Machine
    excerpt: Excerpt


def _walk(dir_fd: int, prefix: str, depth: int) -> Iterator[tuple[str, Optional[int], Optional[str], Optional[Problem]]]:
    """(shown path, folder fd, name, why it is not read) for every entry that is not a folder,
    in name order, descending into folders without following a link."""
    with os.scandir(dir_fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        path = os.path.join(prefix, e.name)
        try:
            if e.is_dir(follow_symlinks=False):
                if depth >= MAX_DEPTH:
                    yield path, None, None, Problem.of("fleet_too_deep")
                    continue
                sub = open_directory(e.name, dir_fd=dir_fd)
                try:
                    yield from _walk(sub, path, depth + 1)
                finally:
                    os.close(sub)
            elif e.is_file(follow_symlinks=False):
                yield path, dir_fd, e.name, None
            else:
                st = e.stat(follow_symlinks=False)
                yield path, None, None, Problem.of("fleet_not_regular", type=file_type(st.st_mode))
        except OSError as exc:
            yield path, None, None, Problem.of("unreadable", detail=f"{path}: {exc.strerror}")


def _verify_all(directory: str, registry: Registry, trust_new: bool, now: dt.datetime, lang: str):
    """Every file below ``directory``: the snapshots read (summarised at once, so that only 32 bytes a
    journal record stay in memory), and lines for the files that were not."""
    try:  # the folder named on the command line may be a link; nothing inside it is followed
        top = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise AgentError(f"{directory}: {exc.strerror}", kind="io") from None
    read: list[_Read] = []
    unread: list[Machine] = []
    try:
        for n, (path, dir_fd, name, why) in enumerate(_walk(top, directory, 0)):
            if n >= MAX_FILES:
                raise AgentError(f"{directory}: more than {MAX_FILES} files; review smaller folders", kind="usage")
            if why is None:
                assert dir_fd is not None and name is not None
                try:
                    rep = verify(name, registry=registry, trust_new=trust_new, now=now, dir_fd=dir_fd, follow=False)
                except AgentError as exc:
                    why = Problem.of("unreadable", detail=f"{path}: {str(exc).removeprefix(name + ': ')}")
                else:
                    item = _Read(path, rep, summarize(rep, path, now, lang), Excerpt.of(rep.records))
                    rep.members, rep.records = {}, []
                    read.append(item)
                    continue
            unread.append(Machine(path=path, valid=False, kind="not_snapshot", problems=[why.get(lang)],
                                  problem_codes=["not_snapshot", why.code]))
    finally:
        os.close(top)
    return read, unread


def _order(read: list[_Read], registry: Registry, state: dict[str, dict]) -> dict[str, Seen]:
    """Check each host's snapshots in time order against what earlier reviews accepted and
    against each other; mark the ones that do not follow invalid. Returns what to remember."""
    view = Registry(dict(registry.entries))
    view.apply(c for r in read if r.rep.ok for c in r.rep.changes)
    groups: dict[str, list[_Read]] = {}
    for r in read:
        if r.rep.ok and r.rep.key.get("fingerprint"):
            groups.setdefault(view.lineage(r.rep.key["fingerprint"]), []).append(r)
    by_machine = {item.get("machine_id"): (hid, item) for hid, item in state.items() if item.get("machine_id")}
    accepted: dict[str, Seen] = {}
    latest: dict[str, Report] = {}
    for host_id, items in groups.items():
        items.sort(key=lambda r: (_parse_time(r.rep.manifest.get("created_at")) or _EPOCH,
                                  (head_of(r.rep.manifest) or _NO_HEAD).seq))
        stored = state.get(host_id)
        prior = seen_of_state(stored) if stored else None
        prior_stored = stored is not None
        if stored is None:
            mid = (items[0].rep.manifest.get("host") or {}).get("machine_id")
            other = by_machine.get(mid)
            if other is not None and other[0] != host_id:
                for r in items:
                    r.rep.warn("key_changed", machine_id=mid, other=other[1].get("fingerprint"),
                               date=other[1].get("accepted_at"))
        for r in items:
            rep, cur = r.rep, r.rep.seen(os.path.basename(r.path))
            if prior is not None:
                if prior_stored and cur.manifest_sha256 == prior.manifest_sha256:
                    rep.warn("already_accepted", date=stored.get("accepted_at"))
                    continue
                if cur.machine_id and prior.machine_id and cur.machine_id != prior.machine_id:
                    rep.fail("other_host", a=f"{prior.hostname} {prior.machine_id}", b=f"{cur.hostname} {cur.machine_id}")
                    continue
                problems, warnings = follows(prior, cur, r.excerpt)
                rep.warnings.extend(warnings)
                if problems:
                    rep.ok = False
                    rep.problems.extend(problems)
                    continue
            if host_id in accepted:
                latest[host_id].warn("superseded", other=os.path.basename(r.path))
            prior, prior_stored = cur, False
            accepted[host_id], latest[host_id] = cur, rep
    return accepted


def review(directory: str, *, now: Optional[dt.datetime] = None, lang: str = "vi",
           inspector: Optional[InspectorDir] = None, registry: Optional[Registry] = None,
           trust_new: bool = False) -> Review:
    """Every regular file below ``directory``, worst first, invalid ones and non-snapshots on top.

    Keys come from ``registry`` (default: the one in ``inspector``); with ``inspector`` the review
    also checks each host against the head accepted at the previous review and records the newest
    accepted head, and registers what it learned (rotations, ``--trust-new``) in the registry.
    """
    now = now or dt.datetime.now().astimezone()
    if registry is None:
        registry = Registry.load(inspector)
    read, machines = _verify_all(directory, registry, trust_new, now, lang)
    accepted = _order(read, registry, load_state(inspector))
    learned: list[str] = []
    if inspector is not None:
        learned = learn(inspector, [c for r in read if r.rep.ok for c in r.rep.changes], lang)
        remember(inspector, accepted, now)
    for r in read:  # ordering may have made a snapshot invalid: its figures are then dropped
        machines.append(_said(r.machine, r.rep, lang) if r.rep.ok else summarize(r.rep, r.path, now, lang))

    def key(m: Machine):
        worst = min((SEV_RANK.get(v["severity"], 9) for v in m.violations), default=9)
        return (m.valid, m.kind == "snapshot", VERDICT_RANK.get(m.verdict, 1), worst, -len(m.violations),
                -m.network_events, -m.gaps, -(m.downtime_hours or 0), -(m.age_days or 0), m.hostname or "", m.path)
    return Review(sorted(machines, key=key), learned)
