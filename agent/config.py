"""agent.yaml: the daemon's own settings (sinks, heartbeat, retention, labels).

A small strict schema (msgspec, unknown keys are errors) read through the policy layer's YAML
loader, so a mistake is reported as ``file:line:col`` with a caret, like a policy error. A missing
file means the defaults: journald and the ECS file on, syslog, hooks and alerts off... except the
local alert, which is on (wall is harmless where nobody is logged in).

Example::

    heartbeat_seconds: 60
    retention_days: 730
    labels: {agency: "Sở X", room: "P.203"}
    incident_reports: true
    sinks:
      ecs: {path: /var/log/bmnn/events.ndjson}
      syslog: {enabled: true, address: "udp://10.0.0.5:514", facility: local4}
      hooks:
        - {command: [/usr/local/lib/bmnn/notify-soc], timeout: 10, kinds: [violation, gap]}
      alert: {min_severity: high}
"""

from __future__ import annotations

import os
from typing import Annotated, Literal, Optional

import msgspec

from .errors import AgentError

Severity = Literal["critical", "high", "medium", "low", "info"]
_STRICT = dict(forbid_unknown_fields=True, kw_only=True, frozen=True)


class JournaldConfig(msgspec.Struct, **_STRICT):
    enabled: bool = True


class EcsConfig(msgspec.Struct, **_STRICT):
    enabled: bool = True
    path: Optional[str] = None
    """Default: $BMNN_LOG_DIR/events.ndjson."""
    fsync: bool = False


class SyslogConfig(msgspec.Struct, **_STRICT):
    enabled: bool = False
    address: str = "/dev/log"
    facility: Literal["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
                      "authpriv", "ftp", "local0", "local1", "local2", "local3", "local4", "local5", "local6",
                      "local7"] = "authpriv"
    app_name: str = "bmnn-agent"
    sd_id: str = "bmnn@32473"
    tls_ca: Optional[str] = None
    """tls:// addresses: the CA file that signed the collector's certificate."""
    tls_cert: Optional[str] = None
    """tls://: a client certificate (PEM), when the collector authenticates clients."""
    tls_key: Optional[str] = None
    """tls://: its private key (PEM; root-only)."""
    tls_name: Optional[str] = None
    """tls://: the name the collector's certificate must carry (default: the address's host)."""


class HookConfig(msgspec.Struct, **_STRICT):
    command: list[str]
    timeout: float = 10.0
    kinds: Optional[list[str]] = None
    min_severity: Optional[Severity] = None
    name: Optional[str] = None


class AlertConfig(msgspec.Struct, **_STRICT):
    enabled: bool = True
    wall: bool = True
    desktop: bool = True
    min_severity: Severity = "high"
    kinds: list[str] = msgspec.field(default_factory=lambda: ["violation", "gap", "enforced"])
    max_age_seconds: float = 600.0
    """Alerts are for people: a record older than this when the sink reaches it (a catch-up after
    an outage or a restart) is not shown on its own; one line summarises how many were skipped."""


class SinksConfig(msgspec.Struct, **_STRICT):
    journald: JournaldConfig = JournaldConfig()
    ecs: EcsConfig = EcsConfig()
    syslog: SyslogConfig = SyslogConfig()
    hooks: list[HookConfig] = []
    alert: AlertConfig = AlertConfig()
    start: Literal["head", "beginning"] = "head"
    """Where a sink without a cursor (new in agent.yaml, or the first start after an upgrade)
    begins: at the journal's head (nothing old is sent) or at its oldest record."""
    lag_warning_seconds: float = 300.0
    """A sink whose oldest undelivered record is older than this (failing), or that has been
    behind for this long, journals one warning; 0 turns the warning off."""


class ContentConfig(msgspec.Struct, **_STRICT):
    enabled: bool = True
    """Scan new files in the marked folders and on mounted removable media for secrecy stamps."""
    workers: int = 1
    """Worker subprocesses per scan (each under the content limits)."""
    media: bool = True
    """Watch and scan removable media when they are mounted."""


class AgentConfig(msgspec.Struct, **_STRICT):
    heartbeat_seconds: float = 60.0
    reconcile_seconds: float = 300.0
    """Full re-read of every domain, whatever the event sources said."""
    retention_days: Optional[float] = None
    """None keeps everything."""
    queue_size: int = 1000
    """Per sink: records not yet journaled (a full disk) waiting for early delivery."""
    max_spool: int = 10000
    labels: dict[str, str] = {}
    profile: Optional[str] = None
    """Overrides the profile chosen in local.d."""
    lang: Literal["vi", "en"] = "vi"
    ipc_group: Optional[str] = "bmnn"
    """Group whose members may read status and events over the socket (null: root only)."""
    sinks: SinksConfig = SinksConfig()
    content: ContentConfig = ContentConfig()
    hash_max_bytes: Annotated[int, msgspec.Meta(ge=0)] = 1 << 30
    """Largest file in a marked folder or on a medium whose SHA-256 a file event records; a larger
    one is journaled with "not hashed: larger than N bytes"."""
    incident_reports: bool = False
    """Write a signed draft incident report into the state directory (incidents/) when a critical
    violation opens (agent/incident.py ``write_incident_draft``); ``bmnn status`` points to it."""
    who_did_it: bool = True
    """Name the acting process (pid, uid, user, exe) of each write in a marked folder or on a
    medium, and journal each read of a stamped document, with fanotify (agent/actors.py). Off:
    file records show the owner only. A filesystem mark sees every access on that filesystem, so
    a busy build on the same disk costs the daemon CPU (docs/performance.md, "Who did it")."""


