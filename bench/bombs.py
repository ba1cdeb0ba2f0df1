"""`python -m bench bombs`: what each class of hostile YAML costs `bmnn policy validate` to refuse.

Each case is written to a file and validated by a fresh `bmnn --lang en policy validate FILE`
process, as an administrator would run it; the table gives the median wall time, CPU time and
peak RSS (``wait4``) of the rejection, its exit code and the first line of the error, against
the same command on a small valid local.d file measured in the same run.

``--bmnn 'CMD'`` times another build (e.g. a checkout of an older commit) with the same cases;
``--cap-mb`` and ``--timeout`` bound each run so that an old build's 4 GB expansion cannot take
the machine down (a run that hits them is reported as such: it did not refuse in time).

The cases are the classes of issue 10, not only its examples; tests/security replays the same
catalog (``CASES``) and asserts each rejection.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
from typing import Callable, NamedTuple


class Case(NamedTuple):
    name: str
    """Short id (test ids, table rows)."""
    what: str
    """The attack, in words."""
    make: Callable[[], bytes]
    """The file's bytes."""


def _laughs(fan: int, depth: int, leaf: str = "lol") -> bytes:
    lines = [f"a0: &a0 [{', '.join([leaf] * fan)}]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fan)}]" for i in range(1, depth)]
    return ("\n".join(lines) + "\n").encode()


def _merge_bomb() -> bytes:
    lines = ["m0: &m0 {" + ", ".join(f"k{i}: v" for i in range(10)) + "}"]
    lines += [f"m{i}: &m{i} {{a{i}: *m{i - 1}, b{i}: *m{i - 1}, <<: *m{i - 1}}}" for i in range(1, 20)]
    return ("\n".join(lines) + "\n").encode()


