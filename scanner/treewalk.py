"""Walk a tree other users control, and open files in it, without ever following a link.

``walk`` holds an open descriptor of each directory and lists and opens what is below it through
that descriptor (``scandir(fd)``, ``fstatat``, ``openat`` with ``O_NOFOLLOW``): a directory that a
user renames and replaces with a symlink to ``/etc`` halfway through cannot redirect the walk, and
a symlink is listed as what it is, never entered. ``open_beneath`` opens a path below a root the
same way, one component at a time, so that root hashing "a file in /tmp" hashes that file and not
``/etc/shadow``. Walks stay on the root's file system (a user's FUSE mount in /tmp could block
forever) and stop after ``limit`` entries, saying so.

The root itself is resolved once (``realpath``): it comes from the configuration or the password
database, not from the user, and ``/home`` may legitimately be a link.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Optional

from .safeio import DIR_FLAGS, NotRegular, Opened, open_directory, open_regular

WALK_LIMIT = 200_000
"""Entries looked at per walk before it stops (and says so)."""
DEPTH_LIMIT = 64


@dataclass
class WalkNotes:
    """What a walk passed over, and why (listed, never silently dropped)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason): links not followed, other file systems, special files."""
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason): directories that could not be listed."""
    truncated: bool = False
    """The walk stopped at its entry limit."""


def walk(root: str, notes: WalkNotes, *, want: Callable[[os.stat_result], bool] = lambda st: True,
         limit: int = WALK_LIMIT, same_fs: bool = True) -> Iterator[tuple[str, os.stat_result]]:
    """(path, lstat) of every regular file below ``root`` that ``want`` accepts."""
    root = os.path.realpath(root)
    try:
        top = os.open(root, DIR_FLAGS)
    except OSError as exc:
        notes.errors.append((root, exc.strerror or str(exc)))
        return
    dev = os.fstat(top).st_dev
    seen = 0
    stack: list[tuple[int, str, int]] = [(top, root, 0)]
    try:
        while stack:
            fd, path, depth = stack.pop()
            try:
                try:
                    entries = list(os.scandir(fd))
                except FileNotFoundError:
                    continue  # removed while the walk ran: nothing there any more
                except OSError as exc:
                    notes.errors.append((path, f"cannot list: {exc.strerror}"))
                    continue
                prefix = path.rstrip("/") + "/"
                for de in entries:
                    seen += 1
                    if seen > limit:
                        notes.truncated = True
                        return
                    child = prefix + de.name
                    try:
                        st = de.stat(follow_symlinks=False)  # fstatat relative to fd
                    except FileNotFoundError:
                        continue  # removed between the listing and the stat
                    except OSError as exc:
                        notes.errors.append((child, f"cannot stat: {exc.strerror}"))
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        if same_fs and st.st_dev != dev:
                            notes.skipped.append((child, "another file system: not entered"))
                        elif depth + 1 >= DEPTH_LIMIT:
                            notes.skipped.append((child, f"deeper than {DEPTH_LIMIT} levels: not entered"))
                        else:
                            try:
                                stack.append((open_directory(de.name, dir_fd=fd), child, depth + 1))
                            except FileNotFoundError:
                                pass  # removed since it was listed
                            except OSError as exc:
                                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                                    notes.skipped.append((child, "replaced by a link or a file while walked: not followed"))
                                else:
                                    notes.errors.append((child, f"cannot open: {exc.strerror}"))
                    elif stat.S_ISREG(st.st_mode):
                        if want(st):
                            yield child, st
                    elif stat.S_ISLNK(st.st_mode):
                        if want(st):
                            notes.skipped.append((child, "symbolic link: not followed"))
            finally:
                os.close(fd)
    finally:
        for fd, _, _ in stack:
            os.close(fd)


def open_beneath(root: str, path: str) -> Opened | NotRegular:
    """Open ``path`` (inside ``root``) component by component without following any link below
    ``root``. Raises OSError (ELOOP/ENOTDIR for a link on the way, ENOENT...) or ValueError when
    ``path`` is not inside ``root``."""
    root = os.path.realpath(root)
    rel = os.path.relpath(path, root)
    if rel == "." or rel.startswith("..") or os.path.isabs(rel):
        raise ValueError(f"{path} is not inside {root}")
    parts = rel.split(os.sep)
    fd = os.open(root, DIR_FLAGS)
    try:
        for name in parts[:-1]:
            nfd = open_directory(name, dir_fd=fd)
            os.close(fd)
            fd = nfd
        return open_regular(parts[-1], dir_fd=fd)
    finally:
        os.close(fd)


def root_of(path: str, roots) -> Optional[str]:
    """The longest of ``roots`` that ``path`` is inside, or None."""
    best = None
    for r in roots:
        if r and (path == r or path.startswith(r.rstrip("/") + "/")) and (best is None or len(r) > len(best)):
            best = r
    return best


def tops_of(paths: Iterable[str]) -> "set[str]":
    """``paths`` as the set ``at_or_below`` looks up (no trailing slash; "/" stays "/")."""
    return {p.rstrip("/") or "/" for p in paths}


def at_or_below(path: str, tops: "set[str]") -> bool:
    """``path`` is one of ``tops`` or lies below one (a set lookup per ancestor, not a pass per top)."""
    while True:
        if path in tops:
            return True
        cut = path.rfind("/")
        if cut <= 0:
            return "/" in tops and path.startswith("/")
        path = path[:cut]
