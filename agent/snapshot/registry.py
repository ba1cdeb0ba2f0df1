"""The inspector's registry of keys (``keys.json`` in the inspector's directory).

Two roles: *host* keys, one lineage per inspected machine (the key written in the asset register
when the machine went into use, then each key it rotated to), and *inspector* keys, whose
co-signatures are believed. ``snapshot verify`` and ``report fleet`` believe a host signature only
from a registered host key that was not retired before the snapshot was made; they learn a new
key only from a rotation statement signed by a registered key, or when the inspector says
``--trust-new``. What they learn is written back only for snapshots that verified.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable, Optional

from .. import keys
from ..errors import AgentError
from .inspector import InspectorDir, Transaction

FILE = "keys.json"
FORMAT = "bmnn-inspector-keys"
ROLES = ("host", "inspector")


def normalise(fp: str) -> str:
    """A fingerprint as 64 lower-case hex digits, whatever the spacing it was typed with."""
    return "".join(fp.split()).lower()


def grouped(fp: str) -> str:
    """64 hex digits in the groups of four that ``keys.fingerprint`` prints."""
    h = normalise(fp)
    return " ".join(h[i:i + 4] for i in range(0, len(h), 4))


@dataclass(frozen=True)
class Entry:
    """One registered key."""

    fingerprint: str
    """Grouped hex SHA-256 of the raw public key (as ``keys.fingerprint`` prints it)."""
    role: str
    """``host`` or ``inspector``."""
    public_key: str
    """PEM (what ``openssl pkeyutl -verify -pubin -inkey`` reads)."""
    added_at: str
    """When it was registered (ISO 8601)."""
    label: Optional[str] = None
    """Host name or asset label for a host key, the person's name for an inspector key."""
    source: Optional[str] = None
    """How it came: ``keys add FILE``, ``--trust-new FILE``, ``rotation from FINGERPRINT``."""
    not_after: Optional[str] = None
    """Last day a signature by this key is believed (ISO date), or None."""
    rotated_from: Optional[str] = None
    """The host key that signed the hand-over to this one."""
    retired_at: Optional[str] = None
    """When a rotation statement retired this key (snapshots signed after it are refused)."""
    retired_by: Optional[str] = None
    """The key it was rotated to."""


@dataclass(frozen=True)
class Change:
    """Something ``verify`` learned that the registry should remember once the snapshot is valid."""

    kind: str
    """``add`` (a new key) or ``retire`` (a key handed over by a rotation statement)."""
    fingerprint: str
    """The key added or retired."""
    entry: Optional[Entry] = None
    """For ``add``: the new entry."""
    retired_at: Optional[str] = None
    """For ``retire``: when the rotation statement says it happened."""
    retired_by: Optional[str] = None
    """For ``retire``: the key it was handed over to."""


@dataclass
class Registry:
    """The registered keys, by normalised fingerprint."""

    entries: dict[str, Entry] = field(default_factory=dict)
    path: Optional[str] = None
    """The file it was read from (None for an in-memory registry)."""

    @classmethod
    def load(cls, idir: Optional[InspectorDir]) -> "Registry":
        """The registry in ``idir`` (empty when it has none yet)."""
        if idir is None:
            return cls()
        return cls._parse(idir.read_json(FILE), f"{idir.path}/{FILE}")

    @classmethod
    def _parse(cls, value: Any, where: str) -> "Registry":
        reg = cls(path=where)
        if value is None:
            return reg
        if not isinstance(value, dict) or value.get("format") != FORMAT or not isinstance(value.get("keys"), list):
            raise AgentError(f"{where}: not a bmnn inspector key registry", kind="config")
        known = set(Entry.__dataclass_fields__)
        for i, raw in enumerate(value["keys"], 1):
            try:
                if not isinstance(raw, dict) or set(raw) - known:
                    raise TypeError("unknown fields")
                entry = Entry(**raw)
                if entry.role not in ROLES or keys.fingerprint(keys.load_public(entry.public_key.encode())) != entry.fingerprint:
                    raise ValueError("role or fingerprint does not match the key")
            except (TypeError, ValueError, AttributeError, AgentError) as exc:
                raise AgentError(f"{where}: entry {i} is not valid ({exc})", kind="config") from None
            reg.entries[normalise(entry.fingerprint)] = entry
        return reg

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": 1,
                "keys": [asdict(e) for e in sorted(self.entries.values(), key=lambda e: (e.role, e.added_at, e.fingerprint))]}

    def get(self, fp: Optional[str]) -> Optional[Entry]:
        return self.entries.get(normalise(fp)) if fp else None

    def find(self, prefix: str) -> list[Entry]:
        """Entries whose fingerprint starts with ``prefix`` (any spacing)."""
        p = normalise(prefix)
        return [e for k, e in self.entries.items() if k.startswith(p)] if p else []

    def lineage(self, fp: str) -> str:
        """The first key of the host lineage ``fp`` belongs to (normalised): the host's identity
        across rotations."""
        cur, seen = normalise(fp), set()
        while cur not in seen:
            seen.add(cur)
            e = self.entries.get(cur)
            if e is None or not e.rotated_from:
                return cur
            cur = normalise(e.rotated_from)
        return cur

    def apply(self, changes: Iterable[Change]) -> list[Change]:
        """Apply changes in memory; returns those that changed something."""
        done = []
        for c in changes:
            k = normalise(c.fingerprint)
            if c.kind == "add" and c.entry is not None:
                if k in self.entries:
                    continue
                self.entries[k] = c.entry
            elif c.kind == "retire":
                cur = self.entries.get(k)
                if cur is None or cur.retired_by:
                    continue
                self.entries[k] = replace(cur, retired_at=c.retired_at, retired_by=c.retired_by)
            else:
                continue
            done.append(c)
        return done


