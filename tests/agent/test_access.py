"""Who did it (agent/fanotify.py, agent/procinfo.py, agent/sources/access.py).

The pure parts (record parsing, the history, /proc parsing) run anywhere; the rest drives the
real kernel: fanotify filesystem marks, a real user made with useradd acting through setpriv,
a loop-mounted ext4 image as the medium, the source in a nested mount namespace as under the
unit's PrivateMounts=yes, and capabilities taken away with setpriv for the fallbacks.
"""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bmnn_guard.agent import fanotify as fa
from bmnn_guard.agent.procinfo import UNSET_ID, UserNames, parse_status, read_ppid, read_process
from bmnn_guard.agent.sources.access import (OPEN, READ, WRITE, AccessHistory, AccessSource, FileAccess, describe,
                                  kind_of)
from tests.agent.conftest import ROOT

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from access_harness import Client  # noqa: E402


def record(mask=fa.FAN_CLOSE_WRITE, fd=7, pid=42, pidfd=None, vers=fa.FANOTIFY_METADATA_VERSION, extra=b""):
    info = b""
    if pidfd is not None:
        info = fa.INFO_HEADER.pack(fa.FAN_EVENT_INFO_TYPE_PIDFD, 0, 8) + fa.PIDFD_INFO.pack(pidfd)
    body = info + extra
    return fa.METADATA.pack(fa.METADATA.size + len(body), vers, 0, fa.METADATA.size, mask, fd, pid) + body


def access(path="/m/a", dev=1, inode=10, kind=WRITE, pid=100, t=0.0, **kw):
    base = dict(mask=0, area="marked", uid=1000, euid=1000, user="u", exe="/usr/bin/cp", comm="cp", loginuid=1000,
                login_user="u", sessionid=3, process="running", note=None, owner_uid=1000)
    base.update(kw)
    return FileAccess(path, dev, inode, kind, base.pop("mask"), base.pop("area"), pid, time=t, **base)


# ------------------------------------------------------------------ records

def test_parse_reads_each_record_and_its_pidfd():
    buf = record(fd=5, pid=11, pidfd=9) + record(mask=fa.FAN_Q_OVERFLOW, fd=fa.FAN_NOFD, pid=0)
    evs = fa.parse(buf)
    assert [(e.mask, e.fd, e.pid, e.pidfd) for e in evs] == [(fa.FAN_CLOSE_WRITE, 5, 11, 9),
                                                             (fa.FAN_Q_OVERFLOW, -1, 0, None)]


def test_parse_fast_path_for_pidfd_records_and_its_fallback():
    evs = fa.parse(record(fd=5, pid=11, pidfd=9) + record(fd=6, pid=12, pidfd=-1))
    assert evs == [(fa.FAN_CLOSE_WRITE, 5, 11, 9), (fa.FAN_CLOSE_WRITE, 6, 12, -1)]
    plain = record(fd=1) + record(fd=2) + record(fd=3) + record(fd=4)  # 4 x 24 bytes = 3 x 32
    assert [e.fd for e in fa.parse(plain)] == [1, 2, 3, 4] and all(e.pidfd is None for e in fa.parse(plain))


def test_parse_skips_unknown_info_records_and_stops_at_a_bad_header():
    unknown = fa.INFO_HEADER.pack(99, 0, 12) + b"\0" * 8
    assert fa.parse(record(extra=unknown))[0].pidfd is None
    bad_len = fa.INFO_HEADER.pack(fa.FAN_EVENT_INFO_TYPE_PIDFD, 0, 200)  # longer than its record
    assert fa.parse(record(extra=bad_len))[0].fd == 7


def test_parse_refuses_a_malformed_record_but_hands_back_the_fds_it_saw():
    good = record(fd=5)
    with pytest.raises(fa.MalformedEvent) as exc:
        fa.parse(good + record(fd=6, vers=9))
    assert [e.fd for e in exc.value.args[1]] == [5]
    truncated = record(fd=8, pidfd=3)[:-4]  # event_len beyond the buffer
    with pytest.raises(fa.MalformedEvent) as exc:
        fa.parse(good + truncated)
    assert [e.fd for e in exc.value.args[1]] == [5, 8]
    assert fa.parse(b"\0" * 10) == []  # shorter than one header: nothing


