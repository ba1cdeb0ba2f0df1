"""Machines, keys and an inspector for the snapshot tests: real key files, real journals, real tar
files, the real `bmnn` command. Every clock is pinned (``NOW``); nothing reads today's date."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import select
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from bmnn_guard.agent import keys
from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.snapshot import archive, registry
from bmnn_guard.agent.snapshot.export import export
from bmnn_guard.agent.snapshot.inspector import InspectorDir
from bmnn_guard.agent.snapshot.manifest import canonical
from bmnn_guard.scanner.report import html as html_report
from tests.scanner.docfixture import make_document

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
KEY_TIME = NOW - dt.timedelta(days=30)
"""When the test keys are made."""
LONG_AGO = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
"""Key time for hosts whose snapshots the real `bmnn snapshot export` makes with the real clock
(which test_any_date moves years away): any day after it is a valid signing day."""


_DOC: dict = {}


def _document() -> dict:
    """The fixture scan document, built once (loading the policy bundle costs ~0.5 s) and copied."""
    if not _DOC:
        _DOC["doc"] = make_document()
        _DOC["html"] = html_report.report(_DOC["doc"])
    return copy.deepcopy(_DOC["doc"])


def _record_html() -> str:
    """The printable record of the fixture document (scan.html: its bytes are only hashed here)."""
    _document()
    return _DOC["html"]


def at(minutes: float) -> dt.datetime:
    """``minutes`` after NOW: successive snapshots of one host are made later, as in life."""
    return NOW + dt.timedelta(minutes=minutes)


class Host:
    """One machine's directories, key and journal."""

    def __init__(self, base, name="may-mat-01", machine_id="m-0001", key_time: dt.datetime = KEY_TIME):
        self.base = Path(base)
        self.cfg, self.state = str(self.base / "etc"), str(self.base / "state")
        os.makedirs(self.cfg), os.makedirs(self.state)
        self.info = keys.generate(self.cfg, now=key_time)
        self.journal = os.path.join(self.state, "journal.db")
        self.name, self.machine_id = name, machine_id
        self.doc = _document()
        self.doc["target"]["hostname"], self.doc["target"]["machine_id"] = name, machine_id

    @property
    def identity(self) -> dict:
        return {"hostname": self.name, "machine_id": self.machine_id, "dmi_serial": None}

    def append(self, n, kind="heartbeat", **kw):
        with Journal.open(self.journal) as j:
            for _ in range(n):
                j.append(kind, **kw)

    def export(self, path, *, minutes: float = 0, scan: bool = True, **kw):
        args = dict(out_path=str(path), key_dir=self.cfg, journal_path=self.journal, state_dir=self.state,
                    config_dir=self.cfg, scan_doc=self.doc if scan else None,
                    scan_html=_record_html() if scan else None, host=None if scan else self.identity,
                    now=at(minutes))
        args.update(kw)
        return export(**args)

    def save_journal(self, to):
        """A copy of journal.db as it is now (the connection is closed: no WAL left behind)."""
        shutil.copyfile(self.journal, to)

    def restore_journal(self, frm):
        """Put an older journal.db back (what a root attacker does to hide records)."""
        for suffix in ("-wal", "-shm"):
            if os.path.exists(self.journal + suffix):
                os.unlink(self.journal + suffix)
        shutil.copyfile(frm, self.journal)

    @property
    def pub_path(self) -> str:
        return os.path.join(self.cfg, keys.PUBLIC)

    @property
    def pub(self) -> bytes:
        return open(self.pub_path, "rb").read()

    @property
    def fingerprint(self) -> str:
        return keys.info(self.cfg).fingerprint


def genuine_host(base) -> Host:
    """A machine with ten heartbeats and one USB violation in its journal."""
    h = Host(base)
    h.append(10)
    h.append(1, "violation", check_id="BMNN-USB-001", severity="critical",
             evidence={"items": [{"vendor_id": "0781", "product_id": "5567", "serial": "4C53"}]})
    return h


def host_entry(h: Host, label=None) -> registry.Entry:
    return registry.entry_for(h.pub, role="host", now=NOW, label=label or h.name, source="test")


