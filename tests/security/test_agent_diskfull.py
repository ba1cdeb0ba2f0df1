"""Item 7 of issue 10: a full disk delays nothing that matters.

The real daemon with its state directory on a tmpfs filled to the last byte, inside a private
mount and network namespace (tests/security/diskfull_daemon.py): a default route is a critical
BMNN-NET-001 violation that must reach the ECS file at once, marked as not yet journaled; 12,000
file events wait in the spool; 1.9 MB freed must be enough to make progress; once space returns
everything is journaled in order, the violation with its seq and the same event key; a spool
too small ends in a counted gap."""

import json
import shutil
import subprocess
import sys

import pytest

from tests.security.harness import ROOT, figure, need

CHILD = ROOT / "tests/security/diskfull_daemon.py"


def _run(base, max_spool, files):
    need("unshare", "mount", "ip")
    p = subprocess.run(["unshare", "-m", "-n", "--propagation", "private", sys.executable, str(CHILD), str(ROOT),
                        str(base), str(max_spool), str(files)], capture_output=True, text=True, timeout=400)
    err = (base / "daemon.err").read_text(errors="replace")[-3000:] if (base / "daemon.err").exists() else ""
    assert p.returncode == 0, p.stderr[-3000:] + err
    return json.loads(p.stdout.strip().splitlines()[-1]), err


def test_violation_reaches_ecs_at_once_and_a_little_space_makes_progress(base):
    out, err = _run(base, 20000, 4000)
    assert out["started"] and out["free_bytes_at_brim"] < 4096 and out["failing"], out
    assert out["ecs_ms"] is not None and out["ecs_ms"] < 2000, (out, err)
    # the early line says what it is; status lists the violation as open even before it is journaled
    assert out["early"]["bmnn.journaled"] is False and "event.sequence" not in out["early"]
    assert "BMNN-NET-001" in [x[0] for x in out["status_full"]["open"]], out["status_full"]
    assert out["status_full"]["journal"]["last_error"], out["status_full"]
    assert out["pending_full"] >= 10000, out
    # 1.9 MB back: part of the spool is written, in small transactions, and the rest waits
    assert out["journaled_after_small"] > 500 and out["pending_after_small"] < out["pending_full"], out
    # all space back: nothing left, the violation journaled, its ECS line has the same key
    assert out["status_after"]["pending"] == 0 and not out["status_after"]["last_error"], {k: v for k, v in out.items() if k not in ("early", "late", "gap_rows")}
    assert out["late"] and out["late"]["bmnn.event_key"] == out["early"]["bmnn.event_key"], (out["early"], out["late"])
    row = [r for r in out["net_rows"] if r[0] == out["late"]["event.sequence"]]
    assert row and row[0][1] == "violation" and row[0][2] == out["early"]["@timestamp"], out["net_rows"]
    assert out["file_rows"] >= 3 * 4000 * 0.95, out["file_rows"]
    assert out["verify"]["ok"], out["verify"]
    assert out["exit"] == 0
    assert [g for g in out["gap_rows"] if g.get("source") == "journal"], out["gap_rows"]
    figure("full disk", f"critical BMNN-NET-001 -> ECS (not yet journaled) {out['ecs_ms']:.0f} ms; "
           f"{out['pending_full']} events spooled; 1.9 MB freed -> {out['journaled_after_small']} journaled, "
           f"{out['pending_after_small']} waiting; all space back -> 0 pending, journal verifies "
           f"({out['verify']['count']} records)")


def test_spool_overflow_ends_in_a_counted_gap(base):
    out, err = _run(base, 2000, 2000)
    assert out["ecs_ms"] is not None, (out, err)
    assert out["dropped_full"] > 0, out
    lost = [g["lost_events"] for g in out["gap_rows"] if "lost_events" in g]
    assert lost and lost[0] >= out["dropped_full"], out["gap_rows"]
    assert out["status_after"]["pending"] == 0 and out["verify"]["ok"]
    figure("spool overflow", f"max_spool 2000, ~6000 file events: gap record counts {lost[0]} lost events")
