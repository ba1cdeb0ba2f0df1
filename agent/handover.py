"""The hand-over record: everything on this machine a person holds when they stop work, move or
retire, and later whether it has all come back.

What a person holds:

* **documents** — files bearing a secrecy stamp (and copies of marked-folder files) in their
  *personal areas*: their home, the files they own in /tmp, /var/tmp and /dev/shm, their removable
  media (registered to them with ``bmnn devices approve --holder``, mounted for them under
  /media/USER or /run/media/USER, or whose root they own) and the files they own on any other
  attached medium; and stamped documents in the marked folders that they own or wrote. Found by
  the content scan (one adapter, ``scan_documents``).
* **marked-folder files** they own (a fresh walk) or wrote (the journal's file records: the
  acting process where the daemon recorded one, else the owner at the time).
* **devices** registered to them in the approved-device registry.
* **open violations** tied to them: an item in their areas, on their device, or done by them.

Each file with path, level, size, SHA-256 and last change (local time), hashed through a
descriptor opened beneath its root without following links (``bmnn_guard.scanner.treewalk``). The record is
plain data; the CLI signs it (``bmnn_guard.agent.signed``). ``check`` compares the machine with a signed
record; ``record_destroyed`` journals a destruction so that ``check`` can count it.

Exit codes: 2 while a stamped document (or a copy of a marked-folder file) is in a personal area,
3 when none is but some file there could not be read (could not check is not clean), else 0.
"""

from __future__ import annotations

import datetime as dt
import os
import pwd
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .errors import AgentError
from .wording import said, words
from .records import FileEvent, acted_by, file_index, items_of, open_violations, plain_item, under, who

FORMAT = "bmnn-handover"
CHECK_FORMAT = "bmnn-handover-check"
VERSION = 1
TEMP_ROOTS = ("/tmp", "/var/tmp", "/dev/shm")
MEDIA_BASES = ("/media", "/run/media")
HASH_LIMIT = 1 << 30
HELD_VERDICTS = ("classified",)
EXIT_OK, EXIT_HOLDS, EXIT_INCOMPLETE = 0, 2, 3
OCCASIONS = ("leaving", "transfer", "retirement")
COMMITMENT_REFS = (("vn.law.117-2025-qh15", "5", "3"), ("vn.law.117-2025-qh15", "5", "4"),
                   ("vn.criminal-code.2015", "337", "1"), ("vn.criminal-code.2015", "338", "1"))
"""The provisions the commitment cites, in the order its text names them (all verified in the
shipped catalog: tests/agent/test_handover.py)."""
ITEM_KEYS = ("path", "level", "sha256", "copy_of", "on_removable", "in_marked_folder", "serial", "vendor_id",
             "product_id", "vendor", "product", "name", "mountpoint")


def shown(path: str) -> str:
    """A path that serialises: undecodable bytes of a name as \\xNN (never a crash in json)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


# ---------------------------------------------------------------- who and where


@dataclass(frozen=True)
class Person:
    """The person leaving, as the password database knows them."""

    name: str
    uid: int
    gid: int
    home: Optional[str]
    """Real path of the home directory; None when it does not exist or is ``/``."""
    full_name: Optional[str]
    """The GECOS name (first field), if any."""


def person(user: str, lang: str = "vi") -> Person:
    """The local user ``user`` (a name, or a number for an account already removed)."""
    from bmnn_guard.scanner.i18n import t
    try:
        pw = pwd.getpwnam(user)
    except KeyError:
        if not user.isdigit():
            raise AgentError(t("handover.no_user", lang, user=repr(user)), kind="usage") from None
        try:
            pw = pwd.getpwuid(int(user))
        except KeyError:
            return Person(user, int(user), -1, None, None)
    home = os.path.realpath(pw.pw_dir) if pw.pw_dir and os.path.isdir(pw.pw_dir) else None
    if home == "/":
        home = None
    gecos = (pw.pw_gecos or "").split(",")[0].strip() or None
    return Person(pw.pw_name, pw.pw_uid, pw.pw_gid, home, gecos)


def owner_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


@dataclass(frozen=True)
class Medium:
    """A mounted removable medium and whether it is the person's."""

    mountpoint: str
    device: Optional[str]
    serial: Optional[str]
    label: Optional[str]
    why: tuple[str, ...]
    """Why it is theirs: registered, mounted_for_user, owned_by_user; empty when it is not."""

    @property
    def theirs(self) -> bool:
        return bool(self.why)


