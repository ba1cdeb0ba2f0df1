"""Health of the bmnn-agent daemon seen from outside: unit installed, socket answering, journal."""

from __future__ import annotations

import os
import socket
from typing import Callable, Optional

from policies.facts import AgentHealth

from ._common import Errors, describe

UNIT = "bmnn-agent.service"
UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system", "/usr/local/lib/systemd/system")

JournalCheck = Callable[[], tuple[Optional[bool], Optional[str], Optional[str]]]
"""A journal verifier: returns (verified, last_heartbeat ISO 8601, error message or None)."""


def socket_path() -> str:
    """$BMNN_RUNTIME_DIR/agent.sock, /run/bmnn/agent.sock by default."""
    return os.path.join(os.environ.get("BMNN_RUNTIME_DIR") or "/run/bmnn", "agent.sock")


def collect_agent(*, unit_dirs: tuple[str, ...] = UNIT_DIRS, sock: Optional[str] = None,
                  journal_check: Optional[JournalCheck] = None, timeout: float = 0.5) -> AgentHealth:
    """Is the agent installed and answering, and does its journal verify (when a verifier is given)."""
    errors = Errors()
    installed = any(os.path.exists(os.path.join(d, UNIT)) for d in unit_dirs)
    sock = sock or socket_path()
    running: Optional[bool]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.settimeout(timeout)
        s.connect(sock)
        running = True
    except (FileNotFoundError, ConnectionRefusedError, NotADirectoryError):
        running = False
    except (PermissionError, socket.timeout, OSError) as exc:
        errors.add(sock, describe(exc), "agent.running")
        running = None
    finally:
        s.close()
    verified = heartbeat = None
    if journal_check is not None:
        try:
            verified, heartbeat, problem = journal_check()
        except Exception as exc:
            verified, heartbeat, problem = None, None, describe(exc)
        if problem:
            errors.add("journal", problem, "agent.journal_verified")
    else:
        errors.add("journal", "journal verification is not wired into the collector yet", "agent.journal_verified")
    return AgentHealth(installed=installed, running=running, journal_verified=verified, last_heartbeat=heartbeat,
                       errors=errors.tuple())
