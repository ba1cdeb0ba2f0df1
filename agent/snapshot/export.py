"""`bmnn snapshot export`: pack the evidence of one machine and sign it with the host key."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Optional, Union

from .. import keys
from ..errors import AgentError
from . import FORMAT, VERSION, archive
from .manifest import canonical, member_table

STATE_FILE = "last-snapshot.json"


@dataclass(frozen=True)
class ExportResult:
    """What was written."""

    path: str
    manifest: dict
    fingerprint: str
    records: int


def _retention(config_dir: str):
    """retention_days of the host's agent.yaml, to judge checkpoints by (UNCHECKED when unreadable)."""
    from ..config import load_config
    from ..journal import UNCHECKED
    try:
        return load_config(os.path.join(config_dir, "agent.yaml")).retention_days
    except AgentError:
        return UNCHECKED


def _journal_part(journal_path: str, since: Union[int, str, None], state_dir: str, config_dir: Optional[str] = None):
    from ..journal import GENESIS, UNCHECKED, Journal, Record, checkpoint_file
    FIELDS = tuple(Record.__dataclass_fields__)
    checkpoint_file(journal_path)  # the WAL folded in: a copy of journal.db alone then holds every record
    if not os.path.exists(journal_path):
        return b"", {"present": False, "since_seq": None, "first_seq": None, "last_seq": None, "count": 0,
                     "prev_hash": None, "head_hash": None, "head": None}, {"ok": False, "reason": "no journal on this machine"}
    start = 1
    last = None
    if since == "last" or since is None:
        last = _last_state(state_dir)
        start = (last["last_seq"] + 1) if last and last.get("last_seq") else 1
    elif isinstance(since, int):
        start = max(1, since)
    j = Journal.open(journal_path, readonly=True)
    try:
        if last and last.get("last_seq") and j.extends(last["last_seq"], str(last.get("head_hash")))[0] != "extends":
            start = 1  # not the journal the last snapshot saw (a reset, or worse): export it whole

        lines: list[str] = []
        seqs: list[tuple[int, str]] = []

        def visit(seq: int, body: str, h: str, mac) -> None:
            # the canonical body that was just hashed, plus hash and mac: one JSON object per line
            lines.append(body[:-1] + ',"hash":"' + h + '","mac":' + ("null" if mac is None else '"' + mac + '"') + "}")
            if not seqs:
                seqs.append((seq, json.loads(body)["prev_hash"]))

        result = j.verify(visit=visit, visit_from=start,
                          retention_days=_retention(config_dir) if config_dir else UNCHECKED)
        if not result.ok:
            # a journal that does not verify is exported whole, as it is, for the inspector to see
            lines, seqs = [], []
            for rec in j.records(since_seq=start - 1):  # records() is exclusive: seq > since_seq
                lines.append(json.dumps({f: getattr(rec, f) for f in FIELDS}, ensure_ascii=False, sort_keys=True))
                if not seqs:
                    seqs.append((rec.seq, rec.prev_hash))
        last = None
        if lines:
            last = json.loads(lines[-1])
        head = j.head()
    finally:
        j.close()
    first = seqs[0] if seqs else None
    body = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if result.ok:
        head_seq, head_hash = (result.head_seq, result.head_hash) if result.head_seq else (0, GENESIS)
    else:
        head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if last:
        head_seq, head_hash = last["seq"], last["hash"]
    meta = {"present": True, "since_seq": start, "first_seq": first[0] if first else None,
            "last_seq": head_seq or None, "count": len(lines),
            "prev_hash": first[1] if first else (head_hash if head_seq else None),
            "head_hash": head_hash if head_seq else None,
            # the head this snapshot witnesses: what --previous and report fleet compare
            "head": {"seq": head_seq, "hash": head_hash}}
    verify = {"ok": result.ok, "first_bad_seq": result.first_bad_seq, "reason": result.reason, "count": result.count,
              "mac_checked": result.mac_checked, "head_seq": result.head_seq, "head_hash": result.head_hash}
    return body, meta, verify


