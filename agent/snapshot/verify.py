"""`bmnn snapshot verify`: check a snapshot without trusting the machine that made it.

Checks, in order: the file is a regular file, a tar archive and a snapshot at all; the manifest is
canonical and signed by the key in ``host.pub``; that key is one the inspector registered (or the
one pinned with ``--pubkey``, or one a registered key handed over to in a signed rotation
statement, or — with ``--trust-new`` — a new key the inspector accepts now), it was valid when the
snapshot was made and not retired before; every member's hash and size match the manifest and
nothing is missing or added; the journal excerpt is an unbroken hash chain ending at the head the
manifest witnesses, and the host's own verification of its whole journal passed; a co-signature
verifies, and is called genuine only for a registered inspector key; with ``--previous``, both
snapshots come from the same host (machine id and key lineage), this one is later and its
journal extends the previous head (``heads.follows``). Every mismatch is reported, not just the
first.

What the checks cannot prove is in docs/inspection.md: above all, whoever holds the host key (root
on the host) can sign anything, so a snapshot proves what the host's root let it say, and its
continuity with the snapshots before it.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from cryptography.exceptions import InvalidSignature

from .. import keys
from ..errors import AgentError
from . import FORMAT, READABLE_VERSIONS, VERSION, archive
from .heads import Excerpt, Seen, follows, head_of, seen_from
from .manifest import SIGNATURE_MEMBERS, canonical
from .messages import Problem
from .registry import Change, Entry, Registry, normalise

MAX_CHAIN = keys.MAX_ROTATIONS


@dataclass
class Report:
    """Outcome of verifying one snapshot."""

    path: str
    ok: bool = True
    kind: str = "snapshot"
    """``snapshot``, or ``not_snapshot`` for a file that is none at all (not a tar, no manifest)."""
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    """What was proven, for the reader (registered key, verified co-signer)."""
    manifest: dict = field(default_factory=dict)
    mbytes: bytes = b""
    members: dict[str, bytes] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)
    key: dict = field(default_factory=dict)
    """``status`` (registered, rotated, pinned, new, unknown), ``fingerprint``, ``label``."""
    cosigner: Optional[dict] = None
    """``verified`` tells a registered inspector key from a name the snapshot merely claims."""
    changes: list[Change] = field(default_factory=list)
    """What the registry learns from this snapshot; the caller applies it only when ``ok``."""

    def fail(self, code: str, **kw: Any) -> None:
        self.ok = False
        self.problems.append(Problem.of(code, **kw))

    def warn(self, code: str, **kw: Any) -> None:
        self.warnings.append(Problem.of(code, **kw))

    def note(self, code: str, **kw: Any) -> None:
        self.notes.append(Problem.of(code, **kw))

    def seen(self, where: Optional[str] = None) -> Seen:
        """This snapshot as the earlier one of a later check."""
        return seen_from(self.manifest, self.mbytes, where or self.path)

    def to_dict(self, lang: str = "vi") -> dict[str, Any]:
        m = self.manifest
        head = head_of(m) if m else None

        def listed(items: list[Problem]) -> list[dict]:
            return [{"code": p.code, "message": p.get(lang)} for p in items]
        return {"path": self.path, "valid": self.ok, "kind": self.kind, "problems": listed(self.problems),
                "warnings": listed(self.warnings), "notes": listed(self.notes), "host": m.get("host"),
                "created_at": m.get("created_at"), "format_version": m.get("version"),
                "key_fingerprint": (m.get("key") or {}).get("fingerprint"), "key": self.key or None,
                "journal": m.get("journal"), "head": head.__dict__ if head else None,
                "verdict": m.get("verdict"), "cosigner": self.cosigner}


def _date(s: Any) -> Optional[dt.date]:
    if not isinstance(s, str) or not s:
        return None
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        return None


def _time(s: Any) -> Optional[dt.datetime]:
    if not isinstance(s, str):
        return None
    try:
        t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def verify(path: str, *, registry: Optional[Registry] = None, pubkey: Optional[bytes] = None,
           previous: Optional[str] = None, previous_pubkey: Optional[bytes] = None, trust_new: bool = False,
           now: Optional[dt.datetime] = None, dir_fd: Optional[int] = None, follow: bool = True) -> Report:
    """Verify ``path`` against ``registry`` (an empty one when None: every key is unknown unless
    pinned); with ``previous`` also the order and continuity from that earlier snapshot.

    Raises AgentError (kind ``io``/``forbidden``) when the file cannot be opened at all — missing,
    unreadable, not a regular file —, which is "could not check", not "invalid". ``dir_fd`` and
    ``follow=False`` open ``path`` relative to a directory without following a link (report fleet).
    """
    registry = registry if registry is not None else Registry()
    now = now or dt.datetime.now().astimezone()
    rep = Report(path)
    try:
        members = archive.read(path, dir_fd=dir_fd, follow=follow)
    except archive.NotASnapshot as exc:
        rep.kind = "not_snapshot"
        rep.fail("not_snapshot", detail=str(exc).removeprefix(f"{path}: "))
        return rep
    except AgentError as exc:
        if exc.kind in ("io", "forbidden"):
            raise
        rep.fail("unreadable", detail=str(exc))
        return rep
    rep.members = members
    rep.mbytes = mbytes = members["manifest.json"]
    try:
        manifest = json.loads(mbytes)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT}")
        if not isinstance(manifest.get("version"), int):
            raise ValueError("no format version")
    except (ValueError, UnicodeDecodeError) as exc:
        rep.fail("bad_manifest", detail=str(exc)[:200])
        return rep
    rep.manifest = manifest
    if manifest["version"] not in READABLE_VERSIONS:
        rep.fail("format_new", version=manifest["version"], current=VERSION)
        return rep
    if manifest["version"] < VERSION:
        rep.warn("format_old", version=manifest["version"], current=VERSION)
    if canonical(manifest) != mbytes:
        rep.fail("manifest_not_canonical")
    fp = _check_signature(rep, members, mbytes, manifest, pubkey)
    _check_members(rep, members, manifest)
    _check_journal(rep, members, manifest)
    if fp is not None:
        statements = _rotations(rep, members)
        _judge_key(rep, registry, fp, pubkey is not None, statements, trust_new, now)
        _check_retired_by_snapshot(rep, fp, statements)
    _check_cosign(rep, members, mbytes, registry)
    if previous:
        _check_previous(rep, previous, registry, previous_pubkey or pubkey, trust_new, now)
    return rep


def _check_signature(rep: Report, members, mbytes, manifest, pubkey) -> Optional[str]:
    """The signing key's fingerprint when the signature verifies, else None."""
    pem, sig = members.get("host.pub"), members.get("manifest.sig")
    if pem is None or sig is None:
        rep.fail("no_signature")
        return None
    try:
        pub = keys.load_public(pem)
    except AgentError as exc:
        rep.fail("bad_key", detail=str(exc))
        return None
    fp = keys.fingerprint(pub)
    if (manifest.get("key") or {}).get("fingerprint") != fp:
        rep.fail("key_mismatch")
    if pubkey is not None:
        pinned = keys.fingerprint(keys.load_public(pubkey))
        if pinned != fp:
            rep.fail("wrong_key", fingerprint=fp, pinned=pinned)
    try:
        pub.verify(sig, mbytes)
    except InvalidSignature:
        rep.fail("bad_signature")
        return None
    key = manifest.get("key") or {}
    created = _date(manifest.get("created_at"))
    if created and _date(key.get("not_after")) and created > _date(key["not_after"]):
        rep.fail("key_expired", date=key["not_after"])
    if created and _date(key.get("created_at")) and created < _date(key["created_at"]):
        rep.fail("key_not_yet_valid")
    return fp