def registry_of(*hosts: Host, inspectors=()) -> registry.Registry:
    """An in-memory registry with these hosts' keys (and inspector public key files)."""
    reg = registry.Registry()
    reg.apply([registry.Change("add", h.fingerprint, host_entry(h)) for h in hosts])
    for pub, name in inspectors:
        e = registry.entry_for(open(pub, "rb").read(), role="inspector", now=NOW, label=name, source="test")
        reg.apply([registry.Change("add", e.fingerprint, e)])
    return reg


def inspector_dir(path, *hosts: Host, inspectors=()) -> InspectorDir:
    """An inspector's directory on disk with these keys registered."""
    idir = InspectorDir(str(path))
    for h in hosts:
        registry.add(idir, host_entry(h))
    for pub, name in inspectors:
        registry.add(idir, registry.entry_for(open(pub, "rb").read(), role="inspector", now=NOW, label=name))
    return idir


def rewrite(src, dst, change):
    """Change members of a snapshot and write it again (the host signature is not redone)."""
    members = archive.read(str(src))
    change(members)
    with open(dst, "wb") as fh:
        archive.write(fh, members)


def resign(src, dst, key_dir, change):
    """Change the manifest and members and sign again with the key in ``key_dir`` (a key holder's forgery)."""
    from bmnn_guard.agent.snapshot.manifest import member_table
    from bmnn_guard.agent.snapshot.manifest import SIGNATURE_MEMBERS
    members = archive.read(str(src))
    manifest = json.loads(members["manifest.json"])
    change(manifest, members)
    body = {k: v for k, v in members.items() if k not in SIGNATURE_MEMBERS}
    manifest["members"] = member_table(body)
    priv = keys.load_private(os.path.join(key_dir, keys.PRIVATE))
    mbytes = canonical(manifest)
    out = {"manifest.json": mbytes, "manifest.sig": priv.sign(mbytes), "host.pub": keys.public_pem(priv.public_key()),
           **body}
    with open(dst, "wb") as fh:
        archive.write(fh, out)


def codes(rep) -> set[str]:
    return {p.code for p in rep.problems}


def warning_codes(rep) -> set[str]:
    return {p.code for p in rep.warnings}


UNDER_FAKETIME = bool(os.environ.get("FAKETIME"))
"""Under libfaketime (test_any_date) sleeping on the monotonic clock fails with EINVAL, which
subprocess's timeout does: there the children run without one."""


def pause(seconds: float) -> None:
    """Sleep that also works under libfaketime (select, not clock_nanosleep)."""
    select.select([], [], [], seconds)


def bmnn(*args, inspector=None, host: Host | None = None, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    """The real `bmnn` command in a child process, with the test's directories."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), BMNN_LANG="en")
    # faketime "@DATE" starts every process at DATE: two children would see time go backwards
    # between them, so they run on the real clock (their times are compared only with each other)
    for name in ("LD_PRELOAD", "FAKETIME", "FAKETIME_DONT_FAKE_MONOTONIC"):
        env.pop(name, None)
    if inspector is not None:
        env["BMNN_INSPECTOR_DIR"] = str(inspector)
    if host is not None:
        env.update(BMNN_CONFIG_DIR=host.cfg, BMNN_STATE_DIR=host.state, BMNN_RUNTIME_DIR=str(host.base / "run"))
    else:
        env.setdefault("BMNN_CONFIG_DIR", str(Path(inspector or cwd or ".") / "no-host-config"))
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=None if UNDER_FAKETIME else timeout)


def bmnn_json(*args, **kw) -> tuple[int, dict]:
    p = bmnn(*args, "--json", **kw)
    try:
        return p.returncode, json.loads(p.stdout)
    except ValueError:
        raise AssertionError(f"not JSON (exit {p.returncode}): {p.stdout[:500]!r} {p.stderr[-1500:]!r}") from None


def tar_with_size_field(path, name: str, claimed: int, real: bytes = b"x") -> None:
    """A tar whose one member's header claims ``claimed`` bytes (checksum fixed), with ``real`` after it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        ti = tarfile.TarInfo(name)
        ti.size = len(real)
        tar.addfile(ti, io.BytesIO(real))
    data = bytearray(buf.getvalue())
    field = f"{claimed:011o}".encode() + b"\0" if claimed < 8 ** 11 else b"\x80" + claimed.to_bytes(11, "big")
    data[124:136] = field
    data[148:156] = b" " * 8
    data[148:156] = f"{sum(data[:512]):06o}".encode() + b"\0 "
    Path(path).write_bytes(bytes(data))
