"""Installs the project under one namespace, bmnn_guard, while the repository keeps agent/,
scanner/, policies/ and cli.py at its top (pyproject.toml maps bmnn_guard to this directory).
The subpackages are found here so that a new one cannot be left out of the wheel; everything
else is in pyproject.toml.

The optional C pre-filter and the C labelling of scanned pages are built here too:
``optional=True``, so where no C compiler or Python headers exist the build goes on and
``scanner.content.plain`` and ``scanner.content.frames`` use their pure-Python versions (same
answers, slower).

``build_py`` first compiles ``scanner/locale/*/LC_MESSAGES/bmnn.po`` to ``bmnn.mo`` beside it
(Babel, a build-time requirement only), so the wheel, an editable install and the Debian package
carry the catalogs; the run time reads them with the standard library's gettext."""

from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_py import build_py

NS = "bmnn_guard"
TOP = ("agent", "scanner", "policies")
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
    """Compiles the catalogs first. bmnn_guard has no __init__.py (a namespace package) and its
    modules are the *.py files at the top of the repository: cli.py, not this file."""

    def run(self):
        compile_catalogs()
        super().run()

    def find_package_modules(self, package, package_dir):
        return [m for m in super().find_package_modules(package, package_dir)
                if not (package == NS and m[1] == "setup")]


setup(packages=[NS, *(f"{NS}.{p}" for p in find_packages(include=[f"{t}*" for t in TOP]))],
      cmdclass={"build_py": BuildPy},
      ext_modules=[Extension(f"{NS}.scanner.content._fastplain", ["scanner/content/_fastplain.c"], optional=True,
                             extra_compile_args=["-O2"]),
                   Extension(f"{NS}.scanner.content._fastimage", ["scanner/content/_fastimage.c"], optional=True,
                             extra_compile_args=["-O2"])])
