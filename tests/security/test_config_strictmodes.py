"""No configuration file grants root (issue 10, item 3), replayed with real unprivileged users.

Before: ``agent.yaml`` with mode 0666 was accepted and an unprivileged user added a hook that ran
as root. Now agent.yaml, local.d, hook executables (and the scripts they run), the device
registry and the host and journal keys must be root's and not writable by group or others, and so
must every directory above them (a sticky world-writable one such as /tmp is accepted above the
configuration, never as the folder holding it); symlinks are refused; hooks run with a fixed
minimal environment, no shell, and a timeout.
"""

import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from bmnn_guard.agent import keys
from bmnn_guard.agent.config import load_config
from bmnn_guard.agent.errors import AgentError
from bmnn_guard.agent.journal import Journal
from bmnn_guard.agent.sinks import SinkContext
from bmnn_guard.agent.sinks.hook import PATH, HookError, Sink
from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.policies.loader import load_bundle, load_tailoring
from bmnn_guard.policies.trusted import check_executable, read_file
from bmnn_guard.scanner import registry
from tests.agent.conftest import ROOT, WIRED_CLI, need_root, run_bmnn
from tests.security.daemon import RunningDaemon, write_agent_yaml


@pytest.fixture
def user():
    """A real unprivileged user (unique name), removed afterwards."""
    need_root()
    if not (shutil.which("useradd") and shutil.which("setpriv")):
        pytest.skip("useradd and setpriv (passwd, util-linux) are needed for real users")
    name = f"bmnnt{secrets.token_hex(4)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture
