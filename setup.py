"""Only the optional C pre-filter lives here; everything else is in pyproject.toml.

``optional=True``: where no C compiler or Python headers exist, the build goes on without it and
``scanner.content.plain`` uses its pure-Python pre-filter (same answers, slower)."""

from setuptools import Extension, setup

setup(ext_modules=[Extension("scanner.content._fastplain", ["scanner/content/_fastplain.c"], optional=True,
                             extra_compile_args=["-O2"])])
