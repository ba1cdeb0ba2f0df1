"""Dispatch ``python -m bench NAME [ARGS...]`` to ``bench.NAME.main(ARGS)``."""

import importlib
import pkgutil
import sys

import bench


def _names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_"))


def run(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print("usage: python -m bench NAME [ARGS...]\nbenchmarks: " + ", ".join(_names()))
        return 0 if argv else 1
    name = argv[0]
    if name not in _names():
        print(f"no benchmark {name!r}; have: {', '.join(_names())}", file=sys.stderr)
        return 1
    return importlib.import_module(f"bench.{name}").main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
