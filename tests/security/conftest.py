"""The attack replays share the agent tests' isolated directories."""

from tests.agent.conftest import agent_env  # noqa: F401  (fixture)
