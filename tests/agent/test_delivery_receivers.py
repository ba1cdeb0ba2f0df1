"""Delivery against real receivers (issue 11 item 3): Debian's rsyslog (imtcp, octet-counted
framing; over TLS with rsyslog-gnutls) listening on 127.0.0.1 inside the test's own network
namespace, and the ECS file read by another process (``tail -F``).

The scenario: the agent delivers; the receiver stops; N events are journaled; the agent is
killed with SIGKILL and started again; the receiver comes back. Every journaled seq must arrive,
in order (re-sent duplicates allowed and counted, none missing, no record ahead of its turn),
with the journal's hash.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from bmnn_guard.agent.journal import Journal
from tests.agent.conftest import ROOT, need_root

DAEMON = "import sys; from bmnn_guard.agent.daemon import main; sys.exit(main())"
SEQ = re.compile(r'\[bmnn@32473 id="([^"]+)" seq="(\d+)" kind="[^"]*"(?: check="[^"]*")?(?: severity="[^"]*")? '
                 r'hash="([0-9a-f]{64})"\]')
N = 300


def need(*progs):
    need_root()
    for p in progs:
        if shutil.which(p) is None:
            pytest.skip(f"{p} not installed")


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = pred()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def netns():
    need("ip", "rsyslogd", "tail")
    name = f"bmnn-dlv-{uuid.uuid4().hex[:8]}"
    p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot create a network namespace: {p.stderr.strip()}")
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def listening(pid, port):
    """Whether process ``pid``'s network namespace has a TCP socket listening on ``port``."""
    try:
        rows = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(r.split()[1].endswith(f":{port:04X}") and r.split()[3] == "0A" for r in rows)


class Rsyslog:
    """A private rsyslogd in the namespace: imtcp on 127.0.0.1:PORT, every raw message to a file."""

    def __init__(self, ns, d: Path, port, tls=None):
        self.ns, self.port = ns, port
        self.d = d
        (d / "work").mkdir(parents=True, exist_ok=True)
        self.out = d / "received.log"
        self.conf = d / "rsyslog.conf"
        glob_ = ""
        mod = 'module(load="imtcp")'
        if tls:
            glob_ = (f' DefaultNetstreamDriverCAFile="{tls["ca"]}" DefaultNetstreamDriverCertFile="{tls["cert"]}"'
                     f' DefaultNetstreamDriverKeyFile="{tls["key"]}"')
            mod = 'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")'
        self.conf.write_text(
            f'global(workDirectory="{d / "work"}"{glob_})\n{mod}\n'
            'template(name="raw" type="string" string="%rawmsg%\\n")\n'
            f'ruleset(name="in") {{ action(type="omfile" file="{self.out}" template="raw") }}\n'
            f'input(type="imtcp" port="{port}" address="127.0.0.1" ruleset="in")\n')
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, "rsyslogd", "-n", "-f", str(self.conf),
                                      "-i", str(self.d / "rsyslogd.pid")], stdout=subprocess.DEVNULL,
                                     stderr=open(self.d / "rsyslogd.err", "ab"))
        wait_for(lambda: listening(self.proc.pid, self.port) or self.proc.poll() is not None, 30, "rsyslogd")
        assert self.proc.poll() is None, (self.d / "rsyslogd.err").read_text()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.proc = None

    def received(self):
        text = self.out.read_text(encoding="utf-8", errors="replace") if self.out.exists() else ""
        return [(int(m.group(2)), m.group(3), m.group(1)) for m in SEQ.finditer(text)]


class Agent:
    """bmnn-agent (the daemon and its sinks) in the namespace."""

    def __init__(self, ns, env, tmp: Path):
        self.ns, self.env, self.tmp = ns, env, tmp
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        e = dict(os.environ, PYTHONPATH=str(ROOT), **self.env)
        e.pop("NOTIFY_SOCKET", None)
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns, sys.executable, "-c", DAEMON], env=e,
                                     cwd=str(ROOT), stdout=subprocess.DEVNULL,
                                     stderr=open(self.tmp / f"agent-{self.runs}.err", "wb"))
        pid = self.proc.pid
        wait_for(lambda: any(r.kind == "agent_start" and (r.evidence or {}).get("pid") == pid
                             for r in records(self.env)) or self.proc.poll() is not None, 60, "agent_start")
        assert self.proc.poll() is None, (self.tmp / f"agent-{self.runs}.err").read_text()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def records(env):
    path = Path(env["BMNN_STATE_DIR"], "journal.db")
    if not path.exists():
        return []
    try:
        with Journal.open(path, readonly=True) as j:
            return list(j.records())
    except Exception:
        return []


def check_stream(seqs, journal):
    """Every journaled seq arrived, in order: first occurrences are 1..head without a hole, and no
    line is ahead of its turn (a re-send goes back, never forward). Returns the duplicates."""
    head = journal[-1].seq
    assert seqs, "nothing received"
    firsts, seen = [], set()
    for s in seqs:
        if s not in seen:
            seen.add(s)
            firsts.append(s)
    missing = sorted(set(range(1, head + 1)) - seen)
    assert not missing, f"missing seqs: {missing[:20]} ({len(missing)})"
    assert firsts == list(range(1, head + 1)), "out of order"
    assert all(b <= a + 1 for a, b in zip(seqs, seqs[1:])), "a record arrived before its turn"
    return len(seqs) - len(seen)