@dataclass(frozen=True)
class Areas:
    """Where a person's things are looked for."""

    home: Optional[str]
    home_owned: bool
    """The home belongs to them (else only their own files in it count)."""
    temp: tuple[str, ...]
    media: tuple[Medium, ...]
    marked: tuple[str, ...]

    def personal_roots(self) -> list[str]:
        return [r for r in ([self.home] + list(self.temp) + [m.mountpoint for m in self.media]) if r]

    def medium_of(self, path: str) -> Optional[Medium]:
        best = None
        for m in self.media:
            if under(path, [m.mountpoint]) and (best is None or len(m.mountpoint) > len(best.mountpoint)):
                best = m
        return best


def find_media(p: Person, devices, registered: Sequence[Any]) -> tuple[Medium, ...]:
    """The mounted removable media and which of them are ``p``'s."""
    from bmnn_guard.scanner.media import is_medium
    serials = {d.serial for d in registered}
    out = []
    for b in devices.block:
        if not is_medium(b):
            continue
        for mp in b.mountpoints:
            if not os.path.isdir(mp):
                continue
            why = []
            if b.serial and b.serial in serials:
                why.append("registered")
            if any(under(mp, [f"{base}/{p.name}"]) for base in MEDIA_BASES):
                why.append("mounted_for_user")
            try:
                if os.lstat(mp).st_uid == p.uid:
                    why.append("owned_by_user")
            except OSError:
                pass
            out.append(Medium(os.path.realpath(mp), b.devnode, b.serial, b.fs_label, tuple(why)))
    return tuple(out)


def areas(p: Person, media: tuple[Medium, ...], marked: Iterable[str], temp_roots: Sequence[str] = TEMP_ROOTS) -> Areas:
    owned = False
    if p.home:
        try:
            owned = os.lstat(p.home).st_uid == p.uid
        except OSError:
            owned = False
    temp = tuple(os.path.realpath(t) for t in temp_roots if os.path.isdir(t))
    return Areas(p.home, owned, temp, media, tuple(os.path.realpath(m) for m in marked if os.path.isdir(m)))


# ---------------------------------------------------------------- reading files


def local_iso(ts: float, tz: dt.tzinfo) -> str:
    return dt.datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def file_facts(path: str, roots: Sequence[str], tz: dt.tzinfo) -> dict[str, Any]:
    """Size, owner, last change and SHA-256 of ``path``, read beneath the root it is in without
    following links; ``error`` says why not."""
    from bmnn_guard.scanner.safeio import NotRegular, hash_fd
    from bmnn_guard.scanner.treewalk import open_beneath, root_of
    root = root_of(path, roots)
    try:
        if root is None or root == path:
            raise ValueError("not inside a scanned area")
        opened = open_beneath(root, path)
    except (OSError, ValueError) as exc:
        return {"error": getattr(exc, "strerror", None) or str(exc)}
    if isinstance(opened, NotRegular):
        return {"error": f"not a regular file ({opened.type})"}
    with opened:
        st = opened.stat
        out: dict[str, Any] = {"size": st.st_size, "uid": st.st_uid, "owner": owner_name(st.st_uid),
                               "modified": local_iso(st.st_mtime, tz), "links": st.st_nlink}
        try:
            d = hash_fd(opened.fd, st.st_size, limit=HASH_LIMIT)
        except OSError as exc:
            out["error"] = exc.strerror
            return out
        out["sha256"] = d.sha256
        if d.note:
            out["note"] = d.note
        return out


def scan_documents(paths: Sequence[str], *, marked: Sequence[str], removable: Sequence[str],
                   progress: Optional[Callable[[int, int], None]] = None):
    """The one call into the content scanner (``bmnn_guard.scanner.content``, being reworked on its own
    branch): DocumentFacts for ``paths`` (marked folders walked too, for their stamps and the copy
    index). ``progress(files_done, files_total)``."""
    from bmnn_guard.scanner.content.scan import scan_paths
    cb = None if progress is None else (lambda p: progress(p.files_done, p.files_total))
    return scan_paths(list(paths), marked_folders=list(marked), removable_mounts=list(removable), progress=cb)


