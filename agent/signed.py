"""Signed JSON documents: one file that people's scripts read as JSON and anyone can verify offline.

The hand-over record and the incident report are JSON objects with the host's Ed25519 signature
inside them. What is signed is the canonical form (sorted keys, no spaces, UTF-8: the same bytes
as a snapshot manifest, ``bmnn_guard.agent.snapshot.manifest.canonical``) of the whole object without its
``signature`` member. Inside the signed part, ``signed_by`` names the key (fingerprint, validity);
``signature`` holds the public key (PEM) and the signature (base64)::

    {"format": "bmnn-handover", ..., "signed_by": {"algorithm": "ed25519", "fingerprint": "3f2a …",
     "key_created_at": ..., "key_not_after": ...},
     "signature": {"algorithm": "ed25519", "public_key": "-----BEGIN PUBLIC KEY-----…", "value": "…"}}

The file may be pretty-printed: the verifier parses it and recomputes the canonical bytes. Parsing
is strict (a duplicated key, NaN or Infinity never comes from us, so it is an edit), bounded in
size, and a file that is not JSON is "unreadable", never "genuine". The embedded key proves only
that nobody changed the document after someone signed it: whose key it is, the fingerprint
answers (the asset register, ``--pubkey``, or this machine's own keys for ``--check``).

Inspectors can verify without this tool: ``openssl pkeyutl -verify -pubin -inkey host.pub -rawin
-in body.json -sigfile sig.bin`` over the canonical bytes.
"""

from __future__ import annotations

import base64
import datetime as dt
import glob
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from cryptography.exceptions import InvalidSignature

from . import keys
from .errors import AgentError
from .snapshot.manifest import canonical

MAX_BYTES = 64 * 1024 * 1024
"""Largest signed document read (a hand-over record of a few thousand files is well below 10 MiB)."""
SIGNATURE = "signature"
SIGNED_BY = "signed_by"


def signed_bytes(doc: dict) -> bytes:
    """The bytes the signature covers: canonical JSON of ``doc`` without its signature member."""
    return canonical({k: v for k, v in doc.items() if k != SIGNATURE})


def digest(doc: dict) -> str:
    """SHA-256 (hex) of the signed bytes: printed on paper, so a printed copy names its JSON file."""
    return hashlib.sha256(signed_bytes(doc)).hexdigest()


def sign(doc: dict, key_dir: str) -> dict:
    """``doc`` signed with the host key in ``key_dir`` (the config directory): a new dict with
    ``signed_by`` and, last, ``signature``. AgentError when the key cannot be read."""
    priv = keys.load_private(os.path.join(key_dir, keys.PRIVATE))
    pub = priv.public_key()
    info = keys.info(key_dir)
    body = {k: v for k, v in doc.items() if k not in (SIGNATURE, SIGNED_BY)}
    body[SIGNED_BY] = {"algorithm": "ed25519", "fingerprint": keys.fingerprint(pub),
                       "key_created_at": info.created_at if info else None,
                       "key_not_after": info.not_after if info else None}
    sig = priv.sign(canonical(body))
    return {**body, SIGNATURE: {"algorithm": "ed25519", "public_key": keys.public_pem(pub).decode("ascii"),
                                "value": base64.b64encode(sig).decode("ascii")}}