def _last_state(state_dir: str) -> Optional[dict]:
    try:
        with open(os.path.join(state_dir, STATE_FILE), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def host_identity(scan_doc: Optional[dict]) -> dict:
    """Host name, machine id and DMI serial: from the scan when there is one, else read now.

    The machine id is what ``--previous`` and ``report fleet`` match hosts by (with the key), so a
    ``--no-scan`` snapshot reads it exactly as the scan does instead of leaving it out.
    """
    target = (scan_doc or {}).get("target") or {}
    if target.get("machine_id"):
        return {"hostname": target.get("hostname") or os.uname().nodename, "machine_id": target["machine_id"],
                "dmi_serial": (target.get("dmi") or {}).get("serial")}
    from bmnn_guard.scanner.collect.host import collect_host
    facts = collect_host()
    return {"hostname": target.get("hostname") or facts.hostname or os.uname().nodename,
            "machine_id": facts.machine_id, "dmi_serial": (target.get("dmi") or {}).get("serial") or facts.dmi_serial}


def export(*, out_path: str, key_dir: str, journal_path: str, state_dir: str, config_dir: str,
           scan_doc: Optional[dict], scan_html: Optional[str], since: Union[int, str, None] = "last",
           cosign_key: Optional[str] = None, cosign_name: Optional[str] = None, host: Optional[dict] = None,
           now: Optional[dt.datetime] = None) -> ExportResult:
    """Write a signed snapshot to ``out_path``; ``host`` overrides ``host_identity(scan_doc)``."""
    now = now or dt.datetime.now().astimezone()
    priv = keys.load_private(os.path.join(key_dir, keys.PRIVATE))
    kinfo = keys.info(key_dir)
    pub = priv.public_key()
    members: dict[str, bytes] = {}
    if scan_doc is not None:
        members["scan.json"] = json.dumps(scan_doc, ensure_ascii=False, indent=1).encode("utf-8")
    if scan_html is not None:
        members["scan.html"] = scan_html.encode("utf-8")
    journal_body, journal_meta, journal_verify = _journal_part(journal_path, since, state_dir, config_dir)
    members["journal.ndjson"] = journal_body
    members["journal-verify.json"] = canonical(journal_verify)
    reg = os.path.join(config_dir, "devices.yaml")
    if os.path.exists(reg):
        members["devices.yaml"] = open(reg, "rb").read()
    local_d = os.path.join(config_dir, "local.d")
    if os.path.isdir(local_d):
        for name in sorted(os.listdir(local_d)):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                members[f"tailoring/{name}"] = open(os.path.join(local_d, name), "rb").read()
    rotations = keys.rotations(key_dir)
    if rotations:
        members["rotations.json"] = canonical(rotations)
    manifest = {
        "format": FORMAT, "version": VERSION,
        "tool": (scan_doc or {}).get("tool") or {"name": "bmnn-guard"},
        "created_at": now.isoformat(timespec="seconds"),
        "host": host or host_identity(scan_doc),
        "key": {"algorithm": "ed25519", "fingerprint": keys.fingerprint(pub),
                "created_at": kinfo.created_at if kinfo else None, "not_after": kinfo.not_after if kinfo else None},
        "policy_bundle": (scan_doc or {}).get("policy_bundle"),
        "profile": {k: (scan_doc or {}).get("profile", {}).get(k) for k in ("id", "version")} if scan_doc else None,
        "verdict": (scan_doc or {}).get("summary", {}).get("verdict"),
        "journal": journal_meta,
        "members": member_table(members),
    }
    mbytes = canonical(manifest)
    out = {"manifest.json": mbytes, "manifest.sig": priv.sign(mbytes), "host.pub": keys.public_pem(pub), **members}
    if cosign_key:
        ck = keys.load_private(cosign_key, trusted=False)  # the inspector's own key, on their stick
        stem = os.path.splitext(cosign_key)[0]
        cinfo = keys.info(os.path.dirname(cosign_key) or ".", os.path.basename(stem), trusted=False)
        body = {"manifest_sha256": hashlib.sha256(mbytes).hexdigest(),
                "name": cosign_name or (cinfo.name if cinfo else None), "fingerprint": keys.fingerprint(ck.public_key()),
                "not_after": cinfo.not_after if cinfo else None, "signed_at": now.isoformat(timespec="seconds")}
        sig = ck.sign(canonical(body))
        out["cosign.json"] = canonical({**body, "public_key": keys.public_pem(ck.public_key()).decode(),
                                        "signature": base64.b64encode(sig).decode()})
    tmp = out_path + ".part"
    try:
        with open(tmp, "wb") as fh:
            archive.write(fh, out, now.timestamp())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out_path)
    except OSError as exc:
        raise AgentError(f"cannot write {out_path}: {exc.strerror}") from None
    if journal_meta.get("last_seq"):
        try:
            os.makedirs(state_dir, exist_ok=True)
            with open(os.path.join(state_dir, STATE_FILE), "w", encoding="utf-8") as fh:
                json.dump({"last_seq": journal_meta["last_seq"], "head_hash": journal_meta["head_hash"],
                           "created_at": manifest["created_at"], "file": os.path.abspath(out_path)}, fh)
        except OSError:
            pass  # the snapshot is written; --since last falls back to the whole journal next time
    return ExportResult(out_path, manifest, manifest["key"]["fingerprint"], journal_meta["count"])