def _check_members(rep: Report, members, manifest) -> None:
    table = manifest.get("members") or {}
    if not isinstance(table, dict):
        table = {}
    for name, meta in sorted(table.items()):
        data = members.get(name)
        if data is None:
            rep.fail("member_missing", name=name)
            continue
        digest = hashlib.sha256(data).hexdigest()
        expected = meta.get("sha256") if isinstance(meta, dict) else None
        if digest != expected or len(data) != meta.get("size"):
            rep.fail("member_altered", name=name, actual=digest[:16], expected=str(expected)[:16])
    for name in sorted(set(members) - set(table) - set(SIGNATURE_MEMBERS)):
        rep.fail("member_added", name=name)


def _check_journal(rep: Report, members, manifest) -> None:
    meta = manifest.get("journal") or {}
    _check_excerpt(rep, members, meta, head_of(manifest))
    if not meta.get("present"):
        rep.warn("no_journal")
        return
    try:
        hv = json.loads(members.get("journal-verify.json", b"null"))
    except ValueError:
        hv = None
    if not isinstance(hv, dict) or "ok" not in hv:
        rep.fail("host_journal_unknown")
    elif not hv.get("ok"):
        rep.fail("host_journal_bad", reason=hv.get("reason"), seq=hv.get("first_bad_seq"))
    elif not hv.get("mac_checked"):
        rep.note("host_journal_chain_only")


