"""Where the agent keeps its config, journal, socket and SIEM log.

Defaults follow the FHS and systemd's directory settings (ConfigurationDirectory,
StateDirectory, RuntimeDirectory, LogsDirectory); each can be moved with an environment variable
so that tests and unprivileged trials never touch the real ones.

| what | default | variable |
|---|---|---|
| config (agent.yaml, local.d, device registry) | /etc/bmnn | BMNN_CONFIG_DIR |
| state (journal.db, journal.key) | /var/lib/bmnn | BMNN_STATE_DIR |
| runtime (agent.sock) | /run/bmnn | BMNN_RUNTIME_DIR |
| logs (events.ndjson) | /var/log/bmnn | BMNN_LOG_DIR |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

DEFAULTS = {
    "BMNN_CONFIG_DIR": "/etc/bmnn",
    "BMNN_STATE_DIR": "/var/lib/bmnn",
    "BMNN_RUNTIME_DIR": "/run/bmnn",
    "BMNN_LOG_DIR": "/var/log/bmnn",
}


@dataclass(frozen=True)
class Paths:
    """The four directories of the agent and the files in them."""

    config_dir: Path
    """Configuration: agent.yaml, local.d/, the approved-device registry."""
    state_dir: Path
    """Persistent state: the journal and its initial key (root-only)."""
    runtime_dir: Path
    """Runtime: the IPC socket."""
    log_dir: Path
    """The ECS JSON-lines file for SIEM shippers."""

    @property
    def agent_config(self) -> Path:
        """agent.yaml: sinks, heartbeat interval, retention."""
        return self.config_dir / "agent.yaml"

    @property
    def local_d(self) -> Path:
        """Local policy tailoring."""
        return self.config_dir / "local.d"

    @property
    def journal(self) -> Path:
        """The SQLite journal."""
        return self.state_dir / "journal.db"

    @property
    def journal_key(self) -> Path:
        """The journal's initial MAC key (see agent/journal.py for why it should leave the host)."""
        return self.state_dir / "journal.key"

    @property
    def socket(self) -> Path:
        """The IPC socket."""
        return self.runtime_dir / "agent.sock"

    @property
    def ecs_log(self) -> Path:
        """Default ECS ndjson file."""
        return self.log_dir / "events.ndjson"


def from_env(env: Optional[Mapping[str, str]] = None, *, config_dir: Optional[str] = None,
             state_dir: Optional[str] = None, runtime_dir: Optional[str] = None,
             log_dir: Optional[str] = None) -> Paths:
    """Paths from explicit arguments, else the environment, else the defaults."""
    env = os.environ if env is None else env

    def pick(arg: Optional[str], var: str) -> Path:
        return Path(arg or env.get(var) or DEFAULTS[var])

    return Paths(pick(config_dir, "BMNN_CONFIG_DIR"), pick(state_dir, "BMNN_STATE_DIR"),
                 pick(runtime_dir, "BMNN_RUNTIME_DIR"), pick(log_dir, "BMNN_LOG_DIR"))
