"""The daemon's document findings: secrecy stamps and copies out, kept current off the main loop.

At start-up the marked folders and every mounted removable medium are scanned in full (this
builds the copy index: the SHA-256 of every marked-folder file). Afterwards only what changes is
scanned: a file closed, created or moved in a marked folder or on a medium, and every medium
when it is mounted. Only regular files and real folders that lie inside the watched trees are
handed to the scan (agent/filemeta.py tells this watch only of those, and ``_watched`` checks
again here): a symlink, FIFO or device never is, nor a folder reached through a link. Each scan
runs the same code as ``bmnn scan``'s document step (worker
subprocesses under limits) in this module's own thread, so the event loop never opens a
document. A small file of a marked folder that the file thread has read whole to hash it, and
found to be plain text with no line that could be a mark (the scan's own first test), comes
with that answer (``Clean``): it is indexed and not scanned again. Each finished scan hands a complete ``DocumentFacts`` to ``deliver``, which the watcher
runs on the main loop to judge the checks reading the documents domain. Findings hold metadata only, never text.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import threading
import time
from typing import Callable, Iterable, Optional, Sequence

from bmnn_guard.policies import facts as F


QUIET_S = 0.1
BATCH_MAX_S = 0.5
WORKER_NICE = 10
"""Content workers yield the CPU to the daemon's event loop."""


@dataclasses.dataclass(frozen=True)
class Clean:
    """A changed marked-folder file the file thread read whole and found to be plain text with
    no line that could be a mark (``scanner.content.scan.proven_clean_text``): what the scan
    would conclude, so the scan is not run for it. Its hash goes into the copy index."""

    sha256: str
    size: int