def dumps(doc: dict) -> bytes:
    """The file's bytes: indented UTF-8 JSON (people read it too), signature last, a final newline."""
    return (json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n").encode("utf-8")


# ---------------------------------------------------------------- reading and verifying


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


class _Duplicate(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _constant(name: str):
    raise _Constant(name)


class _Constant(ValueError):
    pass


def parse(data: bytes, source: str = "document", lang: str = "vi") -> dict:
    """A JSON object from ``data``; AgentError kind ``io`` (unreadable: not UTF-8, not JSON, not an
    object) or ``integrity`` (a duplicated key or a NaN: the file was edited by hand)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgentError(f"{source}: not UTF-8 text (byte {exc.start})", kind="io") from None
    from bmnn_guard.scanner.i18n import t
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_constant)
    except _Duplicate as exc:
        raise AgentError(t("signed.duplicate", lang, path=source, name=repr(exc.key)), kind="integrity") from None
    except _Constant as exc:
        raise AgentError(f"{source}: {exc} is not a JSON number this tool writes: the file was edited",
                         kind="integrity") from None
    except (ValueError, RecursionError) as exc:
        raise AgentError(t("signed.not_json", lang, path=source, reason=str(exc)[:200]), kind="io") from None
    if not isinstance(value, dict):
        raise AgentError(f"{source}: not a JSON object", kind="io")
    return value


def read(path: str, lang: str = "vi") -> dict:
    """The JSON object in ``path``, read whole up to MAX_BYTES; AgentError ``io`` when it cannot be
    read (missing, a folder, too large, not JSON) or ``integrity`` (see ``parse``)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        from bmnn_guard.scanner.i18n import t
        raise AgentError(t("signed.no_file", lang, path=path), kind="io") from None
    except IsADirectoryError:
        raise AgentError(f"{path}: is a folder, not a file", kind="io") from None
    except OSError as exc:
        raise AgentError(f"{path}: {exc.strerror}", kind="io") from None
    if len(data) > MAX_BYTES:
        raise AgentError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MiB, not a record of this tool", kind="io")
    return parse(data, path, lang)


@dataclass(frozen=True)
class Problem:
    """Something that does not match; ``code`` names the sentence in the catalog (``signed.<code>``)."""

    code: str
    params: tuple[tuple[str, str], ...] = ()

    def message(self, lang: str) -> str:
        from bmnn_guard.scanner.i18n import t
        return t(f"signed.{self.code}", lang, **dict(self.params))


@dataclass(frozen=True)
class Verification:
    """The outcome of verifying one document."""

    ok: bool
    """The signature verifies, the key matches its fingerprint and was valid when the document was made."""
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    fingerprint: Optional[str] = None
    """Fingerprint of the key that signed it (None when there is no readable key)."""
    digest: Optional[str] = None
    """SHA-256 of the signed bytes."""
    known_key: Optional[bool] = None
    """True when the key is one of ``known`` (this machine's keys), False when not, None when not asked."""

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {"valid": self.ok, "fingerprint": self.fingerprint, "digest": self.digest, "known_key": self.known_key,
                "problems": [{"code": p.code, "message": p.message(lang)} for p in self.problems],
                "warnings": [{"code": p.code, "message": p.message(lang)} for p in self.warnings]}


def _date(value: Any) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def verify(doc: dict, *, pubkey: Optional[bytes] = None, known: Optional[set[str]] = None,
           created_field: str = "created_at") -> Verification:
    """Check ``doc``'s embedded signature; with ``pubkey`` (PEM) also that this key signed it;
    with ``known`` (fingerprints) also that the key is one of them. Every mismatch is reported."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    sig = doc.get(SIGNATURE)
    by = doc.get(SIGNED_BY)
    if not isinstance(sig, dict) or not isinstance(by, dict) or not isinstance(sig.get("public_key"), str) \
            or not isinstance(sig.get("value"), str):
        return Verification(False, (Problem("not_signed"),))
    try:
        pub = keys.load_public(sig["public_key"].encode("ascii", "replace"))
    except AgentError:
        return Verification(False, (Problem("bad_key"),))
    fp = keys.fingerprint(pub)
    body = signed_bytes(doc)
    h = hashlib.sha256(body).hexdigest()
    if by.get("fingerprint") != fp:
        problems.append(Problem("key_mismatch", (("fingerprint", fp),)))
    try:
        raw = base64.b64decode(sig["value"], validate=True)
        pub.verify(raw, body)
    except (ValueError, InvalidSignature):
        problems.append(Problem("bad_signature"))
    made = _date(doc.get(created_field))
    not_after, created = _date(by.get("key_not_after")), _date(by.get("key_created_at"))
    if made and not_after and made > not_after:
        problems.append(Problem("key_expired", (("date", str(by.get("key_not_after"))),)))
    if made and created and made < created:
        problems.append(Problem("key_not_yet_valid"))
    if pubkey is not None:
        pinned = keys.fingerprint(keys.load_public(pubkey))
        if pinned != fp:
            problems.append(Problem("wrong_key", (("fingerprint", fp), ("pinned", pinned))))
    is_known = None
    if known is not None:
        is_known = fp in known
        if not is_known:
            problems.append(Problem("unknown_key", (("fingerprint", fp),)))
    elif pubkey is None:
        warnings.append(Problem("key_not_pinned", (("fingerprint", fp),)))
    return Verification(not problems, tuple(problems), tuple(warnings), fp, h, is_known)


def host_fingerprints(key_dir: str) -> set[str]:
    """Fingerprints of this machine's host key and of the keys it retired (``keys.rotate`` keeps
    their public halves): every key a record made on this machine can carry."""
    out: set[str] = set()
    for path in [os.path.join(key_dir, keys.PUBLIC)] + sorted(glob.glob(os.path.join(glob.escape(key_dir),
                                                                                       "host-key.retired-*.pub"))):
        try:
            with open(path, "rb") as fh:
                out.add(keys.fingerprint(keys.load_public(fh.read(65536))))
        except (OSError, AgentError):
            continue
    return out


@dataclass
class Loaded:
    """A signed document read from a file and verified."""

    path: str
    doc: dict = field(default_factory=dict)
    verification: Optional[Verification] = None


def load_verified(path: str, *, kind: str, pubkey: Optional[bytes] = None, known: Optional[set[str]] = None,
                  lang: str = "vi") -> Loaded:
    """Read ``path``, verify it, and check it is a document of ``kind`` (its ``format``).

    AgentError ``io`` when unreadable or of another kind (a genuine incident report given to the
    hand-over commands); ``integrity`` when edited in a way parsing already shows. A document that
    parses but does not verify is returned with ``verification.ok`` False: the caller prints the
    problems and exits 4.
    """
    doc = read(path, lang)
    ver = verify(doc, pubkey=pubkey, known=known)
    if ver.ok and doc.get("format") != kind:
        from bmnn_guard.scanner.i18n import t
        raise AgentError(t("signed.other_kind", lang, path=path, kind=t(f"signed.kind.{doc.get('format')}", lang),
                           command="incident" if kind == "bmnn-handover" else "handover"), kind="usage")
    return Loaded(path, doc, ver)
