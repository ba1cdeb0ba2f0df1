"""Atomic writes replace regular files whole and never replace device nodes or FIFOs."""

import os
import stat
import threading

from bmnn_guard.scanner.atomic import write_atomic


def test_regular_file_replaced_whole(tmp_path):
    p = tmp_path / "out.json"
    p.write_text("old")
    write_atomic(str(p), b"new", 0o640)
    assert p.read_bytes() == b"new" and stat.S_IMODE(p.stat().st_mode) == 0o640
    assert [x.name for x in tmp_path.iterdir()] == ["out.json"]


def test_dev_null_stays_a_device():
    write_atomic(os.devnull, b"x")
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    reader.start()
    write_atomic(str(fifo), b"hello")
    reader.join(5)
    assert got == [b"hello"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_missing_folder_is_an_error_never_created(tmp_path):
    import pytest
    target = tmp_path / "media" / "usb" / "record.html"
    with pytest.raises(FileNotFoundError):
        write_atomic(str(target), b"x")
    assert not (tmp_path / "media").exists()