# ---------------------------------------------------------------- collecting


@dataclass
class Holdings:
    """What a person holds on this machine now (the body of a record, or of a check)."""

    person: Person
    areas: Areas
    documents: list[dict] = field(default_factory=list)
    marked_files: list[dict] = field(default_factory=list)
    devices: list[dict] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    skipped: int = 0
    files_scanned: int = 0
    roots: tuple[str, ...] = ()
    journal: dict = field(default_factory=dict)
    destroyed: list[FileEvent] = field(default_factory=list)
    host: dict = field(default_factory=dict)
    registered: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _owned_files(root: str, uid: int, notes) -> list[str]:
    from bmnn_guard.scanner.treewalk import walk
    return [path for path, _ in walk(root, notes, want=lambda st: st.st_uid == uid)]


def _journal_pass(journal_path: str, roots: Sequence[str]):
    """The journal's file index for ``roots``, open violations and destruction records (two
    streaming reads, never the whole journal in memory)."""
    from .journal import Journal
    from .records import file_event
    if not os.path.exists(journal_path):
        return {}, [], []
    destroyed: list[FileEvent] = []

    def files(j):
        for r in j.records(kinds=("file",)):
            if isinstance(r.evidence, Mapping) and r.evidence.get("event") == "destroyed":
                fe = file_event(r)
                if fe is not None:
                    destroyed.append(fe)
            yield r

    with Journal.open(journal_path, readonly=True) as j:
        index = file_index(files(j), roots)
        violations = open_violations(j.records(kinds=("violation", "cleared", "ack")))
    return index, violations, destroyed


def collect(p: Person, *, config_dir: str, journal_path: str, marked: Sequence[str], tz: dt.tzinfo,
            progress: Optional[Callable[[int, int], None]] = None, facts=None,
            temp_roots: Sequence[str] = TEMP_ROOTS) -> Holdings:
    """Look at the machine for ``p``. ``facts``: host and devices facts already collected;
    ``temp_roots``: the shared temporary folders (tests give their own)."""
    from bmnn_guard.scanner import registry
    from bmnn_guard.scanner.collect import collect_all
    from bmnn_guard.scanner.treewalk import WalkNotes
    from .records import journal_state
    if facts is None:
        facts = collect_all(domains=("host", "devices"))
    registered = [d for d in registry.load(config_dir) if getattr(d, "holder", None) == p.name]
    media = find_media(p, facts.devices, registered)
    ar = areas(p, media, marked, temp_roots)
    notes = WalkNotes()
    paths: list[str] = []
    if ar.home:
        paths += [ar.home] if ar.home_owned else _owned_files(ar.home, p.uid, notes)
    for t in ar.temp:
        paths += _owned_files(t, p.uid, notes)
    for m in ar.media:
        paths += [m.mountpoint] if m.theirs else _owned_files(m.mountpoint, p.uid, notes)
    removable = [m.mountpoint for m in media]
    docs = scan_documents(paths, marked=ar.marked, removable=removable, progress=progress) if (paths or ar.marked) \
        else None
    roots = ar.personal_roots() + list(ar.marked)
    index, violations, destroyed = _journal_pass(journal_path, roots)
    h = Holdings(p, ar, journal=journal_state(journal_path), destroyed=destroyed, registered=registered,
                 host={"hostname": facts.host.hostname or os.uname().nodename, "machine_id": facts.host.machine_id})
    h.skipped = len(notes.skipped) + (len(docs.skipped) if docs else 0)
    for path, why in notes.errors:
        if not under(path, ar.marked):
            h.unreadable.append({"path": shown(path), "error": why})
    if notes.truncated:
        h.unreadable.append({"path": None, "error": "walk stopped at its entry limit: not every file was looked at"})
    if docs is not None:
        h.files_scanned, h.roots = docs.files_scanned, tuple(docs.roots)
        _documents(h, docs, index, tz)
    _marked_files(h, index, {f["path"]: f for f in h.documents if f["area"] == "marked"}, tz)
    _devices(h, facts.devices, registered)
    _violations(h, violations)
    return h


