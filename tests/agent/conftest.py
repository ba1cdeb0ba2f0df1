"""Shared helpers of the agent tests: isolated directories and the CLI as the lead wires it."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# cli.py as the lead will wire it: the real entry point plus our three commands
WIRED_CLI = (
    "import sys, bmnn_guard.cli as cli\n"
    "from bmnn_guard.agent.commands import events_group, status_command, reload_command\n"
    "cli.cli.add_command(events_group); cli.cli.add_command(status_command); cli.cli.add_command(reload_command)\n"
    "sys.exit(cli.main(sys.argv[1:]))\n"
)


@pytest.fixture
def agent_env(tmp_path):
    """BMNN_* directories under tmp_path, as a dict to pass to subprocesses."""
    d = {"BMNN_CONFIG_DIR": str(tmp_path / "etc"), "BMNN_STATE_DIR": str(tmp_path / "state"),
         "BMNN_RUNTIME_DIR": str(tmp_path / "run"), "BMNN_LOG_DIR": str(tmp_path / "log")}
    for v in d.values():
        os.makedirs(v, exist_ok=True)
    return d


def run_bmnn(args, env, timeout=30, **kw):
    """Run `bmnn ARGS` through the wired CLI."""
    e = dict(os.environ, PYTHONPATH=str(ROOT))
    e.pop("NOTIFY_SOCKET", None)
    e.update(env)
    return subprocess.run([sys.executable, "-c", WIRED_CLI, *args], capture_output=True, text=True, env=e,
                          timeout=timeout, cwd=str(ROOT), **kw)


def need_root():
    if os.geteuid() != 0:
        pytest.skip("needs root")
