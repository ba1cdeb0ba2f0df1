"""Verdicts kept between scans, so that an unchanged tree rescans from ``stat`` alone.

An entry is keyed by (device, inode) and valid only while size, mtime_ns and ctime_ns and the
file's extension are what they were when it was read, and only for the detector version, the
reading limits and (when the caller judges a policy) the policy version it was made with. ctime
cannot be set from user space (``utimensat`` moves mtime, never ctime; any write, chmod, rename or
link bumps it), so a file that changed is never matched to an old verdict.

The cache lives in the state directory (``$BMNN_STATE_DIR``, ``/var/lib/bmnn``). It is trusted only
when the directory and the file belong to us (or root) and nobody else can write them: a local
user who could write it could make a stamped document read as clean. It is written atomically
(temporary file, fsync, rename) under a lock, merged with what another scan wrote meanwhile,
bounded in entries and bytes (the least recently seen go first), and a file that is damaged,
too large, of another format or untrusted is discarded with a note, never trusted.

The copy index needs no file of its own: the SHA-256 of every marked-folder file is kept in its
entry, so a rescan rebuilds the index from the cache without reading a file.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
from dataclasses import asdict
from typing import Any, Optional

from .limits import Limits

FORMAT = 1
FILE_NAME = "content-cache.json"
MAX_ENTRIES = 300_000
"""Most entries kept (a developer's home with caches and virtual environments holds ~100,000 files)."""
MAX_BYTES = 96 * 1024 * 1024
"""A cache file larger than this is discarded unread."""

_LIMIT_FIELDS = ("max_file_bytes", "max_hash_bytes", "max_part_bytes", "max_total_bytes", "max_ratio",
                 "max_members", "max_pages")
"""Limits that change what a file's result is (the others only kill a worker, never cached)."""


CLEAN_VERDICT = {"verdict": "clean", "level": None, "score": 0, "reasons": [], "encoding": None, "marks": []}
"""The verdict of a file in which no mark can be (``detect.judge([])``, as ``analyse._verdict`` gives it)."""


def compact(res: dict):
    """Most results are "clean" or "not a document": kept as a small tuple (in the cache file, a
    list) instead of a dict; a home of 200,000 files would otherwise hold 200,000 dicts twice."""
    keys = res.keys() - {"size", "kind", "sha256"}
    if keys == {"verdict"} and res["verdict"].get("verdict") == "clean" and not res["verdict"].get("marks"):
        return ("c", res.get("kind"), res.get("sha256"), res.get("size", 0), res["verdict"].get("encoding"))
    if keys == {"other"}:
        return ("o", res.get("kind"), res.get("sha256"), res.get("size", 0), res["other"])
    return res


def expand(t) -> dict:
    res = {"kind": t[1], "size": t[3]}
    if t[2]:
        res["sha256"] = t[2]
    if t[0] == "c":
        res["verdict"] = dict(CLEAN_VERDICT, encoding=t[4])
    else:
        res["other"] = t[4]
    return res


def default_path() -> str:
    return os.path.join(os.environ.get("BMNN_STATE_DIR", "/var/lib/bmnn"), FILE_NAME)


def tag_for(limits: Limits) -> str:
    """The detector version and the result-changing limits, as one string."""
    from . import DETECTOR_VERSION
    lim = {k: v for k, v in asdict(limits).items() if k in _LIMIT_FIELDS}
    digest = hashlib.sha256(json.dumps(lim, sort_keys=True).encode()).hexdigest()[:12]
    return f"detector-{DETECTOR_VERSION}/limits-{digest}"


def cacheable(res: dict[str, Any]) -> bool:
    """Results that depend on the file alone: not a worker killed for time or memory (the machine
    may have been busy), not a file that could not be opened or changed while read, not an image
    left unread because OCR is not installed."""
    if "kind" not in res:
        return False
    err = res.get("error", "")
    if "OCR not installed" in err:  # depends on the machine: read again once Tesseract is installed
        return False
    return not err.startswith(("changed while read", "grew while read", "cannot "))


try:  # msgspec (a dependency) decodes a 25 MB cache of 240,000 entries ~4x faster than json
    import msgspec

    _decode, _encode, _DecodeError = msgspec.json.decode, msgspec.json.encode, msgspec.DecodeError
except ImportError:  # pragma: no cover
    _decode = json.loads

    def _encode(obj) -> bytes:
        return json.dumps(obj, separators=(",", ":")).encode()

    class _DecodeError(Exception):
        pass


def _trusted(st: os.stat_result, what: str) -> Optional[str]:
    me = os.geteuid()
    if st.st_uid not in (me, 0):
        return f"{what} belongs to uid {st.st_uid}"
    if st.st_mode & 0o022:
        return f"{what} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


class ContentCache:
    """The verdict cache of one scan: ``get`` before reading a file, ``put`` after, ``save`` at the end."""

    def __init__(self, path: Optional[str] = None, *, limits: Optional[Limits] = None,
                 policy: Optional[str] = None):
        self.path = path or default_path()
        self.tag = tag_for(limits or Limits())
        self.policy = policy
        self.entries: dict[str, list] = {}
        self.notes: list[str] = []
        """What happened to the cache (discarded, not trusted, not written), in English."""
        self.gen = 0
        self.hits = self.misses = 0
        self.usable = True
        self.dirty = False
        self._load()

    # ------------------------------------------------------------ reading

    def _dir_ok(self) -> bool:
        d = os.path.dirname(self.path) or "."
        try:
            st = os.stat(d)
        except OSError as exc:
            if exc.errno != errno.ENOENT:  # no state directory (not installed, a user's trial): quietly none
                self.notes.append(f"content cache not kept: {d}: {exc.strerror}")
            return False
        if not os.access(d, os.W_OK | os.X_OK):
            return False  # another user's state directory: quietly no cache
        why = _trusted(st, f"state directory {d}")
        if why:
            self.notes.append(f"content cache not kept: {why}")
            return False
        return True

    def _read(self) -> Optional[dict]:
        from .. import safeio
        try:
            opened = safeio.open_regular(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            self.notes.append(f"content cache discarded: {exc.strerror}")
            return None
        if isinstance(opened, safeio.NotRegular):
            self.notes.append(f"content cache discarded: it is a {opened.type}, not a file")
            return None
        with opened:
            why = _trusted(opened.stat, "the cache file")
            if why:
                self.notes.append(f"content cache discarded: {why}")
                return None
            if opened.stat.st_size > MAX_BYTES:
                self.notes.append(f"content cache discarded: larger than {MAX_BYTES} bytes")
                return None
            raw = safeio.read_bounded(opened.fd, MAX_BYTES + 1)
        try:
            data = _decode(raw)
            if not isinstance(data, dict) or data.get("format") != FORMAT:
                raise ValueError("unknown format")
            entries = data["entries"]
            if not isinstance(entries, dict) or len(entries) > MAX_ENTRIES:
                raise ValueError("bad entries")
            gen = int(data.get("gen", 0))
        except (ValueError, KeyError, TypeError, _DecodeError) as exc:
            self.notes.append(f"content cache discarded: damaged ({exc})")
            return None
        if data.get("tag") != self.tag:
            self.notes.append("content cache from another detector version or limits: rebuilt")
            return None
        if self.policy is not None and data.get("policy") not in (None, self.policy):
            self.notes.append("content cache from another policy version: rebuilt")
            return None
        return {"entries": entries, "gen": gen}

    def _load(self) -> None:
        if not self._dir_ok():
            self.usable = False
            return
        data = self._read()
        if data is not None:
            self.entries = data["entries"]
            self.gen = data["gen"]
            pool: dict = {}  # most results are one of a few: "clean text", "package"... share them
            for e in self.entries.values():
                if isinstance(e, list) and len(e) == 6 and isinstance(e[5], list):
                    t = tuple(e[5])
                    try:
                        e[5] = pool.setdefault(t, t)
                    except TypeError:  # an unhashable part: a damaged entry, never matched
                        e[5] = None
        self.gen += 1

    # ------------------------------------------------------------ use

    @staticmethod
    def _key(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    def get(self, st: os.stat_result, name: str, need_hash: bool, raw: bool = False):
        """The cached result for a file with this ``lstat``, or None (read it). With ``raw`` a
        compact result comes back as its tuple (``compact``'s form, with the size put back)."""
        e = self.entries.get(self._key(st)) if self.usable else None
        if (e is None or not isinstance(e, list) or len(e) != 6 or e[0] != st.st_size or e[1] != st.st_mtime_ns
                or e[2] != st.st_ctime_ns or e[3] != os.path.splitext(name)[1].lower()
                or not isinstance(e[5], (dict, list, tuple))):
            self.misses += 1
            return None
        small = e[5]
        if isinstance(small, (list, tuple)):
            if len(small) != 5 or small[0] not in ("c", "o"):
                self.misses += 1
                return None
            if need_hash and not small[2] and st.st_size > 0:
                self.misses += 1
                return None
            res = (small[0], small[1], small[2], st.st_size, small[4])
            if not raw:
                res = expand(res)
        else:
            res = dict(small)
            res["size"] = st.st_size
            if need_hash and "sha256" not in res and st.st_size > 0:
                self.misses += 1
                return None
        if e[4] != self.gen:
            e[4] = self.gen
            self.dirty = True
        self.hits += 1
        return res

    def put(self, st: os.stat_result, name: str, res: dict[str, Any]) -> None:
        """Keep ``res`` for the file whose ``fstat`` (what was really read) is ``st``."""
        if not self.usable or not cacheable(res):
            return
        small = compact(res)
        if isinstance(small, tuple):  # the size is the entry's own: without it, results repeat and are shared
            small = small[:3] + (None,) + small[4:]
        self.entries[self._key(st)] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, os.path.splitext(name)[1].lower(),
                                       self.gen, small]
        self.dirty = True

    # ------------------------------------------------------------ writing

    def save(self) -> None:
        """Merge with the file as it is now (another scan may have written it) and replace it."""
        if not self.usable or not self.dirty:
            return
        from ..atomic import write_atomic
        lock_path = self.path + ".lock"
        try:
            lock = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self.notes.append(f"content cache not written: {exc.strerror}")
            return
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            mine = self.entries
            notes = list(self.notes)
            now = self._read()
            self.notes = notes
            merged = dict(now["entries"]) if now else {}
            merged.update(mine)
            gen = max(self.gen, (now or {}).get("gen", 0))
            if len(merged) > MAX_ENTRIES:
                order = sorted(merged, key=lambda k: merged[k][4] if isinstance(merged[k], list) and len(merged[k]) > 4 else -1)
                for k in order[: len(merged) - MAX_ENTRIES]:
                    del merged[k]
            body = _encode({"format": FORMAT, "tag": self.tag, "policy": self.policy, "gen": gen, "entries": merged})
            if len(body) > MAX_BYTES:
                self.notes.append(f"content cache not written: it would pass {MAX_BYTES} bytes")
                return
            write_atomic(self.path, body, 0o600)
            self.dirty = False
        except OSError as exc:
            self.notes.append(f"content cache not written: {exc.strerror}")
        finally:
            os.close(lock)
