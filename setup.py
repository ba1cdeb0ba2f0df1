"""The optional C pre-filter and the compiled message catalog; everything else is in pyproject.toml.

``optional=True``: where no C compiler or Python headers exist, the build goes on without it and
``scanner.content.plain`` uses its pure-Python pre-filter (same answers, slower).

``build_py`` first compiles ``scanner/locale/*/LC_MESSAGES/bmnn.po`` to ``bmnn.mo`` beside it
(Babel, a build-time requirement only), so the wheel, an editable install and the Debian package
carry the catalogs; the run time reads them with the standard library's gettext."""

from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

LOCALE = Path(__file__).resolve().parent / "scanner" / "locale"


def compile_catalogs() -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parts[-3])
        errors = [(m.id, e) for m, errs in catalog.check() for e in errs]
        if errors:
            raise SystemExit(f"{po}: {errors[0][0]}: {errors[0][1]}")
        with po.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=True)


class BuildPy(build_py):
    def run(self):
        compile_catalogs()
        super().run()


setup(cmdclass={"build_py": BuildPy},
      ext_modules=[Extension("scanner.content._fastplain", ["scanner/content/_fastplain.c"], optional=True,
                             extra_compile_args=["-O2"])])
