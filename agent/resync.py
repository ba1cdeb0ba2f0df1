"""Downtime leaves no hole: what changed in the marked folders while nobody watched is journaled.

inotify sees only what happens while the daemon runs. Files created, changed or deleted between
a ``kill -9`` and the restart, across a reboot, or while events were lost (an inotify overflow,
a full file-event queue) would otherwise never get a record. So at start and after every gap the
marked folders are compared with the state last journaled, and every difference is journaled as a
``file`` record marked ``"resync": true`` (found at resynchronisation, not seen live).

The state last journaled is the journal itself; ``FolderIndex`` is a cache of it: for each file of
a marked folder its type, inode, size, mtime and SHA-256, and the journal seq it reflects. At each
resynchronisation the index is first brought up to date from the ``file`` records journaled since
that seq (read through the daemon's own journal object, records only), then compared with the
disk, then saved. File records carry the inode and mtime (ns) of what was hashed, so an entry
rebuilt from the journal is as good as one the comparison saved. A file whose inode, size and
mtime are those of the index is not opened; any other is opened beneath its folder without
following links and hashed (``filemeta.describe``,
bounded by ``hash_max_bytes``). A folder seen for the first time (never watched before, or newly
marked) is taken as a baseline: one record that says how many files it held, none per file.

The index lives in the state directory (root only), is written atomically (a crash leaves the old
one or the new one), is read only when it is a regular file owned by the daemon's user and writable
by nobody else, up to ``MAX_INDEX_BYTES``, and every entry is checked (types, a path below a folder
of the index). It holds at most ``MAX_ENTRIES`` files; a folder larger than that is compared up to
the bound and the rest is journaled as a gap. A damaged or untrusted index is ignored with a gap
record and rebuilt: nothing in it can hide a file, at worst files are journaled once more.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from typing import Any, Callable, Iterable, Optional, Sequence

from bmnn_guard.scanner.treewalk import at_or_below, tops_of

from .filemeta import describe
from .sources.nofollow import walk_beneath

INDEX_VERSION = 1
MAX_ENTRIES = 250_000
"""Files kept in the index (all marked folders together)."""
MAX_INDEX_BYTES = 128 << 20
"""Largest index file read back."""
JOURNAL_CHUNK = 500
"""Resync records per journal transaction."""

Entry = list  # [type, inode, size, mtime_ns, sha256]: inode/size/mtime None when only the journal said it


def _under(path: str, root: str) -> bool:
    top = root.rstrip("/")
    return path.startswith(top + "/")


class FolderIndex:
    """path -> [type, inode, size, mtime_ns, sha256] of the files last journaled, and its seq."""

    def __init__(self) -> None:
        self.seq = 0
        """Journal seq the index reflects (file records after it are replayed)."""
        self.folders: set[str] = set()
        """Folders taken as a baseline (compared from now on)."""
        self.files: dict[str, Entry] = {}

    # ------------------------------------------------------------ persistence

    @classmethod
    def load(cls, path: str) -> tuple["FolderIndex", Optional[str]]:
        """The index at ``path`` (empty when missing) and, when it was refused, why."""
        idx = cls()
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            return idx, None
        except OSError as exc:
            return idx, f"cannot open {path}: {exc.strerror or exc}"
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return idx, f"{path} is not a regular file"
            if st.st_uid != os.geteuid() or st.st_mode & 0o022:
                return idx, f"{path} is not owned by uid {os.geteuid()} or is writable by others"
            if st.st_size > MAX_INDEX_BYTES:
                return idx, f"{path} is larger than {MAX_INDEX_BYTES} bytes"
            data = b""
            while len(data) <= MAX_INDEX_BYTES:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        try:
            doc = json.loads(data)
            if not isinstance(doc, dict) or doc.get("v") != INDEX_VERSION:
                raise ValueError("unknown version")
            seq, folders, files = doc["seq"], doc["folders"], doc["files"]
            if type(seq) is not int or seq < 0 or not isinstance(folders, list) or not isinstance(files, dict):
                raise ValueError("wrong shape")
            if len(files) > MAX_ENTRIES or not all(isinstance(f, str) and f.startswith("/") for f in folders):
                raise ValueError("too many entries or a bad folder")
            for p, e in files.items():
                if not (isinstance(e, list) and len(e) == 5 and isinstance(e[0], str)
                        and all(x is None or type(x) is int for x in e[1:4])
                        and (e[4] is None or (isinstance(e[4], str) and len(e[4]) == 64))
                        and any(_under(p, f) for f in folders)):
                    raise ValueError(f"bad entry {p[:200]!r}")
        except (ValueError, KeyError, TypeError) as exc:
            return cls(), f"{path} is damaged ({exc})"
        idx.seq, idx.folders, idx.files = seq, set(folders), files
        return idx, None

    def save(self, path: str) -> None:
        """Atomically, mode 0600 (the state directory is root's)."""
        from bmnn_guard.scanner.atomic import write_atomic
        doc = {"v": INDEX_VERSION, "seq": self.seq, "folders": sorted(self.folders), "files": self.files}
        write_atomic(path, json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8",
                                                                                           "surrogateescape"),
                     mode=0o600)

    # ------------------------------------------------------------ the journal's side

    def replay(self, records: Iterable[Any]) -> None:
        """Bring the index up to the ``file`` records journaled after ``seq`` (in seq order).

        Folders deleted one after another (an ``rm -r`` of a tree of many folders) are dropped
        together, in one pass over the index when the run of deletions ends, rather than a pass
        per folder: the order of the records is kept, since nothing is added before the pass."""
        dropped: set[str] = set()

        def flush() -> None:
            if dropped:
                self._drop_trees(tops_of(dropped))
                dropped.clear()

        for r in records:
            self.seq = max(self.seq, r.seq)
            ev = r.evidence if isinstance(r.evidence, dict) else {}
            path, dest, event = ev.get("path"), ev.get("dest"), ev.get("event")
            if not isinstance(path, str) or not any(_under(path, f) or path == f for f in self.folders):
                if not (isinstance(dest, str) and any(_under(dest, f) for f in self.folders)):
                    continue
            if ev.get("is_directory"):
                if event == "deleted" and isinstance(path, str):
                    dropped.add(path)
                elif event == "moved" and isinstance(path, str):
                    flush()
                    self._move_tree(path, dest if isinstance(dest, str) else None)
                continue
            if event == "deleted":
                self.files.pop(path, None)
                continue
            flush()
            if event == "moved":
                self.files.pop(path, None)
                path = dest
            if not isinstance(path, str) or not any(_under(path, f) for f in self.folders):
                continue
            sha = ev.get("sha256")
            size, inode, mtime = ev.get("size"), ev.get("inode"), ev.get("mtime_ns")
            if ev.get("note") or type(inode) is not int or type(mtime) is not int:
                inode = mtime = None  # changed while read, or an older record: hashed again next time
            self._put(path, [str(ev.get("type") or "regular"), inode, size if type(size) is int else None, mtime,
                             sha if isinstance(sha, str) and len(sha) == 64 else None])
        flush()

    def _put(self, path: str, entry: Entry) -> None:
        if path in self.files or len(self.files) < MAX_ENTRIES:
            self.files[path] = entry

    def _drop_trees(self, tops: "set[str]") -> None:
        """Forget every file at or below any of ``tops`` (``tops_of``): one pass for all of them."""
        for p in [p for p in self.files if at_or_below(p, tops)]:
            del self.files[p]

    def _move_tree(self, src: str, dest: Optional[str]) -> None:
        moved = {p: e for p, e in self.files.items() if _under(p, src)}
        for p in moved:
            del self.files[p]
        if dest and any(_under(dest, f) for f in self.folders):
            for p, e in moved.items():
                self._put(dest + p[len(src.rstrip("/")):], e)


