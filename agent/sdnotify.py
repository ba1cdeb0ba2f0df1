"""sd_notify(3) in stdlib: READY=1, WATCHDOG=1, STOPPING=1, STATUS=... to ``$NOTIFY_SOCKET``.

A datagram to the AF_UNIX socket systemd names (``@name`` means an abstract socket). Without
``NOTIFY_SOCKET`` (not started by systemd) every call is a no-op that returns False.
"""

from __future__ import annotations

import os
import socket
from typing import Mapping, Optional


def notify(state: str, env: Optional[Mapping[str, str]] = None) -> bool:
    """Send ``state`` (e.g. "READY=1\\nSTATUS=running"); True when it was sent."""
    env = os.environ if env is None else env
    addr = env.get("NOTIFY_SOCKET")
    if not addr:
        return False
    if addr[0] == "@":
        addr = "\0" + addr[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
        s.connect(addr)
        s.sendall(state.encode("utf-8"))
    return True


def watchdog_interval(env: Optional[Mapping[str, str]] = None) -> Optional[float]:
    """Seconds between required WATCHDOG=1 pings (half of WatchdogSec), or None when not enabled."""
    env = os.environ if env is None else env
    usec, pid = env.get("WATCHDOG_USEC"), env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1e6 / 2
    except ValueError:
        return None
