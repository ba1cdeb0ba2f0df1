"""The inspector's own directory: the registry of keys and the heads accepted at earlier reviews.

It lives on the inspector's machine, never on an inspected host: ``$BMNN_INSPECTOR_DIR``, else
``$XDG_CONFIG_HOME/bmnn-inspector``, else ``~/.config/bmnn-inspector``. What is in it decides
which snapshots are believed, so it is treated like ssh's ``known_hosts`` with stricter rules:

* the directory and every file in it must belong to the user running ``bmnn`` (or root) and be
  writable by nobody else; anything else is refused, with the ``chmod`` that fixes it;
* a directory inside the host's configuration directory (``/etc/bmnn``) is refused: the root user
  of the inspected machine could write it;
* files are opened relative to the directory's descriptor without following links, read with a
  size bound, and replaced atomically (write a temporary file, fsync, rename, fsync the folder);
* a read-modify-write holds an exclusive ``flock`` so that two commands never lose an update.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import stat
from typing import Any, Iterator, Mapping, Optional, Sequence

from bmnn_guard.scanner.safeio import NotRegular, open_directory, open_regular, read_bounded

from ..errors import AgentError

ENV = "BMNN_INSPECTOR_DIR"
LOCK = ".lock"
MAX_FILE = 16 << 20
"""Largest registry or state file read (a registry of 10,000 keys is about 5 MiB)."""
HOST_CONFIG_DIRS = ("/etc/bmnn",)


def default_path(env: Optional[Mapping[str, str]] = None) -> str:
    """Where the inspector's directory is when no option names it."""
    env = os.environ if env is None else env
    if env.get(ENV):
        return env[ENV]
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "bmnn-inspector")


def _inside(path: str, folder: str) -> bool:
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _check_owner(st: os.stat_result, what: str) -> None:
    if st.st_uid not in (os.geteuid(), 0):
        raise AgentError(f"{what} belongs to uid {st.st_uid}, not to you: refused (the inspector's keys must be yours)",
                         kind="config")
    if st.st_mode & 0o022:
        raise AgentError(f"{what} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o}): refused; "
                         f"run chmod go-w {what}", kind="config")


class InspectorDir:
    """One inspector directory. Nothing is created until something is written."""

    def __init__(self, path: str, *, host_config_dirs: Sequence[str] = HOST_CONFIG_DIRS):
        self.path = os.path.abspath(path)
        """The directory."""
        for folder in host_config_dirs:
            if folder and _inside(self.path, folder):
                raise AgentError(f"{self.path}: the inspector's keys must not be kept in the host's configuration "
                                 f"directory {folder} (the inspected machine's root can write there); use "
                                 f"--inspector-dir or {ENV}", kind="config")

    def _open(self, create: bool) -> Optional[int]:
        try:
            fd = open_directory(self.path)
        except FileNotFoundError:
            if not create:
                return None
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            fd = open_directory(self.path)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise AgentError(f"{self.path}: not a directory (a symbolic link is not followed)", kind="config") from None
            raise AgentError(f"{self.path}: {exc.strerror}", kind="io") from None
        try:
            _check_owner(os.fstat(fd), self.path)
        except AgentError:
            os.close(fd)
            raise
        return fd

    def read_json(self, name: str) -> Optional[Any]:
        """The JSON value in ``name``, None when the file (or the directory) does not exist."""
        fd = self._open(create=False)
        if fd is None:
            return None
        try:
            return self._read(fd, name)
        finally:
            os.close(fd)

    def _read(self, dir_fd: int, name: str) -> Optional[Any]:
        where = os.path.join(self.path, name)
        try:
            opened = open_regular(name, dir_fd=dir_fd)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AgentError(f"{where}: {exc.strerror}", kind="io") from None
        if isinstance(opened, NotRegular):
            raise AgentError(f"{where} is a {opened.type}, not a regular file: refused", kind="config")
        with opened:
            _check_owner(opened.stat, where)
            data = read_bounded(opened.fd, MAX_FILE + 1)
        if len(data) > MAX_FILE:
            raise AgentError(f"{where}: larger than {MAX_FILE >> 20} MiB: refused", kind="config")
        try:
            return json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise AgentError(f"{where}: not valid JSON ({exc})", kind="config") from None

    def _write(self, dir_fd: int, name: str, value: Any) -> None:
        data = (json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")
        tmp = f".{name}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp, dir_fd=dir_fd)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.fsync(dir_fd)

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Transaction"]:
        """Exclusive access for a read-modify-write; creates the directory (0700) if needed."""
        fd = self._open(create=True)
        assert fd is not None
        try:
            lock = os.open(LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd)
        except OSError as exc:
            os.close(fd)
            raise AgentError(f"{os.path.join(self.path, LOCK)}: {exc.strerror}", kind="io") from None
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield Transaction(self, fd)
        except OSError as exc:
            raise AgentError(f"{self.path}: cannot write ({exc.strerror})", kind="io") from None
        finally:
            os.close(lock)
            os.close(fd)


class Transaction:
    """Reads and atomic writes inside ``InspectorDir.transaction()``."""

    def __init__(self, owner: InspectorDir, dir_fd: int):
        self._owner, self._fd = owner, dir_fd

    def read_json(self, name: str) -> Optional[Any]:
        return self._owner._read(self._fd, name)

    def write_json(self, name: str, value: Any) -> None:
        self._owner._write(self._fd, name, value)
