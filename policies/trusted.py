"""Read configuration the way OpenSSH's StrictModes and sudo do: only what root alone controls.

The daemon runs as root, so a configuration file is as powerful as root: a policy, a ``local.d``
file, ``agent.yaml`` (its hooks run as root), the device registry, the host and journal keys. A
file anyone else could have written must not be used, and neither may a file that is reached
through a directory someone else could rename. The rule, applied when running as root (or when a
caller asks for it with ``enforce=True``):

* the file is opened once, with ``O_NOFOLLOW | O_NONBLOCK`` relative to its directory's fd, and
  everything after that uses the fd: a symlink is refused (never followed), a FIFO, device
  (``/dev/zero``) or socket is refused without a read, the read is bounded, and a file that
  changes while being read is refused;
* the file is owned by root and not writable by group or others;
* every directory from ``/`` down to it is reached with ``O_NOFOLLOW`` (no symlinked
  directories), owned by root and not writable by group or others. A world-writable directory
  with the sticky bit (``/tmp``, mode 1777) is accepted *above* the configuration, because only
  an entry's owner (root, checked next) may rename or delete it there; it is never accepted as
  the directory that holds the file.

As a normal user (``make scan``, tests of the parser) ownership is not checked: such a run cannot
grant more than the user already has. Symlinks, non-regular files and the size bound are refused
for everyone.

Executables (hooks) are checked with the same rule along the path the kernel will follow, links
included: a link is followed only when root owns it and it sits in a directory that passed, so
``/bin/sh`` on a merged-/usr system passes and a link through ``/tmp`` does not.

This is the one module of the policy layer that reads the file system; it exists here because
every layer above reads configuration through the one YAML loader.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from typing import Optional

from .errors import PolicyError, Problem

OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
CONFIG_FILE = ("configuration file", "tệp cấu hình")
POLICY_FILE = ("policy file", "tệp chính sách")
CONFIG_DIR = ("configuration", "cấu hình")
POLICY_DIR = ("policy", "chính sách")
HOOK = ("hook", "lệnh hook")
MAX_LINKS = 40
"""Symlinks followed while resolving an executable (Linux's own limit)."""

_TYPES = ((stat.S_ISDIR, "a directory", "một thư mục"), (stat.S_ISCHR, "a character device", "một thiết bị ký tự"),
          (stat.S_ISBLK, "a block device", "một thiết bị khối"), (stat.S_ISFIFO, "a FIFO", "một FIFO"),
          (stat.S_ISSOCK, "a socket", "một socket"))


def enforcing(enforce: Optional[bool]) -> bool:
    """Whether ownership and modes are checked: as root unless the caller says otherwise."""
    return os.geteuid() == 0 if enforce is None else enforce


def refused(path: str, en: str, vi: str) -> PolicyError:
    """A refusal: names the file and the reason, never anything read from it."""
    return PolicyError(Problem(path, None, None, en, redacted=en, private=True, vi=vi))


def _type_of(mode: int) -> tuple[str, str]:
    for test, en, vi in _TYPES:
        if test(mode):
            return en, vi
    return "not a regular file", "không phải tệp thường"


def _owner_problem(path: str, st: os.stat_result, what: tuple[str, str], *, allow_sticky: bool,
                   subject: Optional[str] = None) -> Optional[PolicyError]:
    """Why root must not trust ``path``, or None. ``path`` is the file, or a directory on the way
    to ``subject`` (the thing being read, named in the message when it is not ``path`` itself);
    ``what`` says what ``subject`` is (English, Vietnamese)."""
    if subject is None or subject == path:
        head_en, head_vi = f"refusing {what[0]}: ", f"từ chối {what[1]}: "
    else:
        head_en, head_vi = f"refusing {what[0]} {subject}: {path} is ", f"từ chối {what[1]} {subject}: {path} "
    if st.st_uid != 0:
        return refused(path, f"{head_en}owned by uid {st.st_uid}, not root: run 'chown root: {path}'",
                       f"{head_vi}thuộc uid {st.st_uid}, không phải root: chạy 'chown root: {path}'")
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH) and not (allow_sticky and mode & stat.S_ISVTX):
        return refused(path, f"{head_en}writable by group or others (mode {mode:04o}): run 'chmod go-w {path}'",
                       f"{head_vi}cho nhóm hoặc người khác quyền ghi (mode {mode:04o}): chạy 'chmod go-w {path}'")
    return None


