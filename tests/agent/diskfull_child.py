"""Run inside `unshare -m`: a 256 KiB tmpfs, a journal on it, the disk filled, events spooled,
space freed, the spool written. Prints one JSON object with what happened."""

import json
import os
import subprocess
import sys

sys.path.insert(0, sys.argv[2])

from bmnn_guard.agent.errors import AgentError  # noqa: E402
from bmnn_guard.agent.event import Event  # noqa: E402
from bmnn_guard.agent.journal import Journal  # noqa: E402
from bmnn_guard.agent.spool import JournalWriter  # noqa: E402

mnt = sys.argv[1]
subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", mnt], check=True)
out = {}
j = Journal.open(os.path.join(mnt, "journal.db"))
w = JournalWriter(j, max_spool=5)
first = w.write([Event.of("agent_start", message="before the disk filled")])
out["before"] = [r.seq for r in first]
ballast = os.path.join(mnt, "ballast")
with open(ballast, "wb", buffering=0) as f:
    try:
        while True:
            f.write(b"\0" * 4096)
    except OSError as exc:
        out["ballast_errno"] = exc.errno
try:
    j.append("violation", check_id="BMNN-USB-001", severity="critical", evidence={"pad": "x" * 8000})
    out["direct"] = "written"
except AgentError as exc:
    out["direct"] = {"kind": exc.kind, "message": str(exc)}
spooled = []
for i in range(8):
    spooled.append(len(w.write([Event.of("violation", check_id="BMNN-USB-001", severity="critical",
                                         evidence={"i": i, "pad": "x" * 8000}, message=f"event {i}")])))
out["spooled_returns"] = spooled
out["status_full"] = w.status()
os.unlink(ballast)
written = w.flush()
out["flushed"] = [(r.seq, r.kind, (r.evidence or {}).get("i"), (r.evidence or {}).get("lost_events")) for r in written]
out["status_after"] = w.status()
res = j.verify()
out["verify"] = {"ok": res.ok, "count": res.count, "reason": res.reason}
j.close()
subprocess.run(["umount", mnt])
print(json.dumps(out))
