"""Dispatcher: `python -m bench NAME [ARGS...]` runs ``bench.NAME.main(ARGS)``."""

import importlib
import pkgutil
import sys

import bench


def _names():
    return sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_") and m.name != "common")


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print("usage: python -m bench NAME [ARGS...]\nbenchmarks: " + ", ".join(_names()))
        return 0 if len(sys.argv) >= 2 else 1
    name = sys.argv[1]
    if name not in _names():
        print(f"unknown benchmark {name!r}; known: {', '.join(_names())}", file=sys.stderr)
        return 1
    rv = importlib.import_module(f"bench.{name}").main(sys.argv[2:])
    return rv or 0


sys.exit(main())
