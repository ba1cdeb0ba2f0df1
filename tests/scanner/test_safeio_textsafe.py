"""The two primitives every reader of hostile files and every text output stands on."""

import os
import socket
import stat

import pytest

from bmnn_guard.scanner import safeio
from bmnn_guard.scanner.textsafe import is_visible, visible, visible_lines


def test_regular_file_is_opened_and_hashed_through_its_fd(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"abc")
    with safeio.open_regular(str(p)) as o:
        assert isinstance(o, safeio.Opened) and stat.S_ISREG(o.stat.st_mode)
        d = safeio.hash_fd(o.fd, o.stat.st_size, limit=10)
    assert d.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" and d.note is None


def test_symlink_fifo_device_socket_are_described_never_opened(tmp_path):
    (tmp_path / "l").symlink_to("/etc/shadow")
    os.mkfifo(tmp_path / "f")  # opening it for reading without O_NONBLOCK would block forever
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(tmp_path / "s"))
    (tmp_path / "z").symlink_to("/dev/zero")
    got = {n: safeio.open_regular(str(tmp_path / n)) for n in ("l", "f", "s", "z")}
    assert all(isinstance(v, safeio.NotRegular) for v in got.values())
    assert got["l"].type == "symlink" and got["l"].link_target == "/etc/shadow"
    assert got["f"].type == "fifo" and got["s"].type == "socket" and got["z"].link_target == "/dev/zero"
    dev = safeio.open_regular("/dev/zero")
    assert isinstance(dev, safeio.NotRegular) and dev.type == "char_device"


def test_relative_to_a_directory_fd_and_directory_links_refused(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("1")
    (tmp_path / "dl").symlink_to(tmp_path / "d")
    dfd = safeio.open_directory(str(tmp_path / "d"))
    try:
        with safeio.open_regular("x", dir_fd=dfd) as o:
            assert o.stat.st_size == 1
    finally:
        os.close(dfd)
    with pytest.raises(OSError):
        safeio.open_directory(str(tmp_path / "dl"))


def test_size_bound_is_respected(tmp_path):
    p = tmp_path / "big"
    p.write_bytes(b"x" * 100)
    with safeio.open_regular(str(p)) as o:
        d = safeio.hash_fd(o.fd, o.stat.st_size, limit=50)
    assert d.sha256 is None and "larger than 50" in d.note


@pytest.mark.parametrize("raw,shown", [
    ("a\nb", "a\\nb"), ("\x1b[2J", "\\x1b[2J"), ("x\u202egpj.exe", "x\\u202egpj.exe"),
    ("tab\there", "tab\\there"), ("back\\slash", "back\\\\slash"), ("\x9b31m", "\\x9b31m"),
    (os.fsdecode(b"bad\xff"), "bad\\xff"), ("TUYỆT MẬT", "TUYỆT MẬT"),
])
def test_visible_escapes_every_dangerous_character(raw, shown):
    assert visible(raw) == shown
    assert not any(c in visible(raw) for c in "\n\x1b\u202e\x9b")
    assert is_visible("TUYỆT MẬT") and not is_visible(raw) or raw == "TUYỆT MẬT"


def test_visible_lines_keeps_newlines_but_not_escapes():
    assert visible_lines("a\nb\x1b[1m") == "a\nb\\x1b[1m"