def test_kinds():
    assert kind_of(fa.FAN_OPEN | fa.FAN_MODIFY | fa.FAN_CLOSE_WRITE) == WRITE
    assert kind_of(fa.FAN_OPEN | fa.FAN_CLOSE_NOWRITE) == READ
    assert kind_of(fa.FAN_OPEN) == OPEN


def test_mark_reasons_name_the_cause():
    import errno
    assert "btrfs" in fa.mark_reason(errno.EXDEV)
    assert "does not exist" in fa.mark_reason(errno.ENOENT)
    assert "EBUSY" in fa.mark_reason(errno.EBUSY)


# ------------------------------------------------------------------ history

def test_history_finds_the_access_nearest_in_time_within_the_window():
    h = AccessHistory(clock=lambda: 100.0)
    h.add(access(pid=1, t=90.0))
    h.add(access(pid=2, t=99.0))
    h.add(access(pid=3, t=99.8, kind=READ))
    assert h.nearest(dev=1, inode=10, kinds=(WRITE,), at=99.5).pid == 2
    assert h.nearest(dev=1, inode=10, kinds=(WRITE,), at=90.5).pid == 1
    assert h.nearest(dev=1, inode=10, kinds=(WRITE,), at=50.0) is None
    assert h.nearest("/m/a", kinds=(READ,), at=100.0).pid == 3  # by path when dev/inode are unknown
    assert h.nearest(dev=1, inode=10, kinds=(WRITE,), at=99.5, pid=1, within=20) .pid == 1


def test_history_keeps_one_entry_per_process_and_kind_so_noise_cannot_push_out_a_reader():
    h = AccessHistory(per_file=4, clock=lambda: 0.0)
    h.add(access(pid=7, kind=READ, t=1.0))
    for i in range(1000):
        h.add(access(pid=8, kind=READ, t=1.0 + i / 1000))
    assert {a.pid for a in h.recent(dev=1, inode=10)} == {7, 8}
    for pid in range(20, 30):  # many processes do evict, oldest first, within the bound
        h.add(access(pid=pid, kind=READ, t=3.0))
    assert len(h.recent(dev=1, inode=10)) == 4


def test_history_is_bounded_by_count_and_age():
    h = AccessHistory(keep_seconds=10.0, limit=3)
    for i in range(5):
        h.add(access(path=f"/m/{i}", inode=i, t=float(i)))
    assert len(h) == 3 and h.evicted == 2
    assert h.recent("/m/0") == [] and h.recent("/m/4")
    h.add(access(path="/m/late", inode=99, t=100.0))  # the old ones are past keep_seconds
    assert len(h) == 1 and h.evicted == 2


def test_copy_source_prefers_the_writers_own_read():
    src = AccessSource(clock=lambda: 10.0)
    h = src.history
    h.add(access("/m/doc", inode=1, kind=READ, pid=50, t=9.0))  # someone else read it
    h.add(access("/m/doc", inode=1, kind=OPEN, pid=60, t=9.5))  # the copier opened it
    h.add(access("/media/x", dev=2, inode=5, kind=WRITE, pid=60, t=9.6, area="media"))
    c = src.copy_source("/media/x", 2, 5, "/m/doc", 1, 1)
    assert c.same_process and c.reader.pid == 60 and c.writer.pid == 60
    assert c.evidence()["read_by"]["pid"] == 60 and c.evidence()["written_by"]["event"] == WRITE
    h.add(access("/media/y", dev=2, inode=6, kind=WRITE, pid=70, t=9.7, area="media"))  # `cat | tee`
    c = src.copy_source("/media/y", 2, 6, "/m/doc", 1, 1)
    assert not c.same_process and c.writer.pid == 70 and c.reader.pid == 60


