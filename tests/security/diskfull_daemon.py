"""Run inside `unshare -m -n --propagation private` (root): the real daemon with its state
directory on a small tmpfs filled to the brim. Prints one JSON object with what happened.

argv: ROOT BASE MAX_SPOOL FILES. The ECS file and the marked folder are on the ordinary disk (as
/var/log may be); only the journal's directory is full. A default route in this private network
namespace makes the critical BMNN-NET-001 violation; FILES files written into the marked folder
make 3 file events each, spooled while the disk is full."""

import json
import os
import signal
import subprocess
import sys
import time

ROOT, BASE, MAX_SPOOL, FILES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, ROOT)
from bmnn_guard.agent.ipc import IpcClient  # noqa: E402
from tests.agent.probe import JournalProbe  # noqa: E402

STATE = f"{BASE}/state"
for d in ("etc/local.d", "state", "run", "log", "mat"):
    os.makedirs(f"{BASE}/{d}", exist_ok=True)
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", STATE], check=True)
with open(f"{BASE}/etc/local.d/10-mat.yaml", "w") as fh:
    fh.write(f"marked_folders: [{{path: {BASE}/mat}}]\n")
with open(f"{BASE}/etc/agent.yaml", "w") as fh:
    fh.write(f"max_spool: {MAX_SPOOL}\nsinks: {{alert: {{enabled: false}}}}\n")
for cmd in (["ip", "link", "set", "lo", "up"], ["ip", "link", "add", "bmf0", "type", "veth", "peer", "name", "bmf1"],
            ["ip", "link", "set", "bmf1", "up"], ["ip", "link", "set", "bmf0", "up"],
            ["ip", "addr", "add", "10.98.0.2/24", "dev", "bmf0"]):
    subprocess.run(cmd, check=True)
env = dict(os.environ, BMNN_CONFIG_DIR=f"{BASE}/etc", BMNN_STATE_DIR=STATE, BMNN_RUNTIME_DIR=f"{BASE}/run",
           BMNN_LOG_DIR=f"{BASE}/log", PYTHONPATH=ROOT, BMNN_LANG="en")
env.pop("NOTIFY_SOCKET", None)
daemon = subprocess.Popen([sys.executable, "-m", "bmnn_guard.agent"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=open(f"{BASE}/daemon.err", "w"))
probe = JournalProbe(f"{STATE}/journal.db")
client = IpcClient(f"{BASE}/run/agent.sock", timeout=10)
out = {"started": bool(probe.wait_for("SELECT seq FROM records WHERE kind='agent_start'", timeout=30))}
time.sleep(2.0)


def ecs_lines():
    try:
        with open(f"{BASE}/log/events.ndjson", encoding="utf-8") as fh:
            return [json.loads(x) for x in fh if x.strip()]
    except OSError:
        return []


def wait(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    return None


def fill(path, block):
    n = 0
    with open(path, "ab", buffering=0) as fh:
        try:
            while True:
                n += fh.write(b"\0" * block)
        except OSError:
            pass
    return n


# the brim: 1.9 MB that will be freed first, then everything else down to the last byte
fill(f"{STATE}/ballast-small", 1 << 16)
small = os.path.getsize(f"{STATE}/ballast-small")
os.truncate(f"{STATE}/ballast-small", 0)
with open(f"{STATE}/ballast-small", "wb") as fh:
    fh.write(b"\0" * min(small, 1_900_000))
for block in (1 << 16, 4096, 1):
    fill(f"{STATE}/ballast-rest", block)
st = os.statvfs(STATE)
out["free_bytes_at_brim"] = st.f_bavail * st.f_frsize

# SQLite reuses its write-ahead log's space: write file events until the journal really fails
written = 0
while written < FILES and not client.call("status")["journal"].get("last_error"):
    for i in range(written, min(FILES, written + 50)):
        with open(f"{BASE}/mat/f{i:05d}.txt", "w") as fh:
            fh.write("x" * 100)
    written = min(FILES, written + 50)
    time.sleep(0.05)
out["files_before_failing"] = written
out["failing"] = bool(wait(lambda: client.call("status")["journal"].get("last_error"), 20))

t0 = time.monotonic()
subprocess.run(["ip", "route", "add", "default", "via", "10.98.0.1", "dev", "bmf0"], check=True)
early = wait(lambda: [e for e in ecs_lines() if e.get("rule.id") == "BMNN-NET-001"
                      and e.get("event.action") == "violation" and e.get("bmnn.journaled") is False], 15)
out["ecs_ms"] = round((time.monotonic() - t0) * 1000, 1) if early else None
out["early"] = early[0] if early else None
st = client.call("status")
out["status_full"] = {"journal": st["journal"],
                      "open": [(v["check_id"], v.get("journaled"), v.get("seq")) for v in st["open_violations"]]}
out["journaled_net_while_full"] = bool(probe.rows("SELECT seq FROM records WHERE check_id='BMNN-NET-001'"))

for i in range(written, FILES):  # FILES x (created, modified, closed) file events, spooled
    with open(f"{BASE}/mat/f{i:05d}.txt", "w") as fh:
        fh.write("x" * 100)
target = min(MAX_SPOOL, 3 * FILES) * 0.9
wait(lambda: client.call("status")["journal"].get("pending", 0) >= target, 60)
time.sleep(2.0)
st = client.call("status")["journal"]
out["pending_full"], out["dropped_full"] = st.get("pending"), st.get("dropped")
head_full = probe.last_seq()

os.unlink(f"{STATE}/ballast-small")  # 1.9 MB back
time.sleep(8.0)
st = client.call("status")["journal"]
out["pending_after_small"] = st.get("pending")
out["journaled_after_small"] = probe.last_seq() - head_full

os.unlink(f"{STATE}/ballast-rest")
wait(lambda: client.call("status")["journal"].get("pending", 1) == 0 and not
     client.call("status")["journal"].get("dropped"), 60)
time.sleep(1.0)
st = client.call("status")
out["status_after"] = st["journal"]
key = out["early"]["bmnn.event_key"] if out["early"] else None
late = [e for e in ecs_lines() if e.get("bmnn.event_key") == key and e.get("bmnn.journaled") is True]
out["late"] = late[0] if late else None
out["net_rows"] = probe.rows("SELECT seq, kind, time FROM records WHERE check_id='BMNN-NET-001'")
out["gap_rows"] = [json.loads(e) for (e,) in probe.rows("SELECT evidence FROM records WHERE kind='gap'")]
out["file_rows"] = probe.rows("SELECT count(*) FROM records WHERE kind='file'")[0][0]
daemon.send_signal(signal.SIGTERM)
out["exit"] = daemon.wait(timeout=30)
from bmnn_guard.agent.journal import Journal  # noqa: E402
with Journal.open(f"{STATE}/journal.db", readonly=True) as j:
    res = j.verify()
out["verify"] = {"ok": res.ok, "count": res.count, "reason": res.reason}
if os.environ.get("BMNN_KEEP_TEST_DIRS"):
    import shutil
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{STATE}/journal.db{suffix}"):
            shutil.copy(f"{STATE}/journal.db{suffix}", f"{BASE}/journal-copy.db{suffix}")
subprocess.run(["umount", "-l", STATE])
print(json.dumps(out))
