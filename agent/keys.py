"""Host and inspector Ed25519 keys: creation, rotation, fingerprints.

The host key signs every snapshot this machine exports; its fingerprint goes into the asset
register when the machine is inspected, so that an inspector can later tell this machine's
snapshots from anyone else's. The private key is readable by root only. Rotation keeps the old
public key (``host-key.retired-<fingerprint>.pub``) so that older snapshots still verify, and is
journaled by the caller. Before the old private key is dropped it signs a *rotation statement*
(old and new public key, time) that goes into ``host-key.rotations.json`` and into every later
snapshot: an inspector who registered the old key accepts the new one only on that signature,
never on a journal record that anyone holding the new key could write.

Fingerprint: SHA-256 of the raw 32-byte public key, hex, in groups of four, so that people can
read it aloud: ``3f2a 9c1e …``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import AgentError

PRIVATE = "host-key.pem"
PUBLIC = "host-key.pub"
META = "host-key.json"
ROTATIONS = "host-key.rotations.json"
ROTATION_FORMAT = "bmnn-key-rotation"
ROTATION_FIELDS = ("format", "version", "old_fingerprint", "old_public_key", "new_fingerprint", "new_public_key",
                   "rotated_at")
MAX_ROTATIONS = 64
"""Rotation statements kept and exported; a chain longer than this is refused."""


@dataclass(frozen=True)
class KeyInfo:
    """What is known about a key besides its bytes."""

    fingerprint: str
    """Grouped hex SHA-256 of the raw public key."""
    created_at: str
    """ISO 8601."""
    not_after: Optional[str] = None
    """Date after which signatures by this key are refused (ISO 8601 date), or None."""
    name: Optional[str] = None
    """Owner (inspectors' keys)."""


def raw_public(pub: Ed25519PublicKey) -> bytes:
    """The 32 raw public key bytes."""
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(pub: Ed25519PublicKey) -> str:
    """Grouped hex SHA-256 of the raw public key."""
    h = hashlib.sha256(raw_public(pub)).hexdigest()
    return " ".join(h[i:i + 4] for i in range(0, len(h), 4))


def public_pem(pub: Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM: what `openssl pkeyutl -verify -pubin -inkey` reads."""
    return pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public(data: bytes) -> Ed25519PublicKey:
    """A public key from PEM bytes, or AgentError."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise AgentError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise AgentError("not an Ed25519 public key")
    return key


KEY_FILE = ("key file", "tệp khóa")
KEY_DIR = ("key", "khóa")
KEY_MAX_BYTES = 64 << 10
"""Far more than any PEM or metadata file of ours: a bound, not a size."""


def read_key_file(path: str, *, trusted: bool = True, private: bool = False) -> bytes:
    """The bytes of a key or key-metadata file.

    ``trusted``: a key of this machine (the host key in the config directory): read like all
    configuration (policies/trusted.py: StrictModes as root, no links, bounded), and a private
    key group or others may read is refused. Otherwise a file the user named (an inspector's key
    on a stick): links followed, but only a regular file, bounded. Raises FileNotFoundError or
    AgentError(config) with the refusal (never any of the file's content).
    """
    from bmnn_guard.policies.errors import PolicyError
    from bmnn_guard.policies.trusted import read_file, read_untrusted
    try:
        if trusted:
            return read_file(path, max_bytes=KEY_MAX_BYTES, what=KEY_FILE, folder=KEY_DIR, private_key=private).data
        return read_untrusted(path, max_bytes=KEY_MAX_BYTES, what=KEY_FILE)
    except PolicyError as exc:
        raise AgentError(exc.redacted(), kind="config") from None


def load_private(path: str, *, trusted: bool = True) -> Ed25519PrivateKey:
    """A private key from a PEM file, or AgentError that says what to do (see ``read_key_file``)."""
    try:
        data = read_key_file(path, trusted=trusted, private=True)
    except FileNotFoundError:
        raise AgentError(f"no key at {path}: run 'bmnn init' first") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise AgentError(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AgentError(f"{path}: not an Ed25519 key")
    return key


def _write(path: str, data: bytes, mode: int) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _canonical(value: Any) -> bytes:
    from .snapshot.manifest import canonical
    return canonical(value)


def _new_key(*, name: Optional[str], days: Optional[int], now: dt.datetime) -> tuple[Ed25519PrivateKey, KeyInfo]:
    key = Ed25519PrivateKey.generate()
    info = KeyInfo(fingerprint=fingerprint(key.public_key()), created_at=now.isoformat(timespec="seconds"),
                   not_after=(now + dt.timedelta(days=days)).date().isoformat() if days else None, name=name)
    return key, info


def _store(directory: str, stem: str, key: Ed25519PrivateKey, info: KeyInfo) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write(os.path.join(directory, f"{stem}.pem"), pem, 0o400)
    _write(os.path.join(directory, f"{stem}.pub"), public_pem(key.public_key()), 0o444)
    _write(os.path.join(directory, f"{stem}.json"), json.dumps(info.__dict__, ensure_ascii=False).encode(), 0o444)


def generate(directory: str, *, stem: str = "host-key", name: Optional[str] = None,
             days: Optional[int] = None, now: Optional[dt.datetime] = None) -> KeyInfo:
    """Create a new key pair in ``directory`` (private 0400, public and metadata 0444)."""
    os.makedirs(directory, exist_ok=True)
    key, info = _new_key(name=name, days=days, now=now or dt.datetime.now().astimezone())
    _store(directory, stem, key, info)
    return info


def info(directory: str, stem: str = "host-key", *, trusted: bool = True) -> Optional[KeyInfo]:
    """Metadata of the key in ``directory``, None when there is none (``trusted`` as in ``read_key_file``)."""
    try:
        data = read_key_file(os.path.join(directory, f"{stem}.json"), trusted=trusted)
    except FileNotFoundError:
        return None
    try:
        meta = json.loads(data)
        return KeyInfo(**{k: meta.get(k) for k in ("fingerprint", "created_at", "not_after", "name")})
    except (ValueError, TypeError, AttributeError):
        raise AgentError(f"{os.path.join(directory, stem + '.json')}: not key metadata written by bmnn",
                         kind="config") from None


# ---------------------------------------------------------------- rotation statements


def rotation_statement(old: Ed25519PrivateKey, new: Ed25519PublicKey, now: dt.datetime) -> dict:
    """"The holder of ``old`` hands over to ``new`` at ``now``", signed by ``old`` over canonical JSON."""
    body = {"format": ROTATION_FORMAT, "version": 1,
            "old_fingerprint": fingerprint(old.public_key()), "old_public_key": public_pem(old.public_key()).decode(),
            "new_fingerprint": fingerprint(new), "new_public_key": public_pem(new).decode(),
            "rotated_at": now.isoformat(timespec="seconds")}
    return {**body, "signature": base64.b64encode(old.sign(_canonical(body))).decode()}


@dataclass(frozen=True)
class Rotation:
    """A rotation statement whose signature by the old key verified."""

    old_fingerprint: str
    """The key handing over (it signed the statement)."""
    new_fingerprint: str
    """The key taking over."""
    new_public_key: str
    """PEM of the new key."""
    rotated_at: str
    """When the host says it rotated (ISO 8601): snapshots signed by the old key after it are refused."""


def check_rotation(statement: Any) -> Rotation:
    """The verified content of one statement, or AgentError saying why it does not count."""
    if not isinstance(statement, Mapping):
        raise AgentError("not a JSON object", kind="integrity")
    body = {k: statement.get(k) for k in ROTATION_FIELDS}
    if body["format"] != ROTATION_FORMAT or body["version"] != 1:
        raise AgentError(f"not a {ROTATION_FORMAT} version 1 statement", kind="integrity")
    if not all(isinstance(body[k], str) for k in ROTATION_FIELDS[2:]) or not isinstance(statement.get("signature"), str):
        raise AgentError("a field is missing or not text", kind="integrity")
    old, new = load_public(body["old_public_key"].encode()), load_public(body["new_public_key"].encode())
    if fingerprint(old) != body["old_fingerprint"] or fingerprint(new) != body["new_fingerprint"]:
        raise AgentError("a fingerprint does not match its public key", kind="integrity")
    if body["old_fingerprint"] == body["new_fingerprint"]:
        raise AgentError("old and new key are the same", kind="integrity")
    try:
        old.verify(base64.b64decode(statement["signature"], validate=True), _canonical(body))
    except (InvalidSignature, binascii.Error, ValueError):
        raise AgentError(f"not signed by the old key {body['old_fingerprint']}", kind="integrity") from None
    return Rotation(body["old_fingerprint"], body["new_fingerprint"], body["new_public_key"], body["rotated_at"])


def rotations(directory: str) -> list[dict]:
    """The rotation statements kept in ``directory`` (oldest first); [] when there are none."""
    path = os.path.join(directory, ROTATIONS)
    try:
        with open(path, "rb") as fh:
            data = fh.read(1 << 20)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise AgentError(f"cannot read {path}: {exc.strerror}", kind="io") from None
    try:
        value = json.loads(data)
    except ValueError:
        raise AgentError(f"{path}: not valid JSON", kind="integrity") from None
    if not isinstance(value, list):
        raise AgentError(f"{path}: not a list of rotation statements", kind="integrity")
    return value[-MAX_ROTATIONS:]


def rotate(directory: str, *, days: Optional[int] = None,
           now: Optional[dt.datetime] = None) -> tuple[Optional[KeyInfo], KeyInfo]:
    """Retire the current host key (its public half is kept) and make a new one (created at ``now``,
    the real clock unless a caller such as a test pins it).

    The old private key signs the hand-over to the new one before it is dropped; the statement is
    written before the new key, so a crash in between leaves the old key in place, never a new key
    that no statement vouches for.
    """
    now = now or dt.datetime.now().astimezone()
    old = info(directory)
    old_key = None
    if old is not None:
        try:
            old_key = load_private(os.path.join(directory, PRIVATE))
        except AgentError:
            old_key = None  # the private half is gone: the new key must be registered by hand
    key, new = _new_key(name=None, days=days, now=now)
    if old_key is not None:
        chain = rotations(directory) + [rotation_statement(old_key, key.public_key(), now)]
        _write(os.path.join(directory, ROTATIONS), json.dumps(chain[-MAX_ROTATIONS:], ensure_ascii=False).encode(), 0o444)
    if old is not None:
        tag = old.fingerprint.replace(" ", "")[:16]
        for ext in ("pub", "json"):
            src = os.path.join(directory, f"host-key.{ext}")
            if os.path.exists(src):
                os.replace(src, os.path.join(directory, f"host-key.retired-{tag}.{ext}"))
    _store(directory, "host-key", key, new)
    return old, new