@dataclass(frozen=True)
class Directory:
    """An open directory whose whole chain passed the check; use ``fd`` with ``dir_fd=``."""

    path: str
    fd: int
    enforced: bool

    def close(self) -> None:
        """Close the descriptor."""
        try:
            os.close(self.fd)
        except OSError:
            pass

    def __enter__(self) -> "Directory":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def subdir(self, name: str, what: tuple[str, str]) -> "Directory":
        """The checked directory ``name`` inside this one (no link; root's and not writable when enforced).
        Raises FileNotFoundError when it does not exist."""
        path = os.path.join(self.path, name)
        folder = (f"the {what[0]} folder", f"thư mục {what[1]}")
        try:
            fd = os.open(name, DIR_FLAGS, dir_fd=self.fd)
        except OSError as exc:
            raise _open_error(path, exc, folder, directory=True) from None
        if self.enforced:
            bad = _owner_problem(path, os.fstat(fd), folder, allow_sticky=False, subject=path)
            if bad:
                os.close(fd)
                raise bad
        return Directory(path, fd, self.enforced)

    def names(self, suffixes: tuple[str, ...], *, max_files: Optional[int] = None) -> list[str]:
        """Sorted names ending in ``suffixes`` (hidden names skipped), listed through the fd."""
        names = sorted(n for n in os.listdir(self.fd) if n.endswith(suffixes) and not n.startswith("."))
        if max_files is not None and len(names) > max_files:
            raise refused(self.path, f"more than {max_files} files in {self.path}; the folder is refused",
                          f"{self.path} có hơn {max_files} tệp; thư mục bị từ chối")
        return names


def open_dir(path: str, *, what: tuple[str, str] = CONFIG_DIR, enforce: Optional[bool] = None) -> Directory:
    """Open the directory ``path`` after checking every directory from ``/`` down to it.

    ``what`` names what it holds (English, Vietnamese). Raises FileNotFoundError when it does not
    exist, PolicyError when it may not be trusted.
    """
    enforced = enforcing(enforce)
    path = os.path.abspath(path)
    folder = (f"the {what[0]} folder", f"thư mục {what[1]}")
    if not enforced:
        try:
            return Directory(path, os.open(path, DIR_FLAGS), False)
        except OSError as exc:
            raise _open_error(path, exc, folder, directory=True) from None
    fd = os.open("/", DIR_FLAGS)
    here = "/"
    try:
        parts = [p for p in path.split("/") if p]
        bad = _owner_problem(here, os.fstat(fd), folder, allow_sticky=bool(parts), subject=path)
        if bad:
            raise bad
        for i, part in enumerate(parts):
            here = os.path.join(here, part)
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                raise _open_error(here, exc, folder, directory=True) from None
            os.close(fd)
            fd = nfd
            bad = _owner_problem(here, os.fstat(fd), folder, allow_sticky=i < len(parts) - 1, subject=path)
            if bad:
                raise bad
    except BaseException:
        os.close(fd)
        raise
    return Directory(path, fd, True)


