"""Copy-out detection: a sha256 index of the files in the marked folders. A file with a known
hash outside them, under any name, is a copy taken out of its place of storage."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..treewalk import at_or_below, tops_of

MIN_COPY_BYTES = 1
"""Empty files all share one hash; they are never copies of anything."""


@dataclass
class CopyIndex:
    """sha256 -> first path seen inside a marked folder."""

    by_hash: dict[str, str] = field(default_factory=dict)
    sizes: set[int] = field(default_factory=set)
    """Sizes of the indexed files: a file of any other size is no copy, and needs no hash."""
    _hashes: dict[str, set[str]] = field(default_factory=dict, init=False, repr=False, compare=False)
    """path -> the hashes indexed under it: the daemon forgets a file in O(1), not by a pass over
    every hash (10,000 new files in a folder of 10,000 cost 10^8 comparisons that way)."""

    def __post_init__(self) -> None:
        for sha, path in self.by_hash.items():
            self._hashes.setdefault(path, set()).add(sha)

    def add(self, sha256: str, path: str, size: int) -> None:
        """Index one marked-folder file."""
        if size >= MIN_COPY_BYTES:
            if self.by_hash.setdefault(sha256, path) == path:
                self._hashes.setdefault(path, set()).add(sha256)
            self.sizes.add(size)

    def may_hold(self, size: int) -> bool:
        """A file of this size could be a copy of an indexed one."""
        return size in self.sizes

    def remove_path(self, path: str) -> None:
        """Forget a marked-folder file that was deleted or moved (daemon use)."""
        for h in self._hashes.pop(path, ()):
            if self.by_hash.get(h) == path:
                del self.by_hash[h]

    def remove_trees(self, tops: Iterable[str]) -> None:
        """Forget every file at or below any of ``tops`` (files or folders deleted, unmarked or
        rescanned): one pass over the indexed paths for all of them, however many they are."""
        tops = tops_of(tops)
        if tops:
            for path in [p for p in self._hashes if at_or_below(p, tops)]:
                self.remove_path(path)

    def source_of(self, sha256: str, size: int) -> Optional[str]:
        """The marked-folder file this content is a copy of, if any."""
        if size < MIN_COPY_BYTES:
            return None
        return self.by_hash.get(sha256)

    def dumps(self) -> str:
        """JSON for the daemon's state directory (hashes and paths only)."""
        return json.dumps({"version": 1, "files": self.by_hash, "sizes": sorted(self.sizes)},
                          ensure_ascii=False, sort_keys=True)

    @classmethod
    def loads(cls, text: str) -> "CopyIndex":
        data = json.loads(text)
        return cls(dict(data.get("files", {})), set(data.get("sizes", ())))

    @classmethod
    def build(cls, entries: Iterable[tuple[str, str, int]]) -> "CopyIndex":
        """From (path, sha256, size) of marked-folder files."""
        idx = cls()
        for path, sha, size in entries:
            idx.add(sha, path, size)
        return idx