def _area(h: Holdings, path: str, in_marked: Optional[bool]) -> tuple[str, Optional[Medium]]:
    ar = h.areas
    if in_marked or under(path, ar.marked):
        return "marked", None
    m = ar.medium_of(path)
    if m is not None:
        return "media", m
    if ar.home and under(path, [ar.home]):
        return "home", None
    if under(path, ar.temp):
        return "temp", None
    return "other", None


def _documents(h: Holdings, docs, index: Mapping[str, FileEvent], tz) -> None:
    p, roots = h.person, h.areas.personal_roots() + list(h.areas.marked)
    for f in docs.findings:
        area, medium = _area(h, f.path, f.in_marked_folder)
        meta = file_facts(f.path, roots, tz)
        je = index.get(f.path)
        mine = meta.get("uid") == p.uid or (je is not None and je.by(p.name, p.uid))
        if area == "marked" and not mine:
            continue  # a stamped document in a shared marked folder is not theirs unless they own or wrote it
        if area == "media" and not (medium.theirs or mine):
            continue
        held = f.verdict in HELD_VERDICTS or bool(f.copy_of)
        entry = {"path": f.path, "area": area, "personal": area != "marked", "verdict": f.verdict, "level": f.level,
                 "held": held, "copy_of": f.copy_of, "medium": medium.mountpoint if medium else None,
                 "size": meta.get("size", f.size), "sha256": meta.get("sha256") or f.sha256 or None,
                 "modified": meta.get("modified"), "owner": meta.get("owner") or (je.owner if je else None),
                 **_who(je, meta.get("owner")), "error": meta.get("error"), "note": meta.get("note"),
                 "links": meta.get("links"), "journal_seq": je.seq if je else None}
        h.documents.append(entry)
    for e in docs.errors:
        area, _ = _area(h, e.source, None)
        if area != "marked":
            h.unreadable.append({"path": e.source, "error": e.message})
    h.documents.sort(key=lambda d: (not d["personal"], d["area"], d["path"]))


def _who(je: Optional[FileEvent], owner: Optional[str]) -> dict[str, Any]:
    w = who({"actor": je.actor} if je and je.actor else {}, owner or (je.owner if je else None))
    return {"actor": w["actor"], "actor_recorded": w["actor_recorded"]}


def _marked_files(h: Holdings, index: Mapping[str, FileEvent], stamped: Mapping[str, dict], tz) -> None:
    from bmnn_guard.scanner.treewalk import WalkNotes, walk
    p = h.person
    found: dict[str, dict] = {}
    for root in h.areas.marked:
        notes = WalkNotes()
        for path, st in walk(root, notes, want=lambda st: st.st_uid == p.uid):
            found[shown(path)] = {"source": ["walk"]}
        if notes.truncated:
            h.notes.append(f"{shown(root)}: walk stopped at its entry limit: not every file was looked at")
    for path, je in index.items():
        if under(path, h.areas.marked) and je.by(p.name, p.uid):
            found.setdefault(path, {"source": []})["source"].append("journal")
    for path in sorted(found):
        je = index.get(path)
        meta = file_facts(path, h.areas.marked, tz)
        present = "error" not in meta or meta.get("size") is not None
        doc = stamped.get(path) or {}
        h.marked_files.append({
            "path": path, "present": present, "source": found[path]["source"], "level": doc.get("level"),
            "verdict": doc.get("verdict"), "size": meta.get("size", je.size if je else None),
            "sha256": meta.get("sha256") if present else (je.sha256 if je else None),
            "modified": meta.get("modified"), "owner": meta.get("owner") or (je.owner if je else None),
            **_who(je, meta.get("owner")), "error": None if present else meta.get("error"),
            "links": meta.get("links"), "journal": {"seq": je.seq, "time": je.time, "event": je.event} if je else None})


