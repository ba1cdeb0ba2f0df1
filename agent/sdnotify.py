"""sd_notify(3) in stdlib: READY=1, WATCHDOG=1, STOPPING=1, STATUS=... to ``$NOTIFY_SOCKET``.

A datagram to the AF_UNIX socket systemd names (``@name`` means an abstract socket). Without
``NOTIFY_SOCKET`` (not started by systemd) every call is a no-op that returns False.

The send never blocks: it is called from the daemon's main loop, and an AF_UNIX datagram socket
whose reader is slow (or gone) holds only ~10 datagrams before ``sendto`` would wait, which froze
the loop and made SIGTERM go unanswered. A message that cannot be queued is dropped (False):
the next watchdog ping follows within half the interval, and a lost ping is what a hung loop
looks like anyway.
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
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK) as s:
            s.sendto(state.encode("utf-8"), socket.MSG_DONTWAIT, addr)
    except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
        return False
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