CASES = [
    Case("laughs-9x9", "billion laughs as in the issue (9 levels of 9 aliases, ~450 bytes)", lambda: _laughs(9, 9)),
    Case("laughs-2x40", "billion laughs with fan-out 2 and 40 levels", lambda: _laughs(2, 40)),
    Case("laughs-wide", "one anchor of 1,000 items referenced 999 times in one list",
         lambda: ("a: &a [" + ",".join(["xxxxxxxxxx"] * 1000) + "]\nb: [" + ",".join(["*a"] * 999) + "]\n").encode()),
    Case("merge-keys", "merge keys (<<) nested 19 levels, each merging the level below and aliasing it twice",
         _merge_bomb),
    Case("anchor-reuse", "one 400-item anchor reused by 2,000 keys",
         lambda: ("base: &b [" + ",".join(["y"] * 400) + "]\n" + "".join(f"k{i}: *b\n" for i in range(2000))).encode()),
    Case("text-laughs", "a 200 KB string aliased 100 times (text, not nodes)",
         lambda: ("s: &s " + "x" * 200_000 + "\nl: [" + ",".join(["*s"] * 100) + "]\n").encode()),
    Case("deep-flow", "100,000 nested flow sequences [[[[...", lambda: b"a: " + b"[" * 100_000 + b"\n"),
    Case("deep-flow-map", "10,000 nested flow mappings {a: {a: ...",
         lambda: b"x: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000 + b"\n"),
    Case("deep-block", "200 nested block mappings",
         lambda: ("".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v\n").encode()),
    Case("deep-block-seq", "5,000 nested block sequences - - - -", lambda: b"- " * 5000 + b"x\n"),
    Case("huge-scalar", "one 900 KB scalar", lambda: b"a: " + b"x" * (900 << 10) + b"\n"),
    Case("huge-file", "an 11 MB file (the issue's local.d case)", lambda: b"# " + b"x" * (11 << 20) + b"\n"),
    Case("many-nodes", "a flow list of 300,000 items in 600 KB", lambda: b"a: [" + b",".join([b"1"] * 300_000) + b"]\n"),
    Case("many-keys", "150,000 keys in 2 MB", lambda: "".join(f"k{i}: v\n" for i in range(150_000)).encode()),
    Case("many-documents", "5,000 documents in one stream", lambda: b"a: 1\n---\n" * 5000),
    Case("sexagesimal", "a 60,000-digit base-60 integer (quadratic to convert)",
         lambda: ("a: " + ":".join(["1"] * 30_000) + "\n").encode()),
    Case("recursive-alias", "an alias inside its own anchor", lambda: b"a: &a [1, *a]\n"),
    Case("python-tag", "a !!python/object tag", lambda: b"a: !!python/object/apply:os.system [id]\n"),
    Case("not-utf8", "Latin-1 bytes in the middle of a file", lambda: "a: Sở\n".encode() + b"b: \xff\xfe\xfd\n"),
    Case("utf16", "a UTF-16 file with a BOM", lambda: "a: 1\n".encode("utf-16")),
    Case("control-chars", "an ESC sequence in a value", lambda: b"a: ok\nb: \x1b[2J\x1b[31mred\n"),
]

SPECIAL = {"dev-zero": "/dev/zero named as the file"}
"""Cases that are a path, not bytes."""

VALID = b"profile: secret-workstation\nmarked_folders: [{path: /srv/mat}]\n"


_HELPER = r"""
import json, os, resource, subprocess, sys, time
cap, timeout, argv = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
def limit():
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
t0 = time.monotonic()
proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, preexec_fn=limit)
killed = False
while True:
    pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
    if pid:
        break
    if time.monotonic() - t0 > timeout:
        proc.kill()
        killed = True
        _, status, ru = os.wait4(proc.pid, 0)
        break
    time.sleep(0.005)
print(json.dumps({"wall": time.monotonic() - t0, "cpu": ru.ru_utime + ru.ru_stime, "rss_mb": ru.ru_maxrss / 1024,
                  "rc": os.waitstatus_to_exitcode(status), "timed_out": killed}))
"""
"""Runs the measured command as its own child. A child's peak RSS (``ru_maxrss``) keeps the high-water
mark of the process it was forked from, even across ``exec``: measured straight from pytest or
any large process it would read as that process's size. This helper is small when it forks."""


def run_once(argv: list[str], *, cap_mb: int, timeout: float) -> dict:
    """One run: wall and CPU seconds, peak RSS in MiB, exit code, first error line."""
    with tempfile.TemporaryFile() as err:
        out = subprocess.run([sys.executable, "-c", _HELPER, str(cap_mb << 20), str(timeout), *argv],
                             stdout=subprocess.PIPE, stderr=err, text=True, timeout=timeout + 60)
        err.seek(0)
        first = err.read(400).decode("utf-8", "replace").splitlines()[:1]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["error"] = first[0] if first else ""
    return result


def main(argv) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench bombs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bmnn", default=None, help="command to run instead of this venv's bmnn")
    ap.add_argument("--cap-mb", type=int, default=4096, help="address-space cap of each run")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds before a run is killed")
    ap.add_argument("--only", default=None, help="comma-separated case names")
    args = ap.parse_args(argv)
    here = os.path.join(os.path.dirname(sys.executable), "bmnn")
    bmnn = shlex.split(args.bmnn) if args.bmnn else ([here] if os.path.exists(here) else [sys.executable, "-m", "bmnn_guard.cli"])
    work = tempfile.mkdtemp(prefix="bmnn-bombs-")
    env_cfg = os.path.join(work, "etc")
    os.makedirs(env_cfg)
    os.environ["BMNN_CONFIG_DIR"] = env_cfg
    files = {}
    wanted = set(args.only.split(",")) if args.only else None
    for c in CASES:
        if wanted is None or c.name in wanted:
            files[c.name] = os.path.join(work, f"{c.name}.yaml")
            with open(files[c.name], "wb") as fh:
                fh.write(c.make())
    if wanted is None or "dev-zero" in wanted:
        files["dev-zero"] = "/dev/zero"
    valid = os.path.join(work, "valid.yaml")
    with open(valid, "wb") as fh:
        fh.write(VALID)
    print(f"machine: {platform.node()} {os.cpu_count()} cpu, Python {platform.python_version()}, runs={args.runs}, "
          f"load {os.getloadavg()[0]:.1f}, command: {' '.join(bmnn)}")
    print("| case | bytes | wall ms (median) | cpu ms | peak RSS MiB | × valid wall | exit | error |")
    print("|---|---|---|---|---|---|---|---|")
    base = [run_once([*bmnn, "--lang", "en", "policy", "validate", valid], cap_mb=args.cap_mb, timeout=args.timeout)
            for _ in range(args.runs)]
    base_wall = statistics.median(r["wall"] for r in base)

    def line(name: str, size: str, runs: list[dict]) -> None:
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        rss = max(r["rss_mb"] for r in runs)
        last = runs[-1]
        note = "killed at the time limit" if last["timed_out"] else last["error"].replace("|", "\\|")[:90]
        print(f"| {name} | {size} | {wall * 1000:.0f} | {cpu * 1000:.0f} | {rss:.1f} | {wall / base_wall:.1f}× | "
              f"{last['rc']} | {note} |")

    line("valid local.d file (baseline)", str(len(VALID)), base)
    for name, path in files.items():
        runs = []
        for _ in range(args.runs):
            runs.append(run_once([*bmnn, "--lang", "en", "policy", "validate", path], cap_mb=args.cap_mb,
                                 timeout=args.timeout))
            if runs[-1]["timed_out"]:
                break  # one is enough to know
        size = "device" if path == "/dev/zero" else str(os.path.getsize(path))
        line(name, size, runs)
    return 0
