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
from pathlib import Path
from typing import Literal, Optional

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


class SinksConfig(msgspec.Struct, **_STRICT):
    journald: JournaldConfig = JournaldConfig()
    ecs: EcsConfig = EcsConfig()
    syslog: SyslogConfig = SyslogConfig()
    hooks: list[HookConfig] = []
    alert: AlertConfig = AlertConfig()


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
    max_spool: int = 10000
    labels: dict[str, str] = {}
    profile: Optional[str] = None
    """Overrides the profile chosen in local.d."""
    lang: Literal["vi", "en"] = "vi"
    ipc_group: Optional[str] = "bmnn"
    """Group whose members may read status and events over the socket (null: root only)."""
    sinks: SinksConfig = SinksConfig()
    content: ContentConfig = ContentConfig()
    incident_reports: bool = False
    """Write a signed draft incident report into the state directory (incidents/) when a critical
    violation opens (agent/incident.py ``write_incident_draft``); ``bmnn status`` points to it."""


def load_config(path: os.PathLike | str) -> AgentConfig:
    """Read and validate agent.yaml; a missing file gives the defaults. Raises AgentError(config)."""
    from policies.errors import PolicyError
    from policies.loader import convert
    from policies.yamlmarks import load_file
    p = Path(path)
    if not p.exists():
        return AgentConfig()
    try:
        doc = load_file(str(p))
        if doc.data is None:
            return AgentConfig()
        cfg = convert(doc, AgentConfig)
    except PolicyError as exc:
        raise AgentError(exc.render(), kind="config") from None
    from .journal import KINDS
    problems = []
    if cfg.heartbeat_seconds < 1:
        problems.append("heartbeat_seconds must be at least 1")
    if cfg.reconcile_seconds < 5:
        problems.append("reconcile_seconds must be at least 5")
    if cfg.retention_days is not None and cfg.retention_days < 1:
        problems.append("retention_days must be at least 1")
    if not 1 <= cfg.content.workers <= 64:
        problems.append("content.workers must be between 1 and 64")
    if cfg.queue_size < 1 or cfg.max_spool < 1:
        problems.append("queue_size and max_spool must be positive")
    for i, h in enumerate(cfg.sinks.hooks):
        if not h.command or not os.path.isabs(h.command[0]):
            problems.append(f"sinks.hooks[{i}].command must start with an absolute path")
        if h.timeout <= 0:
            problems.append(f"sinks.hooks[{i}].timeout must be positive")
        for k in (h.kinds or []):
            if k not in KINDS:
                problems.append(f"sinks.hooks[{i}].kinds: unknown kind {k!r}")
    for k in cfg.sinks.alert.kinds:
        if k not in KINDS:
            problems.append(f"sinks.alert.kinds: unknown kind {k!r}")
    if problems:
        raise AgentError(f"{p}: " + "; ".join(problems), kind="config")
    return cfg