def test_copy_attribution_is_record_evidence_and_says_when_nothing_was_seen():
    src = AccessSource(clock=lambda: 10.0)
    src.available = True  # as after start(); the history is filled by hand
    h = src.history
    h.add(access("/m/doc", inode=1, kind=READ, pid=60, t=9.5))
    h.add(access("/media/x", dev=2, inode=5, kind=WRITE, pid=60, t=9.6, area="media", exe="/usr/bin/dd"))
    ev = src.copy_attribution("/media/x", 2, 5, "/m/doc")  # the source by path alone (copy_of)
    assert ev["actor"]["pid"] == 60 and ev["actor"]["exe"] == "/usr/bin/dd"
    assert ev["copy_actor"]["same_process"] and ev["copy_actor"]["read_by"]["user"] == "u"
    h.add(access("/m/other", inode=3, kind=READ, pid=80, t=9.8))  # read, its copy's write not seen
    ev = src.copy_attribution("/media/z", 2, 9, "/m/other")
    assert ev["actor"]["pid"] == 80 and "written_by" not in ev["copy_actor"]
    assert not ev["copy_actor"]["same_process"]
    assert src.copy_attribution("/media/q", 2, 7, "/m/none", at=100.0)["actor"] is None
    cold = AccessSource(clock=lambda: 10.0)
    assert cold.copy_attribution("/media/x", 2, 5, "/m/doc")["actor_unknown"] == "not_started"


def test_actor_leaves_out_what_is_unknown_and_shows_a_differing_euid():
    a = access(uid=1000, euid=0, exe=None, note="executable unreadable")
    act = a.actor()
    assert act["euid"] == 0 and "exe" not in act and act["note"] == "executable unreadable"
    assert "euid" not in access().actor()


def test_attribution_before_start_and_sentences_in_both_languages():
    src = AccessSource(["/nonexistent-marked"])
    a = src.attribution("/nonexistent-marked/x")
    assert a["actor"] is None and a["actor_unknown"] == "not_started"
    assert describe("fanotify_unavailable", "en", reason="no CAP_SYS_ADMIN") == \
        "acting process unknown: fanotify unavailable (no CAP_SYS_ADMIN); owner shown"
    assert "không dùng được fanotify (no CAP_SYS_ADMIN)" in describe("fanotify_unavailable", "vi", reason="no CAP_SYS_ADMIN")
    from bmnn_guard.agent.sources.access import _T
    assert all(vi != en and vi and en for vi, en in _T.values())


# ------------------------------------------------------------------ /proc

def test_parse_status_ignores_a_line_cut_by_the_bound():
    st = parse_status(b"Name:\tcp\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\nGid:\t10")
    assert st["Name"] == b"cp" and st["Uid"].split()[0] == b"1000" and "Gid" not in st


def test_read_process_of_ourselves_a_zombie_and_a_gone_pid():
    me = read_process(os.getpid())
    assert me.state == "running" and me.uid == os.getuid() and me.ppid == os.getppid()
    assert me.exe == os.path.realpath(sys.executable)
    assert read_ppid(os.getpid()) == os.getppid()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = time.monotonic() + 10
        z = read_process(pid)
        while z.exe is not None and time.monotonic() < deadline:  # until the child has exited
            time.sleep(0.01)
            z = read_process(pid)
        assert z.state == "exited" and z.uid == os.getuid() and z.exe is None and "exited" in z.note
    finally:
        os.waitpid(pid, 0)
    gone = read_process(pid)
    assert gone.state == "exited" and gone.uid is None


def test_user_names_cache_misses_briefly():
    now = [0.0]
    names = UserNames(miss_ttl=5.0, clock=lambda: now[0])
    assert names.name(0) == "root"
    assert names.name(UNSET_ID - 7) is None
    assert names._cache[UNSET_ID - 7][1] == 5.0


# ------------------------------------------------------------------ the kernel, real users, real media

def need(*tools):
    if os.geteuid() != 0:
        pytest.skip("needs root (fanotify, useradd, loop mounts)")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (tools/packages-test.txt)")


@pytest.fixture(scope="module")
def scenario():
    need("unshare", "mount", "umount", "mkfs.ext4", "truncate", "useradd", "userdel", "setpriv", "strace")
    p = subprocess.run(["unshare", "-m", "--propagation", "private", sys.executable, str(HERE / "access_driver.py")],
                       capture_output=True, text=True, timeout=900, cwd=str(ROOT))
    assert p.returncode == 0, p.stderr[-4000:]
    d = json.loads(p.stdout)
    assert not d.get("harness_stderr"), d["harness_stderr"]
    return d


