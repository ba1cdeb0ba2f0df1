"""agent.yaml and the paths: strict schema, located errors, defaults, environment overrides."""

import pytest

from bmnn_guard.agent.config import AgentConfig, load_config
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.paths import from_env


def test_missing_or_empty_file_gives_the_defaults(tmp_path):
    assert load_config(tmp_path / "none.yaml") == AgentConfig()
    (tmp_path / "empty.yaml").write_text("")
    cfg = load_config(tmp_path / "empty.yaml")
    assert cfg.heartbeat_seconds == 60 and cfg.sinks.journald.enabled and cfg.sinks.ecs.enabled
    assert not cfg.sinks.syslog.enabled and cfg.sinks.alert.min_severity == "high"
    assert cfg.sinks.start == "head" and cfg.sinks.lag_warning_seconds == 300 and cfg.sinks.alert.max_age_seconds == 600


def test_full_example_loads(tmp_path):
    f = tmp_path / "agent.yaml"
    f.write_text("heartbeat_seconds: 30\nretention_days: 730\nlabels: {agency: \"Sở X\"}\n"
                 "sinks:\n  syslog: {enabled: true, address: \"udp://127.0.0.1:514\", facility: local4}\n"
                 "  hooks:\n    - {command: [/usr/local/bin/h, --x], timeout: 5, kinds: [violation]}\n",
                 encoding="utf-8")
    cfg = load_config(f)
    assert cfg.retention_days == 730 and cfg.labels == {"agency": "Sở X"}
    assert cfg.sinks.syslog.facility == "local4" and cfg.sinks.hooks[0].command == ["/usr/local/bin/h", "--x"]


@pytest.mark.parametrize("text, message", [
    ("heartbeat_secs: 5\n", "agent.yaml:1:1: unknown key 'heartbeat_secs'"),
    ("sinks:\n  syslog: {facility: local9}\n", "agent.yaml:2:22: invalid value"),
    ("heartbeat_seconds: 0\n", "heartbeat_seconds must be at least 1"),
    ("sinks:\n  hooks: [{command: [relative/hook]}]\n", "must start with an absolute path"),
    ("sinks:\n  alert: {kinds: [violaton]}\n", "unknown kind 'violaton'"),
    ("sinks: [\n", "YAML"),
    ("sinks:\n  start: middle\n", "agent.yaml:2:10: invalid value"),
    ("sinks:\n  lag_warning_seconds: -1\n", "sinks.lag_warning_seconds must be 0 (off) or positive"),
    ("sinks:\n  alert: {max_age_seconds: 0}\n", "sinks.alert.max_age_seconds must be positive"),
    ("sinks:\n  syslog: {enabled: true, address: 'tls://10.0.0.5:6514'}\n", "tls:// needs sinks.syslog.tls_ca"),
    ("sinks:\n  syslog: {enabled: true, address: 'ftp://x:1'}\n", "unsupported syslog address"),
])
def test_bad_config_is_a_located_config_error(tmp_path, text, message):
    f = tmp_path / "agent.yaml"
    f.write_text(text)
    with pytest.raises(AgentError) as ei:
        load_config(f)
    assert ei.value.kind == "config" and message in str(ei.value)


def test_paths_from_environment_and_defaults():
    p = from_env({})
    assert str(p.journal) == "/var/lib/bmnn/journal.db" and str(p.socket) == "/run/bmnn/agent.sock"
    assert str(p.agent_config) == "/etc/bmnn/agent.yaml" and str(p.ecs_log) == "/var/log/bmnn/events.ndjson"
    p = from_env({"BMNN_STATE_DIR": "/s", "BMNN_RUNTIME_DIR": "/r", "BMNN_LOG_DIR": "/l", "BMNN_CONFIG_DIR": "/c"})
    assert (str(p.journal), str(p.socket), str(p.ecs_log), str(p.local_d)) == \
        ("/s/journal.db", "/r/agent.sock", "/l/events.ndjson", "/c/local.d")
    assert str(from_env({"BMNN_STATE_DIR": "/s"}, state_dir="/x").journal_key) == "/x/journal.key"
