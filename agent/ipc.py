"""Control socket of the daemon: JSON lines over a Unix stream socket (never pickle).

Request: one JSON object per line, ``{"id": 1, "method": "status", "params": {}}``.
Reply: one line, ``{"id": 1, "ok": true, "result": ...}`` or
``{"id": 1, "ok": false, "error": {"code": "forbidden", "message": "..."}}``.

Access is decided from the kernel's credentials of the peer (SO_PEERCRED, and SO_PEERGROUPS for
supplementary groups), never from anything the client says, against an allow-list: members of
the ``bmnn`` group (primary or supplementary) may call the read methods (``READ_METHODS``:
``status``, ``events``) and nothing else; root may call everything. A peer that is neither is
answered "forbidden" at once and never holds a slot. The socket file is mode 0660, group ``bmnn``
when that group exists, so the file permissions and the credential check both have to agree.

A client cannot hold the server: each request line must arrive within ``timeout`` seconds of its
first byte and an idle connection is closed after ``idle_timeout``; a line is at most
``MAX_REQUEST`` bytes and at most ``MAX_DEPTH`` levels deep (a larger or deeper one gets an error
reply and the connection goes on with the next line). Members share ``max_clients`` connections,
at most ``per_uid`` of them per user; root has ``root_slots`` of its own besides, so root can
always connect, whatever members hold. Invalid JSON, an unknown method or a handler that raises
gets a JSON error; the server never dies of a client.
"""

from __future__ import annotations

import collections
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
MAX_DEPTH = 32
"""Nesting of a request (objects and arrays); json.loads would recurse until RecursionError."""
READ_METHODS = frozenset({"status", "events"})
"""What a member of the bmnn group may call; everything else is root's."""
ROOT_METHODS = frozenset({"reload", "ack"})
SO_PEERGROUPS = getattr(socket, "SO_PEERGROUPS", 59)
PEERGROUPS_FIRST = 1024
"""CPython's getsockopt refuses a buffer over 1,024 bytes (256 groups); more go through ctypes."""
PEERGROUPS_MAX = 65536 * 4
"""NGROUPS_MAX (65,536) groups of 4 bytes."""


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
    """Credentials of a connected AF_UNIX peer; raises OSError when the kernel does not say."""
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return Peer(pid, uid, gid, peer_groups(conn))


def peer_groups(conn: socket.socket) -> tuple[int, ...]:
    """Supplementary groups of the peer (SO_PEERGROUPS, Linux >= 4.13): at most 1,024 bytes through
    the socket module, larger only on ERANGE through ctypes. Raises OSError when unreadable: a
    member whose groups cannot be read must not pass for a stranger silently."""
    import errno
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, SO_PEERGROUPS, PEERGROUPS_FIRST)
    except OSError as exc:
        if exc.errno != errno.ERANGE:
            raise
        raw = _peergroups_ctypes(conn.fileno())
    n = len(raw) // 4
    return struct.unpack(f"{n}I", raw[:n * 4])


def _peergroups_ctypes(fd: int) -> bytes:
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    size = PEERGROUPS_FIRST
    while True:
        size = min(size * 4, PEERGROUPS_MAX)
        buf = ctypes.create_string_buffer(size)
        length = ctypes.c_uint32(size)
        if libc.getsockopt(fd, socket.SOL_SOCKET, SO_PEERGROUPS, buf, ctypes.byref(length)) == 0:
            return buf.raw[:length.value]
        err = ctypes.get_errno()
        if err != 34 or size >= PEERGROUPS_MAX:  # ERANGE: the kernel wrote the size it needs
            raise OSError(err, os.strerror(err))
        size = max(size, int(length.value))


def json_depth(data: bytes) -> int:
    """Deepest nesting of objects and arrays in a JSON text (brackets inside strings ignored);
    cheap enough to run before json.loads on every request."""
    depth = best = 0
    in_str = escaped = False
    for b in data:
        if in_str:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):
            depth += 1
            best = max(best, depth)
        elif b in (0x5D, 0x7D):
            depth -= 1
    return best


Handler = Callable[[Mapping[str, Any], Peer], Any]