def _check_excerpt(rep: Report, members, meta, head) -> None:
    """journal.ndjson: one unbroken hash chain from the manifest's ``prev_hash`` to its head."""
    from ..journal import Record
    body = members.get("journal.ndjson", b"")
    records = []
    for i, line in enumerate(body.decode("utf-8", "replace").splitlines(), 1):
        try:
            d = json.loads(line)
            if not isinstance(d, dict):
                raise ValueError("not an object")
            records.append(d)
        except ValueError:
            rep.fail("journal_line", line=i)
            return
    rep.records = records
    if meta.get("present") and head is None:
        rep.fail("journal_head")
    prev = meta.get("prev_hash")
    expected_seq = meta.get("first_seq")
    for d in records:
        try:
            rec = Record.from_dict(d)
            actual = hashlib.sha256(rec.signed_bytes()).hexdigest()
        except Exception:
            rep.fail("journal_record", seq=d.get("seq"))
            return
        if expected_seq is not None and rec.seq != expected_seq:
            rep.fail("journal_gap", first=expected_seq, last=rec.seq - 1)
            return
        if rec.prev_hash != prev:
            rep.fail("journal_link", seq=rec.seq)
            return
        if actual != rec.hash:
            rep.fail("journal_record_altered", seq=rec.seq)
            return
        prev = rec.hash
        expected_seq = rec.seq + 1
    if records and (prev != meta.get("head_hash") or (head is not None and (head.seq, head.hash) != (records[-1]["seq"], prev))):
        rep.fail("journal_head")
    if len(records) != (meta.get("count") or 0):
        rep.fail("journal_count")


def _rotations(rep: Report, members) -> list[keys.Rotation]:
    """The rotation statements in the snapshot whose signature by the old key verifies."""
    raw = members.get("rotations.json")
    if raw is None:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        items = None
    if not isinstance(items, list):
        rep.warn("rotation_invalid", index=0, detail="rotations.json is not a JSON list")
        return []
    out = []
    for i, item in enumerate(items[:MAX_CHAIN], 1):
        try:
            out.append(keys.check_rotation(item))
        except AgentError as exc:
            rep.warn("rotation_invalid", index=i, detail=str(exc))
    return out


