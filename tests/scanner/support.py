"""Plumbing for the collector tests: run collectors where the real interfaces are (umockdev,
network namespaces, mount namespaces, an unprivileged user) and judge the facts with the real
evaluator and policy bundle."""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Optional

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext
from bmnn_guard.policies.evaluator import evaluate
from bmnn_guard.policies.loader import load_bundle

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "umockdev"
BUNDLE = load_bundle()
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)
IS_ROOT = os.geteuid() == 0


def need_root() -> None:
    if not IS_ROOT:
        pytest.skip("needs root (network/mount namespaces, loop devices, setuid)")


def need_tool(*names: str) -> None:
    for name in names:
        if shutil.which(name) is None:
            pytest.skip(f"{name} not installed (see tools/packages-test.txt)")


def judge(facts: F.Facts, *, profile: str = "secret-workstation", context: Optional[EvalContext] = None):
    """{check id: CheckResult} for ``facts``."""
    ev = evaluate(facts, BUNDLE, profile=profile, context=context or EvalContext(), now=NOW)
    return {r.check_id: r for r in ev.results}, ev


def run_python(code: str, *, prefix: tuple[str, ...] = (), timeout: float = 60, env: Optional[dict] = None) -> Any:
    """Run ``code`` (which sets ``result`` to a fact dataclass) in ``prefix ... python`` and return it as data."""
    script = ("import json\nfrom bmnn_guard.policies.facts import to_dict\n" + code +
              "\nprint('@@FACTS@@' + json.dumps(to_dict(result)))\n")
    res = subprocess.run([*prefix, sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                         timeout=timeout, env=env)
    assert res.returncode == 0, f"collector run failed ({res.returncode}):\n{res.stderr[-3000:]}"
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("@@FACTS@@"))
    return json.loads(line[len("@@FACTS@@"):])


def facts_of(data: dict) -> F.Facts:
    """A Facts tree from its plain form."""
    return F.from_dict(F.Facts, data)


def umockdev_prefix(*fixtures: str) -> tuple[str, ...]:
    """``umockdev-run -d ... --``, inside a private network namespace when we can make one, so that
    the host's own interfaces and radios do not mix into what the device set produces."""
    need_tool("umockdev-run")
    args = ["umockdev-run"]
    for name in fixtures:
        args += ["-d", str(FIXTURES / f"{name}.umockdev")]
    args.append("--")
    if IS_ROOT and shutil.which("unshare"):
        args += ["unshare", "-n", "--"]
    return tuple(args)


def in_netns(setup: list[str], code: str, timeout: float = 60) -> dict:
    """Run ``setup`` shell commands then ``code`` in a fresh network namespace (deleted on exit)."""
    need_root()
    need_tool("unshare", "ip")
    body = "import subprocess\n"
    for cmd in setup:
        body += f"subprocess.run({cmd!r}, shell=True, check=True)\n"
    return run_python(body + code, prefix=("unshare", "-n", "--"), timeout=timeout)


def as_nobody(fn: Callable[[], Any]) -> Any:
    """Call ``fn`` in a forked child running as user nobody; returns its result (JSON-able plain data).

    The child reuses this interpreter's imported modules: the venv's interpreter may live where
    nobody cannot read (/root/.pyenv), so a fresh ``runuser`` python would not even start.
    """
    need_root()
    nobody = pwd.getpwnam("nobody")
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        code = 0
        try:
            os.close(rfd)
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            payload = json.dumps({"ok": fn()})
        except BaseException as exc:  # report, never run pytest's machinery in the child
            payload = json.dumps({"error": f"{type(exc).__name__}: {exc}"})
            code = 1
        with os.fdopen(wfd, "w") as fh:
            fh.write(payload)
        os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd) as fh:
        data = fh.read()
    os.waitpid(pid, 0)
    out = json.loads(data)
    assert "error" not in out, out.get("error")
    return out["ok"]


@pytest.fixture
def open_tmp():
    """A temporary directory that user nobody can traverse (pytest's tmp_path sits below a 0700 one)."""
    import tempfile
    from pathlib import Path as _P

    d = tempfile.mkdtemp(prefix="bmnn-collect-test-")
    os.chmod(d, 0o755)
    try:
        yield _P(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
