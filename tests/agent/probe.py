"""Reading the daemon's journal from outside while it runs (stdlib only: the probe scripts run
in namespaces and under Debian's python3, without the project's dependencies)."""

import sqlite3
import time


class JournalProbe:
    """Read-only queries against a live journal.db; a locked or missing file reads as no rows."""

    def __init__(self, path: str):
        self.path = path

    def rows(self, sql: str, *args) -> list:
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                return conn.execute(sql, args).fetchall()
            finally:
                conn.close()
        except sqlite3.Error:
            return []

    def wait_for(self, sql: str, *args, timeout: float = 15.0, step: float = 0.005):
        """The rows of ``sql`` once there are any, or None after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.rows(sql, *args)
            if r:
                return r
            time.sleep(step)
        return None

    def last_seq(self) -> int:
        return (self.rows("SELECT max(seq) FROM records") or [[0]])[0][0] or 0