def _open_error(path: str, exc: OSError, what: tuple[str, str], *, directory: bool) -> Exception:
    """The refusal (or FileNotFoundError) for an ``open`` of ``path`` that failed."""
    if exc.errno == errno.ENOENT:
        return FileNotFoundError(errno.ENOENT, "no such file or directory", path)
    if exc.errno in (errno.ELOOP, errno.EMLINK, errno.ENOTDIR):
        try:
            link = stat.S_ISLNK(os.lstat(path).st_mode)
        except OSError:
            link = False
        if link:
            return refused(path, f"refusing {what[0]}: {path} is a symbolic link; configuration is never read "
                                 "through links (put the real file or folder there)",
                           f"từ chối {what[1]}: {path} là liên kết tượng trưng; cấu hình không bao giờ được đọc qua "
                           "liên kết (hãy đặt tệp hoặc thư mục thật ở đó)")
        if directory:
            return refused(path, f"refusing {what[0]}: {path} is not a directory",
                           f"từ chối {what[1]}: {path} không phải thư mục")
    if exc.errno == errno.ENXIO:
        return refused(path, f"refusing {what[0]}: {path} is a socket or FIFO, not a regular file",
                       f"từ chối {what[1]}: {path} là socket hoặc FIFO, không phải tệp thường")
    if exc.errno == errno.EACCES:
        return refused(path, f"cannot read {path}: permission denied", f"không đọc được {path}: không có quyền")
    return refused(path, f"cannot read {path}: {exc.strerror}", f"không đọc được {path}: {exc.strerror}")


def _not_regular(path: str, mode: int, what: tuple[str, str]) -> PolicyError:
    en, vi = _type_of(mode)
    return refused(path, f"refusing {what[0]}: {path} is {en}, not a regular file",
                   f"từ chối {what[1]}: {path} là {vi}, không phải tệp thường")


@dataclass(frozen=True)
class TrustedFile:
    """The bytes of a configuration file that passed every check."""

    path: str
    """The name it was opened as (for messages)."""
    data: bytes
    """At most ``max_bytes + 1`` bytes: one more than the limit says "larger"."""
    stat: os.stat_result
    """``fstat`` of what was read."""

    @property
    def world_readable(self) -> bool:
        """Everyone may read it (mode o+r): its lines may appear in error messages."""
        return bool(self.stat.st_mode & stat.S_IROTH)


def _read_fd(fd: int, path: str, what: tuple[str, str], max_bytes: int, *, enforced: bool,
             private_key: bool) -> TrustedFile:
    """Everything after the open, on the fd only: what it is, whose, at most ``max_bytes + 1``
    bytes, and whether it changed meanwhile. Closes ``fd``."""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode, what)
        if enforced:
            bad = _owner_problem(path, st, what, allow_sticky=False)
            if bad:
                raise bad
            mode = stat.S_IMODE(st.st_mode)
            if private_key and mode & 0o077:
                raise refused(path, f"refusing {what[0]}: group or others may read {path} (mode {mode:04o}): "
                                    f"run 'chmod 0400 {path}'",
                              f"từ chối {what[1]}: nhóm hoặc người khác có quyền đọc {path} (mode {mode:04o}): "
                              f"chạy 'chmod 0400 {path}'")
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        after = os.fstat(fd)
    finally:
        os.close(fd)
    if len(data) <= max_bytes and (len(data) != after.st_size or after.st_size != st.st_size
                                   or after.st_mtime_ns != st.st_mtime_ns):
        raise refused(path, f"{path} changed while it was read; it is refused (try again once it is written)",
                      f"{path} thay đổi trong khi đang được đọc; tệp bị từ chối (thử lại khi đã ghi xong)")
    return TrustedFile(path, data, after)


def read_at(d: Directory, name: str, *, max_bytes: int, what: tuple[str, str] = CONFIG_FILE,
            private_key: bool = False) -> TrustedFile:
    """Read ``name`` inside the checked directory ``d``: once, no link, bounded, StrictModes.

    ``private_key``: also refuse a file group or others may read (like OpenSSH's
    "UNPROTECTED PRIVATE KEY FILE"). Raises FileNotFoundError when it does not exist.
    """
    path = os.path.join(d.path, name)
    try:
        fd = os.open(name, OPEN_FLAGS, dir_fd=d.fd)
    except OSError as exc:
        raise _open_error(path, exc, what, directory=False) from None
    return _read_fd(fd, path, what, max_bytes, enforced=d.enforced, private_key=private_key)


