"""RFC 5424 syslog, to the local socket (/dev/log) or to a collector over UDP or TCP.

Addresses: ``/dev/log`` or ``unix:///path`` (datagram, or stream when the socket is a stream
socket), ``udp://host:514`` (RFC 5426, one message per datagram), ``tcp://host:514`` (RFC 6587
octet-counting framing: ``LEN SP MSG``), ``tls://host:6514`` (RFC 5425: the same framing over
TLS 1.2+, the collector's certificate checked against ``tls_ca`` and its name, ``tls_name`` or
the host; a client certificate with ``tls_cert``/``tls_key`` when the collector asks for one).
Remote addresses need ``AF_INET``/``AF_INET6`` in the unit's ``RestrictAddressFamilies`` (see
docs/agent.md).

The message: ``<PRI>1 TIMESTAMP HOST bmnn-agent PID KIND [bmnn@32473 id=.. seq=.. kind=..
check=.. severity=.. hash=..] BOM text``; ``id`` is the ECS ``event.id`` (``host:seq:hash16``),
the key a receiver de-duplicates on. 32473 is the private enterprise number reserved for
examples (RFC 5612); an agency with its own PEN sets ``sd_id``.
"""

from __future__ import annotations

import os
import select
import socket
from typing import Optional
from urllib.parse import urlsplit

from ..journal import Record
from . import SinkContext
from .journald import priority, text

FACILITIES = {"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
              "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
              **{f"local{i}": 16 + i for i in range(8)}}
BOM = "\ufeff"
MAX_UDP = 8192


def _sd_value(v: object) -> str:
    return str(v).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _token(v: Optional[str], maxlen: int) -> str:
    if not v:
        return "-"
    s = "".join(c for c in v if 33 <= ord(c) <= 126)
    return s[:maxlen] or "-"


def format_5424(record: Record, *, facility: str = "authpriv", app_name: str = "bmnn-agent",
                hostname: Optional[str] = None, procid: Optional[str] = None, sd_id: str = "bmnn@32473",
                bom: bool = True, lang: str = "vi") -> bytes:
    """One RFC 5424 message for ``record``."""
    pri = FACILITIES[facility] * 8 + priority(record)
    params = [("id", f"{record.host}:{record.seq}:{record.hash[:16]}"), ("seq", record.seq), ("kind", record.kind)]
    if record.check_id:
        params.append(("check", record.check_id))
    if record.severity:
        params.append(("severity", record.severity))
    params.append(("hash", record.hash))
    sd = "[" + sd_id + "".join(f' {k}="{_sd_value(v)}"' for k, v in params) + "]"
    header = (f"<{pri}>1 {record.time} {_token(hostname or record.host, 255)} {_token(app_name, 48)} "
              f"{_token(procid or str(os.getpid()), 128)} {_token(record.kind, 32)} {sd}")
    return (header + " " + (BOM if bom else "") + text(record, lang)).encode("utf-8")


