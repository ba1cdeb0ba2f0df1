"""Reachability probes of agency-owned hosts named in the configuration (BMNN-NET-007).

Only the hosts passed in are contacted, with a short TCP connect and nothing sent: there is no
default host, and no third party is ever probed. A refused connection counts as an answer (the
host, or a device on the path to it, replied); no route, a timeout or an unresolvable name is
"not reachable", which is what an offline machine shows.
"""

from __future__ import annotations

import errno
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Optional

from bmnn_guard.policies.facts import ProbeResult

DEFAULT_PORT = 443
DEFAULT_TIMEOUT = 1.5

_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ETIMEDOUT, errno.EHOSTDOWN, errno.ENETDOWN,
                errno.EADDRNOTAVAIL, errno.EPERM, errno.EACCES}


def _target(item: Any) -> tuple[str, int]:
    """(host, port) from a ProbeHost struct, a mapping, a (host, port) pair or "host[:port]"."""
    if isinstance(item, str):
        host, port = item, DEFAULT_PORT
        if item.startswith("["):
            h, _, rest = item[1:].partition("]")
            host, port = h, int(rest[1:]) if rest.startswith(":") else DEFAULT_PORT
        elif item.count(":") == 1:
            h, _, p = item.partition(":")
            host, port = h, int(p)
        return host, port
    if isinstance(item, dict):
        return str(item["host"]), int(item.get("port") or DEFAULT_PORT)
    if isinstance(item, (tuple, list)):
        return str(item[0]), int(item[1]) if len(item) > 1 and item[1] else DEFAULT_PORT
    return str(item.host), int(getattr(item, "port", None) or DEFAULT_PORT)


def probe_one(host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> ProbeResult:
    """One TCP connect to (host, port); never raises."""
    start = time.monotonic()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return ProbeResult(host=host, port=port, reachable=False, detail=f"name not resolved: {exc.strerror}")
    except (OSError, UnicodeError) as exc:
        return ProbeResult(host=host, port=port, reachable=None, detail=f"probe failed: {exc}")
    last: Optional[str] = None
    for family, socktype, proto, _canon, addr in infos:
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            last = last or "timed out"
            break
        sock = socket.socket(family, socktype | socket.SOCK_CLOEXEC, proto)
        try:
            sock.settimeout(remaining)
            sock.connect(addr)
            ms = (time.monotonic() - start) * 1000
            return ProbeResult(host=host, port=port, reachable=True, detail=f"connected to {addr[0]} in {ms:.0f} ms")
        except ConnectionRefusedError:
            return ProbeResult(host=host, port=port, reachable=True,
                               detail=f"{addr[0]} refused the connection (something on the path answered)")
        except socket.timeout:
            last = f"{addr[0]}: timed out"
        except OSError as exc:
            if exc.errno not in _UNREACHABLE:
                return ProbeResult(host=host, port=port, reachable=None, detail=f"probe failed: {exc}")
            last = f"{addr[0]}: {exc.strerror or exc}"
        finally:
            sock.close()
    return ProbeResult(host=host, port=port, reachable=False, detail=last or "no address")


def probe(hosts: Iterable[Any], *, timeout: float = DEFAULT_TIMEOUT) -> tuple[ProbeResult, ...]:
    """Probe each configured host (in parallel); results in the order given."""
    targets = []
    results: list[Optional[ProbeResult]] = []
    for item in hosts:
        try:
            targets.append(_target(item))
            results.append(None)
        except (ValueError, KeyError, AttributeError, TypeError) as exc:
            results.append(ProbeResult(host=str(item), reachable=None, detail=f"bad probe host: {exc}"))
    if not targets:
        return tuple(r for r in results if r is not None)
    with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
        done = iter(pool.map(lambda t: probe_one(t[0], t[1], timeout), targets))
        return tuple(r if r is not None else next(done) for r in results)
