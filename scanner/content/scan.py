"""``scan_paths``: walk without following links, open each file once, decide what needs no parser
here, hand the rest to the worker pool as open descriptors, judge where each file is.

No rich, no PDF library here: the daemon imports this module. Progress goes to a callback.
"""

from __future__ import annotations

import hashlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
import os
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

from bmnn_guard.policies.facts import CollectionError, DocumentFacts, DocumentFinding

from . import html, plain, worker
from .cache import CLEAN_VERDICT, compact as _compact, expand as _expand
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
    files_total: int = 0
    """Regular files the walk found."""
    cache_hits: int = 0
    """Files judged from the verdict cache, without being opened."""
    notes: tuple[str, ...] = ()
    """What happened to the verdict cache (discarded, not trusted, not written), in English."""


def display_path(path: str) -> str:
    """A path that prints and serialises: undecodable bytes of a file name shown as \\xNN."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


FAST_TEXT_BYTES = 8 << 20
"""Plain text up to this size is read by the scanning process, which counts the lines that could
be a mark (``plain.candidate_lines``, the worker's own first test): none, and the file is clean;
a few in a small file (``PARENT_JUDGE_*``), and it is judged here; only the rest goes to a worker.
Nothing but plain text is judged outside a worker (HTML only proved clean)."""
PARENT_JUDGE_BYTES = 128 * 1024
PARENT_JUDGE_LINES = 16
"""Plain text of at most this size and this many candidate lines is judged in the scanning
process: decoding and the detector over such a file are bounded (every line that is not a
candidate costs one length test), cheaper than the round trip to a worker (and than starting
one), and give the worker's verdict (``analyse.judge_text``, the same code)."""

THREAD_TEXT_BYTES = 64 * 1024
"""Smaller text is checked in the scanning thread (handing it to a thread costs more than the check)."""
TEXT_WINDOW = 64
"""Text files being checked at once (the C pre-filter runs in threads without the GIL)."""


_CLEAN = CLEAN_VERDICT


def _clean_text(data: bytes, need_hash: bool) -> dict:
    res = {"size": len(data), "kind": "text", "verdict": dict(_CLEAN)}
    if need_hash:
        res["sha256"] = hashlib.sha256(data).hexdigest()
    return res


def _text_result(data: bytes, name: str, limits: Limits, need_hash: bool, candidates: Optional[int]) -> Optional[dict]:
    """The result of plain text decided in the scanning process from its count of candidate
    lines, or None: a worker reads it."""
    if candidates == 0:
        return _clean_text(data, need_hash)
    if candidates is None or candidates > PARENT_JUDGE_LINES or len(data) > PARENT_JUDGE_BYTES:
        return None
    from .analyse import judge_text
    return judge_text(data, name, limits, need_hash)


def proven_clean_text(data: bytes, name: str) -> bool:
    """True when ``data``, the whole of a small file named ``name``, is what a scan decides is
    clean without a worker: plain text (``sniff``) with no line that could be a mark
    (``plain.candidate_lines``), the test ``_in_parent`` and ``_text_result`` make. The daemon's
    file thread has just read such a file to hash it; it asks this instead of handing the file
    to the content watch to be opened, read and tested again (a third of the CPU of a burst)."""
    from .analyse import sniff
    return (0 < len(data) <= THREAD_TEXT_BYTES and sniff(data[:8192], name) == "text"
            and plain.candidate_lines(data, PARENT_JUDGE_LINES) == 0)


def _in_parent(opened, name: str, limits: Limits, need_hash: bool):
    """(result, None) for a file decided without a worker (empty, binary by its first bytes);
    (None, data) for plain text the scanning process reads itself (``_text_result``);
    (None, None): hand the descriptor to a worker. Every byte is read once."""
    from .. import safeio
    from .analyse import judge_bytes, sniff
    st = opened.stat
    size = st.st_size
    if size > limits.max_file_bytes:
        return None, None
    if size == 0:
        res = judge_bytes(b"", name, limits)
        res.pop("_data", None)
        return res, None
    # small files in one read (a byte more tells "grew"); larger ones by their head first
    data = os.pread(opened.fd, size + 1 if size <= 65536 else 8192, 0)
    family = sniff(data[:8192], name)
    small = size <= FAST_TEXT_BYTES
    if small and size > 65536 and family in ("text", "html") and len(data) == 8192:
        data += os.pread(opened.fd, size + 1 - len(data), len(data))
    if family == "binary":
        res = {"size": size, "kind": "binary", "other": "binary file of no document format"}
        if need_hash:
            d = safeio.hash_fd(opened.fd, size, limit=limits.max_hash_bytes)
            if d.sha256 and d.note is None:
                res["sha256"] = d.sha256
        return res, None
    if family == "text" and small and len(data) == size:
        return None, data
    if family == "html" and small and len(data) == size and html.proven_clean(data):
        res = {"size": size, "kind": "html", "verdict": dict(_CLEAN)}
        if need_hash:
            res["sha256"] = hashlib.sha256(data).hexdigest()
        return res, None
    return None, None


def _real(paths: Iterable[str]) -> list[str]:
    """Roots as the user named them, followed: a named symlink is the user's choice (only the
    roots are followed; nothing below them ever is)."""
    return [os.path.realpath(os.fspath(p)) for p in paths]


def _norm(paths: Iterable[str]) -> list[str]:
    return [os.path.normpath(os.path.abspath(os.fspath(p))) for p in paths]


def run_scan(paths: Sequence[str], *, marked_folders: Sequence[str] = (), removable_mounts: Sequence[str] = (),
             progress: Optional[Callable[[Progress], None]] = None, jobs: Optional[int] = None,
             limits: Optional[Limits] = None, copy_index: Optional[CopyIndex] = None,
             walk_marked: bool = True, follow_roots: bool = True, cache=None, save_cache: bool = True) -> ScanReport:
    """The scan with its counts; see ``scan_paths``. The daemon passes its own ``copy_index`` and
    ``walk_marked=False`` to judge a few new files without re-reading every marked folder, and
    ``follow_roots=False``: its roots (changed files) are then reached from the marked folder or
    medium they are under without following any link. ``cache`` is a ``ContentCache`` (saved at
    the end unless ``save_cache`` is false)."""
    from .. import safeio
    from .walk import Changed, DirChain, walk

    t0 = time.monotonic()
    limits = limits or Limits()
    marked = _real(marked_folders)
    removable = _real(removable_mounts)
    roots = _real(paths) if follow_roots else _norm(paths)
    anchors = list(dict.fromkeys((roots if follow_roots else []) + marked + removable))
    extra = [m for m in marked if not _under(m, roots)] if walk_marked else []
    walk_roots = list(dict.fromkeys(roots + extra))
    skipped: list[CollectionError] = []
    errors: list[CollectionError] = []
    tree = walk(walk_roots, anchors, display_path)
    for o in tree.others:
        (errors if o.error else skipped).append(CollectionError(display_path(o.path), o.reason, AFFECTS))
    files = tree.files
    total_bytes = sum(f.st.st_size for f in files)
    results: list[Optional[dict]] = [None] * len(files)
    done = [0, 0]
    last = [0.0]

    def finish(i: int, res, st: Optional[os.stat_result] = None) -> None:
        if cache is not None and st is not None:
            cache.put(st, files[i].name, res)
        results[i] = res if isinstance(res, tuple) else _compact(res)
        done[0] += 1
        done[1] += files[i].st.st_size
        if progress is not None:
            now = time.monotonic()
            if now - last[0] >= 0.1 or done[0] == len(files):
                last[0] = now
                progress(Progress(done[0], len(files), done[1], total_bytes, now - t0))

    index = copy_index if copy_index is not None else CopyIndex()
    in_marked = [_under(d.path, marked) for d in tree.dirs]  # per directory: a file is where its folder is
    on_media = [_under(d.path, removable) for d in tree.dirs] if removable else None
    marked_sizes = {f.st.st_size for f in files if in_marked[f.dir]}

    def need_hash(f) -> bool:
        size = f.st.st_size
        return in_marked[f.dir] or size in marked_sizes or index.may_hold(size)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1), thread_name_prefix="bmnn-text")
    window: deque = deque()  # text being proved clean in the pool, in walk order

    def settle(block: bool):
        """Results of the text checks that are done (all of them with ``block``): files decided
        here are finished, the others become worker jobs."""
        while window and (block or window[0][4].done() or len(window) >= TEXT_WINDOW):
            i, opened, nh, data, fut = window.popleft()
            res = _text_result(data, files[i].name, limits, nh, fut.result())
            if res is not None:
                opened.close()
                finish(i, res, opened.stat)
            else:
                yield worker.Job((i, opened.stat), opened.fd, files[i].name, opened.stat.st_size, nh)

    def jobs_for_workers():
        chain = DirChain(tree)
        quiet = 0
        try:
            for i, f in enumerate(files):
                quiet += 1
                if quiet >= 64:  # tell the pool "no job yet" now and then: it sends what it has
                    quiet = 0
                    yield None
                nh = need_hash(f)
                if cache is not None:
                    hit = cache.get(f.st, f.name, nh, raw=True)
                    if hit is not None:
                        finish(i, hit)
                        continue
                try:
                    opened = safeio.open_regular(f.name, dir_fd=chain.get(f.dir))
                except Changed as exc:
                    finish(i, {"error": str(exc.strerror)})
                    continue
                except FileNotFoundError:
                    finish(i, {"gone": True})
                    continue
                except OSError as exc:
                    finish(i, {"error": f"cannot open: {exc.strerror}"})
                    continue
                if isinstance(opened, safeio.NotRegular):
                    finish(i, {"swapped": f"replaced by a {opened.type} during the scan: not opened"})
                    continue
                try:
                    quick, text = _in_parent(opened, f.name, limits, nh)
                except OSError as exc:
                    quick, text = {"error": f"cannot read: {exc.strerror}"}, None
                if quick is not None:
                    opened.close()
                    finish(i, quick, opened.stat)
                    continue
                if text is not None and len(text) < THREAD_TEXT_BYTES:  # a thread hand-off costs more
                    res = _text_result(text, f.name, limits, nh, plain.candidate_lines(text, PARENT_JUDGE_LINES))
                    if res is not None:
                        opened.close()
                        finish(i, res, opened.stat)
                        continue
                    quiet = 0
                    yield worker.Job((i, opened.stat), opened.fd, f.name, opened.stat.st_size, nh)
                    continue
                if text is not None:
                    window.append((i, opened, nh, text, pool.submit(plain.candidate_lines, text, PARENT_JUDGE_LINES)))
                    for job in settle(False):
                        quiet = 0
                        yield job
                    continue
                quiet = 0
                yield worker.Job((i, opened.stat), opened.fd, f.name, opened.stat.st_size, nh)
            yield from settle(True)
        finally:
            chain.close()
            for item in window:
                item[1].close()
            pool.shutdown(wait=True)

    worker.run(jobs_for_workers(), lambda job, res: finish(job.key[0], res, job.key[1]), jobs=jobs, limits=limits)

    for f, res in zip(files, results):
        sha = (res[2] if isinstance(res, (tuple, list)) else res.get("sha256")) if res else None
        if sha and in_marked[f.dir]:
            index.add(sha, display_path(f.path), (res[3] if isinstance(res, (tuple, list)) else res.get("size", 0)))

    findings: list[DocumentFinding] = []
    kinds: dict[str, int] = {}
    scanned = clean = not_docs = 0
    for f, res in zip(files, results):
        res = _expand(res) if isinstance(res, (tuple, list)) else (res or {"error": "not analysed"})
        if res.get("gone"):
            continue
        shown = display_path(f.path)
        if "swapped" in res:
            skipped.append(CollectionError(shown, res["swapped"], AFFECTS))
            continue
        kind = res.get("kind", "unknown")
        kinds[kind] = kinds.get(kind, 0) + 1
        if "other" in res:
            not_docs += 1
        if "skip" in res:
            skipped.append(CollectionError(shown, res["skip"], AFFECTS))
        if "error" in res:
            errors.append(CollectionError(shown, res["error"], AFFECTS))
        v = res.get("verdict")
        if v is not None:
            scanned += 1
        inside = in_marked[f.dir]
        copy_of = None
        if not inside and "sha256" in res:
            copy_of = index.source_of(res["sha256"], res.get("size", 0))
        if (v and v["verdict"] in ("classified", "review")) or copy_of:
            v = v or {"verdict": "clean"}
            findings.append(DocumentFinding(
                path=shown, size=res.get("size", 0), sha256=res.get("sha256", ""), verdict=v["verdict"],
                level=v.get("level"), score=v.get("score", 0), reasons=tuple(v.get("reasons", ())),
                encoding=v.get("encoding"), in_marked_folder=inside,
                on_removable=on_media[f.dir] if on_media is not None else None,
                copy_of=copy_of, marks=tuple(v.get("marks", ()))))
        elif v is not None:
            clean += 1
    notes: list[str] = []
    if cache is not None:
        if save_cache:
            cache.save()
        notes = list(cache.notes)
    facts = DocumentFacts(scanned=True, roots=tuple(display_path(r) for r in walk_roots), files_scanned=scanned,
                          findings=tuple(sorted(findings, key=lambda f: f.path)), errors=tuple(errors),
                          skipped=tuple(skipped), not_documents=not_docs)
    return ScanReport(facts=facts, elapsed=time.monotonic() - t0, bytes_read=done[1], kinds=kinds, clean=clean,
                      files_total=len(files), cache_hits=cache.hits if cache is not None else 0, notes=tuple(notes))


def scan_paths(paths: Sequence[str], *, marked_folders: Sequence[str] = (), removable_mounts: Sequence[str] = (),
               progress: Optional[Callable[[Progress], None]] = None, jobs: Optional[int] = None,
               limits: Optional[Limits] = None) -> DocumentFacts:
    """Scan files and folders for secrecy stamps and for copies of marked-folder files.

    The marked folders are walked too (their hashes make the copy index). Every file is opened
    once without following links; anything that needs a parser is read in a worker subprocess
    under limits. Classified and review verdicts and copies out become findings (never any text);
    clean files only count in ``files_scanned``; files not fully read are ``errors`` (BMNN-DOC-001
    then reports ``error``: could not check); FIFOs, device nodes, symbolic links (never
    followed), empty office files and images without OCR are ``skipped`` with their reasons;
    packages and binaries are counted in ``not_documents``. ``on_removable`` is None when no
    removable mount is given.
    """
    return run_scan(paths, marked_folders=marked_folders, removable_mounts=removable_mounts,
                    progress=progress, jobs=jobs, limits=limits).facts
