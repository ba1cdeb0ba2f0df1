"""Reading and writing snapshot tar files safely, in memory.

A snapshot comes from a machine the inspector does not trust: the file is opened once (without
following a link where the caller asks, never blocking on a FIFO), must be a regular file of
bounded size, and members are read into memory with size limits, never extracted; links, devices,
sparse members, absolute or ``..`` paths and duplicate names are refused.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tarfile
import time
from typing import Mapping, Optional

from bmnn_guard.scanner.safeio import file_type

from ..errors import AgentError

MAX_MEMBER = 256 << 20
MAX_TOTAL = 1 << 30
MAX_FILE = MAX_TOTAL + (16 << 20)
"""Largest file read at all: the members' limit plus room for tar headers."""
MAX_MEMBERS = 1000


def write(path_or_file, members: Mapping[str, bytes], mtime: float | None = None) -> None:
    """Write members (name -> bytes) as a POSIX tar in a stable order."""
    mtime = int(mtime if mtime is not None else time.time())
    with tarfile.open(fileobj=path_or_file, mode="w", format=tarfile.PAX_FORMAT) if not isinstance(path_or_file, str) \
            else tarfile.open(path_or_file, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in members:
            data = members[name]
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = mtime
            ti.mode = 0o644
            ti.uname = ti.gname = "root"
            tar.addfile(ti, io.BytesIO(data))


class NotASnapshot(AgentError):
    """The file is no snapshot at all: not a tar archive, or a tar archive without ``manifest.json``."""


def _open(path: str, dir_fd: Optional[int], follow: bool) -> int:
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        raise AgentError(f"{path}: not found", kind="io") from None
    except PermissionError:
        raise AgentError(f"{path}: permission denied", kind="forbidden") from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise AgentError(f"{path}: a symbolic link, not followed", kind="io") from None
        raise AgentError(f"{path}: {exc.strerror}", kind="io") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise AgentError(f"{path}: not a regular file ({file_type(st.st_mode)})", kind="io")
    return fd


def read(path: str, *, dir_fd: Optional[int] = None, follow: bool = True) -> dict[str, bytes]:
    """All regular members of a snapshot.

    Raises AgentError of kind ``io``/``forbidden`` when the file cannot be opened (missing, not a
    regular file, a link with ``follow=False``), ``NotASnapshot`` when it is not one, and
    AgentError of kind ``integrity`` for anything unsafe or damaged. Every size is checked against
    the limits and against the file's real size before a byte of the member is read.
    """
    fd = _open(path, dir_fd, follow)
    with os.fdopen(fd, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > MAX_FILE:
            raise AgentError(f"{path}: {size} bytes, larger than any snapshot ({MAX_FILE >> 20} MiB): refused",
                             kind="integrity")
        try:
            tar = tarfile.open(fileobj=fh, mode="r:")
        except (tarfile.TarError, EOFError) as exc:
            raise NotASnapshot(f"{path}: not a tar archive ({exc})", kind="integrity") from None
        try:
            out = _members(tar, path, size)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise AgentError(f"{path}: not a readable snapshot ({exc})", kind="integrity") from None
        finally:
            tar.close()
    if "manifest.json" not in out:
        raise NotASnapshot(f"{path}: a tar archive without manifest.json", kind="integrity")
    return out


def _members(tar: tarfile.TarFile, path: str, size: int) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    for i, ti in enumerate(tar):
        if i >= MAX_MEMBERS:
            raise AgentError(f"{path}: more than {MAX_MEMBERS} members", kind="integrity")
        name = ti.name
        if not ti.isfile() or ti.issparse():
            raise AgentError(f"{path}: member {name!r} is not a regular file", kind="integrity")
        if name.startswith("/") or ".." in name.split("/") or not name:
            raise AgentError(f"{path}: unsafe member name {name!r}", kind="integrity")
        if name in out:
            raise AgentError(f"{path}: member {name!r} appears twice", kind="integrity")
        if ti.size > MAX_MEMBER or total + ti.size > MAX_TOTAL or ti.offset_data + ti.size > size:
            raise AgentError(f"{path}: member {name!r} claims {ti.size} bytes: too large for the archive or the "
                             f"limits ({MAX_MEMBER >> 20} MiB a member)", kind="integrity")
        fh = tar.extractfile(ti)
        data = fh.read(ti.size) if fh else b""
        if len(data) != ti.size:
            raise AgentError(f"{path}: member {name!r} is cut short", kind="integrity")
        total += len(data)
        out[name] = data
    return out
