"""Reading and writing snapshot tar files safely, in memory.

A snapshot comes from a machine the inspector does not trust: members are read into memory with
size limits, never extracted; links, devices, absolute or ``..`` paths and duplicate names are
refused.
"""

from __future__ import annotations

import io
import tarfile
import time
from typing import Mapping

from ..errors import AgentError

MAX_MEMBER = 256 << 20
MAX_TOTAL = 1 << 30
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


def read(path: str) -> dict[str, bytes]:
    """All regular members of a snapshot; AgentError for anything unsafe or unreadable."""
    out: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:") as tar:
            for i, ti in enumerate(tar):
                if i >= MAX_MEMBERS:
                    raise AgentError(f"{path}: more than {MAX_MEMBERS} members")
                name = ti.name
                if not ti.isfile():
                    raise AgentError(f"{path}: member {name!r} is not a regular file")
                if name.startswith("/") or ".." in name.split("/") or not name:
                    raise AgentError(f"{path}: unsafe member name {name!r}")
                if name in out:
                    raise AgentError(f"{path}: member {name!r} appears twice")
                if ti.size > MAX_MEMBER or total + ti.size > MAX_TOTAL:
                    raise AgentError(f"{path}: member {name!r} is too large")
                fh = tar.extractfile(ti)
                data = fh.read() if fh else b""
                total += len(data)
                out[name] = data
    except FileNotFoundError:
        raise AgentError(f"{path}: no such file") from None
    except PermissionError:
        raise AgentError(f"{path}: permission denied") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise AgentError(f"{path}: not a readable snapshot ({exc})") from None
    return out
