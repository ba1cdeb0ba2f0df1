"""Suite-wide test plumbing.

With BMNN_NO_SKIP=1 (set by .ci/run) a skipped test fails instead: in CI every real interface
(umockdev, namespaces, loop devices, systemd, Chromium) must be there, so a skip means a missing
install step, not a pass.
"""

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("BMNN_NO_SKIP") == "1" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (BMNN_NO_SKIP=1): {reason}"
