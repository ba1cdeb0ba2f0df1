"""Validate policy files given on the command line: a bundle folder, a local.d folder or one file.

A single file is judged in the company of the shipped bundle, so that a new check file is
cross-checked against the shipped legal catalog and a tailoring file against the shipped checks.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from .errors import PolicyError, Problem
from .loader import BUILTIN_DIR, KINDS, Bundle, build_bundle, load_bundle, load_tailoring
from .yamlmarks import load_file


def validate_path(path: os.PathLike, *, base: Optional[os.PathLike] = None,
                  enforce_permissions: Optional[bool] = None) -> str:
    """Validate ``path``; return what it was judged as, or raise PolicyError."""
    p = Path(path)
    base_dir = Path(base) if base else BUILTIN_DIR
    if not p.exists():
        raise PolicyError(Problem(str(p), None, None, "no such file or directory"))
    if p.is_dir():
        if all((p / k).is_dir() for k in KINDS):
            load_bundle(p, enforce_permissions=enforce_permissions)
            return "bundle"
        load_tailoring(p, load_bundle(base_dir, enforce_permissions=False), enforce_permissions=enforce_permissions)
        return "tailoring"
    doc = load_file(str(p))
    data = doc.data
    kind = next((k for k in KINDS if isinstance(data, dict) and k in data), None)
    if kind is None and isinstance(data, dict) and ("requirements" in data or "not_checkable" in data):
        kind = "sources"  # the requirement map lives among the sources
    if kind is None:
        # Anything else is a local.d file: validate it alone in a folder of one.
        bundle = load_bundle(base_dir, enforce_permissions=False)
        _tailoring_file(p, bundle, enforce_permissions)
        return "tailoring"
    docs = {k: [load_file(str(f)) for f in sorted((base_dir / k).glob("*.y*ml"))] for k in KINDS}
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


def _tailoring_file(p: Path, bundle: Bundle, enforce_permissions: Optional[bool]) -> None:
    from .loader import _tailoring_problems, convert, _enforce_perms
    from .schema import Tailoring
    _enforce_perms([p], [], enforce_permissions)
    doc = load_file(str(p))
    if doc.data is None:
        return
    t = convert(doc, Tailoring)
    problems = _tailoring_problems(t, doc, bundle)
    if problems:
        raise PolicyError(problems)
