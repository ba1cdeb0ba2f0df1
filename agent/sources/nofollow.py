"""watchdog's inotify observer, with every walk of the watched tree made unable to follow a link.

watchdog (``follow_symlink=False``) does not follow a symlink that *is* a symlink when it looks.
But when a folder is created or moved into a watched tree it checks the new path, then adds a
watch by path and walks it with ``os.walk`` (which follows a symlink at the top): a user who
creates a folder and swaps a symlink to ``/etc`` into its place in between made the daemon
watch and report ``/etc`` and ``/usr/share`` (48,750 files, about a minute) as if they were in
the marked folder. Here each of those walks:

* resolves the new folder below the watched root one component at a time with
  ``O_NOFOLLOW | O_DIRECTORY`` (a folder on the way swapped for a link stops it), then walks it
  with ``os.fwalk(follow_symlinks=False)``, which checks each directory it opens is the one it
  ``lstat``-ed;
* adds each inotify watch through ``/proc/self/fd/N`` of the descriptor the walk holds
  (``IN_ONLYDIR``), so the watch is on that very directory, not on whatever the path names a
  moment later; without ``/proc`` the path is used with ``IN_DONT_FOLLOW | IN_ONLYDIR``;
* generates the synthetic events for a folder moved in from that same walk.

This relies on watchdog's inotify internals (``InotifyWatchGroup``, ``InotifyEmitter``), checked
against watchdog 7.1; tests/security/test_agent_files.py replays the race.
"""

from __future__ import annotations

import os
from typing import Iterator

from watchdog.events import DirCreatedEvent, DirModifiedEvent, DirMovedEvent, FileCreatedEvent, FileMovedEvent
from watchdog.observers.api import DEFAULT_OBSERVER_TIMEOUT, BaseObserver
from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup
from watchdog.observers.inotify_c import InotifyConstants, InotifyFD
from watchdog.observers.inotify_move_event_grouper import PathedInotifyEvent

DIR_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC
_PROC = os.path.isdir("/proc/self/fd")


