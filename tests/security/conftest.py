"""Fixtures of the attack replays: a base directory every test user can reach."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def base():
    """A fresh directory under /tmp, mode 0755 (pytest's tmp_path is 0700: no other user gets in)."""
    d = tempfile.mkdtemp(prefix="bmnn-sec-")
    os.chmod(d, 0o755)
    yield Path(d)
    if not os.environ.get("BMNN_KEEP_TEST_DIRS"):
        shutil.rmtree(d, ignore_errors=True)
