"""Software collector: the real dpkg database, a real process, and package-database edge cases."""

import shutil
import sqlite3
import struct
import subprocess
import time

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.scanner.collect import collect_software
from bmnn_guard.scanner.collect.software import dpkg_packages, rpm_sqlite_packages

from .support import judge


def test_real_dpkg_database_matches_dpkg_query():
    if shutil.which("dpkg-query") is None:
        pytest.skip("not a dpkg system")
    sw = collect_software(processes=False)
    pkgs = {p.name: p for p in sw.packages if p.manager == "dpkg"}
    want = subprocess.run(["dpkg-query", "-W", "-f", "${Package}\\t${Version}\\t${db:Status-Status}\\n"],
                          capture_output=True, text=True, check=True).stdout
    installed = {}
    for line in want.splitlines():
        name, version, status = line.split("\t")
        if status not in ("not-installed", "config-files"):
            installed[name] = version
    assert {n: p.version for n, p in pkgs.items()} == installed
    assert sw.errors == ()


def test_running_remote_access_process_fails_sw001(tmp_path):
    exe = tmp_path / "anydesk"
    shutil.copy("/bin/sleep", exe)
    proc = subprocess.Popen([str(exe), "30"])
    try:
        time.sleep(0.1)
        sw = collect_software()
    finally:
        proc.kill()
        proc.wait()
    mine = next(p for p in sw.processes if p.pid == proc.pid)
    assert mine.name == "anydesk" and mine.exe == str(exe)
    results, _ = judge(F.Facts(software=sw, collected=("software",)))
    r = results["BMNN-SW-001"]
    assert r.status == "fail" and any(row.get("name") == "anydesk" and row.get("pid") == proc.pid for row in r.evidence)


def test_dpkg_status_streaming_parse(tmp_path):
    status = tmp_path / "status"
    status.write_text(
        "Package: anydesk\nStatus: install ok installed\nVersion: 6.3.0\nDescription: x\n multi line\n\n"
        "Package: old\nStatus: deinstall ok config-files\nVersion: 1\n\n"
        "Package: half\nStatus: install reinstreq half-configured\nVersion: 2\n\n"
        "Package: last\nVersion: 3\nStatus: install ok installed\n")
    assert [(p.name, p.version) for p in dpkg_packages(str(status))] == [("anydesk", "6.3.0"), ("half", "2"), ("last", "3")]


def _header(tags: dict[int, str]) -> bytes:
    entries, data = b"", b""
    for tag, value in tags.items():
        entries += struct.pack(">IIiI", tag, 6, len(data), 1)
        data += value.encode() + b"\0"
    return struct.pack(">II", len(tags), len(data)) + entries + data


def test_rpm_sqlite_database(tmp_path):
    db = tmp_path / "rpmdb.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    con.execute("INSERT INTO Packages (blob) VALUES (?)", (_header({1000: "teamviewer", 1001: "15.2", 1002: "1"}),))
    con.execute("INSERT INTO Packages (blob) VALUES (?)", (_header({1000: "gpg-pubkey", 1001: "abc", 1002: "1"}),))
    con.commit()
    con.close()
    assert [(p.name, p.version, p.manager) for p in rpm_sqlite_packages(str(db))] == [("teamviewer", "15.2-1", "rpm")]
    root = tmp_path / "root"
    (root / "var/lib/rpm").mkdir(parents=True)
    shutil.copy(db, root / "var/lib/rpm/rpmdb.sqlite")
    sw = collect_software(root=str(root), processes=False)
    assert [p.name for p in sw.packages] == ["teamviewer"] and sw.errors == ()


def test_flatpak_and_snap(tmp_path):
    app = tmp_path / "var/lib/flatpak/app/com.anydesk.Anydesk/x86_64/stable"
    app.mkdir(parents=True)
    (tmp_path / "var/lib/flatpak/app/com.anydesk.Anydesk/current").symlink_to("x86_64/stable")
    (tmp_path / "var/lib/snapd/snaps").mkdir(parents=True)
    (tmp_path / "var/lib/snapd/snaps/telegram-desktop_5123.snap").write_bytes(b"")
    (tmp_path / "var/lib/dpkg").mkdir(parents=True)
    (tmp_path / "var/lib/dpkg/status").write_text("")
    sw = collect_software(root=str(tmp_path), processes=False)
    assert {(p.name, p.version, p.manager) for p in sw.packages} == {
        ("com.anydesk.Anydesk", "stable", "flatpak"), ("telegram-desktop", "5123", "snap")}


def test_no_package_database_is_an_error_not_a_pass(tmp_path):
    sw = collect_software(root=str(tmp_path), processes=False)
    assert sw.packages == () and any(e.affects == "software.packages" for e in sw.errors)
    results, _ = judge(F.Facts(software=sw, collected=("software",)))
    assert results["BMNN-SW-001"].status == "error"
