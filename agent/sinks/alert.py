"""A local alert for whoever sits at the machine: ``wall`` to every terminal, and a desktop
notification (``notify-send``) to each active local graphical session that ``loginctl`` lists.

Both are best-effort and degrade quietly: no ``wall`` binary, no logind (containers, minimal
installs), no ``notify-send`` (install ``libnotify-bin``) or no graphical session each leave a note
in ``bmnn status`` instead of an error. An attempt fails (and is retried) only when every channel
that exists failed, so one event never walls twice because the desktop part failed.

Alerts are for people, not for a SIEM: when the sink reaches a record older than
``max_age_s`` (10 minutes by default; a catch-up after the daemon was stopped or the sink was
failing), it is not shown on its own. The skipped ones are counted and summarised in one alert
after the batch ("N older alerts not shown, #A..#B: see bmnn events"), so a restart after a long
outage never replays hours of wall messages.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from typing import Any, Optional, Sequence

from bmnn_guard.scanner.textsafe import visible

from ..delivery import record_age
from ..journal import Record
from ..unjournaled import event_key, is_provisional
from ..wording import shown_record
from . import SEVERITY_RANK, SinkContext

TITLE = {"violation": "bmnn-guard: VI PHẠM / violation", "gap": "bmnn-guard: MẤT GIÁM SÁT / monitoring gap",
         "enforced": "bmnn-guard: ĐÃ NGĂN CHẶN / enforced"}


def graphical_sessions(loginctl: str = "loginctl", timeout: float = 5.0) -> tuple[list[dict[str, Any]], Optional[str]]:
    """Active local graphical sessions as dicts (id, uid, user, display, type), and a note when
    sessions could not be listed."""
    exe = shutil.which(loginctl)
    if exe is None:
        return [], "loginctl not found: no desktop notification"
    try:
        p = subprocess.run([exe, "list-sessions", "--no-legend", "--no-pager"], capture_output=True, text=True,
                           timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"loginctl failed: {exc}"
    if p.returncode != 0:
        return [], f"no logind ({(p.stderr.strip().splitlines() or ['?'])[-1][:120]}): no desktop notification"
    out = []
    for line in p.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            q = subprocess.run([exe, "show-session", parts[0], "--no-pager", "-p", "Type", "-p", "Active", "-p",
                                "Remote", "-p", "Display", "-p", "Name", "-p", "User", "-p", "State"],
                               capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            continue
        props = dict(x.split("=", 1) for x in q.stdout.splitlines() if "=" in x)
        if props.get("Type") in ("x11", "wayland", "mir") and props.get("Active") == "yes" \
                and props.get("Remote") != "yes" and props.get("User", "").isdigit():
            out.append({"id": parts[0], "uid": int(props["User"]), "user": props.get("Name"),
                        "display": props.get("Display") or None, "type": props["Type"]})
    return out, None


class Sink:
    """wall + desktop notification for violations, gaps and enforcement at or above a severity."""

    name = "alert"
    takes_unjournaled = True

    def __init__(self, ctx: Optional[SinkContext] = None, *, wall: bool = True, desktop: bool = True,
                 kinds: Sequence[str] = ("violation", "gap", "enforced"), min_severity: str = "high",
                 wall_cmd: Sequence[str] = ("wall",), notify_cmd: str = "notify-send", loginctl: str = "loginctl",
                 timeout: float = 10.0, max_age_s: Optional[float] = 600.0, clock: Any = time.time):
        self.ctx = ctx
        self.wall, self.desktop = wall, desktop
        self.kinds = set(kinds)
        self.min_rank = SEVERITY_RANK[min_severity]
        self.wall_cmd, self.notify_cmd, self.loginctl, self.timeout = list(wall_cmd), notify_cmd, loginctl, timeout
        self.note: Optional[str] = None
        self.sent_wall = 0
        self.sent_desktop = 0
        self._early: dict[str, None] = {}  # event keys alerted before they were journaled
        self.max_age_s, self.clock = max_age_s, clock
        self.stale: list[Any] = []  # [count, first seq, last seq, first time] of the old records skipped
        self.skipped_old = 0
        """Records not alerted because they were older than max_age_s (summarised instead)."""

    def accepts(self, record: Record) -> bool:
        """Only alert-worthy kinds at or above the minimum severity (a gap without one counts as high)."""
        if record.kind not in self.kinds:
            return False
        return SEVERITY_RANK.get(record.severity or "high", 0) >= self.min_rank

    def body(self, record: Record) -> str:
        """The alert text. The message quotes file names and device strings: it reaches every
        terminal (wall) and desktop, so controls, ESC and bidi overrides are shown escaped and a
        newline in it cannot forge a second line."""
        lines = [visible(shown_record(record, self.ctx.lang if self.ctx else "vi") or record.kind)]
        where = ("CHƯA GHI NHẬT KÝ (không ghi được vào đĩa) / not yet journaled (the disk cannot be written)"
                 if is_provisional(record) else f"#{record.seq}")
        if record.check_id:
            lines.append(f"{visible(record.check_id)} [{visible(record.severity or '-')}]  {where} "
                         f"{visible(record.time)}")
        elif is_provisional(record):
            lines.append(where)
        lines.append("Báo ngay cho cán bộ bảo mật / report to the security officer.")
        return "\n".join(lines)

    def emit(self, record: Record) -> None:
        """Send the alert on every channel that exists; raise only when all of them failed. A
        journaled record whose provisional twin was alerted already (full disk) is not alerted
        again."""
        key = event_key(record)
        if not is_provisional(record) and key in self._early:
            self._early.pop(key, None)
            return
        if self.max_age_s is not None and not is_provisional(record) \
                and record_age(record, self.clock()) > self.max_age_s:
            if not self.stale:
                self.stale = [0, record.seq, record.seq, record.time]
            self.stale[0] += 1
            self.stale[2] = record.seq
            self.skipped_old += 1
            return
        self._send(record)
        if is_provisional(record):
            self._early[key] = None
            while len(self._early) > 1000:
                self._early.pop(next(iter(self._early)))

    def flush(self) -> None:
        """After a batch: one alert summarising the old records not shown (kept for the next
        flush when no channel took it)."""
        if not self.stale:
            return
        n, first, last, since = self.stale
        minutes = max(1, round((self.max_age_s or 0) / 60))
        since = visible(since)
        body = (f"{n} cảnh báo cũ hơn {minutes} phút không hiện lại (#{first}..#{last}); xem: bmnn events "
                f"--since {since}\n"
                f"{n} alert(s) older than {minutes} minutes not shown one by one (#{first}..#{last}); see: "
                f"bmnn events --since {since}")
        self._send_text("bmnn-guard: CẢNH BÁO CŨ / older alerts", body)
        self.stale = []

    def _send(self, record: Record) -> None:
        self._send_text(TITLE.get(record.kind, "bmnn-guard"), self.body(record))

    def _send_text(self, title: str, body: str) -> None:
        notes, errors, ok = [], [], 0
        if self.wall:
            exe = shutil.which(self.wall_cmd[0])
            if exe is None:
                notes.append(f"{self.wall_cmd[0]} not found: no terminal alert")
            else:
                try:
                    p = subprocess.run([exe, *self.wall_cmd[1:]], input=f"{title}\n{body}\n".encode("utf-8"),
                                       capture_output=True, timeout=self.timeout)
                    if p.returncode == 0:
                        ok += 1
                        self.sent_wall += 1
                    else:
                        errors.append(f"wall exited {p.returncode}")
                except (OSError, subprocess.TimeoutExpired) as exc:
                    errors.append(f"wall: {exc}")
        if self.desktop:
            exe = shutil.which(self.notify_cmd)
            if exe is None:
                notes.append(f"{self.notify_cmd} not found (install libnotify-bin): no desktop notification")
            else:
                sessions, note = graphical_sessions(self.loginctl)
                if note:
                    notes.append(note)
                for s in sessions:
                    try:
                        self._notify(exe, s, title, body)
                        ok += 1
                        self.sent_desktop += 1
                    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
                        errors.append(f"notify {s['user']}: {exc}")
        self.note = "; ".join(notes + errors) or None
        if errors and not ok:
            raise RuntimeError("; ".join(errors))

    def _notify(self, exe: str, session: dict[str, Any], title: str, body: str) -> None:
        uid = session["uid"]
        import pwd
        pw = pwd.getpwuid(uid)
        env = {"PATH": "/usr/bin:/bin", "HOME": pw.pw_dir, "USER": pw.pw_name, "XDG_RUNTIME_DIR": f"/run/user/{uid}",
               "DBUS_SESSION_BUS_ADDRESS": f"unix:path=/run/user/{uid}/bus", "DISPLAY": session.get("display") or ":0"}
        kw: dict[str, Any] = {}
        if os.geteuid() == 0 and uid != 0:
            kw = dict(user=uid, group=pw.pw_gid, extra_groups=[])
        p = subprocess.run([exe, "-u", "critical", "-a", "bmnn-guard", "-i", "dialog-warning", title, body],
                           env=env, capture_output=True, timeout=self.timeout, **kw)
        if p.returncode != 0:
            raise RuntimeError(f"notify-send exited {p.returncode}: {p.stderr.decode('utf-8', 'replace').strip()[:200]}")

    def close(self) -> None:
        """Nothing to close."""


def report(record: Record, **kw: Any) -> None:
    """One-shot form (bandit-style entry)."""
    Sink(**kw).emit(record)