def shared_tmp():
    """A root-owned folder under /tmp others may traverse (like /etc), for files a user must reach."""
    d = Path(tempfile.mkdtemp(prefix="bmnn-sec-", dir="/tmp"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _dirs(base: Path) -> dict:
    env = {k: str(base / v) for k, v in (("BMNN_CONFIG_DIR", "etc"), ("BMNN_STATE_DIR", "state"),
                                         ("BMNN_RUNTIME_DIR", "run"), ("BMNN_LOG_DIR", "log"))}
    for v in env.values():
        os.makedirs(v, mode=0o755, exist_ok=True)
    return env


def as_user(pw, argv, **kw):
    """Run ``argv`` as ``pw`` (no supplementary groups), the way an attacker's shell would."""
    return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups", *argv],
                          capture_output=True, text=True, **kw)


def _evil_hook(tmp_path: Path, pw) -> tuple[Path, Path]:
    """A hook script the user owns, in a folder the user owns, that leaves a mark when root runs it."""
    home = tmp_path / "attacker"
    home.mkdir()
    os.chown(home, pw.pw_uid, pw.pw_gid)
    mark = tmp_path / "ran-as-root"
    r = as_user(pw, ["sh", "-c", f"printf '#!/bin/sh\\nid -u > {mark}\\n' > {home}/hook && chmod 755 {home}/hook"])
    assert r.returncode == 0, r.stderr
    return home / "hook", mark


# ---------------------------------------------------------------- the attack, on the real daemon


def test_a_user_cannot_add_a_hook_through_a_world_writable_agent_yaml(shared_tmp, tmp_path, user):
    agent_env = _dirs(shared_tmp)
    cfg = write_agent_yaml(agent_env)
    with RunningDaemon(agent_env, tmp_path) as d:
        sha = d.status()[0]["policy"]["sha256"]
        os.chmod(cfg, 0o666)  # the careless administrator
        hook, mark = _evil_hook(shared_tmp, user)
        text = cfg.read_text() + f"  hooks: [{{command: [{hook}], kinds: [policy_loaded, heartbeat]}}]\n"
        r = as_user(user, ["sh", "-c", f"cat > {cfg}"], input=text)
        assert r.returncode == 0, r.stderr
        p, _ = d.reload()
        assert p.returncode == 4 and f"{cfg}: refusing agent configuration: writable by group or others (mode 0666)" \
            in p.stderr, p.stderr
        st = d.status()[0]
        assert st["policy"]["sha256"] == sha and not any(s["name"].startswith("hook:") for s in st["sinks"])
        time.sleep(2.5)  # heartbeats are journaled each second: the hook would have run by now
        assert not mark.exists()
        # the administrator fixes the mode: the hook is still the user's own file, so still refused
        os.chown(cfg, 0, 0)
        os.chmod(cfg, 0o644)
        p, _ = d.reload()
        assert p.returncode == 4 and f"refusing hook {hook}: {hook.parent} is owned by uid {user.pw_uid}" in p.stderr, \
            p.stderr
        time.sleep(1.5)
        assert not mark.exists()
        assert d.stop() == 0
    # and the daemon does not even start on such a file
    os.chmod(cfg, 0o666)
    e = dict(os.environ, **agent_env, PYTHONPATH=str(ROOT))
    e.pop("NOTIFY_SOCKET", None)
    p = subprocess.run([sys.executable, "-m", "bmnn_guard.agent"], env=e, cwd=str(ROOT), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "writable by group or others (mode 0666)" in p.stderr


# ---------------------------------------------------------------- hooks: the executable and what it runs


def _hook_config(agent_env, command) -> Path:
    cfg = write_agent_yaml(agent_env, f"  hooks: [{{command: {command}}}]\n")
    return cfg


def _refusal(agent_env, command) -> str:
    cfg = _hook_config(agent_env, command)
    with pytest.raises(AgentError) as ei:
        load_config(cfg)
    assert ei.value.kind == "config"
    return str(ei.value)


def test_hook_paths_the_user_could_change_are_refused(agent_env, shared_tmp, user):
    hook, _ = _evil_hook(shared_tmp, user)
    tmp_path = shared_tmp
    assert f"refusing hook {hook}: {hook.parent} is owned by uid {user.pw_uid}" in _refusal(agent_env, f"[{hook}]")
    # root's script in the user's folder: the user can rename it away and put another in its place
    root_script = tmp_path / "attacker" / "root-script"
    root_script.write_text("#!/bin/sh\n")
    root_script.chmod(0o755)
    assert f"owned by uid {user.pw_uid}" in _refusal(agent_env, f"[{root_script}]")
    # root's script that anyone may write
    safe = tmp_path / "hooks"
    safe.mkdir()
    loose = safe / "loose"
    loose.write_text("#!/bin/sh\n")
    loose.chmod(0o777)
    assert "writable by group or others (mode 0777)" in _refusal(agent_env, f"[{loose}]")
    # an interpreter of root's, running a script the user can write
    assert f"owned by uid {user.pw_uid}" in _refusal(agent_env, f"[/bin/sh, {hook}]")
    # a link the user owns, even to a good executable
    link = tmp_path / "attacker" / "true"
    as_user(user, ["ln", "-s", "/bin/true", str(link)])
    assert f"owned by uid {user.pw_uid}" in _refusal(agent_env, f"[{link}]")


def test_good_hooks_pass_links_of_root_included(agent_env, tmp_path):
    need_root()
    good = tmp_path / "hooks"
    good.mkdir()
    script = good / "notify"
    script.write_text("#!/bin/sh\ncat > /dev/null\n")
    script.chmod(0o755)
    for command in (f"[{script}, --flag]", "[/bin/sh, -c, 'cat > /dev/null']", f"[{sys.executable}, {script}]"):
        cfg = _hook_config(agent_env, command)
        assert load_config(cfg).sinks.hooks, command  # /bin -> usr/bin is root's link in root's folder
    assert check_executable("/bin/sh") is None


def _record(tmp_path):
    with Journal.open(tmp_path / "j.db") as j:
        return j.append("violation", check_id="BMNN-NET-001", severity="critical", message="m")


def test_hooks_run_with_a_minimal_environment_no_shell_and_a_timeout(tmp_path, monkeypatch):
    need_root()
    out = tmp_path / "out"
    script = tmp_path / "dump"
    script.write_text(f"#!/bin/sh\n{{ env; pwd; printf '%s\\n' \"$@\"; }} > {out}\ncat > /dev/null\n")
    script.chmod(0o755)
    monkeypatch.setenv("LD_PRELOAD", "/tmp/evil.so")
    monkeypatch.setenv("PATH", f"{tmp_path}/evil-bin:/usr/bin:/bin")
    monkeypatch.setenv("BMNN_SECRET_TOKEN", "x")
    rec = _record(tmp_path)
    ctx = SinkContext(host_name="h")
    Sink([str(script), "; touch /tmp/pwned", "$(id)"], ctx, timeout=10).emit(rec)
    lines = out.read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith(("; ", "$(")))
    assert set(env) - {"PWD", "SHLVL", "_", "OLDPWD"} == {"PATH", "LANG", "BMNN_EVENT_KIND", "BMNN_EVENT_SEQ", "BMNN_EVENT_ID",
                                                           "BMNN_CHECK_ID", "BMNN_SEVERITY"}, env
    assert env["PATH"] == PATH and "LD_PRELOAD" not in env and env["BMNN_CHECK_ID"] == "BMNN-NET-001"
    assert "/" in lines and "; touch /tmp/pwned" in lines and "$(id)" in lines  # cwd /, arguments not a shell's
    sleeper = tmp_path / "sleeper"
    sleeper.write_text("#!/bin/sh\nsleep 60\n")
    sleeper.chmod(0o755)
    t0 = time.monotonic()
    with pytest.raises(HookError, match="did not finish within 1 s; killed"):
        Sink([str(sleeper)], ctx, timeout=1).emit(rec)
    assert time.monotonic() - t0 < 30


def test_a_hook_made_writable_after_loading_is_not_run(tmp_path):
    need_root()
    mark = tmp_path / "mark"
    script = tmp_path / "h"
    script.write_text(f"#!/bin/sh\ntouch {mark}\n")
    script.chmod(0o755)
    rec = _record(tmp_path)
    ctx = SinkContext(host_name="h")
    sink = Sink([str(script)], ctx)
    script.chmod(0o777)
    with pytest.raises(HookError, match="not run: refusing hook"):
        sink.emit(rec)
    assert not mark.exists()


# ---------------------------------------------------------------- local.d, registry, keys, folders up the tree


def test_local_d_agent_yaml_and_registry_follow_strictmodes(agent_env, tmp_path, user):
    cfg_dir = Path(agent_env["BMNN_CONFIG_DIR"])
    local_d = cfg_dir / "local.d"
    local_d.mkdir()
    (local_d / "10-site.yaml").write_text("profile: meeting-room\n")
    bundle = load_bundle()
    assert load_tailoring(local_d, bundle).tailoring.profile == "meeting-room"
    os.chmod(local_d, 0o777)  # anyone could drop a file in
    with pytest.raises(PolicyError, match="writable by group or others"):
        load_tailoring(local_d, bundle)
    os.chmod(local_d, 0o1777)  # sticky does not help the folder that holds the configuration
    with pytest.raises(PolicyError, match="writable by group or others"):
        load_tailoring(local_d, bundle)
    os.chmod(local_d, 0o755)
    os.chown(local_d / "10-site.yaml", user.pw_uid, 0)
    with pytest.raises(PolicyError, match=f"owned by uid {user.pw_uid}"):
        load_tailoring(local_d, bundle)
    os.chown(local_d / "10-site.yaml", 0, 0)
    # a registry the group may write would approve any stick
    reg = cfg_dir / registry.FILENAME
    reg.write_text("devices: []\n")
    assert registry.load(str(cfg_dir)) == []
    os.chmod(reg, 0o664)
    with pytest.raises(PolicyError, match="refusing device registry: writable by group or others"):
        registry.load(str(cfg_dir))
    reg.unlink()
    os.symlink(tmp_path / "elsewhere.yaml", reg)
    (tmp_path / "elsewhere.yaml").write_text("devices: []\n")
    with pytest.raises(PolicyError, match="symbolic link"):
        registry.load(str(cfg_dir))
    p = run_bmnn(["--lang", "en", "devices", "list"], agent_env)
    assert p.returncode == 4 and "symbolic link" in p.stderr


def test_a_folder_up_the_tree_owned_by_a_user_is_refused_and_tmp_is_accepted(tmp_path, user):
    owned = tmp_path / "user-owned"
    conf = owned / "etc"
    conf.mkdir(parents=True)
    (conf / "agent.yaml").write_text("heartbeat_seconds: 5\n")
    assert load_config(conf / "agent.yaml").heartbeat_seconds == 5  # /tmp (1777) above is fine
    assert (os.stat("/tmp").st_mode & 0o1777) == 0o1777 or Path("/tmp") not in tmp_path.parents
    os.chown(owned, user.pw_uid, user.pw_gid)  # the user can now rename etc/ and put their own in place
    with pytest.raises(AgentError, match=f"{owned}: refusing the configuration folder {conf}: {owned} is owned by uid"):
        load_config(conf / "agent.yaml")
    os.chown(owned, 0, 0)
    os.chmod(conf, 0o1777)
    with pytest.raises(AgentError, match="writable by group or others"):
        load_config(conf / "agent.yaml")


def test_keys_follow_strictmodes(agent_env, tmp_path):
    need_root()
    kdir = Path(agent_env["BMNN_CONFIG_DIR"])
    keys.generate(str(kdir))
    assert keys.load_private(str(kdir / keys.PRIVATE)) and keys.info(str(kdir)).fingerprint
    os.chmod(kdir / keys.PRIVATE, 0o440)
    with pytest.raises(AgentError, match="group or others may read"):
        keys.load_private(str(kdir / keys.PRIVATE))
    os.chmod(kdir / keys.PRIVATE, 0o400)
    os.chmod(kdir / keys.META, 0o666)
    with pytest.raises(AgentError, match="writable by group or others"):
        keys.info(str(kdir))
    os.chmod(kdir / keys.META, 0o444)
    moved = tmp_path / "stolen.pem"
    os.rename(kdir / keys.PRIVATE, moved)
    os.symlink(moved, kdir / keys.PRIVATE)
    with pytest.raises(AgentError, match="symbolic link"):
        keys.load_private(str(kdir / keys.PRIVATE))
    assert keys.load_private(str(moved), trusted=False)  # an inspector's own key, named on the command line
    # the journal key beside the journal: a link is refused, loudly (never a quiet downgrade to
    # chain-only verification); --key /dev/zero does not hang
    state = Path(agent_env["BMNN_STATE_DIR"])
    j = Journal.open(state / "journal.db")
    assert j.read_initial_key() is not None
    os.rename(state / "journal.key", tmp_path / "jk")
    os.symlink(tmp_path / "jk", state / "journal.key")
    with pytest.raises(AgentError, match="symbolic link"):
        j.read_initial_key()
    t0 = time.monotonic()
    with pytest.raises(AgentError, match="/dev/zero"):
        j.read_initial_key("/dev/zero")
    assert time.monotonic() - t0 < 5


def _user_python(shared: Path) -> list[str]:
    """An interpreter another user may run, with our code and this venv's packages: the venv's
    own python may sit under /root (mode 0700), so Debian's, when it is the same minor version.
    It finds the namespace (bmnn_guard) through a link to the checkout in a folder the user reads."""
    python = "/usr/bin/python3"
    probe = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True) \
        if os.path.exists(python) else None
    if probe is None or probe.stdout.strip() != str(sys.version_info[:2]):
        pytest.skip(f"needs {python} of Python {sys.version_info[0]}.{sys.version_info[1]} to run as another user")
    import site
    ns = shared / "ns"
    ns.mkdir(exist_ok=True)
    (ns / "bmnn_guard").symlink_to(ROOT, target_is_directory=True)
    return [python, "-c", WIRED_CLI], f"{ns}:{site.getsitepackages()[0]}"


