"""Control socket of the daemon: JSON lines over a Unix stream socket (never pickle).

Request: one JSON object per line, ``{"id": 1, "method": "status", "params": {}}``.
Reply: one line, ``{"id": 1, "ok": true, "result": ...}`` or
``{"id": 1, "ok": false, "error": {"code": "forbidden", "message": "..."}}``.

Access is decided per request from the kernel's credentials of the peer (SO_PEERCRED, and
SO_PEERGROUPS for supplementary groups), never from anything the client says: root and members
of the ``bmnn`` group may call the read methods (``status``, ``events``); only root may
``reload`` or ``ack``. The socket file is mode 0660, group ``bmnn`` when that group exists, so
the file permissions and the credential check both have to agree. A request larger than
64 KiB, invalid JSON, an unknown method or a handler that raises gets a JSON error; the server
never dies of a client.
"""

from __future__ import annotations

import grp
import json
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from .errors import KINDS, AgentError

MAX_REQUEST = 64 * 1024
READ_METHODS = frozenset({"status", "events"})
ROOT_METHODS = frozenset({"reload", "ack"})
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)


@dataclass(frozen=True)
class Peer:
    """Who is on the other end, as the kernel says."""

    pid: int
    """Process id at connect time."""
    uid: int
    """Effective user id."""
    gid: int
    """Effective group id."""
    groups: tuple[int, ...] = ()
    """Supplementary groups (SO_PEERGROUPS)."""


