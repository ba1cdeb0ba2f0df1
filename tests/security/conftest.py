"""Fixtures of the attack replays: the agent tests' isolated directories, a real daemon, and a
base directory every test user can reach."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.agent.conftest import agent_env, need_root  # noqa: F401  (agent_env is a fixture)
from tests.security.daemon import RunningDaemon, write_agent_yaml


@pytest.fixture
def daemon(agent_env, tmp_path):  # noqa: F811
    """A real bmnn-agent as root with an empty local.d, stopped after the test."""
    need_root()
    write_agent_yaml(agent_env)
    Path(agent_env["BMNN_CONFIG_DIR"], "local.d").mkdir()
    with RunningDaemon(agent_env, tmp_path) as d:
        yield d


@pytest.fixture
def base():
    """A fresh directory under /tmp, mode 0755 (pytest's tmp_path is 0700: no other user gets in)."""
    d = tempfile.mkdtemp(prefix="bmnn-sec-")
    os.chmod(d, 0o755)
    yield Path(d)
    if not os.environ.get("BMNN_KEEP_TEST_DIRS"):
        shutil.rmtree(d, ignore_errors=True)