def accesses(d, key="events"):
    return [e for e in d[key] if e["type"] == "access"]


def test_source_runs_with_pidfds_in_a_private_mount_namespace(scenario):
    st = scenario["status"]
    assert st["available"] and st["alive"] and st["unmarked"] == {}
    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    assert st["pidfd"] == (release >= (5, 15))


def test_a_write_into_the_marked_folder_names_the_user_and_the_executable(scenario):
    d = scenario
    ev = [e for e in accesses(d) if e["pid"] == d["actors"]["write"] and e["path"].endswith("/marked/w.txt")]
    writes = [e for e in ev if e["kind"] == WRITE]
    assert writes, ev
    for e in writes:
        assert (e["uid"], e["user"], e["exe"], e["comm"]) == (d["uid"], d["user"], d["exe"]["cat"], "cat")
        assert (e["loginuid"], e["login_user"], e["process"], e["area"]) == (d["uid"], d["user"], "running", "marked")
    assert d["attr_write"]["actor"]["pid"] == d["actors"]["write"]
    assert d["attr_write"]["actor"]["user"] == d["user"]


def test_a_read_of_a_marked_file_names_the_reader(scenario):
    d = scenario
    reads = [e for e in accesses(d) if e["pid"] == d["actors"]["read"] and e["kind"] == READ]
    assert len(reads) == 1 and reads[0]["path"].endswith("/marked/doc.txt")
    assert (reads[0]["uid"], reads[0]["user"], reads[0]["exe"]) == (d["uid"], d["user"], d["exe"]["cat"])


@pytest.mark.parametrize("name", ["cp", "cat", "dd"])
def test_a_copy_onto_the_medium_names_the_reading_process_and_user(scenario, name):
    d = scenario
    c = d["copies"][name]
    assert c["same_process"], c
    for side, area in (("reader", "marked"), ("writer", "media")):
        a = c[side]
        assert a["pid"] == d["actors"][name] and a["area"] == area
        assert (a["uid"], a["user"], a["exe"], a["process"]) == (d["uid"], d["user"], d["exe"][name], "running")
    assert c["reader"]["path"].endswith("/marked/doc.txt") and c["writer"]["path"].endswith(f"/medium/copy-{name}.txt")
    ev = c["evidence"]
    assert ev["read_by"]["user"] == d["user"] and ev["written_by"]["pid"] == d["actors"][name]


def test_a_root_copy_names_the_login_user_behind_it(scenario):
    d = scenario
    c = d["copies"]["root"]
    assert c["same_process"] and c["reader"]["pid"] == d["actors"]["root_cp"]
    r = c["reader"]
    assert (r["uid"], r["user"], r["exe"]) == (0, "root", d["exe"]["cp"])
    assert (r["loginuid"], r["login_user"]) == (d["uid"], d["user"])


def test_processes_gone_before_their_event_is_read_keep_the_pid_and_say_so(scenario):
    for b in scenario["bare"]:
        w = b["copy"]["writer"]
        assert w is not None and w["pid"] == b["pid"]
        assert w["process"] in ("running", "exited")
        if w["process"] == "running":
            assert w["uid"] == scenario["uid"] and w["exe"] == scenario["exe"]["cp"]
        else:
            assert "exited" in w["note"]


def test_the_daemons_own_reads_and_activity_elsewhere_are_dropped(scenario):
    d = scenario
    # its own read always; its child's too unless the child was reaped before its event was read:
    # then its parent cannot be told, and the event keeps the pid alone, never anyone's identity
    child = [e for e in accesses(d) if e["pid"] == d["child_pid"]]
    assert d["own_delta"] >= 2 - bool(child)
    assert all(e["process"] == "exited" and e["uid"] is None and e["user"] is None for e in child), child
    assert not [e for e in accesses(d) if e["pid"] == d["harness_pid"]]
    assert not [e for e in accesses(d) if "/outside/" in e["path"]]
    assert d["attr_outside"]["actor"] is None and d["attr_outside"]["actor_unknown"] == "not_seen"
    assert d["final_status"]["dropped"] > 0


