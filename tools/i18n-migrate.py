#!/usr/bin/env python3
"""Move bilingual ``{key: (vi, en)}`` tables from Python source into the gettext catalog.

The catalog's source of truth is ``scanner/locale/{vi,en}/LC_MESSAGES/bmnn.po`` (msgid = the key,
msgstr = the text) and the template ``scanner/locale/bmnn.pot``. Code written before the catalog
(or on a branch that did not have it yet) keeps its strings in dicts named ``LEGACY`` / ``CATALOG``
(scanner/i18n.py), ``_T`` (agent/commands.py), ``TEXT`` (scanner/content/command.py) or
``MESSAGES`` (agent/snapshot/messages.py); this tool reads every such top-level dict literal,
adds or updates its entries in the three files, empties the dict in the source file, and compiles
the ``.mo`` files.

    tools/i18n-migrate.py                          # scanner/i18n.py and agent/commands.py
    tools/i18n-migrate.py FILE.py ...              # other files holding such dicts
    tools/i18n-migrate.py --from BRANCH:scanner/i18n.py --from BRANCH:agent/commands.py
                                                   # read a git blob (another branch), rewrite nothing
    tools/i18n-migrate.py --check                  # exit 1 if any such dict is non-empty

An entry whose key is already in the catalog with other text replaces it (the dict is the newer
edit) and is listed as ``changed``: review those after a merge. Needs Babel (a dev dependency).
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "scanner" / "locale"
DOMAIN = "bmnn"
NAMES = {"LEGACY": "", "CATALOG": "", "_T": "", "TEXT": "content.", "MESSAGES": "snapshot.msg."}
"""The old tables and the prefix their keys get in the catalog: scanner/i18n.py (LEGACY, CATALOG),
agent/commands.py (_T), scanner/content/command.py (TEXT), agent/snapshot/messages.py (MESSAGES)."""
DEFAULT_FILES = ("scanner/i18n.py", "agent/commands.py", "scanner/content/command.py", "agent/snapshot/messages.py")


class MigrateError(Exception):
    pass


def tables(source: str, where: str) -> list[tuple[ast.AST, dict[str, tuple[str, str]]]]:
    """Every top-level ``NAME = {...}`` / ``NAME: T = {...}`` with NAME in NAMES, as (node, entries)."""
    found = []
    for node in ast.parse(source, where).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        else:
            continue
        if not (isinstance(target, ast.Name) and target.id in NAMES and isinstance(value, ast.Dict)):
            continue
        try:
            entries = ast.literal_eval(value)
        except ValueError as exc:
            raise MigrateError(f"{where}:{value.lineno}: {target.id} is not a literal: {exc}") from None
        for key, pair in entries.items():
            if not (isinstance(key, str) and isinstance(pair, tuple) and len(pair) == 2
                    and all(isinstance(s, str) for s in pair)):
                raise MigrateError(f"{where}:{value.lineno}: {target.id}[{key!r}] is not (vi, en) text")
        found.append((value, {NAMES[target.id] + key: pair for key, pair in entries.items()}))
    return found


def emptied(source: str, nodes: list[ast.AST]) -> str:
    """``source`` with each dict literal of ``nodes`` replaced by ``{}``."""
    lines = source.splitlines(True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line.encode("utf-8")))
    data = source.encode("utf-8")
    for node in sorted(nodes, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        start = offsets[node.lineno - 1] + node.col_offset
        end = offsets[node.end_lineno - 1] + node.end_col_offset
        data = data[:start] + b"{}" + data[end:]
    return data.decode("utf-8")


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def set_locale(path: Path) -> None:
    global LOCALE
    LOCALE = path


def load(path: Path, lang: str | None):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po
    if path.exists():
        with path.open("rb") as f:
            return read_po(f, locale=lang)
    return Catalog(locale=lang, domain=DOMAIN, project="bmnn-guard", fuzzy=False)


def save(catalog, path: Path, template: bool = False) -> None:
    from babel.messages.pofile import write_po
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False,
                 ignore_obsolete=True, include_previous=False)


def merge(entries: dict[str, tuple[str, str]]) -> tuple[list[str], list[str]]:
    """Add ``entries`` to the pot and both .po files; returns (added, changed) keys."""
    pot = load(LOCALE / f"{DOMAIN}.pot", None)
    cats = {"vi": load(po_path("vi"), "vi"), "en": load(po_path("en"), "en")}
    added, changed = [], []
    for key, (vi, en) in entries.items():
        if key not in pot:
            pot.add(key, "")
        for lang, text in (("vi", vi), ("en", en)):
            msg = cats[lang].get(key)
            if msg is None:
                cats[lang].add(key, text)
                if lang == "vi":
                    added.append(key)
            elif msg.string != text:
                msg.string = text
                msg.flags.discard("fuzzy")
                if key not in changed:
                    changed.append(key)
    save(pot, LOCALE / f"{DOMAIN}.pot", template=True)
    for lang, cat in cats.items():
        save(cat, po_path(lang))
    return added, changed


def compile_mo() -> None:
    """``pybabel compile`` of both languages (the build does the same, setup.py)."""
    for lang in ("vi", "en"):
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "--use-fuzzy",
                        "-D", DOMAIN, "-d", str(LOCALE), "-l", lang, "--statistics"], check=True)


def git_blob(spec: str) -> tuple[str, str]:
    rev, _, path = spec.partition(":")
    if not path:
        raise MigrateError(f"--from {spec}: use REV:PATH (a branch or commit, then a file in it)")
    out = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, text=True)
    if out.returncode:
        raise MigrateError(f"--from {spec}: {out.stderr.strip()}")
    return out.stdout, spec


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("files", nargs="*", help="Python files to empty (default: %s)" % ", ".join(DEFAULT_FILES))
    ap.add_argument("--from", dest="blobs", action="append", default=[], metavar="REV:PATH",
                    help="also read the tables of a file in another git revision (never rewritten)")
    ap.add_argument("--locale", type=Path, default=None, help="catalog folder (default: scanner/locale)")
    ap.add_argument("--check", action="store_true", help="only say whether any table still holds entries")
    args = ap.parse_args(argv)
    if args.locale:
        set_locale(args.locale)
    files = [Path(f) for f in args.files] or ([] if args.blobs else [ROOT / f for f in DEFAULT_FILES])
    try:
        entries: dict[str, tuple[str, str]] = {}
        rewrites = []
        for path in files:
            try:
                src = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise MigrateError(f"{path}: {exc.strerror}") from None
            found = tables(src, str(path))
            for node, table in found:
                entries.update(table)
            if any(table for _, table in found):
                rewrites.append((path, src, [node for node, table in found if table]))
        for spec in args.blobs:
            src, where = git_blob(spec)
            for _, table in tables(src, where):
                entries.update(table)
        if args.check:
            for path, _, nodes in rewrites:
                print(f"{path}: {len(nodes)} table(s) not yet in the catalog", file=sys.stderr)
            return 1 if rewrites else 0
        added, changed = merge(entries)
        for path, src, nodes in rewrites:
            path.write_text(emptied(src, nodes), encoding="utf-8")
        compile_mo()
    except MigrateError as exc:
        print(f"i18n-migrate: {exc}", file=sys.stderr)
        return 1
    print(f"i18n-migrate: {len(added)} added, {len(changed)} changed, {len(rewrites)} file(s) emptied")
    for key in changed:
        print(f"  changed: {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