def entry_for(pem: bytes, *, role: str, now: dt.datetime, label: Optional[str] = None, source: Optional[str] = None,
              not_after: Optional[str] = None, rotated_from: Optional[str] = None) -> Entry:
    """A new entry for a PEM public key (AgentError when it is not an Ed25519 public key)."""
    if role not in ROLES:
        raise AgentError(f"unknown key role {role!r}", kind="usage")
    pub = keys.load_public(pem)
    return Entry(fingerprint=keys.fingerprint(pub), role=role, public_key=keys.public_pem(pub).decode(),
                 added_at=now.isoformat(timespec="seconds"), label=label, source=source, not_after=not_after,
                 rotated_from=rotated_from)


def _save(tx: Transaction, reg: Registry) -> None:
    tx.write_json(FILE, reg.to_json())


def update(idir: InspectorDir, changes: Iterable[Change]) -> list[Change]:
    """Apply ``changes`` to the registry on disk under the directory's lock; returns the applied ones."""
    changes = list(changes)
    if not changes:
        return []
    with idir.transaction() as tx:
        reg = Registry._parse(tx.read_json(FILE), f"{idir.path}/{FILE}")
        done = reg.apply(changes)
        if done:
            _save(tx, reg)
    return done


def learn(idir: InspectorDir, changes: Iterable[Change], lang: str = "vi") -> list[str]:
    """Apply what valid snapshots taught (``update``) and say each key registered, one sentence each."""
    from .messages import say
    out = []
    for c in update(idir, changes):
        if c.kind == "add" and c.entry is not None:
            code = "key_rotated_ok" if c.entry.rotated_from else "key_trusted_new"
            out.append(say(code, lang, fingerprint=c.fingerprint, old=c.entry.rotated_from, label=c.entry.label))
    return out


def remove(idir: InspectorDir, prefix: str) -> Entry:
    """Remove the one key whose fingerprint starts with ``prefix`` (at least 8 hex digits)."""
    p = normalise(prefix)
    if len(p) < 8 or any(c not in "0123456789abcdef" for c in p):
        raise AgentError("give the fingerprint (at least its first 8 hex digits) as `bmnn keys list` prints it",
                         kind="usage")
    with idir.transaction() as tx:
        reg = Registry._parse(tx.read_json(FILE), f"{idir.path}/{FILE}")
        found = reg.find(p)
        if not found:
            raise AgentError(f"no registered key starts with {grouped(p)}", kind="usage")
        if len(found) > 1:
            raise AgentError(f"{len(found)} registered keys start with {grouped(p)}: give more digits", kind="usage")
        del reg.entries[normalise(found[0].fingerprint)]
        _save(tx, reg)
    return found[0]


def add(idir: InspectorDir, entry: Entry) -> tuple[Entry, bool]:
    """Register ``entry``; (the registered entry, True when it is new). A key already registered
    in the other role is an error: one key never vouches both for a machine and for a person."""
    with idir.transaction() as tx:
        reg = Registry._parse(tx.read_json(FILE), f"{idir.path}/{FILE}")
        have = reg.get(entry.fingerprint)
        if have is not None:
            if have.role != entry.role:
                raise AgentError(f"{entry.fingerprint} is already registered as a {have.role} key ({have.label}); "
                                 "remove it first if that was a mistake", kind="usage")
            return have, False
        reg.apply([Change("add", entry.fingerprint, entry)])
        _save(tx, reg)
    return entry, True
