"""Copy-out detection: a sha256 index of the files in the marked folders. A file with a known
hash outside them, under any name, is a copy taken out of its place of storage."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable, Optional

MIN_COPY_BYTES = 1
"""Empty files all share one hash; they are never copies of anything."""


@dataclass
class CopyIndex:
    """sha256 -> first path seen inside a marked folder."""

    by_hash: dict[str, str] = field(default_factory=dict)
    sizes: set[int] = field(default_factory=set)
    """Sizes of the indexed files: a file of any other size is no copy, and needs no hash."""

    def add(self, sha256: str, path: str, size: int) -> None:
        """Index one marked-folder file."""
        if size >= MIN_COPY_BYTES:
            self.by_hash.setdefault(sha256, path)
            self.sizes.add(size)

    def may_hold(self, size: int) -> bool:
        """A file of this size could be a copy of an indexed one."""
        return size in self.sizes

    def remove_path(self, path: str) -> None:
        """Forget a marked-folder file that was deleted or moved (daemon use)."""
        for h in [h for h, p in self.by_hash.items() if p == path]:
            del self.by_hash[h]

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
