"""Installed packages (dpkg, rpm, flatpak, snap) and running processes.

The dpkg status file is parsed in one streaming pass (no ``dpkg-query`` per package). rpm's
SQLite database is read directly; the older Berkeley DB / ndb formats go through ``rpm -qa``.
A machine with no package database at all is a collection error, never an empty list that passes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import subprocess
from typing import Optional

import psutil

from bmnn_guard.policies.facts import Package, Process, SoftwareFacts

from ._common import Errors, parse_mountinfo, read_text

_DPKG_GONE = ("not-installed", "config-files")


def dpkg_packages(path: str) -> list[Package]:
    """Packages whose files are on disk, from a dpkg status file (raises OSError)."""
    out = []
    with open(path, "rb") as fh:
        name = version = status = None
        for raw in fh:
            if raw == b"\n":
                if name and status and status.rsplit(b" ", 1)[-1] not in (b"not-installed", b"config-files"):
                    out.append(Package(name=name.decode("utf-8", "replace"),
                                       version=version.decode("utf-8", "replace") if version else None, manager="dpkg"))
                name = version = status = None
                continue
            if raw[:9] == b"Package: ":
                name = raw[9:].strip()
            elif raw[:8] == b"Status: ":
                status = raw[8:].strip()
            elif raw[:9] == b"Version: ":
                version = raw[9:].strip()
        if name and status and status.rsplit(b" ", 1)[-1] not in (b"not-installed", b"config-files"):
            out.append(Package(name=name.decode("utf-8", "replace"),
                               version=version.decode("utf-8", "replace") if version else None, manager="dpkg"))
    return out


# rpm header tags and types
_RPMTAG_NAME, _RPMTAG_VERSION, _RPMTAG_RELEASE, _RPMTAG_EPOCH = 1000, 1001, 1002, 1003


def _rpm_header(blob: bytes) -> dict[int, object]:
    """NAME, VERSION, RELEASE, EPOCH of one rpm header blob as stored in rpmdb.sqlite."""
    il, dl = struct.unpack_from(">II", blob, 0)
    data_start = 8 + 16 * il
    out: dict[int, object] = {}
    for i in range(il):
        tag, typ, offset, count = struct.unpack_from(">IIiI", blob, 8 + 16 * i)
        if tag not in (_RPMTAG_NAME, _RPMTAG_VERSION, _RPMTAG_RELEASE, _RPMTAG_EPOCH):
            continue
        pos = data_start + offset
        if typ == 6 or typ == 9:  # STRING, I18NSTRING
            end = blob.index(b"\0", pos)
            out[tag] = blob[pos:end].decode("utf-8", "replace")
        elif typ == 4:  # INT32
            out[tag] = struct.unpack_from(">i", blob, pos)[0]
    return out


def rpm_sqlite_packages(path: str) -> list[Package]:
    """Packages from an rpmdb.sqlite (raises OSError / sqlite3.Error)."""
    out = []
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        for (blob,) in con.execute("SELECT blob FROM Packages"):
            h = _rpm_header(bytes(blob))
            if _RPMTAG_NAME not in h:
                continue
            ver = "-".join(str(h[t]) for t in (_RPMTAG_VERSION, _RPMTAG_RELEASE) if t in h) or None
            if _RPMTAG_EPOCH in h and ver:
                ver = f"{h[_RPMTAG_EPOCH]}:{ver}"
            if h[_RPMTAG_NAME] == "gpg-pubkey":
                continue
            out.append(Package(name=str(h[_RPMTAG_NAME]), version=ver, manager="rpm"))
    finally:
        con.close()
    return out


def _rpm(root: str, errors: Errors) -> tuple[list[Package], bool]:
    for rel in ("var/lib/rpm", "usr/lib/sysimage/rpm"):
        d = os.path.join(root, rel)
        if not os.path.isdir(d):
            continue
        sqlite_db = os.path.join(d, "rpmdb.sqlite")
        if os.path.exists(sqlite_db):
            try:
                return rpm_sqlite_packages(sqlite_db), True
            except (OSError, sqlite3.Error, struct.error, ValueError) as exc:
                errors.oserror(sqlite_db, exc, "software.packages")
                return [], True
        if not any(os.path.exists(os.path.join(d, f)) for f in ("Packages", "Packages.db")):
            continue  # an empty rpm directory (the rpm tool installed on a dpkg system)
        tool = shutil.which("rpm")
        if tool is None or root != "/":
            errors.add(d, "Berkeley DB / ndb rpm database and no rpm tool to read it", "software.packages")
            return [], True
        try:
            res = subprocess.run([tool, "-qa", "--qf", "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\n"],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            errors.oserror("rpm -qa", exc, "software.packages")
            return [], True
        if res.returncode != 0:
            errors.add("rpm -qa", res.stderr.strip()[:200] or f"exit {res.returncode}", "software.packages")
            return [], True
        out = []
        for line in res.stdout.splitlines():
            name, _, ver = line.partition("\t")
            if name and name != "gpg-pubkey":
                out.append(Package(name=name, version=ver.removeprefix("0:") or None, manager="rpm"))
        return out, True
    return [], False


def _flatpak(root: str, errors: Errors) -> list[Package]:
    """System-wide and per-user flatpak applications (app/<id>/current)."""
    bases = [os.path.join(root, "var/lib/flatpak/app")]
    home = os.path.join(root, "home")
    try:
        users = [os.path.join(home, u) for u in os.listdir(home)]
    except OSError:
        users = []
    users.append(os.path.join(root, "root"))
    bases += [os.path.join(u, ".local/share/flatpak/app") for u in users]
    out, seen = [], set()
    for base in bases:
        try:
            apps = sorted(os.listdir(base))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except PermissionError:
            if base.startswith(os.path.join(root, "var")):
                errors.add(base, "permission denied", "software.packages")
            continue  # another user's home: their per-user apps are not ours to see
        except OSError as exc:
            errors.oserror(base, exc, "software.packages")
            continue
        for app in apps:
            cur = os.path.join(base, app, "current")
            if not os.path.exists(cur) or app in seen:
                continue
            seen.add(app)
            try:
                branch = os.readlink(cur).rsplit("/", 1)[-1]
            except OSError:
                branch = None
            out.append(Package(name=app, version=branch, manager="flatpak"))
    return out


def _snap(root: str, errors: Errors) -> list[Package]:
    d = os.path.join(root, "var/lib/snapd/snaps")
    try:
        files = sorted(os.listdir(d))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        errors.oserror(d, exc, "software.packages")
        return []
    out, seen = [], set()
    for f in files:
        if not f.endswith(".snap"):
            continue
        name, _, rev = f[:-5].rpartition("_")
        if name and name not in seen:
            seen.add(name)
            out.append(Package(name=name, version=rev or None, manager="snap"))
    return out


def _proc_hidden(proc_root: str) -> Optional[str]:
    """The hidepid option of /proc when it hides other users' processes from us."""
    if os.geteuid() == 0:
        return None
    try:
        for e in parse_mountinfo(read_text(os.path.join(proc_root, "self", "mountinfo"))):
            if e["mountpoint"] == proc_root and e["fstype"] == "proc":
                for opt in e["options"] + e["super_options"]:
                    if opt in ("hidepid=1", "hidepid=2", "hidepid=invisible", "hidepid=noaccess", "hidepid=ptraceable"):
                        return opt
    except OSError:
        return None
    return None