class Sink:
    """Send RFC 5424 messages to a local socket or a collector."""

    name = "syslog"

    def __init__(self, address: str = "/dev/log", ctx: Optional[SinkContext] = None, *, facility: str = "authpriv",
                 app_name: str = "bmnn-agent", sd_id: str = "bmnn@32473", timeout: float = 5.0, bom: bool = True,
                 tls_ca: Optional[str] = None, tls_cert: Optional[str] = None, tls_key: Optional[str] = None,
                 tls_name: Optional[str] = None):
        if facility not in FACILITIES:
            raise ValueError(f"unknown syslog facility {facility!r}")
        self.address = address
        self.ctx = ctx
        self.facility, self.app_name, self.sd_id, self.timeout, self.bom = facility, app_name, sd_id, timeout, bom
        self._sock: Optional[socket.socket] = None
        self._stream = False
        u = urlsplit(address)
        self._tls_files: Optional[tuple[str, Optional[str], Optional[str]]] = None
        self._tls_name = tls_name
        if u.scheme in ("udp", "tcp", "tls"):
            if not u.hostname or not u.port:
                raise ValueError(f"syslog address {address!r} needs host and port")
            self._scheme, self._target = u.scheme, (u.hostname, u.port)
            if u.scheme == "tls":
                if not tls_ca:
                    raise ValueError(f"syslog address {address!r}: tls:// needs tls_ca (the collector's CA file)")
                self._tls_files = (tls_ca, tls_cert, tls_key)
        elif u.scheme in ("", "unix"):
            self._scheme, self._target = "unix", (u.path if u.scheme == "unix" else address)
        else:
            raise ValueError(f"unsupported syslog address {address!r} (use /dev/log, unix://, udp://, tcp:// or tls://)")

    def _connect(self) -> socket.socket:
        if self._scheme == "unix":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            s.settimeout(self.timeout)
            try:
                s.connect(self._target)
                self._stream = False
            except OSError as exc:
                s.close()
                if exc.errno != 91:  # EPROTOTYPE: it is a stream socket
                    raise
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
                s.settimeout(self.timeout)
                s.connect(self._target)
                self._stream = True
            return s
        host, port = self._target
        kind = socket.SOCK_DGRAM if self._scheme == "udp" else socket.SOCK_STREAM
        if self._tls_files is not None:
            # made per connection: a CA file that is missing now is an error to retry, not a crash,
            # and a renewed certificate is picked up at the next reconnect
            import ssl  # only for tls://: OpenSSL costs the idle daemon ~2 MiB of RSS otherwise
            ca, cert, key = self._tls_files
            tls = ssl.create_default_context(cafile=ca)
            tls.minimum_version = ssl.TLSVersion.TLSv1_2
            if cert:
                tls.load_cert_chain(cert, key)
            raw = socket.create_connection((host, port), timeout=self.timeout)
            try:
                s = tls.wrap_socket(raw, server_hostname=self._tls_name or host)
            except OSError:  # ssl.SSLError is an OSError
                raw.close()
                raise
            self._stream = True
            return s
        last: Optional[OSError] = None
        for fam, st, proto, _, addr in socket.getaddrinfo(host, port, type=kind):
            s = socket.socket(fam, st | socket.SOCK_CLOEXEC, proto)
            s.settimeout(self.timeout)
            try:
                s.connect(addr)
            except OSError as exc:
                s.close()
                last = exc
                continue
            self._stream = self._scheme == "tcp"
            return s
        raise last or OSError(f"cannot resolve {host}")

    def _format(self, record: Record) -> bytes:
        return format_5424(record, facility=self.facility, app_name=self.app_name, sd_id=self.sd_id, bom=self.bom,
                           hostname=self.ctx.host_name if self.ctx and self.ctx.host_name else None,
                           lang=self.ctx.lang if self.ctx else "vi")

    def emit(self, record: Record) -> None:
        """Send one message; on error the socket is dropped and the next attempt reconnects."""
        self._send([self._format(record)])

    def emit_many(self, records: list[Record]) -> None:
        """Send a batch (a catch-up): on a stream, the frames in one ``sendall``; raises like
        ``emit`` and the reader re-sends the whole batch (the collector may get part of it twice)."""
        self._send([self._format(r) for r in records])

    def _send(self, msgs: list[bytes]) -> None:
        if self._sock is not None and self._stream and self._peer_closed():
            self.close()  # the collector went away while we were idle: never write into a dead connection
        if self._sock is None:
            self._sock = self._connect()
        try:
            if self._stream and self._scheme in ("tcp", "tls"):
                self._sock.sendall(b"".join([str(len(m)).encode() + b" " + m for m in msgs]))
            elif self._stream:
                self._sock.sendall(b"".join([m + b"\n" for m in msgs]))
            else:
                for m in msgs:
                    self._sock.send(m[:MAX_UDP] if self._scheme == "udp" else m)
        except OSError:
            self.close()
            raise

    def _peer_closed(self) -> bool:
        """The collector closed the stream (it never writes to us: readable means EOF or an error).
        Without this the first record after a collector's restart would go into the old socket, be
        taken by the kernel and answered with a reset: lost, although "sent"."""
        try:
            ready, _, _ = select.select([self._sock], [], [], 0)
            if not ready:
                return False
            if self._tls_files is not None:  # readable may be a TLS 1.3 session ticket: no data
                import ssl
                self._sock.setblocking(False)
                try:
                    return self._sock.recv(1) == b""
                except ssl.SSLWantReadError:
                    return False
                finally:
                    self._sock.settimeout(self.timeout)
            return self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None


def report(record: Record, address: str = "/dev/log") -> None:
    """One-shot form (bandit-style entry)."""
    s = Sink(address)
    try:
        s.emit(record)
    finally:
        s.close()
