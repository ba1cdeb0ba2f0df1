"""Open files that other users control without following links, blocking or racing.

A root process that checks a path and then opens it can be raced: between the ``lstat`` and the
``open`` a local user renames a symlink to ``/etc/shadow`` or ``/dev/zero`` over the file. So a
file the daemon or the scanner did not create is opened once, with ``O_NOFOLLOW | O_NONBLOCK``
(relative to an open directory where the caller has one), and everything after that works on the
descriptor: ``fstat`` says what it is, and only a regular file is read or hashed. A symlink, FIFO,
device or socket is described (type, link target as text) and never opened for reading.

Where ``/proc/self/fd`` exists the file is first opened with ``O_PATH``, which opens nothing
(no FIFO wait, no device driver's open handler, no tape rewind): only once ``fstat`` of that
handle says "regular file" is the same inode reopened for reading through ``/proc/self/fd/N``.
``open_beneath`` resolves a path below a directory one component at a time, so a folder on the
way that was swapped for a symlink (to ``/etc``, ``/dev``) stops the walk instead of redirecting it.

Every function here reports what it found as data (``Opened`` or ``NotRegular``) or raises
``OSError`` for a real I/O error; none follows a link.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Optional, Union

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
O_PATH = getattr(os, "O_PATH", 0)
PATH_FLAGS = O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC

LINK_TARGET_MAX = 4096
"""Longest link target recorded as text (Linux PATH_MAX)."""


def file_type(mode: int) -> str:
    """A file's type as a word: regular, directory, symlink, fifo, socket, char_device, block_device."""
    for test, name in ((stat.S_ISREG, "regular"), (stat.S_ISDIR, "directory"), (stat.S_ISLNK, "symlink"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "char_device"),
                       (stat.S_ISBLK, "block_device")):
        if test(mode):
            return name
    return "unknown"


@dataclass(frozen=True)
class NotRegular:
    """A path that is not a regular file: recorded as what it is, never opened for reading."""

    type: str
    """What ``file_type`` says it is."""
    stat: os.stat_result
    """Its lstat (the link itself for a symlink)."""
    link_target: Optional[str] = None
    """For a symlink: where it points, as text (never followed)."""
    component: Optional[str] = None
    """``open_beneath`` only: the folder on the way (relative) that is not a real directory; None
    when the file itself is what ``type`` says."""


@dataclass(frozen=True)
class Opened:
    """A regular file opened read-only: use ``fd`` and ``stat`` only, never the path again."""

    fd: int
    """The open descriptor (the caller closes it, or uses ``with``)."""
    stat: os.stat_result
    """``fstat`` of ``fd``: what was really opened."""

    def close(self) -> None:
        """Close the descriptor (idempotent enough for ``finally`` blocks: EBADF is ignored)."""
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> "Opened":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _readlink(name: str, dir_fd: Optional[int]) -> Optional[str]:
    try:
        target = os.readlink(name, dir_fd=dir_fd) if dir_fd is not None else os.readlink(name)
    except OSError:
        return None
    return target[:LINK_TARGET_MAX]