AGENT_YAML = ("agent configuration", "cấu hình agent")


def load_config(path: os.PathLike | str, *, enforce: Optional[bool] = None) -> AgentConfig:
    """Read and validate agent.yaml; a missing file gives the defaults. Raises AgentError(config).

    Read like every configuration file (policies/trusted.py: StrictModes as root, no links,
    bounded; policies/yamlmarks.py: YAML limits). Each hook's executable, and every absolute path
    among its arguments that exists (the script an interpreter runs), must pass the same
    StrictModes rule: a hook runs as root. The error text is the redacted form (file:line:col,
    what is wrong, key names): it goes into the journal, ECS and the socket's reply.
    """
    from bmnn_guard.policies.errors import PolicyError
    from bmnn_guard.policies.loader import convert
    from .sinks.hook import untrusted
    from bmnn_guard.policies.yamlmarks import CONFIG_LIMITS, key_name, load_file
    try:
        doc = load_file(str(path), CONFIG_LIMITS, enforce=enforce, what=AGENT_YAML)
        if doc.data is None:
            return AgentConfig()
        cfg = convert(doc, AgentConfig)
    except FileNotFoundError:
        return AgentConfig()
    except PolicyError as exc:
        raise AgentError(exc.redacted(), kind="config") from None
    from .journal import KINDS
    problems = []

    def bad(where: tuple, text: str, *, key: bool = False) -> None:
        problems.append(doc.problem(where, text, key=key, redacted=text))

    if cfg.heartbeat_seconds < 1:
        bad(("heartbeat_seconds",), "heartbeat_seconds must be at least 1")
    if cfg.reconcile_seconds < 5:
        bad(("reconcile_seconds",), "reconcile_seconds must be at least 5")
    if cfg.retention_days is not None and cfg.retention_days < 1:
        bad(("retention_days",), "retention_days must be at least 1")
    if not 1 <= cfg.content.workers <= 64:
        bad(("content", "workers"), "content.workers must be between 1 and 64")
    if cfg.queue_size < 1 or cfg.max_spool < 1:
        bad(("queue_size" if cfg.queue_size < 1 else "max_spool",), "queue_size and max_spool must be positive")
    if cfg.sinks.lag_warning_seconds < 0:
        bad(("sinks", "lag_warning_seconds"), "sinks.lag_warning_seconds must be 0 (off) or positive")
    if cfg.sinks.alert.max_age_seconds <= 0:
        bad(("sinks", "alert", "max_age_seconds"), "sinks.alert.max_age_seconds must be positive")
    if cfg.sinks.syslog.enabled:
        from .sinks.syslog import Sink as SyslogSink
        sc = cfg.sinks.syslog
        try:
            SyslogSink(sc.address, tls_ca=sc.tls_ca, tls_cert=sc.tls_cert, tls_key=sc.tls_key)
        except ValueError as exc:
            generic = ("sinks.syslog.address: tls:// needs sinks.syslog.tls_ca (the CA file of the collector's "
                       "certificate)" if "tls_ca" in str(exc) else
                       "sinks.syslog.address: unsupported syslog address; use /dev/log, unix://PATH, "
                       "udp://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT")
            problems.append(doc.problem(("sinks", "syslog", "address"), f"sinks.syslog.address: {exc}",
                                        redacted=generic))
    for i, h in enumerate(cfg.sinks.hooks):
        where = ("sinks", "hooks", i)
        if not h.command or not os.path.isabs(h.command[0]):
            bad(where + ("command",), f"sinks.hooks[{i}].command must start with an absolute path")
        else:
            refusal = untrusted(h.command, enforce=enforce)
            if refusal is not None:
                bad(where + ("command",), f"sinks.hooks[{i}].command: {refusal}")
        if h.timeout <= 0:
            bad(where + ("timeout",), f"sinks.hooks[{i}].timeout must be positive")
        for j, k in enumerate(h.kinds or []):
            if k not in KINDS:
                bad(where + ("kinds", j), f"sinks.hooks[{i}].kinds: unknown kind {key_name(k)}; known: {', '.join(KINDS)}")
    for j, k in enumerate(cfg.sinks.alert.kinds):
        if k not in KINDS:
            bad(("sinks", "alert", "kinds", j), f"sinks.alert.kinds: unknown kind {key_name(k)}; known: {', '.join(KINDS)}")
    if problems:
        raise AgentError(PolicyError(problems).redacted(), kind="config")
    return cfg