def _devices(h: Holdings, devices, registered) -> None:
    for d in registered:
        blocks = [b for b in devices.block if b.serial and b.serial == d.serial]
        usb = [u for u in devices.usb if u.serial == d.serial]
        h.devices.append({"label": d.label, "vendor_id": d.vendor_id, "product_id": d.product_id, "serial": d.serial,
                          "kind": d.kind, "approved_by": d.approved_by, "approved_at": d.approved_at,
                          "reference": d.reference, "attached": bool(blocks or usb),
                          "mountpoints": sorted({mp for b in blocks for mp in b.mountpoints})})


def _violations(h: Holdings, violations) -> None:
    p, ar = h.person, h.areas
    personal = ar.personal_roots()
    serials = {d.serial for d in h.registered}
    for v in violations:
        why, items = set(), []
        if acted_by(v.evidence, p.name, p.uid):
            why.add("actor")
        for item in items_of(v.evidence):
            hit = set()
            paths = [x for x in (item.get("path"), item.get("dest")) if isinstance(x, str)]
            if any(under(x, personal) for x in paths):
                hit.add("area")
            if item.get("serial") in serials:
                hit.add("device")
            if acted_by(item, p.name, p.uid):
                hit.add("actor")
            for x in paths:
                try:
                    if os.lstat(x).st_uid == p.uid:
                        hit.add("owner")
                except (OSError, ValueError):
                    pass
            if hit:
                why |= hit
                items.append(plain_item(item, ITEM_KEYS))
        if why:
            h.violations.append({"seq": v.seq, "time": v.time, "check_id": v.check_id, "severity": v.severity,
                                 "message": v.message, "words": words(v.message, v.evidence, "violation"),
                                 "acknowledged": v.acknowledged, "why": sorted(why),
                                 "items": items})


# ---------------------------------------------------------------- the record


def summary(h: Holdings) -> dict[str, Any]:
    personal = [d for d in h.documents if d["personal"]]
    held = [d for d in personal if d["held"]]
    review = [d for d in personal if not d["held"] and d["verdict"] == "review"]
    verdict = "holds" if held else "incomplete" if h.unreadable else "clear"
    return {"held_personal": len(held), "review_personal": len(review), "stamped_marked":
            sum(1 for d in h.documents if d["area"] == "marked" and d["held"]),
            "marked_files": len(h.marked_files), "devices": len(h.devices), "violations": len(h.violations),
            "unreadable": len(h.unreadable), "verdict": verdict}


EXIT_BY_VERDICT = {"holds": EXIT_HOLDS, "incomplete": EXIT_INCOMPLETE, "clear": EXIT_OK}


def commitment(bundle, day: dt.date, occasion: Optional[str], name: str) -> dict[str, Any]:
    """The commitment the person signs, in both languages, citing only COMMITMENT_REFS as the
    catalog renders them (a citation the catalog does not back carries "(chưa xác minh)")."""
    from bmnn_guard.policies.citation import resolve
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.policyview import ref_document

    class _Ref:
        def __init__(self, source, article, clause):
            self.source, self.article, self.clause = source, article, clause

    out: dict[str, Any] = {}
    for lang in ("vi", "en"):
        cites = [resolve(bundle.sources, s, a, c, lang, day=day).label for s, a, c in COMMITMENT_REFS]
        when = t(f"handover.occasion.{occasion}" if occasion else "handover.occasion.any", lang)
        out[lang] = t("handover.commitment", lang, name=name, occasion=when, cite_disclose=cites[0],
                      cite_copy=cites[1], cite_337=cites[2], cite_338=cites[3])
    out["legal_refs"] = [ref_document(bundle, _Ref(s, a, c), day) for s, a, c in COMMITMENT_REFS]
    return out