def _processes(proc_root: str, errors: Errors) -> list[Process]:
    hidden = _proc_hidden(proc_root)
    if hidden:
        errors.add(proc_root, f"mounted with {hidden}: other users' processes are hidden", "software.processes")
    out = []
    try:
        for p in psutil.process_iter(["pid", "name", "exe", "username"]):
            info = p.info
            if info.get("name") is None:
                continue
            out.append(Process(pid=info["pid"], name=info["name"], exe=info.get("exe") or None,
                               user=info.get("username")))
    except Exception as exc:
        errors.oserror("psutil.process_iter", exc, "software.processes")
    return out


def collect_software(*, root: str = "/", proc_root: str = "/proc", processes: bool = True) -> SoftwareFacts:
    """Packages from every manager found below ``root`` and the running processes."""
    errors = Errors()
    packages: list[Package] = []
    found = False
    status = os.path.join(root, "var/lib/dpkg/status")
    if os.path.exists(status):
        found = True
        try:
            packages += dpkg_packages(status)
        except OSError as exc:
            errors.oserror(status, exc, "software.packages")
    rpm, rpm_found = _rpm(root, errors)
    packages += rpm
    found = found or rpm_found
    if not found:
        errors.add(root, "no dpkg or rpm package database found", "software.packages")
    packages += _flatpak(root, errors)
    packages += _snap(root, errors)
    procs = _processes(proc_root, errors) if processes else []
    return SoftwareFacts(packages=tuple(packages), processes=tuple(procs), errors=errors.tuple())