class ContentWatch:
    """One scanning thread, a queue of work, and the current findings by path."""

    def __init__(self, deliver: Callable[[F.DocumentFacts], None], *, workers: int = 1,
                 on_error: Optional[Callable[[str], None]] = None, cache_path: Optional[str] = None):
        from bmnn_guard.scanner.content.copyindex import CopyIndex
        self.cache_path = cache_path
        """Verdict cache (state directory): start-up and media scans of unchanged files from stat alone."""
        self._cache = None
        self.deliver = deliver
        self.workers = workers
        self.on_error = on_error
        self.index = CopyIndex()
        self.marked: tuple[str, ...] = ()
        self.media: tuple[str, ...] = ()
        self.findings: dict[str, F.DocumentFinding] = {}
        self.errors: dict[str, F.CollectionError] = {}
        self.files_scanned = 0
        self.scans = 0
        self._cond = threading.Condition()
        self._full: list[str] = []  # roots to walk and scan in full
        self._files: dict[str, Optional[Clean]] = {}  # single files to (re)scan, in arrival order (or known clean)
        self._forget: list[str] = []  # paths deleted or moved away
        self._stopping = False
        self._busy = False
        self._thread: Optional[threading.Thread] = None
        self._delivered: Optional[F.DocumentFacts] = None

    # ------------------------------------------------------------ any thread

    def start(self, marked: Sequence[str], media: Sequence[str]) -> None:
        """Begin with a full scan of the marked folders and the mounted media."""
        self.marked = tuple(_real(marked))
        self.media = tuple(_real(media))
        with self._cond:
            self._full.extend(self.marked + self.media)
        self._thread = threading.Thread(target=self._run, name="bmnn-content", daemon=True)
        self._thread.start()

    def set_media(self, media: Iterable[str]) -> None:
        """The mounted media now; a new one is scanned in full, a removed one's findings dropped."""
        media = tuple(_real(media))
        with self._cond:
            added = [m for m in media if m not in self.media]
            gone = [m for m in self.media if m not in media]
            self.media = media
            self._full.extend(added)
            self._forget.extend(gone)
            self._cond.notify()

    def set_marked(self, marked: Iterable[str]) -> None:
        """The marked folders after a reload: new ones are scanned in full (and indexed), the
        findings and index entries of those no longer marked are dropped."""
        marked = tuple(_real(marked))
        with self._cond:
            added = [m for m in marked if m not in self.marked]
            gone = [m for m in self.marked if m not in marked]
            self.marked = marked
            self._full.extend(added)
            self._forget.extend(gone)
            self._cond.notify()

    def rescan(self, roots: Iterable[str]) -> None:
        """Scan these roots in full again (after events were lost)."""
        with self._cond:
            self._full.extend(_real(roots))
            self._cond.notify()

    def changed(self, path: str, clean: Optional[Clean] = None) -> None:
        """A file was written, created or moved in: scan it (``clean``: the file thread already
        found it clean; the last word on a path wins)."""
        with self._cond:
            self._files[path] = clean
            self._cond.notify()

    def in_marked(self, path: str) -> bool:
        """``path`` lies in a marked folder (as the folders are named after resolving them)."""
        return _under(path, self.marked)

    def removed(self, path: str) -> None:
        """A file (or folder) was deleted or moved away: drop what we knew of it."""
        with self._cond:
            self._files.pop(path, None)
            self._forget.append(path)
            self._cond.notify()

    def idle(self) -> bool:
        """True when nothing is queued or being scanned (for status and tests)."""
        with self._cond:
            return not (self._busy or self._full or self._files or self._forget)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------ scanning thread

    def _run(self) -> None:
        while True:
            with self._cond:
                while not (self._stopping or self._full or self._files or self._forget):
                    self._cond.wait()
                # a burst (a folder copied in) arrives as thousands of events: wait until it pauses
                # (QUIET_S) or BATCH_MAX_S passed, so that one scan and one worker start take it all
                deadline = time.monotonic() + BATCH_MAX_S
                seen = -1
                while not self._stopping and seen != len(self._files) and time.monotonic() < deadline:
                    seen = len(self._files)
                    self._cond.wait(QUIET_S)
                if self._stopping:
                    return
                full, self._full = list(dict.fromkeys(self._full)), []
                files, self._files = list(self._files.items()), {}
                forget, self._forget = self._forget, []
                marked, media = self.marked, self.media
                self._busy = True
            try:
                self._apply(full, files, forget, marked, media)
            except Exception as exc:  # a scan bug must be visible and must not end the thread
                if self.on_error is not None:
                    self.on_error(f"content scan failed: {type(exc).__name__}: {exc}")
            finally:
                with self._cond:
                    self._busy = False

    def _apply(self, full: list[str], files: list[tuple[str, Optional[Clean]]], forget: list[str], marked,
               media) -> None:
        """Forget what went away, then rescan what changed; every path scanned starts from nothing."""
        from bmnn_guard.scanner.content.limits import Limits
        from bmnn_guard.scanner.content.scan import display_path, run_scan
        trees = tuple(marked) + tuple(media)
        roots = [r for r in full if _watched(r, trees, stat.S_ISDIR)]
        files = [(f, c) for f, c in files if not _under(f, roots)]
        # known clean (read whole by the file thread, below a marked folder without following a
        # link): indexed here, never scanned; only a folder still marked counts
        known: list[tuple[str, Clean]] = []
        singles: list[str] = []
        for f, c in files:
            if c is not None and _under(f, marked):
                known.append((display_path(os.path.normpath(f)), c))
            else:
                singles.append(f)
        self._drop([display_path(p) for p in singles] + [shown for shown, _ in known],
                   trees=[display_path(p) for p in forget + roots])
        for shown, c in known:
            self.index.add(c.sha256, shown, c.size)
        self.files_scanned += len(known)
        singles = [p for p in singles if _watched(p, trees, stat.S_ISREG)]
        if roots or singles:
            limits = Limits(nice=WORKER_NICE)
            if self.cache_path and self._cache is None:
                from bmnn_guard.scanner.content.cache import ContentCache
                self._cache = ContentCache(self.cache_path, limits=limits)
            # follow_roots=False: a changed file is reached from its marked folder or medium
            # without following any link on the way (a directory swapped for a link is not entered)
            report = run_scan(roots + singles, marked_folders=marked, removable_mounts=media, jobs=self.workers,
                              limits=limits, copy_index=self.index, walk_marked=False, follow_roots=False,
                              cache=self._cache, save_cache=bool(roots))
            self.scans += 1
            self.files_scanned += report.facts.files_scanned
            for f in report.facts.findings:
                self.findings[f.path] = f
            for e in report.facts.errors:
                self.errors[e.source] = e
        if full or files or forget:
            facts = self.facts()
            # judging is the main loop's work: only when something it judges changed (a burst of
            # clean drafts, or a symlink race, changes nothing but the count of files scanned)
            same = dataclasses.replace(facts, files_scanned=0)
            if same != self._delivered:
                self._delivered = same
                self.deliver(facts)

    def _drop(self, shown: Sequence[str], *, trees: Sequence[str] = ()) -> None:
        """Forget the findings, errors and copy-index entries of the files ``shown`` and of
        everything at or below ``trees``: a dict lookup per file, and one pass over the tables for
        all the trees together. A pass per file (as before) made a burst of N new or deleted
        files in a folder of N quadratic: 5 s of this thread, holding the interpreter, for 5,000
        new files."""
        from bmnn_guard.scanner.treewalk import at_or_below, tops_of
        for p in shown:
            self.findings.pop(p, None)
            self.errors.pop(p, None)
            self.index.remove_path(p)  # only marked-folder files are indexed
        tops = tops_of(trees)
        if tops:
            for table in (self.findings, self.errors):
                for p in [p for p in table if at_or_below(p, tops)]:
                    del table[p]
            self.index.remove_trees(tops)

    def facts(self) -> F.DocumentFacts:
        """What the engine judges: every current finding and every file that could not be read."""
        return F.DocumentFacts(scanned=True, roots=tuple(self.marked + self.media), files_scanned=self.files_scanned,
                               findings=tuple(sorted(self.findings.values(), key=lambda f: f.path)),
                               errors=tuple(self.errors[k] for k in sorted(self.errors)))


def _watched(path: str, trees: Sequence[str], is_type) -> bool:
    """``path`` is of the wanted type itself (lstat: a symlink is neither a file nor a folder
    here) and, resolved, still lies in a marked folder or on a medium: what is handed to the scan
    never leads it out of the watched trees (to ``/etc`` through a folder swapped for a link)."""
    try:
        if not is_type(os.lstat(path).st_mode):
            return False
    except OSError:
        return False
    if path in trees:
        return True
    real = os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))
    return _under(real, trees)


def _real(paths: Iterable[str]) -> list[str]:
    return [os.path.realpath(p) for p in paths]


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)