def record(h: Holdings, *, bundle, tailoring, now: dt.datetime, tz_name: str, number: Optional[str],
           occasion: Optional[str], receiver: Optional[str], officer: Optional[str],
           full_name: Optional[str]) -> dict[str, Any]:
    """The unsigned record (see docs/handover-incident.md for every field)."""
    from bmnn_guard.scanner.document import TOOL_NAME, tool_version
    p, ar = h.person, h.areas
    rec = tailoring.record
    name = full_name or p.full_name or p.name
    return {
        "format": FORMAT, "version": VERSION, "number": number, "created_at": now.isoformat(timespec="seconds"),
        "timezone": tz_name, "tool": {"name": TOOL_NAME, "version": tool_version()}, "host": h.host,
        "unit": tailoring.unit,
        "record": {"parent_unit": getattr(rec, "parent_unit", None), "place": getattr(rec, "place", None),
                   "head_of_unit": getattr(rec, "head_of_unit", None)},
        "occasion": occasion,
        "people": {"leaving": name, "receiver": receiver,
                   "security_officer": officer or getattr(rec, "security_officer", None)},
        "user": {"name": p.name, "uid": p.uid, "gid": p.gid, "home": shown(p.home) if p.home else None,
                 "full_name": p.full_name},
        "areas": {"home": shown(ar.home) if ar.home else None, "home_owned": ar.home_owned,
                  "temp": [shown(t) for t in ar.temp], "marked_folders": [shown(m) for m in ar.marked],
                  "media": [{"mountpoint": shown(m.mountpoint), "device": m.device, "serial": m.serial,
                             "label": m.label, "theirs": m.theirs, "why": list(m.why)} for m in ar.media]},
        "documents": h.documents, "marked_files": h.marked_files, "devices": h.devices, "violations": h.violations,
        "unreadable": h.unreadable, "notes": h.notes,
        "scan": {"files_scanned": h.files_scanned, "skipped": h.skipped, "roots": [shown(r) for r in h.roots]},
        "journal": h.journal, "policy_bundle": {"sha256": bundle.sha256},
        "commitment": commitment(bundle, now.date(), occasion, name),
        "summary": summary(h),
    }


# ---------------------------------------------------------------- comparing with a record


def _marked_hashes(h: Holdings, sizes: set[int], tz) -> dict[str, str]:
    """sha256 -> a marked-folder path holding it, hashing only files of a wanted size."""
    from bmnn_guard.scanner.treewalk import WalkNotes, walk
    out: dict[str, str] = {}
    for root in h.areas.marked:
        for path, st in walk(root, WalkNotes(), want=lambda st: st.st_size in sizes):
            meta = file_facts(path, h.areas.marked, tz)
            if meta.get("sha256"):
                out.setdefault(meta["sha256"], shown(path))
    return out


def _after(t: Optional[str], since: dt.datetime) -> bool:
    from bmnn_guard.scanner.localtime import parse
    x = parse(t)
    return x is not None and x > since


def compare(rec: dict, now: Holdings, *, tz) -> dict[str, Any]:
    """Each personal document of ``rec`` with its fate: remains, recovered (where), destroyed
    (which journal record), missing, or unknown (its medium is not attached); plus the stamped
    documents in the personal areas that the record does not list."""
    from bmnn_guard.scanner.localtime import parse
    made = parse(rec.get("created_at")) or dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    current = {d["path"]: d for d in now.documents if d["personal"] and d["held"]}
    current_sha = {d["sha256"]: d for d in current.values() if d.get("sha256")}
    recorded = [d for d in rec.get("documents") or [] if isinstance(d, dict) and d.get("personal") and d.get("held")]
    sizes = {d["size"] for d in recorded if isinstance(d.get("size"), int)}
    in_marked = _marked_hashes(now, sizes, tz)
    destroyed = {fe.sha256: fe for fe in now.destroyed if fe.sha256 and _after(fe.time, made)}
    attached = {m.mountpoint for m in now.areas.media}
    items = []
    for d in recorded:
        sha, path = d.get("sha256"), d.get("path")
        entry = {"path": path, "level": d.get("level"), "sha256": sha, "area": d.get("area"), "medium": d.get("medium")}
        if path in current and (not sha or current[path].get("sha256") in (sha, None)):
            entry.update(status="remains", where=path)
        elif sha and sha in current_sha:
            entry.update(status="remains", where=current_sha[sha]["path"])
        elif path in current:
            entry.update(status="remains", where=path, note="changed")
        elif sha and sha in in_marked:
            entry.update(status="recovered", where=in_marked[sha])
        elif sha and sha in destroyed:
            fe = destroyed[sha]
            entry.update(status="destroyed", journal_seq=fe.seq, time=fe.time)
        elif d.get("area") == "media" and d.get("medium") not in attached:
            entry.update(status="unknown", note="medium_absent")
        elif not sha:
            entry.update(status="unknown", note="no_hash")
        else:
            entry.update(status="missing")
        items.append(entry)
    listed = {i.get("where") for i in items if i["status"] == "remains"}
    new = [{"path": d["path"], "level": d["level"], "sha256": d.get("sha256"), "area": d["area"], "status": "new"}
           for p_, d in sorted(current.items()) if p_ not in listed]
    counts = {s: sum(1 for i in items if i["status"] == s) for s in ("remains", "recovered", "destroyed", "missing",
                                                                       "unknown")}
    counts["new"] = len(new)
    if counts["remains"] or counts["new"] or counts["missing"]:
        verdict = "holds"
    elif counts["unknown"] or now.unreadable:
        verdict = "incomplete"
    else:
        verdict = "clear"
    return {"items": items, "new": new, "counts": counts, "unreadable": now.unreadable, "verdict": verdict}


