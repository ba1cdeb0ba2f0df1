"""Numbers of inspection records ("Số: 12/BB-CNTT"), given out once each, restarting every year.

Decree 30/2020/NĐ-CP numbers an agency's documents from 01 on 1 January to 31 December. The
pattern comes from local.d (``record.number: "{seq}/BB-CNTT"``); ``{seq}`` is the next number of
the year of the record's date, kept in ``record-numbers.json`` in the state directory under an
exclusive lock, so that two scans never print the same number. A number is taken only when a
record (HTML or PDF) is produced, and stays taken even if writing that file then fails: a gap in
the register is honest, a number printed twice is not. ``--number`` prints a given number instead
and takes none.
"""

from __future__ import annotations

import fcntl
import json
import os
import string
from typing import Optional

from .atomic import write_atomic
from .errors import ScanError

COUNTER_FILE = "record-numbers.json"
BLANK = "……"
"""What {seq} becomes when no number can be given out: a blank to fill in by hand."""


class _Fields(string.Formatter):
    def format_field(self, value, format_spec):
        if value is None:
            return BLANK
        if isinstance(value, int) and not format_spec and value < 10:
            return f"{value:02d}"  # "số 01": Decree 30 numbers from 01
        return super().format_field(value, format_spec)


def render(pattern: str, *, seq: Optional[int], year: int) -> str:
    """The pattern with its fields filled; ``seq`` None leaves a blank for the hand."""
    return _Fields().format(pattern, seq=seq, year=year)


def needs_counter(pattern: str) -> bool:
    """True when the pattern uses ``{seq}``."""
    return "{seq" in pattern


def next_number(state_dir: str, year: int) -> int:
    """Take the next number of ``year`` (1, 2, ...) from the counter in ``state_dir``.

    ScanError when the state directory cannot be used (then the caller leaves a blank).
    """
    path = os.path.join(state_dir, COUNTER_FILE)
    try:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)  # our own folder (the journal's), never a user's -o
        lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise ScanError(f"{path}: {exc.strerror}") from None
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        counters = _read(path)
        value = int(counters.get(str(year), 0)) + 1
        counters[str(year)] = value
        try:
            write_atomic(path, (json.dumps(counters, sort_keys=True) + "\n").encode(), 0o600)
        except OSError as exc:
            raise ScanError(f"{path}: {exc.strerror}") from None
        return value
    finally:
        os.close(lock_fd)


def _read(path: str) -> dict:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ScanError(f"{path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(65536)
    try:
        data = json.loads(raw)
    except ValueError:
        raise ScanError(f"{path}: not a record counter (JSON); fix or remove it") from None
    if not isinstance(data, dict) or not all(isinstance(v, int) and v >= 0 for v in data.values()):
        raise ScanError(f"{path}: not a record counter (year: number); fix or remove it")
    return data
