"""``scan_paths``: walk, analyse every file in the worker pool, judge where each one is.

No rich, no PDF library here: the daemon imports this module. Progress goes to a callback.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from policies.facts import CollectionError, DocumentFacts, DocumentFinding

from . import worker
from .copyindex import CopyIndex
from .limits import Limits

AFFECTS = "documents.findings"


@dataclass(frozen=True)
class Progress:
    """Where a scan is, for a progress display."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float


@dataclass
class ScanReport:
    """Everything a scan learned: the facts, plus counts for the command and the benchmark."""

    facts: DocumentFacts
    elapsed: float = 0.0
    bytes_read: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    clean: int = 0


def display_path(path: str) -> str:
    """A path that prints and serialises: undecodable bytes of a file name shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


_KIND_REASON = {stat.S_IFIFO: "named pipe (FIFO): not read", stat.S_IFCHR: "character device node: not read",
                stat.S_IFBLK: "block device node: not read", stat.S_IFSOCK: "socket: not read"}


def walk(roots: Sequence[str], skipped: list[CollectionError], errors: list[CollectionError]) -> list[tuple[str, int]]:
    """Regular files under ``roots`` (already real paths), never following symbolic links out;
    everything else is listed in ``skipped`` or ``errors`` with its reason."""
    files: list[tuple[str, int]] = []
    seen: set[tuple[int, int]] = set()

    def entry(path: str, st: os.stat_result) -> None:
        fmt = stat.S_IFMT(st.st_mode)
        if fmt == stat.S_IFREG:
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                files.append((path, st.st_size))
        elif fmt == stat.S_IFLNK:
            symlink(path)
        elif fmt == stat.S_IFDIR:
            directory(path)
        else:
            skipped.append(CollectionError(display_path(path), _KIND_REASON.get(fmt, "not a regular file"), AFFECTS))

    def symlink(path: str) -> None:
        try:
            target = os.path.realpath(path, strict=True)
        except (OSError, RuntimeError) as exc:
            why = "symbolic link loop" if "loop" in str(exc).lower() or getattr(exc, "errno", 0) == 40 else "broken symbolic link"
            skipped.append(CollectionError(display_path(path), why + ": not followed", AFFECTS))
            return
        if _under(target, roots):
            skipped.append(CollectionError(display_path(path), "symbolic link inside the scanned tree: its target is scanned itself", AFFECTS))
        else:
            skipped.append(CollectionError(display_path(path), "symbolic link leaving the scanned tree: not followed", AFFECTS))

    def directory(path: str) -> None:
        try:
            it = os.scandir(path)
        except OSError as exc:
            errors.append(CollectionError(display_path(path), f"cannot list directory: {exc.strerror}", AFFECTS))
            return
        with it:
            for de in it:
                try:
                    st = de.stat(follow_symlinks=False)
                except OSError as exc:
                    errors.append(CollectionError(display_path(de.path), f"cannot stat: {exc.strerror}", AFFECTS))
                    continue
                entry(de.path, st)

    for root in roots:
        try:
            st = os.lstat(root)
        except OSError as exc:
            errors.append(CollectionError(display_path(root), f"cannot read: {exc.strerror}", AFFECTS))
            continue
        entry(root, st)
    return files


def _real(paths: Iterable[str]) -> list[str]:
    out = []
    for p in paths:
        p = os.fspath(p)
        out.append(os.path.realpath(p) if os.path.isdir(p) else os.path.join(os.path.realpath(os.path.dirname(p) or "."), os.path.basename(p)))
    return out


def run_scan(paths: Sequence[str], *, marked_folders: Sequence[str] = (), removable_mounts: Sequence[str] = (),
             progress: Optional[Callable[[Progress], None]] = None, jobs: Optional[int] = None,
             limits: Optional[Limits] = None, copy_index: Optional[CopyIndex] = None,
             walk_marked: bool = True) -> ScanReport:
    """The scan with its counts; see ``scan_paths``. The daemon passes its own ``copy_index`` and
    ``walk_marked=False`` to judge a few new files without re-reading every marked folder."""
    t0 = time.monotonic()
    roots = _real(paths)
    marked = _real(marked_folders)
    removable = _real(removable_mounts)
    extra = [m for m in marked if not _under(m, roots)] if walk_marked else []
    walk_roots = list(dict.fromkeys(roots + extra))
    skipped: list[CollectionError] = []
    errors: list[CollectionError] = []
    files = walk(walk_roots, skipped, errors)
    total_bytes = sum(s for _, s in files)
    results: dict[str, dict] = {}
    done = [0, 0]
    last = [0.0]

    def on_result(path: str, res: dict) -> None:
        results[path] = res
        done[0] += 1
        done[1] += res.get("size", 0) or 0
        if progress is not None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or done[0] == len(files):
                last[0] = now
                progress(Progress(done[0], len(files), done[1], total_bytes, now - t0))

    index = copy_index if copy_index is not None else CopyIndex()
    marked_sizes = {s for p, s in files if _under(p, marked)}

    def need_hash(path: str, size: int) -> bool:
        return _under(path, marked) or size in marked_sizes or index.may_hold(size)

    worker.run(files, on_result, jobs=jobs, limits=limits, need_hash=need_hash)

    for path, res in results.items():
        if _under(path, marked) and "sha256" in res:
            index.add(res["sha256"], display_path(path), res.get("size", 0))

    findings: list[DocumentFinding] = []
    kinds: dict[str, int] = {}
    scanned = clean = 0
    for path, _ in files:
        res = results[path]
        shown = display_path(path)
        kind = res.get("kind", "unknown")
        kinds[kind] = kinds.get(kind, 0) + 1
        if "skip" in res:
            skipped.append(CollectionError(shown, res["skip"], AFFECTS))
        if "error" in res:
            errors.append(CollectionError(shown, res["error"], AFFECTS))
        v = res.get("verdict")
        if v is not None:
            scanned += 1
        inside = _under(path, marked)
        copy_of = None
        if not inside and "sha256" in res:
            copy_of = index.source_of(res["sha256"], res.get("size", 0))
        if (v and v["verdict"] in ("classified", "review")) or copy_of:
            v = v or {"verdict": "clean"}
            findings.append(DocumentFinding(
                path=shown, size=res.get("size", 0), sha256=res.get("sha256", ""), verdict=v["verdict"],
                level=v.get("level"), score=v.get("score", 0), reasons=tuple(v.get("reasons", ())),
                encoding=v.get("encoding"), in_marked_folder=inside,
                on_removable=_under(path, removable) if removable else None,
                copy_of=copy_of, marks=tuple(v.get("marks", ()))))
        elif v is not None:
            clean += 1
    facts = DocumentFacts(scanned=True, roots=tuple(display_path(r) for r in walk_roots), files_scanned=scanned,
                          findings=tuple(sorted(findings, key=lambda f: f.path)), errors=tuple(errors),
                          skipped=tuple(skipped))
    return ScanReport(facts=facts, elapsed=time.monotonic() - t0, bytes_read=done[1], kinds=kinds, clean=clean)


def scan_paths(paths: Sequence[str], *, marked_folders: Sequence[str] = (), removable_mounts: Sequence[str] = (),
               progress: Optional[Callable[[Progress], None]] = None, jobs: Optional[int] = None,
               limits: Optional[Limits] = None) -> DocumentFacts:
    """Scan files and folders for secrecy stamps and for copies of marked-folder files.

    The marked folders are walked too (their hashes make the copy index). Every file is read in a
    worker subprocess under limits. Classified and review verdicts and copies out become findings
    (never any text); clean files only count in ``files_scanned``; unreadable files are
    ``errors`` (BMNN-DOC-001 then reports ``error``: could not check); FIFOs, device nodes,
    symbolic links not followed, images and binaries are ``skipped`` with their reasons.
    ``on_removable`` is None when no removable mount is given.
    """
    return run_scan(paths, marked_folders=marked_folders, removable_mounts=removable_mounts,
                    progress=progress, jobs=jobs, limits=limits).facts