def check_document(rec: dict, result: dict, h: Holdings, *, now: dt.datetime, verification) -> dict[str, Any]:
    """The comparison as a document that can be signed and kept (``--check --output``)."""
    from bmnn_guard.scanner.document import TOOL_NAME, tool_version
    return {"format": CHECK_FORMAT, "version": VERSION, "created_at": now.isoformat(timespec="seconds"),
            "tool": {"name": TOOL_NAME, "version": tool_version()}, "host": h.host,
            "user": {"name": h.person.name, "uid": h.person.uid},
            "record": {"number": rec.get("number"), "created_at": rec.get("created_at"),
                       "digest": verification.digest, "fingerprint": verification.fingerprint},
            **result}


# ---------------------------------------------------------------- destruction


def record_destroyed(journal_path: str, p: Person, path: str, *, reason: str, minutes: Optional[str],
                     rec: Optional[dict], tz, now: Optional[dt.datetime] = None, lang: str = "vi") -> dict[str, Any]:
    """Journal that ``path`` (held by ``p``) was destroyed: a ``file`` record with the event
    ``destroyed``, its SHA-256 (read from the file if it is still there, else from ``rec``), the
    reason, the destruction minutes' number and who ran the command. ``check`` then counts the
    document as destroyed once it is gone from the personal areas; the record does not delete the
    file (destruction that leaves nothing recoverable is the officer's job, with its minutes)."""
    from bmnn_guard.scanner.i18n import t
    from .journal import Journal, iso
    if not reason.strip():
        raise AgentError(t("handover.need_reason", lang), kind="usage")
    full = os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(path))), os.path.basename(path))
    meta: dict[str, Any] = {}
    if os.path.lexists(path):
        meta = file_facts(full, [os.path.dirname(full)], tz)
        if meta.get("error"):
            raise AgentError(f"{path}: {meta['error']}", kind="usage")
    listed = None
    if rec is not None:
        listed = next((d for d in rec.get("documents") or [] if isinstance(d, dict) and d.get("path") in (path, full)),
                      None)
    sha = meta.get("sha256") or (listed or {}).get("sha256")
    if not sha:
        raise AgentError(t("handover.no_hash", lang, path=path), kind="usage")
    sudo = os.environ.get("SUDO_USER")
    evidence = {"event": "destroyed", "path": shown(full), "sha256": sha, "size": meta.get("size", (listed or {}).get("size")),
                "level": (listed or {}).get("level"), "holder": p.name, "reason": reason[:2000],
                "minutes": minutes, "by": {"uid": os.getuid(), "user": owner_name(os.getuid()),
                                           **({"sudo_user": sudo[:64]} if sudo else {})},
                "still_present": os.path.lexists(path)}
    with Journal.open(journal_path) as j:
        rec_ = j.append("file", evidence=evidence, **said("record.msg.destroyed", path=shown(full), user=p.name, note=reason[:200]),
                        time=iso(now) if now is not None else None)
    return {"seq": rec_.seq, "time": rec_.time, **evidence}
