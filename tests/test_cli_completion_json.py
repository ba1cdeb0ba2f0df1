"""Shell completion as click documents it (COMP_WORDS, _BMNN_COMPLETE) and through the real bash
script, and the one JSON error object every --json command prints."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BMNN = [sys.executable, str(ROOT / "cli.py")]


def env_for(cfg: Path, **extra) -> dict:
    return dict(os.environ, BMNN_CONFIG_DIR=str(cfg), BMNN_STATE_DIR=str(cfg / "state"),
                BMNN_RUNTIME_DIR=str(cfg / "run"), PYTHONPATH=str(ROOT), BMNN_LANG="vi", **extra)


def complete(cfg: Path, shell: str, words: str, cword: int | None = None) -> str:
    extra = {"_BMNN_COMPLETE": f"{shell}_complete", "COMP_WORDS": words,
             "COMP_CWORD": str(cword if cword is not None else len(words.split()) - (0 if words.endswith(" ") else 1))}
    p = subprocess.run(BMNN, capture_output=True, text=True, env=env_for(cfg, **extra), timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def _registry(cfg: Path) -> None:
    cfg.mkdir(exist_ok=True)
    (cfg / "devices.yaml").write_text(
        "devices:\n  - {vendor_id: '0781', product_id: '5567', serial: '4C530001230405117153', label: USB-VT-07,\n"
        "     approved_by: Tran Van B, approved_at: '2026-11-23T10:00:00+07:00', kind: usb}\n", encoding="utf-8")


def test_completion_scripts_print(tmp_path):
    for shell, marker in (("bash", "_BMNN_COMPLETE=bash_complete"), ("zsh", "#compdef bmnn"), ("fish", "complete")):
        p = subprocess.run([*BMNN, "completion", shell], capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
        assert p.returncode == 0 and marker in p.stdout, (shell, p.stdout[:200], p.stderr)


def test_bash_completes_check_ids_profiles_serials_and_commands(tmp_path):
    _registry(tmp_path)
    out = complete(tmp_path, "bash", "bmnn policy show BMNN-NE")
    assert "plain,BMNN-NET-001" in out.splitlines() and all("NET" in line for line in out.splitlines())
    out = complete(tmp_path, "bash", "bmnn policy explain bmnn-us")  # typed in lower case
    assert "plain,BMNN-USB-001" in out.splitlines()
    out = complete(tmp_path, "bash", "bmnn scan --profile ")
    assert "plain,secret-workstation" in out.splitlines()
    out = complete(tmp_path, "bash", "bmnn devices revoke 4C5")
    assert out.splitlines() == ["plain,4C530001230405117153"]
    out = complete(tmp_path, "bash", "bmnn ans")
    assert "plain,answers" in out.splitlines()


def test_zsh_and_fish_carry_the_check_title(tmp_path):
    out = complete(tmp_path, "zsh", "bmnn policy show BMNN-NET-00")
    assert "BMNN-NET-001" in out and "Máy đang kết nối mạng" in out
    extra = {"_BMNN_COMPLETE": "fish_complete", "COMP_WORDS": "bmnn policy show BMNN-NET-00",
             "COMP_CWORD": "BMNN-NET-00"}  # fish passes the word being completed (click's fish script)
    out = subprocess.run(BMNN, capture_output=True, text=True, env=env_for(tmp_path, **extra), timeout=60).stdout
    assert "plain,BMNN-NET-001\tMáy đang kết nối mạng" in out


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_the_bash_script_itself_completes(tmp_path):
    _registry(tmp_path)
    script = subprocess.run([*BMNN, "completion", "bash"], capture_output=True, text=True, env=env_for(tmp_path),
                            timeout=60).stdout
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "bmnn").write_text(f"#!/bin/sh\nexec {sys.executable} {ROOT / 'cli.py'} \"$@\"\n")
    (bindir / "bmnn").chmod(0o755)
    (tmp_path / "c.sh").write_text(script)
    run = ('source "$1"; COMP_WORDS=(bmnn devices revoke 4C); COMP_CWORD=3; _bmnn_completion bmnn; '
           'printf "%s\\n" "${COMPREPLY[@]}"')
    p = subprocess.run(["bash", "-c", run, "bash", str(tmp_path / "c.sh")], capture_output=True, text=True,
                       env=env_for(tmp_path, PATH=f"{bindir}:{os.environ['PATH']}"), timeout=60)
    assert p.stdout.split() == ["4C530001230405117153"], (p.stdout, p.stderr)


@pytest.mark.parametrize("args,kind", [
    (["events", "--json"], "agent"),
    (["events", "verify", "--json"], "agent"),
    (["reload", "--json"], "agent"),
    (["events", "ack", "3", "--reason", "x", "--json"], "agent"),
    (["events", "ack", "3", "--json"], "agent"),
    (["policy", "show", "BMNN-NOPE-001", "--json"], "usage"),
    (["policy", "list", "--json", "--no-such-option"], "usage"),
    (["devices", "list", "--json"], "policy"),
    (["snapshot", "verify", "/nonexistent/x.bmnnsnap", "--json"], None),
    (["report", "fleet", "--json"], "usage"),
])
def test_json_commands_print_their_errors_as_one_json_object(tmp_path, args, kind):
    (tmp_path / "devices.yaml").write_text("devices:\n  - {serial: x, lable: y}\n", encoding="utf-8")
    p = subprocess.run([*BMNN, *args], capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
    assert p.returncode != 0
    data = json.loads(p.stdout)  # the whole of stdout is one JSON document
    if kind is None and "error" not in data:  # a command whose result already says what went wrong
        return
    err = data["error"]
    assert err["exit_code"] == p.returncode and err["message"]
    if kind:
        assert err["type"] == kind
    if kind == "policy":
        assert err["problems"][0]["path"].endswith("devices.yaml") and err["problems"][0]["line"] == 2
    assert "Traceback" not in p.stderr and "Error:" not in p.stderr


def test_status_json_names_the_same_error_object(tmp_path):
    p = subprocess.run([*BMNN, "status", "--json"], capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
    data = json.loads(p.stdout)
    assert p.returncode == 1 and data["running"] is False
    assert data["error"]["type"] == "agent" and data["error"]["kind"] == "not_running"


def test_without_json_errors_stay_one_line_on_stderr(tmp_path):
    p = subprocess.run([*BMNN, "events"], capture_output=True, text=True, env=env_for(tmp_path), timeout=60)
    assert p.returncode == 1 and p.stdout == "" and p.stderr.strip().count("\n") == 0