def open_regular(name: str, *, dir_fd: Optional[int] = None) -> Union[Opened, NotRegular]:
    """Open ``name`` (relative to ``dir_fd`` when given) if and only if it is a regular file.

    A symlink at the last component is never followed (``O_NOFOLLOW`` gives ``ELOOP``); a FIFO or
    device is opened non-blocking only to ``fstat`` it, then closed at once without a read.
    Raises ``OSError`` for errors other than "this is not a regular file" (ENOENT, EACCES...).
    """
    if O_PATH and _proc_fd_usable():
        return _open_regular_via_path(name, dir_fd)
    try:
        fd = os.open(name, OPEN_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                return NotRegular("symlink", st, _readlink(name, dir_fd))
        if exc.errno == errno.ENXIO:  # a socket, or a FIFO/device with nobody on the other end
            st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            return NotRegular(file_type(st.st_mode), st)
        raise
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return NotRegular(file_type(st.st_mode), st)
    return Opened(fd, st)


_PROC_FD: list[bool] = []


def _proc_fd_usable() -> bool:
    if not _PROC_FD:
        _PROC_FD.append(os.path.isdir("/proc/self/fd"))
    return _PROC_FD[0]


def _open_regular_via_path(name: str, dir_fd: Optional[int]) -> Union[Opened, NotRegular]:
    """``open_regular`` through an ``O_PATH`` handle: nothing but a regular file is ever opened."""
    pfd = os.open(name, PATH_FLAGS, dir_fd=dir_fd)  # a symlink itself, a FIFO, a device: no open() of it
    try:
        pst = os.fstat(pfd)
        if not stat.S_ISREG(pst.st_mode):
            target = _readlink("", pfd) if stat.S_ISLNK(pst.st_mode) else None  # this very link
            return NotRegular(file_type(pst.st_mode), pst, target)
        fd = os.open(f"/proc/self/fd/{pfd}", os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY | os.O_NONBLOCK)
    finally:
        os.close(pfd)
    try:
        st = os.fstat(fd)
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(st.st_mode) or (st.st_dev, st.st_ino) != (pst.st_dev, pst.st_ino):
        os.close(fd)  # cannot happen through /proc/self/fd; refuse rather than trust it
        return NotRegular(file_type(st.st_mode), st)
    return Opened(fd, st)


def open_beneath(relpath: str, *, root_fd: int) -> Union[Opened, NotRegular]:
    """Open ``relpath`` below the directory ``root_fd`` if and only if every folder on the way is a
    real directory and the file is a regular file; no symlink is followed anywhere on the way.

    A component that is a symlink (or anything but a directory) ends the walk with a
    ``NotRegular`` naming it (``component``). ``..``, ``.``, empty and absolute paths are refused
    with ``OSError(EINVAL)``: they could climb out of the root. Other errors raise ``OSError``.
    """
    parts = relpath.split("/")
    if relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise OSError(errno.EINVAL, "not a plain path below the folder", relpath)
    fd = root_fd
    try:
        for i, part in enumerate(parts[:-1]):
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                target = _readlink(part, fd) if stat.S_ISLNK(st.st_mode) else None
                return NotRegular(file_type(st.st_mode), st, target, component="/".join(parts[:i + 1]))
            if fd != root_fd:
                os.close(fd)
            fd = nfd
        return open_regular(parts[-1], dir_fd=fd)
    finally:
        if fd != root_fd:
            os.close(fd)


def open_directory(name: str, *, dir_fd: Optional[int] = None) -> int:
    """An fd of the directory ``name``, refusing a symlink at the last component (``ELOOP`` /
    ``ENOTDIR`` raised as ``OSError``). Walk a tree with these fds and ``dir_fd=`` so that a
    directory renamed and replaced by a link mid-walk cannot redirect the walk."""
    return os.open(name, DIR_FLAGS, dir_fd=dir_fd)


@dataclass(frozen=True)
class Digest:
    """The SHA-256 of a regular file read through its descriptor, or why it was not hashed."""

    sha256: Optional[str]
    """Hex digest, or None when not hashed."""
    size: int
    """Size from ``fstat`` at open time."""
    note: Optional[str] = None
    """Why it was not hashed (``larger than N bytes``) or that it changed while read."""


def hash_fd(fd: int, size: int, *, limit: int, chunk: int = 1 << 20) -> Digest:
    """Hash an open regular file from offset 0, reading at most ``max(size, limit)`` bytes.

    ``size`` is the ``fstat`` size at open time: a file larger than ``limit`` is not hashed at all
    (the note says so), and a file that grows while being read is cut at ``limit`` and noted, so a
    writer appending forever cannot keep the hasher busy.
    """
    if size > limit:
        return Digest(None, size, f"not hashed: larger than {limit} bytes")
    h = hashlib.sha256()
    left = limit + 1  # one byte more tells "grew past the limit" from "exactly the limit"
    offset = 0
    while left > 0:
        data = os.pread(fd, min(chunk, left), offset)
        if not data:
            break
        h.update(data)
        offset += len(data)
        left -= len(data)
    if offset > limit:
        return Digest(None, size, f"not hashed: grew larger than {limit} bytes while read")
    note = None if offset == size else f"changed while read ({size} bytes at open, {offset} read)"
    return Digest(h.hexdigest(), size, note)


def read_bounded(fd: int, limit: int) -> bytes:
    """At most ``limit`` bytes of an open regular file from offset 0 (for small files such as
    configuration; a caller that gets ``limit`` bytes back knows the file was larger)."""
    out = bytearray()
    while len(out) < limit:
        data = os.pread(fd, min(1 << 20, limit - len(out)), len(out))
        if not data:
            break
        out += data
    return bytes(out)
