"""Health of the bmnn-agent daemon seen from outside: unit installed, daemon answering, journal.

"Running" is claimed only on evidence, and the fact says which (``running_how``):

* ``socket``: the daemon answered a ``status`` request on its socket with its pid, uptime and
  policy hash, and the kernel's credentials of the socket's owner (SO_PEERCRED) agree: the same
  pid, and root (or this very user, for a daemon a developer runs under their own account).
  A socket file nobody listens on, a listener that never answers, or one that answers something
  else, is not a running daemon.
* ``systemd``: the socket refused this user (neither root nor the ``bmnn`` group) but systemd
  says bmnn-agent.service is active with a main pid. A unit systemd calls active whose socket
  refuses connections or never answers is not counted as running.

The journal is verified by a callable the caller hands in (this layer may not import the agent).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import time
from typing import Any, Callable, Optional

from bmnn_guard.policies.facts import AgentHealth

from ._common import Errors, describe

UNIT = "bmnn-agent.service"
UNIT_DIRS = ("/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system", "/usr/local/lib/systemd/system")
REPLY_MAX = 1 << 20
"""A status reply is a few KiB; a larger one is not the daemon's."""

JournalCheck = Callable[[], tuple]
"""A journal verifier: returns (verified, last_heartbeat ISO 8601, error message or None) and,
optionally, a fourth item: a mapping with ``mac_checked``, ``count``, ``first_bad_seq``, ``reason``."""


def socket_path() -> str:
    """$BMNN_RUNTIME_DIR/agent.sock, /run/bmnn/agent.sock by default."""
    return os.path.join(os.environ.get("BMNN_RUNTIME_DIR") or "/run/bmnn", "agent.sock")


class _NoAnswer(Exception):
    """The socket exists but no daemon answered on it (refused, closed, silent or garbled)."""


class _Refused(Exception):
    """The daemon answered but refuses this user (not root, not in the IPC group)."""


