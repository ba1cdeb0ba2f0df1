"""Validate policy files given on the command line: a bundle folder, a local.d folder or one file.

A single file is judged in the company of the shipped bundle, so that a new check file is
cross-checked against the shipped legal catalog and a tailoring file against the shipped checks.
Files are read like the daemon reads them (trusted reader, YAML limits), so what validates here
also loads there: a file meant for local.d is held to local.d's limits.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from . import trusted
from .errors import PolicyError, Problem
from .loader import KINDS, _merge_tailoring, build_bundle, load_bundle, load_tailoring, read_bundle
from .yamlmarks import CONFIG_LIMITS, POLICY_LIMITS, load_bytes


def validate_path(path: os.PathLike, *, base: Optional[os.PathLike] = None,
                  enforce_permissions: Optional[bool] = None) -> str:
    """Validate ``path``; return what it was judged as, or raise PolicyError."""
    p = Path(path)
    if not os.path.lexists(p):
        raise PolicyError(Problem(str(p), None, None, "no such file or directory",
                                  vi="không có tệp hoặc thư mục này"))
    if p.is_dir() and not p.is_symlink():
        if all((p / k).is_dir() for k in KINDS):
            load_bundle(p, enforce_permissions=enforce_permissions)
            return "bundle"
        load_tailoring(p, load_bundle(base, enforce_permissions=False), enforce_permissions=enforce_permissions)
        return "tailoring"
    try:
        f = trusted.read_file(str(p), max_bytes=POLICY_LIMITS.max_bytes, enforce=enforce_permissions,
                              what=trusted.POLICY_FILE, folder=trusted.POLICY_DIR)
    except FileNotFoundError:
        raise PolicyError(Problem(str(p), None, None, "no such file or directory",
                                  vi="không có tệp hoặc thư mục này")) from None
    doc = load_bytes(f.data, str(p), POLICY_LIMITS, disclose=f.world_readable)
    data = doc.data
    kind = next((k for k in KINDS if isinstance(data, dict) and k in data), None)
    if kind is None and isinstance(data, dict) and ("requirements" in data or "not_checkable" in data):
        kind = "sources"  # the requirement map lives among the sources
    if kind is None:
        # Anything else is a local.d file: validate it alone, under local.d's limits.
        doc = load_bytes(f.data, str(p), CONFIG_LIMITS, disclose=f.world_readable)
        _merge_tailoring([doc], load_bundle(base, enforce_permissions=False), [], (str(p),))
        return "tailoring"
    docs, _, _ = read_bundle(base, enforce_permissions=False)
    if kind == "sources" and (data.get("requirements") or data.get("not_checkable")):
        # a requirement map is judged against the shipped catalog, checks and profiles, in place of
        # the shipped file of the same name
        docs["sources"] = [d for d in docs["sources"] if Path(d.file).name != p.name] + [doc]
        build_bundle(docs)
        return kind
    docs[kind] = [doc]
    if kind == "sources":
        docs["checks"], docs["profiles"] = [], []
    elif kind == "checks":
        docs["profiles"] = []
    build_bundle(docs, require_map=False)
    return kind