class IpcServer:
    """Serve ``handlers`` on a Unix socket, one thread per connection (bounded)."""

    def __init__(self, path: os.PathLike | str, handlers: Mapping[str, Handler], *, group: Optional[str] = "bmnn",
                 mode: int = 0o660, timeout: float = 10.0, idle_timeout: float = 30.0, max_clients: int = 16,
                 per_uid: int = 8, root_slots: int = 4):
        self.path = Path(path)
        self.handlers = dict(handlers)
        self.group = group
        self.mode = mode
        self.timeout = timeout
        """Seconds a request line may take from its first byte to its newline."""
        self.idle_timeout = idle_timeout
        """Seconds a connection may wait between requests."""
        self.max_clients, self.per_uid, self.root_slots = max_clients, per_uid, root_slots
        self._slots_lock = threading.Lock()
        self._members = 0
        self._root = 0
        self._by_uid: dict[int, int] = {}
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self.gid: Optional[int] = None
        """Group whose members may read (None: root only)."""
        self.requests = 0
        self._served: collections.deque[float] = collections.deque(maxlen=1000)
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
                accepted = time.monotonic()
            except OSError:
                if self._stop.is_set():
                    return
                time.sleep(0.1)  # EMFILE and the like: do not spin
                continue
            if self._stop.is_set():
                conn.close()
                return
            try:
                peer = peer_of(conn)
            except OSError as exc:
                self._refuse(conn, _error(None, "ipc", f"cannot read the caller's credentials: {exc}"))
                continue
            if not self.allowed_any(peer):
                self.refused += 1
                self._refuse(conn, _error(None, "forbidden", f"only root or the {self.group or 'bmnn'} group may use "
                                                             f"this socket (uid {peer.uid})"))
                continue
            slot = self._take_slot(peer)
            if slot is None:
                self._refuse(conn, _error(None, "ipc", "too many clients"))
                continue
            threading.Thread(target=self._serve, args=(conn, peer, slot, accepted), name="ipc-conn",
                             daemon=True).start()

    def _refuse(self, conn: socket.socket, reply: dict[str, Any]) -> None:
        """Answer and close at once (the accept loop never waits for a refused client); what it
        already sent is read first without waiting, and IpcClient reads the reason even when its
        own send found the socket closed."""
        try:
            conn.recv(65536, socket.MSG_DONTWAIT)
        except OSError:
            pass
        conn.settimeout(1.0)
        self._send(conn, reply)
        try:
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        conn.close()

    def _take_slot(self, peer: Peer) -> Optional[str]:
        """"member" or "root" (root's own reserve once the shared slots are taken), None when full."""
        with self._slots_lock:
            mine = self._by_uid.get(peer.uid, 0)
            if self._members < self.max_clients and (peer.uid == 0 or mine < self.per_uid):
                self._members += 1
                kind = "member"
            elif peer.uid == 0 and self._root < self.root_slots:
                self._root += 1
                kind = "root"
            else:
                return None
            self._by_uid[peer.uid] = mine + 1
            return kind

    def _give_slot(self, peer: Peer, kind: str) -> None:
        with self._slots_lock:
            if kind == "root":
                self._root -= 1
            else:
                self._members -= 1
            left = self._by_uid.get(peer.uid, 1) - 1
            if left:
                self._by_uid[peer.uid] = left
            else:
                self._by_uid.pop(peer.uid, None)

    # ------------------------------------------------------------ one connection

    def latency(self) -> dict[str, Any]:
        """Seconds from accepting a connection (or a request's first byte) to its reply sent, over
        the last 1,000 requests: p50 and max in ms (``bmnn status`` shows them)."""
        xs = sorted(self._served)
        if not xs:
            return {"requests": 0}
        return {"requests": len(xs), "p50_ms": round(xs[len(xs) // 2] * 1000, 1), "max_ms": round(xs[-1] * 1000, 1)}

    def member(self, peer: Peer) -> bool:
        """In the bmnn group, as primary or supplementary group."""
        return self.gid is not None and (peer.gid == self.gid or self.gid in peer.groups)

    def allowed_any(self, peer: Peer) -> bool:
        """May call at least one method."""
        return peer.uid == 0 or self.member(peer)

    def allowed(self, method: str, peer: Peer) -> bool:
        """Root may do everything; the bmnn group only what READ_METHODS lists."""
        if peer.uid == 0:
            return True
        return method in READ_METHODS and self.member(peer)

    @staticmethod
    def _send(conn: socket.socket, obj: Any) -> None:
        try:
            conn.sendall(json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8") + b"\n")
        except OSError:
            pass

    def _serve(self, conn: socket.socket, peer: Peer, slot: str, accepted: float) -> None:
        try:
            self._lines(conn, peer, accepted)
        finally:
            self._give_slot(peer, slot)
            conn.close()

    def _lines(self, conn: socket.socket, peer: Peer, accepted: float) -> None:
        """Answer each request line; a line too long is answered and skipped, never read whole."""
        buf = b""
        skipping = False  # inside a line longer than MAX_REQUEST: drop it up to its newline
        started: Optional[float] = None  # when the current line's first byte came
        first = accepted  # the first request is timed from the accept
        while not self._stop.is_set():
            nl = buf.find(b"\n")
            if nl >= 0:
                line, buf = buf[:nl], buf[nl + 1:]
                began = first if first is not None else (started or time.monotonic())
                first = None
                started = time.monotonic() if buf else None
                if skipping:
                    skipping = False
                elif line.strip():
                    self._send(conn, self.handle_line(line, peer))
                    self._served.append(time.monotonic() - began)
                continue
            if len(buf) > MAX_REQUEST:
                if not skipping:
                    self._send(conn, _error(None, "usage", f"request larger than {MAX_REQUEST} bytes: refused; "
                                                           "the rest of that line is skipped"))
                skipping, buf = True, b""
            now = time.monotonic()
            if started is None and not skipping:
                wait = self.idle_timeout
            else:
                wait = (started or now) + self.timeout - now
            if wait <= 0:
                self._send(conn, _error(None, "ipc", f"request not complete within {self.timeout:g} s: closing"))
                return
            conn.settimeout(wait)
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                if started is not None or skipping:
                    self._send(conn, _error(None, "ipc", f"request not complete within {self.timeout:g} s: closing"))
                return
            except OSError:
                return
            if not chunk:
                return
            if started is None:
                started = time.monotonic()
            buf += chunk

    def handle_line(self, line: bytes, peer: Peer) -> dict[str, Any]:
        """Parse, authorise and dispatch one request; always returns a reply object."""
        if len(line) > MAX_REQUEST:
            return _error(None, "usage", f"request larger than {MAX_REQUEST} bytes")
        if json_depth(line) > MAX_DEPTH:
            return _error(None, "usage", f"request nested deeper than {MAX_DEPTH} levels")
        try:
            req = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return _error(None, "usage", f"malformed request: {str(exc)[:200]}")
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
            who = "root or the bmnn group" if method in READ_METHODS else "root"
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
            try:
                s.sendall(json.dumps({"id": self._n, "method": method, "params": params}).encode("utf-8") + b"\n")
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before reading: the reason is waiting to be read
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