def _judge_key(rep: Report, registry: Registry, fp: str, pinned: bool, statements: list[keys.Rotation],
               trust_new: bool, now: dt.datetime) -> None:
    """Is the signing key one the inspector believes? Sets ``rep.key`` and the registry changes."""
    created = _time(rep.manifest.get("created_at"))
    hostname = (rep.manifest.get("host") or {}).get("hostname")
    entry = registry.get(fp)
    if entry is not None:
        if entry.role != "host":
            rep.key = {"status": "unknown", "fingerprint": fp}
            rep.fail("key_is_inspector", fingerprint=fp)
            return
        retired = _time(entry.retired_at)
        if retired is not None and (created is None or created >= retired):
            rep.fail("key_retired", date=entry.retired_at, current=entry.retired_by)
        rep.key = {"status": "registered", "fingerprint": fp, "label": entry.label}
        rep.note("key_registered", label=entry.label or "?", fingerprint=fp)
        return
    chain = _chain_to(registry, fp, statements)
    if chain:
        _accept_rotation(rep, registry, fp, chain, created, now)
        return
    if pinned:
        rep.key = {"status": "pinned", "fingerprint": fp}
        rep.warn("key_pinned", fingerprint=fp)
        return
    for d in rep.records:
        ev = d.get("evidence")
        if isinstance(ev, dict) and ev.get("event") == "key_rotated" and ev.get("new_fingerprint") == fp:
            rep.warn("rotation_unsigned", seq=d.get("seq"))
    if trust_new:
        rep.key = {"status": "new", "fingerprint": fp, "label": hostname}
        rep.warn("key_would_trust", fingerprint=fp)
        pem = rep.members["host.pub"]
        rep.changes.append(Change("add", fp, Entry(
            fingerprint=fp, role="host", public_key=keys.public_pem(keys.load_public(pem)).decode(),
            added_at=now.isoformat(timespec="seconds"), label=hostname, source=f"--trust-new {os.path.basename(rep.path)}")))
        return
    rep.key = {"status": "unknown", "fingerprint": fp}
    rep.fail("unknown_host", fingerprint=fp)


def _chain_to(registry: Registry, fp: str, statements: list[keys.Rotation]) -> list[keys.Rotation]:
    """Statements leading from a registered host key to ``fp``, newest first; [] when none does."""
    by_new = {normalise(r.new_fingerprint): r for r in statements}
    chain: list[keys.Rotation] = []
    cur = normalise(fp)
    while registry.get(cur) is None and cur in by_new and len(chain) < MAX_CHAIN:
        r = by_new[cur]
        chain.append(r)
        cur = normalise(r.old_fingerprint)
    root = registry.get(cur)
    return chain if chain and root is not None and root.role == "host" else []


def _accept_rotation(rep: Report, registry: Registry, fp: str, chain: list[keys.Rotation],
                     created: Optional[dt.datetime], now: dt.datetime) -> None:
    root = registry.get(chain[-1].old_fingerprint)
    assert root is not None
    for r in reversed(chain):
        old = registry.get(r.old_fingerprint)
        if old is not None and old.retired_by and normalise(old.retired_by) != normalise(r.new_fingerprint):
            rep.fail("rotation_fork", old=r.old_fingerprint, known=old.retired_by, other=r.new_fingerprint)
        at = _time(r.rotated_at)
        if created is not None and (at is None or at > created):
            rep.fail("rotation_after_snapshot", fingerprint=r.new_fingerprint, date=r.rotated_at)
        rep.changes.append(Change("add", r.new_fingerprint, Entry(
            fingerprint=r.new_fingerprint, role="host", public_key=r.new_public_key, added_at=now.isoformat(timespec="seconds"),
            label=root.label, source=f"rotation from {r.old_fingerprint}", rotated_from=r.old_fingerprint)))
        rep.changes.append(Change("retire", r.old_fingerprint, retired_at=r.rotated_at, retired_by=r.new_fingerprint))
    rep.key = {"status": "rotated", "fingerprint": fp, "label": root.label, "rotated_from": root.fingerprint}
    rep.note("key_rotated_ok", old=root.fingerprint, fingerprint=fp)


def _check_retired_by_snapshot(rep: Report, fp: str, statements: list[keys.Rotation]) -> None:
    """A key the snapshot itself says was handed over must not have signed it.

    Both a verified statement and a journal ``key_rotated`` record count here even unsigned: they
    can only make the snapshot less trusted, never get a key accepted.
    """
    created = _time(rep.manifest.get("created_at"))
    for r in statements:
        at = _time(r.rotated_at)
        if r.old_fingerprint == fp and at is not None and (created is None or at <= created):
            rep.fail("key_retired", date=r.rotated_at, current=r.new_fingerprint)
            return
    rotations = [(d.get("seq"), d["evidence"]) for d in rep.records
                 if isinstance(d.get("evidence"), dict) and d["evidence"].get("event") == "key_rotated"]
    if rotations and rotations[-1][1].get("new_fingerprint") not in (None, fp):
        rep.fail("key_retired_journal", seq=rotations[-1][0], current=rotations[-1][1]["new_fingerprint"])