def peer_of(conn: socket.socket) -> Peer:
    """Credentials of a connected AF_UNIX peer."""
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    groups: tuple[int, ...] = ()
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, 4 * 1024)
        groups = struct.unpack(f"{len(raw) // 4}I", raw[: len(raw) // 4 * 4])
    except OSError:
        pass
    return Peer(pid, uid, gid, groups)


Handler = Callable[[Mapping[str, Any], Peer], Any]


class IpcServer:
    """Serve ``handlers`` on a Unix socket, one thread per connection (bounded)."""

    def __init__(self, path: os.PathLike | str, handlers: Mapping[str, Handler], *, group: Optional[str] = "bmnn",
                 mode: int = 0o660, timeout: float = 10.0, max_clients: int = 16):
        self.path = Path(path)
        self.handlers = dict(handlers)
        self.group = group
        self.mode = mode
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(max_clients)
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self.gid: Optional[int] = None
        """Group whose members may read (None: root only)."""
        self.requests = 0
        """Requests answered."""
        self.refused = 0
        """Requests refused for lack of rights."""

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "IpcServer":
        """Bind (replacing a stale socket, refusing a live one) and serve in a thread."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() or self.path.is_symlink():
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.settimeout(1.0)
            try:
                probe.connect(str(self.path))
            except OSError:
                self.path.unlink()
            else:
                raise AgentError(f"another daemon is listening on {self.path}", kind="usage")
            finally:
                probe.close()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            s.bind(str(self.path))
            if self.group:
                try:
                    self.gid = grp.getgrnam(self.group).gr_gid
                except KeyError:
                    self.gid = None
            if self.gid is not None:
                os.chown(self.path, -1, self.gid)
            os.chmod(self.path, self.mode)
            s.listen(16)
        except OSError as exc:
            s.close()
            raise AgentError(f"cannot listen on {self.path}: {exc.strerror or exc}", kind="io") from None
        self._sock = s  # blocking accept: an idle server costs no wakeups; stop() shuts it down
        self._thread = threading.Thread(target=self._accept_loop, name="ipc-accept", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and remove the socket file."""
        self._stop.set()
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(2.0)
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.1)  # EMFILE and the like: do not spin
                continue
            if self._stop.is_set():
                conn.close()
                return
            if not self._slots.acquire(blocking=False):
                self._send(conn, {"id": None, "ok": False, "error": {"code": "ipc", "message": "too many clients"}})
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), name="ipc-conn", daemon=True).start()

    # ------------------------------------------------------------ one connection

    def allowed(self, method: str, peer: Peer) -> bool:
        """Root may do everything; the bmnn group may call the read methods."""
        if peer.uid == 0:
            return True
        if method in ROOT_METHODS:
            return False
        return self.gid is not None and (peer.gid == self.gid or self.gid in peer.groups)

    @staticmethod
    def _send(conn: socket.socket, obj: Any) -> None:
        try:
            conn.sendall(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8") + b"\n")
        except OSError:
            pass

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(self.timeout)
            try:
                peer = peer_of(conn)
            except OSError as exc:
                self._send(conn, {"id": None, "ok": False, "error": {"code": "ipc", "message": str(exc)}})
                return
            buf = b""
            while not self._stop.is_set():
                nl = buf.find(b"\n")
                if nl < 0:
                    if len(buf) > MAX_REQUEST:
                        self._send(conn, _error(None, "usage", f"request larger than {MAX_REQUEST} bytes"))
                        return
                    try:
                        chunk = conn.recv(65536)
                    except (socket.timeout, OSError):
                        return
                    if not chunk:
                        return
                    buf += chunk
                    continue
                line, buf = buf[:nl], buf[nl + 1:]
                if len(line) > MAX_REQUEST:
                    self._send(conn, _error(None, "usage", f"request larger than {MAX_REQUEST} bytes"))
                    return
                if line.strip():
                    self._send(conn, self.handle_line(line, peer))
        finally:
            self._slots.release()
            conn.close()

    def handle_line(self, line: bytes, peer: Peer) -> dict[str, Any]:
        """Parse, authorise and dispatch one request; always returns a reply object."""
        try:
            req = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return _error(None, "usage", f"malformed request: {exc}")
        if not isinstance(req, dict) or not isinstance(req.get("method"), str):
            return _error(None, "usage", 'a request is a JSON object with a "method" string')
        rid = req.get("id")
        if not isinstance(rid, (int, str, type(None))):
            rid = None
        method, params = req["method"], req.get("params", {})
        if not isinstance(params, dict):
            return _error(rid, "usage", '"params" must be an object')
        if method not in self.handlers:
            return _error(rid, "usage", f"unknown method {method!r}; known: {', '.join(sorted(self.handlers))}")
        if not self.allowed(method, peer):
            self.refused += 1
            who = "root" if method in ROOT_METHODS else "root or the bmnn group"
            return _error(rid, "forbidden", f"{method}: only {who} may do this (uid {peer.uid})")
        try:
            result = self.handlers[method](params, peer)
        except AgentError as exc:
            return _error(rid, exc.kind, str(exc))
        except Exception as exc:  # a handler bug must not kill the server
            return _error(rid, "internal", f"{type(exc).__name__}: {exc}")
        self.requests += 1
        return {"id": rid, "ok": True, "result": result}


def _error(rid: Any, code: str, message: str) -> dict[str, Any]:
    return {"id": rid, "ok": False, "error": {"code": code, "message": message}}


class IpcClient:
    """Call the daemon."""

    def __init__(self, path: os.PathLike | str, *, timeout: float = 10.0):
        self.path = Path(path)
        self.timeout = timeout
        self._n = 0

    def call(self, method: str, **params: Any) -> Any:
        """One request; returns ``result`` or raises AgentError (not_running, forbidden, ...)."""
        self._n += 1
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        s.settimeout(self.timeout)
        try:
            try:
                s.connect(str(self.path))
            except (FileNotFoundError, ConnectionRefusedError):
                raise AgentError(f"bmnn-agent is not running (no socket at {self.path})", kind="not_running") from None
            except PermissionError:
                raise AgentError(f"no permission to use {self.path}: root or the bmnn group only",
                                 kind="forbidden") from None
            s.sendall(json.dumps({"id": self._n, "method": method, "params": params}).encode("utf-8") + b"\n")
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        except socket.timeout:
            raise AgentError(f"bmnn-agent did not answer within {self.timeout:g} s", kind="ipc") from None
        except OSError as exc:
            raise AgentError(f"talking to bmnn-agent: {exc.strerror or exc}", kind="ipc") from None
        finally:
            s.close()
        try:
            reply = json.loads(buf.split(b"\n", 1)[0].decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise AgentError("bmnn-agent sent a malformed reply", kind="ipc") from None
        if not reply.get("ok"):
            err = reply.get("error") or {}
            code = err.get("code")
            raise AgentError(err.get("message") or "request failed", kind=code if code in KINDS else "ipc")
        return reply.get("result")
