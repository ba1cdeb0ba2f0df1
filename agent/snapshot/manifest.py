"""The snapshot manifest: canonical JSON bytes that the host key signs."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping


def canonical(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes that are signed and verified."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def member_table(members: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """sha256 and size of every member."""
    return {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)} for name, data in sorted(members.items())}


SIGNATURE_MEMBERS = ("manifest.json", "manifest.sig", "host.pub", "cosign.json")