def test_a_queue_overflow_becomes_a_gap(scenario):
    d = scenario
    assert d["gaps"] and "overflow" in d["gaps"][0]["reason"] and d["gaps"][0]["lost"] >= 1
    assert d["final_status"]["overflows"] >= 1
    a = d["attr_after_overflow"]
    assert a["actor"] is not None or a["actor_unknown"] == "overflow"


def test_without_cap_sys_ptrace_a_users_executable_is_read_as_that_user_and_roots_is_not(scenario):
    d = scenario
    ev = accesses(d, "noptrace_events")
    mine = [e for e in ev if e["path"].endswith("/marked/w.txt") and e["kind"] == WRITE]
    assert mine and all((e["uid"], e["user"], e["exe"], e["note"]) == (d["uid"], d["user"], d["exe"]["cat"], None)
                        for e in mine)
    roots = [e for e in ev if e["pid"] == d["actors"]["root_cp"]]
    assert roots and all(e["uid"] == 0 and e["exe"] is None and "CAP_SYS_PTRACE" in e["note"] for e in roots)
    assert all(e["loginuid"] == d["uid"] for e in roots)  # the person behind the root process
    assert d["noptrace_fsids"] and set(map(tuple, d["noptrace_fsids"])) == {(0, 0)}


@pytest.mark.parametrize("how", ["bounding set without CAP_SYS_ADMIN", "an unprivileged user"])
def test_fallback_without_cap_sys_admin_says_so(tmp_path, how):
    need("setpriv")
    if how == "an unprivileged user":
        python = "/usr/bin/python3"
        if not os.access(python, os.X_OK):
            pytest.skip("needs Debian's python3 (the venv's interpreter may not be readable by nobody)")
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    else:
        python = sys.executable
        prefix = ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "--"]
    marked = tmp_path / "marked"
    marked.mkdir()
    c = Client({"marked": [str(marked)]}, prefix=prefix, python=python)
    try:
        st = c.ready["status"]
        assert not st["available"] and st["reason"] == "no CAP_SYS_ADMIN" and st["alive"]
        a = c.request("attribution", path=str(marked / "x.txt"))
        assert a == {"actor": None, "actor_unknown": "fanotify_unavailable",
                     "actor_note": "acting process unknown: fanotify unavailable (no CAP_SYS_ADMIN); owner shown"}
    finally:
        c.close()


def test_a_root_that_cannot_be_marked_says_why(tmp_path):
    need()
    src = AccessSource([str(tmp_path / "missing")])
    src.start(lambda ev: None)
    try:
        assert src.available
        assert src.unmarked == {str(tmp_path / "missing"): "the path does not exist"}
        a = src.attribution(str(tmp_path / "missing" / "x"))
        assert a["actor_unknown"] == "not_marked" and "(the path does not exist)" in a["actor_note"]
    finally:
        src.stop()


def test_unmarking_a_gone_medium_leaves_what_is_now_at_its_path_marked(tmp_path):
    """A medium's mount point, once unmounted, is a folder of the filesystem below (here the one
    the marked folder is on): removing the medium's mark through it would blind the marked folder."""
    need()
    marked, gone = tmp_path / "marked", tmp_path / "was-a-medium"
    marked.mkdir()
    gone.mkdir()
    src = AccessSource([str(marked)], [str(gone)])
    src.start(lambda ev: None)
    try:
        src._marks[12345] = str(gone)  # as if a medium (another st_dev) had been marked there
        src.set_media([])
        assert 12345 not in src._marks
        assert src.wait_drained(time.monotonic(), 30)
        before = src.counts["own"]
        (marked / "after.txt").write_text("x")  # our own write: seen (then dropped) only if still marked
        assert src.wait_drained(time.monotonic(), 30)
        assert src.counts["own"] > before
    finally:
        src.stop()


