"""Record numbers: given once each, restarting every year, written from 01 as Decree 30 asks."""

import json
import os
import threading

import pytest

from bmnn_guard.policies.loader import record_number_problem
from bmnn_guard.scanner.errors import ScanError
from bmnn_guard.scanner.recordno import COUNTER_FILE, next_number, render


def test_render_pads_below_ten_and_leaves_a_blank_without_a_number():
    assert render("{seq}/BB-CNTT", seq=3, year=2026) == "03/BB-CNTT"
    assert render("{seq}/BB-CNTT", seq=12, year=2026) == "12/BB-CNTT"
    assert render("{seq:03d}/{year}/BB", seq=7, year=2026) == "007/2026/BB"
    assert render("{seq}/BB-CNTT", seq=None, year=2026) == "……/BB-CNTT"
    assert render("BB-CNTT/{year}", seq=None, year=2027) == "BB-CNTT/2027"


def test_pattern_fields_are_checked():
    assert record_number_problem("{seq}/BB-CNTT") is None
    assert "unknown field {host}" in record_number_problem("{host}/BB")
    assert record_number_problem("{seq/BB") is not None


def test_numbers_count_per_year_and_never_repeat_under_concurrency(tmp_path):
    got = []
    threads = [threading.Thread(target=lambda: got.append(next_number(str(tmp_path), 2026))) for _ in range(20)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(got) == list(range(1, 21))
    assert next_number(str(tmp_path), 2027) == 1  # a new year starts at 01
    assert json.loads((tmp_path / COUNTER_FILE).read_text()) == {"2026": 20, "2027": 1}


def test_counter_problems_are_scan_errors(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ScanError):
        next_number(str(tmp_path / "file"), 2026)
    (tmp_path / COUNTER_FILE).write_text("{not json")
    with pytest.raises(ScanError) as info:
        next_number(str(tmp_path), 2026)
    assert COUNTER_FILE in str(info.value)
    os.unlink(tmp_path / COUNTER_FILE)
    os.symlink("/etc/passwd", tmp_path / COUNTER_FILE)
    with pytest.raises(ScanError):
        next_number(str(tmp_path), 2026)
