"""User-facing words of the CLI, the reports and the records, Vietnamese first, English second.

One gettext catalog holds every string a user reads: ``scanner/locale/{vi,en}/LC_MESSAGES/bmnn.po``
(the source of truth, edited by hand or by ``tools/i18n-migrate.py``), compiled to ``bmnn.mo`` by
the build (setup.py, ``make setup``) and read here with the standard library's ``gettext``; Babel
is needed only to compile and extract, never at run time. Policy texts carry their own {vi, en}
maps; this catalog holds the words of the tool itself.

msgids are keys (``"status.pass"``), not English sentences: call sites stay short, a reworded
English text does not orphan the Vietnamese one, and every language is a plain translation of
the key. Texts are whole sentences with ``{named}`` placeholders (``str.format``).

Failure policy: a missing ``.mo`` is a broken installation and raises ``CatalogMissing`` (the CLI
turns it into one line and exit 1; nothing prints keys to a user silently). A key the catalog
lacks comes back as the key itself, so a gap is visible, never a crash; the tests fail on every
literal key the catalog lacks (tests/test_i18n.py).

``LEGACY`` is a merge hook, normally empty: strings added the old way (a ``(vi, en)`` dict) are
found here until ``tools/i18n-migrate.py`` moves them into the .po files; a test fails while it
holds anything.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
from pathlib import Path
from typing import Optional

LANGS = ("vi", "en")
DOMAIN = "bmnn"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

LEGACY: dict[str, tuple[str, str]] = {}


class CatalogMissing(RuntimeError):
    """The compiled catalog of a language is not installed (run ``make setup`` or reinstall)."""


class _Absent(gettext.NullTranslations):
    """Fallback that tells a missing msgid apart from a translation equal to it."""

    def gettext(self, message):  # noqa: D401 - gettext's API
        return None

    def ngettext(self, msgid1, msgid2, n):
        return None


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (cached per process)."""
    lang = lang if lang in LANGS else "vi"
    try:
        trans = gettext.translation(DOMAIN, str(LOCALE_DIR), languages=[lang])
    except OSError:
        raise CatalogMissing(f"message catalog missing: {LOCALE_DIR / lang / 'LC_MESSAGES' / (DOMAIN + '.mo')} "
                             "(run make setup, or reinstall bmnn-guard)") from None
    trans.add_fallback(_Absent())
    return trans


def lookup(key: str, lang: str) -> Optional[str]:
    """The unformatted text of ``key`` in ``lang``, or None when the catalog lacks it."""
    if not key:
        return None  # gettext's "" is the catalog header, never a text
    pair = LEGACY.get(key)
    if pair is not None:
        return pair[1 if lang == "en" else 0]
    return translations(lang).gettext(key)


def has(key: str) -> bool:
    """Whether the catalog holds ``key`` (in the default language's catalog, which has them all)."""
    return lookup(key, "vi") is not None


def default_lang() -> str:
    """BMNN_LANG, else Vietnamese."""
    lang = os.environ.get("BMNN_LANG", "vi")
    return lang if lang in LANGS else "vi"


REASONS = ("reason", "detail", "why", "error")
"""Placeholders that often carry a library's or the OS's English text (``str(exc)``): rendered in
the language asked through the catalog's ``lib.*`` and ``oserror.*`` texts where they match."""


def t(key: str, lang: str, **kw) -> str:
    """The text for ``key`` in ``lang``, formatted with ``kw``."""
    text = lookup(key, lang)
    if text is None:
        text = key
    if not kw:
        return text
    for name, value in kw.items():  # never a Python repr in a user's text
        if value is None:
            kw[name] = "—"
        elif isinstance(value, bool):
            kw[name] = lookup("value.yes" if value else "value.no", lang) or str(value)
    if lang != "en":
        for name in REASONS:
            if isinstance(kw.get(name), str):
                kw[name] = reword(kw[name], lang, "lib.")
    return text.format(**kw)


def translator(lang: str):
    """``t`` bound to ``lang``: what layers that must not read files (policies) receive."""
    return functools.partial(t, lang=lang)


def keys(prefix: str) -> list[str]:
    """Every key of the catalog that starts with ``prefix`` (gettext has no listing API; the
    compiled catalog's dict is read, as GNUTranslations has kept it since Python 2)."""
    found = {k for k in getattr(translations("en"), "_catalog", {}) if isinstance(k, str) and k.startswith(prefix)}
    return sorted(found | {k for k in LEGACY if k.startswith(prefix)})


_FIELD = re.compile(r"\{(\w+)(?:![rsa])?(?::[^{}]*)?\}")


@functools.cache
def _patterns(prefix: str) -> tuple[tuple[re.Pattern, str], ...]:
    """(regex of the English text, key) for every key under ``prefix``, most literal text first."""
    out = []
    for key in keys(prefix):
        en = lookup(key, "en") or ""
        parts, pos, names = [], 0, set()
        for m in _FIELD.finditer(en):
            parts.append(re.escape(en[pos:m.start()]))
            name = m.group(1)
            parts.append(f"(?P={name})" if name in names else f"(?P<{name}>.+?)")
            names.add(name)
            pos = m.end()
        parts.append(re.escape(en[pos:]))
        literal = len(_FIELD.sub("", en))
        out.append((literal, re.compile("".join(parts), re.S), key))
    out.sort(key=lambda x: -x[0])
    return tuple((rx, key) for _, rx, key in out)


def reword(text: str, lang: str, prefix: str, *, sep: str = "; ", depth: int = 3) -> str:
    """``text`` made by a lower layer in English (a reason such as ``cannot read: Permission
    denied``), in ``lang``: each ``sep``-separated part that matches the English text of a key
    under ``prefix`` is rendered in ``lang`` with the captured parts reworded in turn, and OS
    error texts (``strerror``) through ``oserror.*``. Parts that match nothing stay as they are."""
    if lang == "en" or not text:
        return text

    def one(part: str, d: int) -> str:
        for rx, key in _patterns(prefix) + _patterns("lib.") + _patterns("oserror."):
            m = rx.fullmatch(part)
            if m:
                kw = {k: (one(v, d - 1) if d > 0 else v) for k, v in m.groupdict().items()}
                return (lookup(key, lang) or part).format(**kw)
        return part

    return sep.join(one(p, depth) for p in text.split(sep))


def _lend_citation_words() -> None:
    """The legal layer imports nothing of ours: it is handed the catalog's ``citation.*`` words."""
    from bmnn_guard.policies import catalog
    catalog.use(lookup)


_lend_citation_words()