def walk_beneath(root: bytes, path: bytes) -> Iterator[tuple[bytes, list[bytes], list[bytes], int]]:
    """(directory path, sub-directory names, other names, its fd) for the tree at ``path`` below
    the watched ``root``, never through a symlink; nothing when ``path`` is not a real directory
    reached through real directories. Opening ``root`` itself (configured, trusted) may raise."""
    top = root.rstrip(b"/")
    if path == top:
        parts: list[bytes] = []
    elif path.startswith(top + b"/"):
        parts = path[len(top) + 1:].split(b"/")
        if any(p in (b"", b".", b"..") for p in parts):
            return
    else:
        return
    rootfd = os.open(top or b"/", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    fd = rootfd
    try:
        for part in parts[:-1]:
            try:
                nfd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError:
                return
            if fd != rootfd:
                os.close(fd)
            fd = nfd
        name = parts[-1] if parts else b"."
        prefix = top + b"/" + b"/".join(parts[:-1]) if len(parts) > 1 else top
        for dirpath, dirnames, filenames, dfd in os.fwalk(name, dir_fd=fd, follow_symlinks=False):
            shown = prefix + dirpath[1:] if not parts else prefix + b"/" + dirpath
            yield shown, dirnames, filenames, dfd
    finally:
        if fd != rootfd:
            os.close(fd)
        os.close(rootfd)


class NoFollowWatchGroup(InotifyWatchGroup):
    """InotifyWatchGroup whose watches and simulated events come from ``walk_beneath``."""

    def _walk(self, path: bytes):
        try:
            yield from walk_beneath(self.path, path)
        except OSError:
            if path == self.path:
                raise

    def _add_all_callbacks(self, path: bytes) -> None:
        for shown, _dirs, _files, dfd in self._walk(path):
            self._add_fd_callback(shown, dfd)
            if not self.is_recursive:
                break

    def _add_fd_callback(self, shown: bytes, dfd: int) -> None:
        only_dir = InotifyConstants.IN_ONLYDIR
        try:
            if _PROC:
                mask = (self.event_mask & ~InotifyConstants.IN_DONT_FOLLOW) | only_dir
                wd = self._inotify_fd.add_callback(b"/proc/self/fd/%d" % dfd, mask, self._callback, self._id)
            else:
                mask = self.event_mask | InotifyConstants.IN_DONT_FOLLOW | only_dir
                wd = self._inotify_fd.add_callback(shown, mask, self._callback, self._id)
        except OSError:
            if shown == self.path:
                raise
            return  # gone or not a directory any more: nothing to watch
        self._active_callbacks_by_path[shown] = wd
        self._active_callbacks_by_watch[wd] = shown

    def _recursive_simulate(self, src_path: bytes):
        from watchdog.observers.inotify_c import InotifyEvent
        events = []
        for shown, dirnames, filenames, _fd in self._walk(src_path):
            wd_root = self._active_callbacks_by_path.get(shown)
            if wd_root is None:
                continue
            for d in dirnames:
                events.append(InotifyEvent(wd_root, InotifyConstants.IN_CREATE | InotifyConstants.IN_ISDIR, 0, d))
            for f in filenames:
                events.append(InotifyEvent(wd_root, InotifyConstants.IN_CREATE, 0, f))
        return events


class NoFollowEmitter(InotifyEmitter):
    """InotifyEmitter with NoFollowWatchGroup, and folders moved in walked the same way."""

    def on_thread_start(self) -> None:
        self._root = os.fsencode(self.watch.path)
        self._inotify = NoFollowWatchGroup(self._inotify_fd, self._root, is_recursive=self.watch.is_recursive,
                                           event_mask=self.get_event_mask_from_filter(), follow_symlink=False)

    def _tree(self, path: bytes):
        try:
            for shown, dirnames, filenames, _fd in walk_beneath(self._root, path):
                for name in dirnames:
                    yield True, shown + b"/" + name
                for name in filenames:
                    yield False, shown + b"/" + name
        except OSError:
            return

    def build_and_queue_event(self, event, *, full_events: bool = False) -> None:
        if not self.watch.is_recursive:
            return super().build_and_queue_event(event, full_events=full_events)
        dec = self._decode_path
        if not isinstance(event, PathedInotifyEvent):
            move_from, move_to = event
            if not move_from.ev.is_directory:
                return super().build_and_queue_event(event, full_events=full_events)
            src, dest = dec(move_from.path), dec(move_to.path)
            self.queue_event(DirMovedEvent(src, dest))
            self.queue_event(DirModifiedEvent(os.path.dirname(src)))
            self.queue_event(DirModifiedEvent(os.path.dirname(dest)))
            for is_dir, full in self._tree(move_to.path):
                shown = dec(full)
                old = src + shown[len(dest):]
                self.queue_event((DirMovedEvent if is_dir else FileMovedEvent)(old, shown, is_synthetic=True))
            return None
        if event.ev.is_moved_to and event.ev.is_directory and not full_events:
            src = dec(event.path)
            self.queue_event(DirCreatedEvent(src))
            self.queue_event(DirModifiedEvent(os.path.dirname(src)))
            for is_dir, full in self._tree(event.path):
                self.queue_event((DirCreatedEvent if is_dir else FileCreatedEvent)(dec(full), is_synthetic=True))
            return None
        return super().build_and_queue_event(event, full_events=full_events)


class NoFollowObserver(BaseObserver):
    """watchdog's InotifyObserver with NoFollowEmitter."""

    def __init__(self, *, timeout: float = DEFAULT_OBSERVER_TIMEOUT) -> None:
        self._inotify_fd = InotifyFD()
        self._inotify_fd.start()
        super().__init__(NoFollowEmitter, timeout=timeout, inotify_fd=self._inotify_fd)

    def on_thread_stop(self) -> None:
        super().on_thread_stop()
        self._inotify_fd.stop()
        self._inotify_fd.join()
