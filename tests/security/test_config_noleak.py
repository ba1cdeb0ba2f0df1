"""No configuration file leaks (issue 10, item 3): a refused or malformed file's content never
reaches the journal, ECS, the daemon's output or the CLI's, beyond file:line:col and key names.

Before: ``local.d/x.yaml`` symlinked to ``/etc/shadow`` was followed and shadow's first line was
copied into the journal and ECS inside an "unknown key" message. Now the link is refused unread,
and every error path that quotes input (YAML syntax errors, msgspec errors, unknown and duplicate
keys, invalid values, control characters) is replayed with a secret-looking file that passes the
ownership checks (a careless administrator's private copy of shadow), against the real daemon and
the real CLI.
"""

import os
import re
from pathlib import Path

from tests.agent.conftest import run_bmnn
from tests.security.daemon import RunningDaemon

SECRET = "S3cr3tHash"
LINE = f"root:$y$j9T$S3cr3tSalt${SECRET}:20228:0:99999:7:::"
"""A shadow line (``:`` and ``$`` in it, as in real ones): never a name-like key."""

VARIANTS = {
    "shadow-copy": f"{LINE}\ndaemon:*:20228:0:99999:7:::\n",
    "unknown-key": f"'{LINE}': 1\n",
    "unknown-profile": f"profile: '{LINE}'\n",
    "unknown-check": f"disable:\n  - check: BMNN-NET-001\n    reason: ok\n  - check: '{LINE}'\n    reason: x\n",
    "invalid-enum": f"severity:\n  - {{check: BMNN-NET-001, severity: '{LINE}', justification: j}}\n",
    "wrong-type": f"marked_folders: '{LINE}'\n",
    "duplicate-key": f"'{LINE}': 1\n'{LINE}': 2\n",
    "cannot-start-token": f"profile: meeting-room\n`{LINE}\n",
    "tab-indent": f"marked_folders:\n\t- {LINE}\n",
    "control-char": f"profile: meeting-room\nx: {LINE}\x1b[2J\n",
    "bad-subnet": f"independent_lan:\n  subnets: ['{LINE}']\n",
}


def _shadow_lines() -> list[str]:
    try:
        return [ln for ln in Path("/etc/shadow").read_text().splitlines() if len(ln) > 8]
    except OSError:
        return []


def _assert_clean(text: str, where: str) -> None:
    assert SECRET not in text and "S3cr3tSalt" not in text, f"secret in {where}: {text[:2000]}"
    for ln in _shadow_lines():
        assert ln not in text, f"/etc/shadow line in {where}"


def test_local_d_symlink_to_shadow_is_refused_unread(daemon, agent_env):
    d = daemon
    link = Path(agent_env["BMNN_CONFIG_DIR"], "local.d", "x.yaml")
    os.symlink("/etc/shadow", link)
    outputs = []
    p, _ = d.reload()
    assert p.returncode == 4 and f"{link}: refusing" in p.stderr and "symbolic link" in p.stderr, p.stderr
    outputs += [p.stdout, p.stderr]
    for args in (["--lang", "en", "policy", "validate"], ["--lang", "en", "scan", "--no-content", "--no-input", "-o", os.devnull],
                 ["policy", "validate", str(link)]):
        q = run_bmnn(args, agent_env, timeout=120)
        assert q.returncode == 4 and "x.yaml" in q.stderr, (args, q.stderr)
        outputs += [q.stdout, q.stderr]
    _finish(d, agent_env, outputs)


def test_every_error_path_of_a_private_copy_stays_redacted(daemon, agent_env):
    d = daemon
    f = Path(agent_env["BMNN_CONFIG_DIR"], "local.d", "50-x.yaml")
    outputs = []
    for name, text in VARIANTS.items():
        f.write_text(text, encoding="utf-8")
        os.chmod(f, 0o600)  # passes StrictModes: root's, not writable by others; not readable by them either
        p, _ = d.reload()
        assert p.returncode == 4, (name, p.stdout, p.stderr)
        assert re.search(rf"{re.escape(str(f))}:\d+(:\d+)?: ", p.stderr), (name, p.stderr)
        q = run_bmnn(["--lang", "en", "policy", "validate", str(f)], agent_env)
        assert q.returncode == 4 and str(f) in q.stderr, (name, q.stderr)
        outputs += [p.stdout, p.stderr, q.stdout, q.stderr]
        for out in (p.stderr, q.stderr):
            _assert_clean(out, f"{name}: CLI")
    # a name-like key may be named (the brief allows the key's name), a value never
    f.write_text("profle: meeting-room\n", encoding="utf-8")
    p, _ = d.reload()
    assert "unknown key 'profle'" in p.stderr and "meeting-room" not in p.stderr.split("valid keys")[0]
    q = run_bmnn(["--lang", "en", "scan", "--no-content", "--no-input", "-o", os.devnull], agent_env, timeout=120)
    assert q.returncode == 4 and "50-x.yaml:1:1: unknown key 'profle'" in q.stderr, q.stderr
    _finish(d, agent_env, outputs)


def _finish(d: RunningDaemon, env: dict, outputs: list[str]) -> None:
    assert d.stop() == 0
    evs = d.events()
    assert any(r["kind"] == "policy_loaded" and not r["evidence"]["ok"] for r in evs)
    _assert_clean("\n".join(outputs), "the CLI's output")
    _assert_clean(repr(evs), "the journal")
    _assert_clean(Path(env["BMNN_LOG_DIR"], "events.ndjson").read_text(), "the ECS file")
    _assert_clean(d.output(), "the daemon's stdout/stderr (journald)")


def test_world_readable_files_still_show_the_caret_at_the_console(tmp_path):
    """The console keeps its caret display for files everyone may read anyway (the loader's own
    tests pin that); the journal never gets it."""
    f = tmp_path / "10-site.yaml"
    f.write_text("profile: meeting-room\nseverty: []\n", encoding="utf-8")
    os.chmod(f, 0o644)
    q = run_bmnn(["--lang", "en", "policy", "validate", str(f)], {"BMNN_CONFIG_DIR": str(tmp_path)})
    assert q.returncode == 4 and f"{f}:2:1: unknown key 'severty'" in q.stderr and "    severty: []\n    ^" in q.stderr
    os.chmod(f, 0o600)
    q = run_bmnn(["--lang", "en", "policy", "validate", str(f)], {"BMNN_CONFIG_DIR": str(tmp_path)})
    assert f"{f}:2:1: unknown key 'severty'" in q.stderr and "severty: []" not in q.stderr
