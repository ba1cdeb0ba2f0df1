"""Run inside ``unshare -m --propagation private`` as root: the "who did it" scenario end to end.

A real user (useradd), real files in a marked folder on the root filesystem, a loop-mounted ext4
image as the medium. The AccessSource runs in a harness process in a nested mount namespace
(``unshare -m --propagation slave``: what the unit's PrivateMounts=yes does), so it sees the
user's accesses only through its filesystem marks. The user writes, reads and copies with cp,
``cat >`` and dd; a root process with the user's login uid copies too (what sudo looks like).

Under ``strace`` each actor waits before it exits (exit_group delayed), so its identity can be
read and asserted exactly; without strace (the "bare" runs) the process is often gone by the time
its event is read, and the record must then say "exited" and keep the pid.

Prints one JSON object: what was seen, for the test to assert.
"""

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from access_harness import Client  # noqa: E402

SLOW = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=exit_group", "-e", "inject=exit_group:delay_enter=1500000"]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def main() -> int:
    base = tempfile.mkdtemp(prefix="bmnn-fa-", dir="/tmp")
    os.chmod(base, 0o755)
    user = "bmnnfa" + uuid.uuid4().hex[:8]
    marked, outside, medium = f"{base}/marked", f"{base}/outside", f"{base}/medium"
    out: dict = {"user": user}
    clients = []
    mounted = False
    try:
        run(["useradd", "-M", "-N", "-s", "/usr/sbin/nologin", user])
        pw = pwd.getpwnam(user)
        uid, gid = pw.pw_uid, pw.pw_gid
        out["uid"] = uid
        for d in (marked, outside, medium):
            os.mkdir(d)
        os.chmod(marked, 0o777)
        os.chmod(outside, 0o777)
        with open(f"{marked}/doc.txt", "wb") as fh:
            fh.write(b"TUYET MAT\n" * 100000)
        os.chmod(f"{marked}/doc.txt", 0o644)
        run(["truncate", "-s", "64M", f"{base}/medium.img"])
        run(["mkfs.ext4", "-q", "-F", f"{base}/medium.img"])
        run(["mount", "-o", "loop", f"{base}/medium.img", medium])
        mounted = True
        os.chmod(medium, 0o777)

        src = Client({"marked": [marked], "media": [medium]}, prefix=["unshare", "-m", "--propagation", "slave"])
        clients.append(src)
        noptrace = Client({"marked": [marked]}, prefix=["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"])
        clients.append(noptrace)
        out["status"] = src.ready["status"]
        out["noptrace_status"] = noptrace.ready["status"]
        out["harness_pid"] = src.pid

        def as_user(script, slow=True, loginuid=None, root=False):
            """Run ``sh -c 'echo $$; exec ...'`` as the user (or root); returns the actor's pid."""
            cmd = ["sh", "-c", "echo $$; exec " + script]
            if slow:
                cmd = SLOW + cmd
            if not root:
                cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"] + cmd

            def pre():
                if loginuid is not None:
                    with open("/proc/self/loginuid", "w") as fh:
                        fh.write(str(loginuid))
            p = subprocess.run(cmd, capture_output=True, text=True, preexec_fn=pre, cwd="/", timeout=120)
            if p.returncode != 0:
                raise RuntimeError(f"{script}: {p.stderr}")
            return int(p.stdout.split()[0])

        actors = {
            "write": as_user(f"cat /etc/os-release > {marked}/w.txt", loginuid=uid),
            "read": as_user(f"cat {marked}/doc.txt > /dev/null", loginuid=uid),
            "cp": as_user(f"cp {marked}/doc.txt {medium}/copy-cp.txt", loginuid=uid),
            "cat": as_user(f"cat {marked}/doc.txt > {medium}/copy-cat.txt", loginuid=uid),
            "dd": as_user(f"dd if={marked}/doc.txt of={medium}/copy-dd.txt bs=64k status=none", loginuid=uid),
            "root_cp": as_user(f"cp {marked}/doc.txt {medium}/copy-root.txt", loginuid=uid, root=True),
        }
        out["actors"] = actors
        out["exe"] = {"cat": os.path.realpath(shutil.which("cat")), "cp": os.path.realpath(shutil.which("cp")),
                      "dd": os.path.realpath(shutil.which("dd"))}
        # the daemon's own reads: this process, and a child of it
        own_before = src.request("status")["own"]
        src.request("own_read", path=f"{marked}/doc.txt")
        out["child_pid"] = src.request("child_read", path=f"{marked}/doc.txt")
        # unrelated activity on the same filesystem, outside the marked folder
        as_user(f"cat /etc/os-release > {outside}/x.txt", slow=False)
        # bare runs: no strace, the process may be gone before its event is read
        bare = []
        for i in range(5):
            pid = as_user(f"cp {marked}/doc.txt {medium}/bare-{i}.txt", slow=False)
            bare.append({"pid": pid, "dst": f"{medium}/bare-{i}.txt"})
        marker = as_user(f"cat /etc/hostname > {marked}/marker.txt", loginuid=uid)
        src.wait_for(lambda e: e.get("path") == f"{marked}/marker.txt" and e["kind"] == "write", 60)
        noptrace.wait_for(lambda e: e.get("path") == f"{marked}/marker.txt" and e["kind"] == "write", 60)
        src.request("wait_drained")
        out["marker"] = marker
        out["own_delta"] = src.request("status")["own"] - own_before
        out["events"] = list(src.events)
        out["noptrace_events"] = list(noptrace.events)
        out["copies"] = {}
        for name in ("cp", "cat", "dd", "root"):
            dst = f"{medium}/copy-{name}.txt"
            st_d, st_s = os.stat(dst), os.stat(f"{marked}/doc.txt")
            out["copies"][name] = src.request("copy", dst=dst, dst_dev=st_d.st_dev, dst_inode=st_d.st_ino,
                                              src=f"{marked}/doc.txt", src_dev=st_s.st_dev, src_inode=st_s.st_ino)
        for b in bare:
            b["copy"] = src.request("copy", dst=b["dst"], src=f"{marked}/doc.txt")
        out["bare"] = bare
        out["attr_outside"] = src.request("attribution", path=f"{outside}/x.txt")
        out["attr_write"] = src.request("attribution", path=f"{marked}/w.txt")

        # overflow: the reader is stopped while the user writes more files than the queue holds
        os.kill(src.pid, signal.SIGSTOP)
        try:
            flood = f"{marked}/flood"
            os.mkdir(flood)
            os.chmod(flood, 0o777)
            code = (f"import os\nfor i in range(24000):\n    fd = os.open('{flood}/f%d' % i, os.O_WRONLY | os.O_CREAT, 0o644)\n"
                    "    os.write(fd, b'x')\n    os.close(fd)\n")
            subprocess.run(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--", sys.executable, "-c",
                            code], check=True, timeout=300)
        finally:
            os.kill(src.pid, signal.SIGCONT)
        gaps = src.wait_for(lambda e: e["type"] == "gap", 120)
        src.request("wait_drained", timeout=60)
        out["gaps"] = gaps
        out["attr_after_overflow"] = src.request("attribution", path=f"{flood}/f0")
        out["final_status"] = src.request("status")
        out["noptrace_fsids"] = noptrace.request("fsids")
    finally:
        for c in clients:
            err = c.close()
            if err.strip():
                out.setdefault("harness_stderr", []).append(err[-2000:])
        if mounted:
            subprocess.run(["umount", "-l", medium])
        subprocess.run(["userdel", user], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
