"""wtmp/utmp as ``last`` reads them: files written by util-linux's own ``utmpdump -r`` (the real
binary format), paired sessions compared with ``last -f``, and hostile files that must neither
crash, block nor lie."""

import datetime as dt
import os
import re
import shutil
import struct
import subprocess
import threading

import pytest

from bmnn_guard.scanner import sessions as S

UTC = dt.timezone.utc
need_utmpdump = pytest.mark.skipif(shutil.which("utmpdump") is None or shutil.which("last") is None,
                                   reason="utmpdump/last not installed (util-linux)")


def dump(tmp_path, lines, name="wtmp"):
    """A utmp-format file made by ``utmpdump -r`` from its text form."""
    text = "".join(lines)
    out = tmp_path / name
    with open(out, "wb") as fh:
        subprocess.run(["utmpdump", "-r"], input=text.encode(), stdout=fh, stderr=subprocess.DEVNULL, check=True)
    return out


def rec(typ, pid, line, user, host, when, ut_id="ts/0"):
    return f"[{typ}] [{pid:05d}] [{ut_id:<4}] [{user:<8}] [{line:<12}] [{host:<20}] [0.0.0.0        ] [{when},000000+00:00]\n"


@need_utmpdump
def test_sessions_pair_like_last(tmp_path):
    wtmp = dump(tmp_path, [
        rec(2, 0, "~", "reboot", "6.1.0", "2026-12-01T07:00:00"),
        rec(7, 1200, "tty1", "an", "", "2026-12-01T08:00:00", "tty1"),
        rec(7, 1300, "pts/0", "binh", "10.0.0.5", "2026-12-01T08:30:00"),
        rec(8, 1300, "pts/0", "", "", "2026-12-01T09:15:00"),
        rec(7, 1400, "pts/1", "root", "10.0.0.9", "2026-12-01T09:20:00", "ts/1"),
        rec(2, 0, "~", "reboot", "6.1.0", "2026-12-01T10:00:00"),   # tty1 and pts/1 never logged out
        rec(7, 1500, "pts/0", "an", "10.0.0.5", "2026-12-01T10:05:00"),
    ])
    reading = S.read(str(wtmp))
    assert reading.present and not reading.error and len(reading.entries) == 7
    got = [(s.user, s.line, s.host, s.login.isoformat(), s.logout.isoformat() if s.logout else None, s.end)
           for s in S.sessions(reading.entries)]
    assert got == [
        ("an", "tty1", "", "2026-12-01T08:00:00+00:00", "2026-12-01T10:00:00+00:00", "crash"),
        ("binh", "pts/0", "10.0.0.5", "2026-12-01T08:30:00+00:00", "2026-12-01T09:15:00+00:00", "logout"),
        ("root", "pts/1", "10.0.0.9", "2026-12-01T09:20:00+00:00", "2026-12-01T10:00:00+00:00", "crash"),
        ("an", "pts/0", "10.0.0.5", "2026-12-01T10:05:00+00:00", None, "unknown"),
    ]
    # util-linux's last reads the same file the same way
    out = subprocess.run(["last", "-f", str(wtmp), "--time-format", "iso", "-w"], capture_output=True, text=True,
                         env=dict(os.environ, TZ="UTC")).stdout
    lines = [ln for ln in out.splitlines() if ln and not ln.startswith(("reboot", "wtmp"))]
    assert len(lines) == 4, out
    assert re.search(r"^binh\s+pts/0\s+10\.0\.0\.5\s+2026-12-01T08:30:00\+00:00 - 2026-12-01T09:15:00\+00:00", out, re.M), out
    assert re.search(r"^root\s+pts/1.*2026-12-01T09:20:00\+00:00 - crash", out, re.M), out
    assert re.search(r"^an\s+tty1.*2026-12-01T08:00:00\+00:00 - crash", out, re.M), out


@need_utmpdump
def test_utmp_marks_who_is_on_now_and_adds_sessions_wtmp_lost(tmp_path):
    wtmp = dump(tmp_path, [rec(7, 2000, "pts/2", "an", "10.0.0.5", "2026-12-01T11:00:00", "ts/2")])
    utmp = dump(tmp_path, [rec(7, 2000, "pts/2", "an", "10.0.0.5", "2026-12-01T11:00:00", "ts/2"),
                           rec(7, 2100, "pts/3", "cuc", "", "2026-12-01T11:30:00", "ts/3")], "utmp")
    logins = S.read_logins(str(wtmp), str(utmp))
    assert [(s.user, s.end) for s in logins.sessions] == [("an", "logged_in"), ("cuc", "logged_in")]
    t = dt.datetime(2026, 12, 1, 11, 45, tzinfo=UTC)
    assert all(s.at(t) for s in logins.sessions)
    assert not logins.sessions[1].at(dt.datetime(2026, 12, 1, 11, 0, tzinfo=UTC))


def _raw(typ, pid, line, user, host, sec, usec=0):
    return S.RECORD.pack(typ, 0, pid, line, b"ts/0", user, host, 0, 0, 0, sec, usec, 0, 0, 0, 0, b"")


def test_hostile_records_are_bounded_and_skipped(tmp_path):
    t0 = int(dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp())
    data = b"".join([
        _raw(7, 1, b"pts/0", b"an\x1b[2J\xff\xfe", b"evil\nhost\x00garbage", t0),
        _raw(99, 1, b"pts/1", b"x", b"", t0),              # unknown type
        _raw(7, 1, b"pts/2", b"y", b"", -5),               # impossible time
        _raw(7, 1, b"pts/3", b"z", b"", t0, 5_000_000),    # impossible microseconds
        _raw(8, 1, b"pts/0", b"", b"", t0 + 60),
    ]) + b"\x01\x02\x03"                                    # a torn last record
    entries, notes = S.parse(data)
    assert len(entries) == 2
    assert entries[0].user == "an\x1b[2J\ufffd\ufffd" and entries[0].host == "evil\nhost"
    assert any("trailing" in n for n in notes) and any("skipped" in n for n in notes)
    (s,) = S.sessions(entries)
    assert s.end == "logout" and (s.logout - s.login).total_seconds() == 60


def test_only_the_end_of_a_huge_file_is_read(tmp_path):
    t0 = int(dt.datetime(2026, 12, 1, 8, 0, tzinfo=UTC).timestamp())
    path = tmp_path / "wtmp"
    path.write_bytes(b"".join(_raw(7, i, f"pts/{i}".encode(), b"u", b"", t0 + i) for i in range(100)))
    r = S.read(str(path), max_bytes=10 * S.SIZE + 17)
    assert len(r.entries) == 10 and r.entries[0].line == "pts/90" and any("last" in n for n in r.notes)


def test_links_fifos_and_absent_files(tmp_path):
    (tmp_path / "link").symlink_to("/etc/shadow")
    assert S.read(str(tmp_path / "link")).error and not S.read(str(tmp_path / "link")).entries
    os.mkfifo(tmp_path / "fifo")
    box = {}
    th = threading.Thread(target=lambda: box.update(r=S.read(str(tmp_path / "fifo"))), daemon=True)
    th.start()
    th.join(5)
    assert not th.is_alive(), "reading a FIFO blocked"
    assert box["r"].error and "fifo" in box["r"].error
    absent = S.read(str(tmp_path / "none"))
    assert not absent.present and absent.error is None
    assert S.read_logins(str(tmp_path / "none"), str(tmp_path / "none2")).sessions == ()


def test_record_layout_is_glibcs():
    assert S.SIZE == 384 and struct.calcsize("<hhi32s4s32s256shhiii4i20s") == 384