def make_tls(d: Path):
    need("openssl")
    if not glob.glob("/usr/lib/*/rsyslog/lmnsd_gtls.so") and not glob.glob("/usr/lib/rsyslog/lmnsd_gtls.so"):
        pytest.skip("rsyslog-gnutls not installed")
    d.mkdir()

    def run(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=bmnn test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=collector")
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:collector\nbasicConstraints=CA:FALSE\n"
                           "extendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "srv.pem",
        "-days", "2", "-extfile", "ext")
    os.chmod(d / "srv.key", 0o600)
    return {"ca": str(d / "ca.pem"), "cert": str(d / "srv.pem"), "key": str(d / "srv.key")}


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_receiver_down_kill9_restart_every_seq_arrives_in_order(tmp_path, agent_env, netns, transport):
    port = 20000 + uuid.uuid4().int % 20000
    tls = make_tls(tmp_path / "pki") if transport == "tls" else None
    address = f"{transport}://127.0.0.1:{port}"
    extra = f", tls_ca: {tls['ca']}" if tls else ""
    Path(agent_env["BMNN_CONFIG_DIR"], "agent.yaml").write_text(
        "heartbeat_seconds: 1\nipc_group: null\n"
        "sinks:\n  journald: {enabled: false}\n  alert: {enabled: false}\n  lag_warning_seconds: 2\n"
        f"  syslog: {{enabled: true, address: '{address}'{extra}}}\n", encoding="utf-8")
    ecs_file = Path(agent_env["BMNN_LOG_DIR"], "events.ndjson")
    ecs_seen = tmp_path / "tail.out"
    rs = Rsyslog(netns, tmp_path / "rsyslog", port, tls)
    agent = Agent(netns, agent_env, tmp_path)
    tail = subprocess.Popen(["tail", "-F", "-n", "+1", str(ecs_file)], stdout=open(ecs_seen, "wb"),
                            stderr=subprocess.DEVNULL)
    try:
        rs.start()
        agent.start()
        wait_for(lambda: any(r[0] >= 2 for r in rs.received()), 60, "the first records at rsyslog")
        rs.stop()  # the collector is down

        with Journal.open(Path(agent_env["BMNN_STATE_DIR"], "journal.db")) as j:  # N events while it is down
            for i in range(0, N, 50):
                j.append_many([{"kind": "file", "evidence": {"path": f"/srv/bmnn/doc-{k}.odt", "op": "created"},
                                "message": f"created doc-{k}.odt"} for k in range(i, i + 50)])
        wait_for(lambda: any(r.kind == "state" and (r.evidence or {}).get("sink") == "syslog"
                             and "lag_records" in r.evidence for r in records(agent_env)), 60, "the lag warning")
        agent.kill9()
        agent.start()
        time.sleep(1.5)  # a few heartbeats journaled while the collector is still down
        rs.start()
        head = records(agent_env)[-1].seq
        wait_for(lambda: {s for s, _, _ in rs.received()} >= set(range(1, head + 1)), 120, f"seqs 1..{head}")
        wait_for(lambda: any(r.kind == "state" and (r.evidence or {}).get("sink") == "syslog"
                             and (r.evidence or {}).get("caught_up") for r in records(agent_env)), 60, "caught up")
        agent.stop()
        journal = records(agent_env)
        assert journal[-1].kind == "agent_stop"
        final = journal[-1].seq
        wait_for(lambda: any(s == final for s, _, _ in rs.received()), 60, "agent_stop at rsyslog")
        wait_for(lambda: f'"event.sequence":{final},' in ecs_seen.read_text(encoding="utf-8"), 30,
                 "agent_stop in the ECS file as tail -F read it")
    finally:
        agent.stop()
        rs.stop()
        tail.terminate()
        tail.wait(10)

    by_seq = {r.seq: r for r in journal}
    got = rs.received()
    dups = check_stream([s for s, _, _ in got], journal)
    for s, h, eid in got:  # the journal's own hash, and the id a receiver de-duplicates on
        assert h == by_seq[s].hash and eid == f"{by_seq[s].host}:{s}:{h[:16]}"
    warnings = [r for r in journal if r.kind == "state" and (r.evidence or {}).get("sink") == "syslog"]
    assert sum("lag_records" in r.evidence for r in warnings) == 1  # one warning, not one per retry
    assert sum(bool(r.evidence.get("caught_up")) for r in warnings) == 1
    assert any(r.kind == "gap" and "without agent_stop" in (r.message or "") for r in journal)  # the kill -9

    lines = [json.loads(x) for x in ecs_seen.read_text(encoding="utf-8").splitlines() if x.strip()]
    ecs_dups = check_stream([x["event.sequence"] for x in lines], journal)
    assert all(x["event.id"] == f"{by_seq[x['event.sequence']].host}:{x['event.sequence']}:"
                                f"{by_seq[x['event.sequence']].hash[:16]}" for x in lines)
    print(f"{transport}: {final} records, {N} journaled while rsyslog was down; duplicates: syslog {dups}, "
          f"ECS {ecs_dups}")