def read_file(path: str, *, max_bytes: int, enforce: Optional[bool] = None, what: tuple[str, str] = CONFIG_FILE,
              folder: tuple[str, str] = CONFIG_DIR, private_key: bool = False) -> TrustedFile:
    """Check the directories above ``path`` (``folder`` names them), then read it with ``read_at``."""
    path = os.path.abspath(path)
    parent, name = os.path.split(path)
    with open_dir(parent, what=folder, enforce=enforce) as d:
        return read_at(d, name, max_bytes=max_bytes, what=what, private_key=private_key)


def read_untrusted(path: str, *, max_bytes: int, what: tuple[str, str] = CONFIG_FILE) -> bytes:
    """A file a user named on the command line (an inspector's key on a stick): links followed as
    the user asked, but only a regular file, and bounded (``--key /dev/zero`` must not hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise _open_error(path, exc, what, directory=False) from None
    data = _read_fd(fd, path, what, max_bytes, enforced=False, private_key=False).data
    if len(data) > max_bytes:
        raise refused(path, f"refusing {what[0]}: {path} is larger than {max_bytes} bytes",
                      f"từ chối {what[1]}: {path} lớn hơn {max_bytes} byte")
    return data


# ---------------------------------------------------------------- executables


def check_executable(path: str, *, what: tuple[str, str] = HOOK) -> Optional[PolicyError]:
    """Why root must not run ``path``, or None: the StrictModes rule along the path the kernel
    follows. A link is followed only when root owns it (its directory already passed)."""
    if not os.path.isabs(path):
        return refused(path, f"refusing {what[0]} {path}: not an absolute path",
                       f"từ chối {what[1]} {path}: không phải đường dẫn tuyệt đối")
    pending = [p for p in path.split("/") if p]
    here, hops = "/", 0
    try:
        bad = _owner_problem("/", os.lstat("/"), what, allow_sticky=bool(pending), subject=path)
        while pending and bad is None:
            part = pending.pop(0)
            if part in (".", ".."):
                here = os.path.dirname(here) if part == ".." else here
                continue
            nxt = os.path.join(here, part)
            try:
                st = os.lstat(nxt)
            except FileNotFoundError:
                if pending:
                    raise
                # not there (yet): only root can put it there if the folder that would hold it passes
                return _owner_problem(here, os.lstat(here), what, allow_sticky=False, subject=path)
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > MAX_LINKS:
                    return refused(path, f"refusing {what[0]} {path}: too many symbolic links",
                                   f"từ chối {what[1]} {path}: quá nhiều liên kết tượng trưng")
                if st.st_uid != 0:
                    return refused(path, f"refusing {what[0]} {path}: the link {nxt} is owned by uid {st.st_uid}, "
                                         "not root",
                                   f"từ chối {what[1]} {path}: liên kết {nxt} thuộc uid {st.st_uid}, không phải root")
                target = os.readlink(nxt)
                pending = [p for p in target.split("/") if p] + pending
                here = "/" if target.startswith("/") else here
                continue
            if pending:
                if not stat.S_ISDIR(st.st_mode):
                    return refused(path, f"refusing {what[0]} {path}: {nxt} is not a directory",
                                   f"từ chối {what[1]} {path}: {nxt} không phải thư mục")
                bad = _owner_problem(nxt, st, what, allow_sticky=True, subject=path)
            elif not stat.S_ISREG(st.st_mode):
                return _not_regular(nxt, st.st_mode, what)
            else:  # the file itself, and the folder that holds it, sticky or not
                bad = _owner_problem(here, os.lstat(here), what, allow_sticky=False, subject=path) or \
                    _owner_problem(nxt, st, what, allow_sticky=False, subject=path)
            here = nxt
    except OSError as exc:
        return refused(path, f"refusing {what[0]} {path}: {exc.strerror}", f"từ chối {what[1]} {path}: {exc.strerror}")
    return bad