def test_an_idle_reader_is_woken_to_say_it_has_read_everything(tmp_path):
    """The file-event thread asks once per batch; a reader asleep in poll (nothing accessed since)
    must answer at once, not at the timeout: 0.2 s a batch capped the daemon at a few batches/s."""
    need()
    marked = tmp_path / "marked"
    marked.mkdir()
    src = AccessSource([str(marked)])
    src.start(lambda ev: None)
    try:
        assert src.wait_drained(time.monotonic(), 5)
        took = []
        for _ in range(20):
            time.sleep(0.01)  # the reader is back in poll
            t0 = time.monotonic()
            assert src.wait_drained(t0, 5)
            took.append(time.monotonic() - t0)
        took.sort()
        assert took[len(took) // 2] < 0.05, took
    finally:
        src.stop()


def _not_ours(code):
    """A writer that is not our child (``setsid -f``: reparented), as a user's process is not the daemon's."""
    subprocess.run(["setsid", "-f", sys.executable, "-c", code], check=True)


def test_the_reader_in_a_process_of_its_own_names_the_writer_and_ends_visibly(tmp_path):
    """agent/sources/access_process.py: the kernel's descriptors are the child's; what it reads is
    streamed to the history here, the drain is one round trip, and a child that dies is a gap."""
    need("setsid")
    from bmnn_guard.agent.sources.access import AccessGap
    from bmnn_guard.agent.sources.access_process import AccessProcess
    marked = tmp_path / "marked"
    marked.mkdir()
    got = []
    src = AccessProcess([str(marked)], emit_kinds=(READ,))
    src.start(got.append)
    try:
        assert src.available and src.alive() and src.proc.pid != os.getpid(), src.reason
        _not_ours(f"import time; open({str(marked / 'a.txt')!r}, 'w').write('x'); time.sleep(1)")
        end = time.monotonic() + 10
        a = None
        while a is None and time.monotonic() < end:
            assert src.wait_drained(time.monotonic(), 2)
            a = src.lookup(str(marked / "a.txt"))
            time.sleep(0.05)
        assert a is not None and a.kind == WRITE and a.user == "root" and a.pid != os.getpid(), a
        assert src.attribution(str(marked / "a.txt"))["actor"]["pid"] == a.pid
        # a read by another process (the kernel merges one process's events on one file)
        _not_ours(f"import time; open({str(marked / 'a.txt')!r}).read(); time.sleep(1)")
        read = lambda: [x for x in got if isinstance(x, FileAccess) and x.kind == READ]  # noqa: E731
        end = time.monotonic() + 10
        while not read() and time.monotonic() < end:
            assert src.wait_drained(time.monotonic(), 2)
            time.sleep(0.05)
        assert read() and read()[0].pid != a.pid, got
        assert not any(isinstance(x, FileAccess) and x.kind == WRITE for x in got)  # only the kinds asked for
        assert not any(isinstance(x, FileAccess) and x.kind == WRITE for x in got)
        # our own accesses (this process is "the daemon") are not anyone's
        before = len(src.history)
        (marked / "ours.txt").write_text("y")
        assert src.wait_drained(time.monotonic(), 2) and src.lookup(str(marked / "ours.txt")) is None
        assert len(src.history) == before
        took = []
        for _ in range(20):
            t0 = time.monotonic()
            assert src.wait_drained(t0, 2)
            took.append(time.monotonic() - t0)
        assert sorted(took)[10] < 0.05, took
        st = src.status()
        assert st["alive"] and st["events"] > 0 and st["process"] == src.proc.pid
        # the media and marked sets reach the child: a medium path that does not exist is unmarked, said why
        src.set_media([str(tmp_path / "no-such-medium")])
        end = time.monotonic() + 5
        while str(tmp_path / "no-such-medium") not in src.unmarked and time.monotonic() < end:
            time.sleep(0.05)
        assert src.unmarked.get(str(tmp_path / "no-such-medium")) == "the path does not exist"
        os.kill(src.proc.pid, signal.SIGTERM)  # systemd signals the whole cgroup at a stop: the reader stays
        time.sleep(0.3)
        assert src.alive() and not any(isinstance(x, AccessGap) for x in got)
        os.kill(src.proc.pid, 9)
        end = time.monotonic() + 5
        while src.alive() and time.monotonic() < end:
            time.sleep(0.05)
        assert not src.alive() and "exit -9" in (src.error or ""), src.error
        assert isinstance(got[-1], AccessGap) and "fanotify reader died" in got[-1].reason
        assert src.attribution(str(marked / "b.txt"))["actor_unknown"] == "fanotify_unavailable"
    finally:
        src.stop()
    assert src.proc.poll() is not None