def test_a_normal_user_scans_with_the_builtin_policy(shared_tmp, user):
    """`make scan` as a normal user: nothing of root's checks applies, nothing is refused."""
    cmd, pythonpath = _user_python(shared_tmp)
    home = shared_tmp / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    env = dict(PATH="/usr/bin:/bin", HOME=str(home), PYTHONPATH=pythonpath, BMNN_CONFIG_DIR=str(home / "etc"),
               BMNN_STATE_DIR=str(home / "state"), BMNN_LANG="en")
    clean = ["env", "-i", *[f"{k}={v}" for k, v in env.items()]]
    p = as_user(user, [*clean, *cmd, "scan", "--no-content", "--no-input", "--format", "json", "-o", str(home / "r.json")],
                cwd=str(ROOT), timeout=300)
    assert p.returncode in (0, 2, 3), p.stderr  # compliant, non-compliant or incomplete: never a refusal
    p = as_user(user, [*clean, *cmd, "policy", "validate"], cwd=str(ROOT), timeout=120)
    assert p.returncode == 0, p.stderr
    # the user's own config folder works without root's ownership rule, but a link is still refused
    os.makedirs(home / "etc" / "local.d")
    shutil.chown(home / "etc", user.pw_uid, user.pw_gid)
    shutil.chown(home / "etc" / "local.d", user.pw_uid, user.pw_gid)
    r = as_user(user, ["sh", "-c", f"echo 'profile: meeting-room' > {home}/etc/local.d/10.yaml && "
                                   f"ln -s /etc/passwd {home}/etc/local.d/20.yaml"])
    assert r.returncode == 0, r.stderr
    p = as_user(user, [*clean, *cmd, "policy", "validate"], cwd=str(ROOT), timeout=120)
    assert p.returncode == 4 and "20.yaml: refusing" in p.stderr and "symbolic link" in p.stderr, p.stderr
    with pytest.raises(PolicyError, match="symbolic link"):
        read_file(str(home / "etc" / "local.d" / "20.yaml"), max_bytes=1 << 20, enforce=False)