def _stat_key(st: os.stat_result) -> tuple:
    return st.st_ino, st.st_size, st.st_mtime_ns


def compare(index: FolderIndex, root: str, *, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The differences between the folder ``root`` on disk and the index, as journal events (and
    the index updated to the disk), plus how many files were not compared (index full)."""
    root = os.path.abspath(root)
    events: list[dict[str, Any]] = []
    seen: set[str] = set()
    skipped = 0
    try:
        rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return events, 0
    try:
        broot = os.fsencode(root)
        for shown, _dirs, names, dfd in walk_beneath(broot, broot):
            base = os.fsdecode(shown)
            for bname in names:
                name = os.fsdecode(bname)
                path = base + "/" + name
                try:
                    st = os.stat(bname, dir_fd=dfd, follow_symlinks=False)
                except OSError:
                    continue  # gone while walked: its deletion is the live watch's
                old = index.files.get(path)
                if old is None and len(index.files) >= MAX_ENTRIES:
                    skipped += 1
                    continue
                seen.add(path)
                if old is not None and old[1:4] == list(_stat_key(st)):
                    continue  # same inode, size and mtime: not opened
                meta = describe(path[len(root) + 1:], root_fd=rootfd, limit=limit)
                kind = meta.get("type") or "regular"
                entry = [kind, *_stat_key(st), meta.get("sha256")]
                if old is not None and old[0] == kind and _same_content(old, entry):
                    index.files[path] = entry  # touched, not changed
                    continue
                index.files[path] = entry
                event = "created" if old is None else "modified"
                events.append(_event(event, path, meta))
    finally:
        os.close(rootfd)
    for path in [p for p in index.files if _under(p, root) and p not in seen]:
        del index.files[path]
        events.append(_event("deleted", path, {}))
    return events, skipped


def _same_content(old: Entry, new: Entry) -> bool:
    if old[4] is not None or new[4] is not None:
        return old[4] == new[4]
    return old[2] == new[2]  # neither hashed (a link, a device, too large): the size says it


def _event(event: str, path: str, meta: dict[str, Any]) -> dict[str, Any]:
    ev = {"event": event, "path": path, "dest": None, "is_directory": False, "resync": True, **meta}
    return {"kind": "file", "evidence": ev,
            "message": f"{event} {path} (found at resynchronisation: changed while not watched)"}


class FolderResync:
    """A thread that resynchronises the marked folders on request (start-up, gaps, reconcile).

    ``folders()`` gives the marked folders in force; ``journal(events)`` journals on the main loop
    and returns the records written (blocking this thread, not the loop); ``records(since_seq)``
    reads ``file`` records of the journal; ``head()`` the journal's head seq."""

    name = "resync"

    def __init__(self, index_path: str, *, folders: Callable[[], Sequence[str]],
                 journal: Callable[[list[dict[str, Any]]], Any], records: Callable[[int], Iterable[Any]],
                 head: Callable[[], int], limit: Callable[[], int]):
        self.index_path = index_path
        self.folders, self.journal, self.records, self.head, self.limit = folders, journal, records, head, limit
        self._cond = threading.Condition()
        self._wanted: list[str] = []
        self._stopping = False
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        self.index: Optional[FolderIndex] = None
        self.runs = 0
        """Resynchronisations finished (tests, status)."""

    def request(self, reason: str) -> None:
        """Resynchronise soon (any thread); requests that pile up are done once."""
        with self._cond:
            self._wanted.append(reason)
            self._cond.notify()

    def idle(self) -> bool:
        with self._cond:
            return not self._wanted and not self._busy

    def details(self) -> dict[str, Any]:
        """For ``bmnn status``: whether a resynchronisation is running or asked for (after a gap
        the folders are being caught up, and their records are still to come)."""
        with self._cond:
            return {"resyncing": bool(self._wanted or self._busy), "runs": self.runs}

    # the daemon's Source protocol
    def start(self, emit: Any = None) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="bmnn-resync", daemon=True)
            self._thread.start()
        self.request("start")

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._wanted and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    break
                reasons, self._wanted = self._wanted, []
                self._busy = True
            real = [r for r in reasons if r != "checkpoint"]
            try:
                if real:
                    self.resync(real[0])
                else:
                    self.checkpoint()
            except Exception as exc:  # never the end of the thread: the next request tries again
                self._journal([{"kind": "gap", "severity": "high",
                                "evidence": {"source": "resync", "error": repr(exc)[:2000]},
                                "message": f"monitoring gap: resynchronising the marked folders failed: {exc}"}])
            finally:
                with self._cond:
                    self._busy = False
        try:
            self.checkpoint()  # a clean stop replays nothing at the next start
        except Exception:
            pass

    def checkpoint(self) -> None:
        """Bring the index up to the journal and save it (bounds the replay at the next start)."""
        if self.index is None:
            return
        head = self.head()
        self.index.replay(self.records(self.index.seq))
        self.index.seq = max(self.index.seq, head)
        self.index.save(self.index_path)

    def resync(self, reason: str) -> None:
        """Catch the index up with the journal, compare each marked folder, journal the differences."""
        out: list[dict[str, Any]] = []
        if self.index is None:
            self.index, refused = FolderIndex.load(self.index_path)
            if refused:
                out.append({"kind": "gap", "severity": "high", "evidence": {"source": "resync", "error": refused},
                            "message": f"folder index refused and rebuilt: {refused}; the marked folders are "
                                       "taken as a new baseline"})
        idx = self.index
        head = self.head()
        idx.replay(self.records(idx.seq))
        idx.seq = max(idx.seq, head)
        marked = [os.path.abspath(f) for f in self.folders()]
        gone = [f for f in idx.folders if f not in marked]  # unmarked: forget them
        if gone:
            idx.folders.difference_update(gone)
            idx._drop_trees(tops_of(gone))
        limit = self.limit()
        for folder in marked:
            if folder not in idx.folders:
                idx.folders.add(folder)
                events, skipped = compare(idx, folder, limit=limit)
                n = sum(1 for e in events if e["evidence"]["event"] == "created")
                out.append({"kind": "file", "evidence": {"event": "baseline", "path": folder, "is_directory": True,
                                                         "resync": True, "files": n, "reason": reason},
                            "message": f"resynchronisation baseline of {folder}: {n} file(s)"})
            else:
                events, skipped = compare(idx, folder, limit=limit)
                out += events
            if skipped:
                out.append({"kind": "gap", "severity": "high",
                            "evidence": {"source": "resync", "folder": folder, "not_compared": skipped,
                                         "max_entries": MAX_ENTRIES},
                            "message": f"monitoring gap: {skipped} file(s) of {folder} not compared at "
                                       f"resynchronisation (the index holds at most {MAX_ENTRIES})"})
        if self._journal(out):
            idx.save(self.index_path)
        else:  # spooled (disk full): compared again next time rather than lost with the spool
            self.index = None
        self.runs += 1

    def _journal(self, events: list[dict[str, Any]]) -> bool:
        """Journal in chunks; False when any chunk did not reach the journal."""
        from .event import Event
        ok = True
        for i in range(0, len(events), JOURNAL_CHUNK):
            chunk = [Event.of(e["kind"], severity=e.get("severity"), evidence=e["evidence"], message=e["message"])
                     for e in events[i:i + JOURNAL_CHUNK]]
            ok = bool(self.journal(chunk)) and ok
        return ok
