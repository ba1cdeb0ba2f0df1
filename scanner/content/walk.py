"""The content scan's walk: directory fds all the way down, never a symbolic link followed.

A scan that lists a tree by path and opens files by path later can be raced: between the listing
and the open a local user replaces a directory with a symlink to ``/etc`` or a file with a link
to ``/dev/zero``. Here every directory is opened with ``O_NOFOLLOW | O_DIRECTORY`` relative to its
parent's fd and ``fstat``-checked against the identity (device, inode) the listing saw; files are
opened later (``safeio.open_regular``) relative to that same verified directory fd. A directory
swapped mid-scan is reported ("changed during the scan"), never entered.

Only the *anchors* are followed: the roots a user names on the command line, the configured
marked folders, the mounted media. A root below an anchor (a single changed file the daemon
rescans) is reached from its anchor one component at a time, without following links.

The walk records the tree (directories by index, files with their ``lstat``) so that the scan can
count its work before it starts (progress with a total) and skip unchanged files from ``stat``
alone (the verdict cache); ``DirChain`` re-opens directories along the walk order cheaply.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from typing import Optional, Sequence

from .. import safeio

MAX_DEPTH = 200
"""Deepest directory walked below a root; deeper ones are listed as not walked (not read)."""


class Changed(OSError):
    """A directory is no longer what the walk saw (renamed, replaced by a link): not entered."""


@dataclass(frozen=True)
class Dir:
    """One directory of the walked tree."""

    parent: Optional[int]
    """Index of the parent directory; None for a directory opened from an anchor."""
    name: str
    """Name in the parent (for an anchored directory: the anchor path)."""
    path: str
    """Full path, for display and for the marked-folder test."""
    dev: int
    ino: int
    depth: int = 0
    rel: tuple[str, ...] = ()
    """For an anchored directory: components below the anchor ``name``, opened without following."""


class Stat:
    """The ``lstat`` fields a scan needs (a full ``os.stat_result`` per file costs ~1 KiB: a
    home with 200,000 files would hold 200 MiB of them)."""

    __slots__ = ("st_dev", "st_ino", "st_size", "st_mtime_ns", "st_ctime_ns")

    def __init__(self, st: os.stat_result):
        self.st_dev, self.st_ino, self.st_size = st.st_dev, st.st_ino, st.st_size
        self.st_mtime_ns, self.st_ctime_ns = st.st_mtime_ns, st.st_ctime_ns


class File:
    """One regular file seen by the walk (by ``lstat``: not yet opened)."""

    __slots__ = ("dir", "name", "dirpath", "st")

    def __init__(self, dir: int, name: str, dirpath: str, st: os.stat_result):
        self.dir = dir
        """Index of its directory in ``Tree.dirs``."""
        self.name = name
        self.dirpath = dirpath
        """Its directory's path (one string shared by all the files of a directory)."""
        self.st = Stat(st)

    @property
    def path(self) -> str:
        return os.path.join(self.dirpath, self.name)


@dataclass(frozen=True)
class Other:
    """Something that is not a regular file or a directory, or a directory that was not walked."""

    path: str
    what: str
    """symlink, fifo, socket, char_device, block_device, unknown; or error."""
    reason: str
    """What the scan did with it, in English (the file name never goes in here)."""
    error: bool = False
    """True when this leaves the scan incomplete (a directory that could not be listed)."""


@dataclass
class Tree:
    dirs: list[Dir] = field(default_factory=list)
    files: list[File] = field(default_factory=list)
    others: list[Other] = field(default_factory=list)


_WHAT = {"fifo": "named pipe (FIFO): not opened", "socket": "socket: not opened",
         "char_device": "character device node: not opened", "block_device": "block device node: not opened",
         "unknown": "not a regular file: not opened"}


