"""The message catalog (scanner/locale): one source, compiled, complete, nothing left outside it."""

from __future__ import annotations

import ast
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from bmnn_guard.scanner import i18n

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "scanner" / "locale"
TOOL = ROOT / "tools" / "i18n-migrate.py"
GRAMMAR = {"time.date_words"}  # each language picks its own fields (day 01 / 1, month 12 / December)
KEY = re.compile(r"[a-z0-9_]+(\.[A-Za-z0-9_]+)+")
FIELD = re.compile(r"\{(\w*)[^{}]*\}")


def _po(lang: str):
    with (LOCALE / lang / "LC_MESSAGES" / "bmnn.po").open("rb") as f:
        return read_po(f, locale=lang)


def _h(value):
    return tuple(value) if isinstance(value, (list, tuple)) else value


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_migrate", TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_nothing_is_left_outside_the_catalog():
    """LEGACY (the merge hook) and the old tables are empty: run tools/i18n-migrate.py after a merge."""
    assert not i18n.LEGACY, f"run tools/i18n-migrate.py: {len(i18n.LEGACY)} strings in scanner/i18n.py LEGACY"
    out = subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_both_languages_hold_the_same_keys_with_the_same_placeholders():
    vi, en = _po("vi"), _po("en")
    keys = lambda cat: {m.id for m in cat if m.id}
    assert keys(vi) == keys(en), keys(vi) ^ keys(en)
    for msg in vi:
        if not msg.id:
            continue
        other = en[msg.id]
        assert msg.string and other.string or msg.id == other.string == msg.string, msg.id
        if not KEY.fullmatch(msg.id if isinstance(msg.id, str) else ""):  # click's own msgids
            continue
        if msg.id in GRAMMAR:
            continue
        assert sorted(set(FIELD.findall(msg.string))) == sorted(set(FIELD.findall(other.string))), msg.id


def test_the_compiled_catalogs_are_current():
    """A .po edited without `make setup` leaves an old .mo: the program would show old words."""
    for lang in ("vi", "en"):
        po = {_h(m.id): _h(m.string) for m in _po(lang) if m.id and m.string}
        with (LOCALE / lang / "LC_MESSAGES" / "bmnn.mo").open("rb") as f:
            mo = {_h(m.id): _h(m.string) for m in read_mo(f) if m.id}
        assert po == mo, f"{lang}: bmnn.mo is older than bmnn.po; run make setup"


PREFIXED = {"t": "", "_t": "", "tr": "", "_c": "content.", "_say": "", "say": "snapshot.msg."}  # _c: scanner/content/command.py's content.* keys


def _literal_keys():
    """Every string literal given as the key of t()/_t()/tr()/_c() in the code."""
    for path in [ROOT / "cli.py", *(p for d in ("agent", "scanner", "policies") for p in (ROOT / d).rglob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)
                    and (getattr(node.func, "id", None) or getattr(node.func, "attr", None)) in PREFIXED):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                yield path.relative_to(ROOT), node.lineno, PREFIXED[name] + node.args[0].value


def test_every_key_the_code_names_is_in_the_catalog():
    missing = [f"{p}:{line}: {key}" for p, line, key in _literal_keys() if not i18n.has(key)]
    assert not missing, "keys not in scanner/locale/*/bmnn.po:\n" + "\n".join(missing)


def test_lookup_reads_the_compiled_catalog_and_legacy(monkeypatch):
    assert i18n.t("status.pass", "vi") == "Đạt" and i18n.t("status.pass", "en") == "Pass"
    assert i18n.t("no.such.key", "vi") == "no.such.key" and not i18n.has("no.such.key")
    assert not i18n.has("")  # gettext's header is not a text
    monkeypatch.setitem(i18n.LEGACY, "x.new", ("Mới {n}", "New {n}"))
    assert i18n.t("x.new", "vi", n=1) == "Mới 1" and i18n.t("x.new", "en", n=2) == "New 2"


def test_a_missing_compiled_catalog_fails_loudly(monkeypatch, tmp_path):
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(i18n.CatalogMissing, match="bmnn.mo"):
            i18n.t("status.pass", "vi")
    finally:
        monkeypatch.undo()
        i18n.translations.cache_clear()


def test_migrate_moves_old_tables_into_the_po_files_and_empties_them(tmp_path):
    """What the lead runs after merging a branch that still added (vi, en) entries the old way."""
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE, locale, ignore=shutil.ignore_patterns("*.mo"))
    src = tmp_path / "mod.py"
    src.write_text('X = 1\nLEGACY: dict[str, tuple[str, str]] = {\n'
                   '    "zz.new": ("Tệp {path} mới", "New file {path}"),\n'
                   '    "status.pass": ("Đạt yêu cầu", "Passed"),\n}\n_T = {"zz.two": ("Hai", "Two")}\n'
                   'CATALOG = {}\n', encoding="utf-8")
    out = subprocess.run([sys.executable, str(TOOL), "--locale", str(locale), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "2 added, 1 changed" in out.stdout and "changed: status.pass" in out.stdout
    tree = ast.parse(src.read_text(encoding="utf-8"))
    assert [ast.literal_eval(n.value) for n in tree.body[1:]] == [{}, {}, {}]
    for lang, new, passed in (("vi", "Tệp {path} mới", "Đạt yêu cầu"), ("en", "New file {path}", "Passed")):
        with (locale / lang / "LC_MESSAGES" / "bmnn.mo").open("rb") as f:
            mo = {_h(m.id): _h(m.string) for m in read_mo(f)}
        assert mo["zz.new"] == new and mo["status.pass"] == passed and mo["zz.two"] in ("Hai", "Two")
    with (locale / "bmnn.pot").open("rb") as f:
        assert {"zz.new", "zz.two"} <= {m.id for m in read_po(f)}
    again = subprocess.run([sys.executable, str(TOOL), "--locale", str(locale), "--check", str(src)],
                           capture_output=True, text=True)
    assert again.returncode == 0


def test_migrate_refuses_a_table_that_is_not_vi_en_text(tmp_path):
    src = tmp_path / "bad.py"
    src.write_text('LEGACY = {"a": ("only one",)}\n', encoding="utf-8")
    out = subprocess.run([sys.executable, str(TOOL), "--locale", str(tmp_path), str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "bad.py:1" in out.stderr and "(vi, en)" in out.stderr
    assert "only one" in src.read_text(encoding="utf-8")