def ask_status(sock: str, timeout: float) -> dict[str, Any]:
    """The daemon's answer to ``status``, with ``peer_pid``/``peer_uid`` from SO_PEERCRED added.

    Raises FileNotFoundError (no socket), _NoAnswer, _Refused, PermissionError (socket file mode).
    """
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        s.settimeout(timeout)
        try:
            s.connect(sock)
        except (ConnectionRefusedError, NotADirectoryError):
            raise _NoAnswer("the socket exists but nobody listens on it (stale socket)") from None
        pid, uid, _ = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
        try:
            s.sendall(b'{"id": 1, "method": "status", "params": {}}\n')
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before reading: the reason is waiting to be read
        buf = b""
        end = time.monotonic() + timeout
        while b"\n" not in buf and len(buf) <= REPLY_MAX:
            s.settimeout(max(0.01, end - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise _NoAnswer(f"the socket accepted a connection but nothing answered within {timeout:g} s") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    try:
        reply = json.loads(buf.split(b"\n", 1)[0][:REPLY_MAX].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _NoAnswer("the socket's owner did not answer as bmnn-agent does (no JSON status)") from None
    if not isinstance(reply, dict):
        raise _NoAnswer("the socket's owner did not answer as bmnn-agent does (no JSON status)")
    if not reply.get("ok"):
        err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        if err.get("code") == "forbidden":
            raise _Refused(str(err.get("message") or "forbidden")[:300])
        raise _NoAnswer(f"the daemon answered with an error: {str(err.get('message'))[:300]}")
    result = reply.get("result")
    if not isinstance(result, dict) or result.get("running") is not True or not isinstance(result.get("pid"), int):
        raise _NoAnswer("the socket's owner did not answer as bmnn-agent does (no pid in its status)")
    return dict(result, peer_pid=pid, peer_uid=uid)


def unit_state(unit: str = UNIT, timeout: float = 5.0) -> tuple[Optional[str], Optional[int]]:
    """(ActiveState, MainPID) of ``unit`` per systemd; (None, None) when systemd is not running here."""
    systemctl = shutil.which("systemctl")
    if not systemctl or not os.path.isdir("/run/systemd/system"):
        return None, None
    try:
        p = subprocess.run([systemctl, "show", unit, "--property=ActiveState,MainPID"], capture_output=True,
                           text=True, timeout=timeout, env=dict(os.environ, LC_ALL="C", SYSTEMD_PAGER=""))
    except (OSError, subprocess.SubprocessError):
        return None, None
    props = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    state = props.get("ActiveState") or None
    try:
        main_pid = int(props.get("MainPID", "0")) or None
    except ValueError:
        main_pid = None
    return state, main_pid


def collect_agent(*, unit_dirs: tuple[str, ...] = UNIT_DIRS, sock: Optional[str] = None,
                  journal_check: Optional[JournalCheck] = None, timeout: float = 5.0,
                  systemd: Optional[Callable[[], tuple[Optional[str], Optional[int]]]] = None) -> AgentHealth:
    """Is the agent installed and answering, and does its journal verify (when a verifier is given).
    ``systemd``: returns (ActiveState, MainPID) of the unit; default asks systemctl."""
    errors = Errors()
    installed = any(os.path.exists(os.path.join(d, UNIT)) for d in unit_dirs)
    sock = sock or socket_path()
    state, main_pid = (systemd or unit_state)()
    running: Optional[bool] = None
    how = pid = uptime = sha = why = started = None
    try:
        st = ask_status(sock, timeout)
    except FileNotFoundError:
        running, why = False, f"{sock}: no socket"
    except _NoAnswer as exc:
        running, why = False, f"{sock}: {exc}"
    except _Refused as exc:
        # the daemon is there but will not tell this user; systemd can
        if state == "active" and main_pid:
            running, how, pid = True, "systemd", main_pid
        else:
            errors.add(sock, f"the daemon refuses this user ({exc}); run as root or a member of the bmnn group",
                       "agent.running")
    except PermissionError as exc:
        if state == "active" and main_pid:
            running, how, pid = True, "systemd", main_pid
        else:
            errors.add(sock, describe(exc), "agent.running")
    except OSError as exc:
        errors.add(sock, describe(exc), "agent.running")
    else:
        if st["peer_uid"] not in (0, os.geteuid()):
            errors.add(sock, f"the socket is served by uid {st['peer_uid']}, neither root nor this user: "
                             "not trusted as bmnn-agent", "agent.running")
        elif st["peer_pid"] != st["pid"]:
            errors.add(sock, f"the daemon says pid {st['pid']} but the socket belongs to pid {st['peer_pid']}",
                       "agent.running")
        else:
            running, how, pid = True, "socket", st["pid"]
            up = st.get("uptime_s")
            uptime = float(up) if isinstance(up, (int, float)) and not isinstance(up, bool) else None
            pol = st.get("policy") if isinstance(st.get("policy"), dict) else {}
            sha = pol.get("sha256")[:64] if isinstance(pol.get("sha256"), str) else None
            started = st.get("started")[:40] if isinstance(st.get("started"), str) else None
    verified = heartbeat = None
    detail: dict[str, Any] = {}
    if journal_check is not None:
        try:
            out = tuple(journal_check())
            verified, heartbeat, problem = out[:3]
            detail = dict(out[3]) if len(out) > 3 and out[3] else {}
        except Exception as exc:
            verified, heartbeat, problem = None, None, describe(exc)
        if problem:
            errors.add("journal", problem, "agent.journal_verified")
    else:
        errors.add("journal", "no journal verifier was given to the collector", "agent.journal_verified")
    mac = detail.get("mac_checked")
    return AgentHealth(installed=installed, running=running, journal_verified=verified, last_heartbeat=heartbeat,
                       running_how=how, running_problem=why, pid=pid, started=started, uptime_s=uptime,
                       policy_sha256=sha, unit_state=state,
                       journal_check=None if mac is None or verified is None else ("chain+mac" if mac else "chain only"),
                       journal_records=detail.get("count") if isinstance(detail.get("count"), int) else None,
                       journal_first_bad_seq=detail.get("first_bad_seq") if verified is False else None,
                       journal_problem=detail.get("reason") if verified is False else None,
                       errors=errors.tuple())
