"""open_beneath: no symlink anywhere on the way; O_PATH first: FIFOs and devices are never opened."""

import errno
import os

import pytest

from bmnn_guard.scanner import safeio


def test_a_folder_swapped_for_a_symlink_stops_the_walk(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("ok")
    (tmp_path / "sub").symlink_to("/etc")
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with safeio.open_beneath("real/f", root_fd=root) as o:
            assert os.pread(o.fd, 10, 0) == b"ok"
        got = safeio.open_beneath("sub/shadow", root_fd=root)
        assert isinstance(got, safeio.NotRegular)
        assert (got.type, got.link_target, got.component) == ("symlink", "/etc", "sub")
        (tmp_path / "z").symlink_to("/dev/zero")
        got = safeio.open_beneath("z", root_fd=root)
        assert got.type == "symlink" and got.component is None
        for bad in ("../etc/passwd", "/etc/passwd", "real/../f", "real//f"):
            with pytest.raises(OSError) as ei:
                safeio.open_beneath(bad, root_fd=root)
            assert ei.value.errno == errno.EINVAL
    finally:
        os.close(root)


def test_fifo_with_no_writer_is_described_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "p")
    root = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        got = safeio.open_beneath("p", root_fd=root)
        assert isinstance(got, safeio.NotRegular) and got.type == "fifo"
    finally:
        os.close(root)
