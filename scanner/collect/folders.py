"""Marked folders declared in local tailoring: owner, group, mode and file count (never content)."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from typing import Any, Iterable, Optional

from bmnn_guard.policies.facts import FolderFacts, MarkedFolder

from ._common import Errors, describe


def _decl(item: Any) -> tuple[str, Optional[str]]:
    """(path, owner) from a MarkedFolderDecl, a mapping, a (path, owner) pair or a path."""
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item), None
    if isinstance(item, dict):
        return str(item["path"]), item.get("owner")
    if isinstance(item, (tuple, list)):
        return str(item[0]), (item[1] if len(item) > 1 else None)
    return str(item.path), getattr(item, "owner", None)


def _name(lookup, ident: int) -> str:
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def count_files(path: str) -> tuple[int, list[tuple[str, OSError]]]:
    """Regular files below ``path`` (symlinks not followed) and the directories that could not be read."""
    count, problems, stack = 0, [], [path]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                for e in it:
                    try:
                        if e.is_dir(follow_symlinks=False):
                            stack.append(e.path)
                        elif e.is_file(follow_symlinks=False):
                            count += 1
                    except OSError as exc:
                        problems.append((e.path, exc))
        except OSError as exc:
            problems.append((d, exc))
    return count, problems


def collect_folders(marked_folders: Iterable[Any] = ()) -> FolderFacts:
    """Each declared folder as found on disk."""
    errors = Errors()
    out = []
    for item in marked_folders:
        path, owner = _decl(item)
        try:
            st = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            out.append(MarkedFolder(path=path, exists=False, declared_owner=owner))
            continue
        except OSError as exc:
            errors.oserror(path, exc, "folders.folders")
            out.append(MarkedFolder(path=path, exists=None, declared_owner=owner))
            continue
        if not stat.S_ISDIR(st.st_mode):
            out.append(MarkedFolder(path=path, exists=False, owner=_name(pwd.getpwuid, st.st_uid),
                                    group=_name(grp.getgrgid, st.st_gid), mode=stat.S_IMODE(st.st_mode),
                                    declared_owner=owner))
            continue
        count, problems = count_files(path)
        for p, exc in problems[:5]:
            errors.add(p, describe(exc) + " (file count incomplete)", "folders.folders.file_count")
        out.append(MarkedFolder(path=path, exists=True, owner=_name(pwd.getpwuid, st.st_uid),
                                group=_name(grp.getgrgid, st.st_gid), mode=stat.S_IMODE(st.st_mode),
                                file_count=None if problems else count, declared_owner=owner))
    return FolderFacts(folders=tuple(out), errors=errors.tuple())
