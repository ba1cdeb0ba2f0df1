"""The attack replays share the agent tests' isolated directories and a real daemon."""

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
