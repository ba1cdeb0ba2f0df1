"""The suite must not depend on today's date.

The tests that reason about time (key validity, snapshot age, waiver expiry, journal times) are
run again in a child pytest under libfaketime, with the wall clock moved years away from the day
the suite was written, both forwards and backwards. Each of those tests pins the times it compares
(``now=``), so a clock read that slipped in fails here, not on a future calendar day in CI.
(The monotonic clock is left alone: timeouts keep working.)
"""

import os
import shutil
import subprocess
import sys

import pytest

DATED = ["tests/agent/test_snapshot.py", "tests/agent/test_snapshot_tamper.py", "tests/agent/test_journal.py",
         "tests/policies", "tests/scanner/test_localtime.py", "tests/scanner/test_recordno.py",
         "tests/scanner/test_reports.py", "tests/agent/test_signed.py",
         "tests/agent/test_incident.py::test_sections_of_a_window", "tests/agent/test_incident.py::test_windows_by_time_and_errors"]


@pytest.mark.skipif(shutil.which("faketime") is None, reason="faketime not installed (Debian package faketime)")
@pytest.mark.parametrize("when", ["2031-07-15 12:00:00", "2026-03-02 00:30:00"])
def test_time_sensitive_tests_pass_on_another_day(when):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, FAKETIME_DONT_FAKE_MONOTONIC="1", BMNN_NO_SKIP="0")
    p = subprocess.run(["faketime", "-f", f"@{when}", sys.executable, "-m", "pytest", "-q", "-x",
                        "-p", "no:cacheprovider", *DATED], cwd=root, env=env, capture_output=True, text=True,
                       timeout=600)
    assert p.returncode == 0, f"on {when}:\n{p.stdout[-4000:]}\n{p.stderr[-2000:]}"