def split_anchor(path: str, anchors: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """(anchor, components below it) for ``path``; for a path under no anchor, its folder is the
    anchor and its own name is not followed."""
    best = None
    for a in anchors:
        if path == a or path.startswith(a.rstrip(os.sep) + os.sep):
            if best is None or len(a) > len(best):
                best = a
    if best is None:  # not under any anchor: its folder is followed, the path itself is not
        parent, name = os.path.split(path.rstrip(os.sep))
        return (parent, (name,)) if name and parent else (path, ())
    rest = path[len(best):].strip(os.sep)
    return best, tuple(p for p in rest.split(os.sep) if p)


class DirChain:
    """Open directories of a ``Tree`` by index, keeping the fds of the current branch.

    Visiting directories in walk order re-opens about one directory per call; every open is
    ``O_NOFOLLOW`` relative to the parent's fd and checked against the recorded identity.
    """

    def __init__(self, tree: Tree):
        self.tree = tree
        self.stack: list[tuple[int, int]] = []  # (dir index, fd), root first

    def get(self, idx: int) -> int:
        chain = []
        i: Optional[int] = idx
        while i is not None:
            chain.append(i)
            i = self.tree.dirs[i].parent
        chain.reverse()
        keep = 0
        while keep < len(self.stack) and keep < len(chain) and self.stack[keep][0] == chain[keep]:
            keep += 1
        self._pop_to(keep)
        for i in chain[keep:]:
            d = self.tree.dirs[i]
            if d.parent is None:
                fd = open_anchored(d.name, d.rel)
            else:
                fd = safeio.open_directory(d.name, dir_fd=self.stack[-1][1])
            try:
                st = os.fstat(fd)
            except OSError:
                os.close(fd)
                raise
            if (st.st_dev, st.st_ino) != (d.dev, d.ino):
                os.close(fd)
                raise Changed(errno.ESTALE, "directory changed during the scan: not entered")
            self.stack.append((i, fd))
        return self.stack[-1][1]

    def _pop_to(self, n: int) -> None:
        while len(self.stack) > n:
            os.close(self.stack.pop()[1])

    def close(self) -> None:
        self._pop_to(0)


def open_anchored(anchor: str, rel: Sequence[str]) -> int:
    """fd of the directory ``anchor``/``rel``...: the anchor by path (it is trusted: named by the
    user or configured by root), each component below it without following a link."""
    fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in rel:
            nfd = safeio.open_directory(part, dir_fd=fd)
            os.close(fd)
            fd = nfd
    except OSError:
        os.close(fd)
        raise
    return fd


def _why(exc: OSError) -> str:
    if isinstance(exc, Changed):
        return str(exc.strerror)
    if exc.errno in (errno.ELOOP, errno.ENOTDIR):
        return "replaced by a symbolic link or a file during the scan: not entered"
    return f"cannot list directory: {exc.strerror}"


def _lstat_root(anchor: str, rel: tuple[str, ...]) -> os.stat_result:
    if not rel:
        return os.stat(anchor)  # the anchor itself is followed (named by the user or configured)
    fd = open_anchored(anchor, rel[:-1])
    try:
        return os.stat(rel[-1], dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)


def walk(roots: Sequence[str], anchors: Sequence[str], display) -> Tree:
    """The tree under ``roots`` (absolute, normalised paths). ``display(path)`` makes a path
    printable for the records; ``anchors`` are the paths that may be followed themselves."""
    tree = Tree()
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    chain = DirChain(tree)
    pending: list[int] = []

    def add_dir(parent: Optional[int], name: str, path: str, st, depth: int, rel=()) -> None:
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            return
        seen_dirs.add(key)
        tree.dirs.append(Dir(parent, name, path, st.st_dev, st.st_ino, depth, tuple(rel)))
        pending.append(len(tree.dirs) - 1)

    def add_other(path: str, st: os.stat_result, dir_fd: Optional[int], name: str) -> None:
        kind = safeio.file_type(st.st_mode)
        if kind == "symlink":
            target = None
            try:
                target = os.readlink(name, dir_fd=dir_fd)[: safeio.LINK_TARGET_MAX]
            except OSError:
                pass
            shown = display(target) if target is not None else "?"
            tree.others.append(Other(path, "symlink", f"symbolic link to {shown}: not followed"))
        else:
            tree.others.append(Other(path, kind, _WHAT.get(kind, _WHAT["unknown"])))

    try:
        for root in roots:
            anchor, rel = split_anchor(root, anchors)
            try:
                st = _lstat_root(anchor, rel)
            except OSError as exc:
                tree.others.append(Other(root, "error", _why(exc) if exc.errno in (errno.ELOOP, errno.ENOTDIR)
                                         else f"cannot read: {exc.strerror}", error=True))
                continue
            if stat.S_ISDIR(st.st_mode):
                add_dir(None, anchor, root, st, 0, rel)
            elif stat.S_ISREG(st.st_mode):
                parent = os.path.dirname(root)
                p_anchor, p_rel = split_anchor(parent, anchors) if rel else (parent, ())
                try:
                    pst = os.fstat(fd := open_anchored(p_anchor, p_rel))
                    os.close(fd)
                except OSError as exc:
                    tree.others.append(Other(root, "error", f"cannot read: {exc.strerror}", error=True))
                    continue
                key = (pst.st_dev, pst.st_ino)
                idx = next((i for i, d in enumerate(tree.dirs) if (d.dev, d.ino) == key and d.parent is None
                            and d.name == p_anchor and d.rel == p_rel), None)
                if idx is None:
                    tree.dirs.append(Dir(None, p_anchor, parent, pst.st_dev, pst.st_ino, 0, p_rel))
                    idx = len(tree.dirs) - 1
                if (st.st_dev, st.st_ino) not in seen_files:
                    seen_files.add((st.st_dev, st.st_ino))
                    tree.files.append(File(idx, os.path.basename(root), os.path.dirname(root), st))
            else:
                add_other(root, st, None, root)
            while pending:
                idx = pending.pop()
                d = tree.dirs[idx]
                try:
                    fd = chain.get(idx)
                    it = os.scandir(fd)
                except OSError as exc:
                    tree.others.append(Other(d.path, "error", _why(exc), error=True))
                    continue
                subdirs = []
                with it:
                    for de in it:
                        try:
                            st = de.stat(follow_symlinks=False)
                        except OSError as exc:
                            if exc.errno != errno.ENOENT:  # gone since the listing: nothing to read
                                tree.others.append(Other(os.path.join(d.path, de.name), "error",
                                                         f"cannot stat: {exc.strerror}", error=True))
                            continue
                        if stat.S_ISREG(st.st_mode):
                            key = (st.st_dev, st.st_ino)
                            if key not in seen_files:
                                seen_files.add(key)
                                tree.files.append(File(idx, de.name, d.path, st))
                            continue
                        path = os.path.join(d.path, de.name)
                        if stat.S_ISDIR(st.st_mode):
                            if d.depth + 1 > MAX_DEPTH:
                                tree.others.append(Other(path, "error", f"nested deeper than {MAX_DEPTH} directories: not walked", error=True))
                            else:
                                subdirs.append((de.name, path, st))
                        else:
                            add_other(path, st, fd, de.name)
                for name, path, st in reversed(sorted(subdirs)):
                    add_dir(idx, name, path, st, d.depth + 1)
    finally:
        chain.close()
    return tree