def _check_cosign(rep: Report, members, mbytes, registry: Registry) -> None:
    raw = members.get("cosign.json")
    if raw is None:
        return
    try:
        c = json.loads(raw)
        pub = keys.load_public(c["public_key"].encode())
        body = {k: c.get(k) for k in ("manifest_sha256", "name", "fingerprint", "not_after", "signed_at")}
        pub.verify(base64.b64decode(c["signature"], validate=True), canonical(body))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, AgentError, InvalidSignature):
        rep.fail("bad_cosign")
        return
    if c["manifest_sha256"] != hashlib.sha256(mbytes).hexdigest():
        rep.fail("cosign_other")
    fp = keys.fingerprint(pub)
    if fp != c.get("fingerprint"):
        rep.fail("cosign_key")
    if _date(c.get("not_after")) and _date(c.get("signed_at")) and _date(c["signed_at"]) > _date(c["not_after"]):
        rep.fail("cosign_expired", date=c["not_after"])
    claimed = c.get("name") if isinstance(c.get("name"), str) else None
    entry = registry.get(fp)
    if entry is None or entry.role != "inspector":
        rep.cosigner = {"verified": False, "claimed_name": claimed, "name": None, "fingerprint": fp,
                        "signed_at": c.get("signed_at")}
        rep.warn("cosign_unverified", name=claimed or "?", fingerprint=fp)
        return
    if _date(entry.not_after) and _date(c.get("signed_at")) and _date(c["signed_at"]) > _date(entry.not_after):
        rep.fail("cosign_expired", date=entry.not_after)
    rep.cosigner = {"verified": True, "claimed_name": claimed, "name": entry.label, "fingerprint": fp,
                    "signed_at": c.get("signed_at")}
    rep.note("cosigned", name=entry.label or "?", fingerprint=fp)
    if claimed and entry.label and claimed != entry.label:
        rep.warn("cosign_name_differs", claimed=claimed, name=entry.label)


def same_host(registry: Registry, changes: list[Change], a: Report, b: Report) -> tuple[Optional[str], bool]:
    """(why not the same host, matched by key only): ``other_key`` when the two signing keys are
    not in one lineage of the registry (with what ``changes`` would add), ``other_host`` when the
    machine ids differ; None when they are the same host."""
    reg = Registry(dict(registry.entries))
    reg.apply(changes)
    fa, fb = (a.key or {}).get("fingerprint"), (b.key or {}).get("fingerprint")
    ma, mb = (a.manifest.get("host") or {}).get("machine_id"), (b.manifest.get("host") or {}).get("machine_id")
    if ma and mb and ma != mb:
        return "other_host", False
    if not fa or not fb or reg.lineage(fa) != reg.lineage(fb):
        return "other_key", False
    return None, not (ma and mb)


def _check_previous(rep: Report, previous: str, registry: Registry, pubkey: Optional[bytes], trust_new: bool,
                    now: dt.datetime) -> None:
    prev = verify(previous, registry=registry, pubkey=pubkey, trust_new=trust_new, now=now)
    if not prev.ok:
        rep.fail("previous_invalid", path=previous, detail="; ".join(p.en for p in prev.problems[:3]))
        return
    rep.changes.extend(prev.changes)
    if not rep.key:
        return  # the signature did not verify: nothing to match
    why, by_key_only = same_host(registry, rep.changes, prev, rep)
    if why == "other_host":
        ha, hb = prev.manifest.get("host") or {}, rep.manifest.get("host") or {}
        rep.fail("other_host", a=f"{ha.get('hostname')} {ha.get('machine_id')}", b=f"{hb.get('hostname')} {hb.get('machine_id')}")
        return
    if why == "other_key":
        rep.fail("other_key", a=prev.key.get("fingerprint"), b=rep.key.get("fingerprint"))
        return
    if by_key_only:
        rep.warn("machine_id_missing")
    problems, warnings = follows(prev.seen(previous), rep.seen(), Excerpt.of(rep.records))
    for p in problems:
        rep.ok = False
        rep.problems.append(p)
    rep.warnings.extend(warnings)
