"""Command hook: run an executable with the event as one JSON object (the ECS form) on stdin.

A hook runs as root, so it is held to the configuration's StrictModes rule
(policies/trusted.py): its executable, and every absolute path among its arguments that is a
file (the script an interpreter runs), must be root's along the whole path, links included. That
is checked when agent.yaml is loaded and again before every run, so a hook made writable later
is refused instead of run.

The command is executed directly, never through a shell: shell syntax works only when the
configuration asks for it explicitly (``command: [/bin/sh, -c, "..."]``). It runs in its own
session, in ``/``, with a fixed minimal environment (``PATH=/usr/sbin:/usr/bin:/sbin:/bin``,
``LANG=C.UTF-8`` and ``BMNN_EVENT_KIND``, ``BMNN_EVENT_SEQ``, ``BMNN_EVENT_ID`` (the ECS
``event.id``: de-duplicate on it), ``BMNN_CHECK_ID``, ``BMNN_SEVERITY``): nothing of the
daemon's own environment leaks in. If it has not finished within ``timeout`` seconds, its whole process group is killed (SIGKILL) and the attempt counts as
failed; a non-zero exit also fails. The runner then retries with backoff, so a hook must be
idempotent (``event.id`` is stable across retries).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Optional, Sequence

from ..journal import Record
from . import SEVERITY_RANK, SinkContext
from .ecs import to_ecs


PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
"""The hook's PATH: fixed, never the daemon's."""


class HookError(RuntimeError):
    """The hook was refused, timed out or exited non-zero."""


def untrusted(command: Sequence[str], *, enforce: Optional[bool] = None) -> Optional[str]:
    """Why root must not run ``command`` (redacted text), or None: the executable and each
    absolute argument that is a file must pass StrictModes (checked as root only)."""
    from bmnn_guard.policies.trusted import check_executable, enforcing
    if not enforcing(enforce):
        return None
    for i, arg in enumerate(command):
        if i and not (os.path.isabs(arg) and os.path.isfile(arg)):
            continue
        refusal = check_executable(arg)
        if refusal is not None:
            return refusal.problems[0].text(redact=True)
    return None


class Sink:
    """Run one executable per event."""

    def __init__(self, command: Sequence[str] | str, ctx: SinkContext, *, timeout: float = 10.0,
                 kinds: Optional[Sequence[str]] = None, min_severity: Optional[str] = None,
                 name: Optional[str] = None):
        self.command = [command] if isinstance(command, str) else list(command)
        if not self.command:
            raise ValueError("empty hook command")
        self.ctx = ctx
        self.timeout = timeout
        self.kinds = set(kinds) if kinds else None
        self.min_rank = SEVERITY_RANK[min_severity] if min_severity else None
        self.name = name or f"hook:{os.path.basename(self.command[0])}"

    def accepts(self, record: Record) -> bool:
        """The kinds and minimum severity this hook wants."""
        if self.kinds is not None and record.kind not in self.kinds:
            return False
        if self.min_rank is not None and SEVERITY_RANK.get(record.severity or "", -1) < self.min_rank:
            return False
        return True

    def emit(self, record: Record) -> None:
        """Run the command once; raise HookError on timeout or non-zero exit."""
        ev = to_ecs(record, self.ctx)
        data = json.dumps(ev, ensure_ascii=False, default=str).encode("utf-8") + b"\n"
        refusal = untrusted(self.command)
        if refusal is not None:
            raise HookError(f"not run: {refusal}")
        env = {"PATH": PATH, "LANG": "C.UTF-8",
               "BMNN_EVENT_KIND": record.kind, "BMNN_EVENT_SEQ": str(record.seq), "BMNN_EVENT_ID": ev["event.id"],
               "BMNN_CHECK_ID": record.check_id or "", "BMNN_SEVERITY": record.severity or ""}
        try:
            proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=env, cwd="/", start_new_session=True,
                                    close_fds=True, shell=False)
        except OSError as exc:
            raise HookError(f"cannot run {self.command[0]}: {exc.strerror or exc}") from None
        try:
            out, err = proc.communicate(data, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.communicate()
            raise HookError(f"{self.command[0]} did not finish within {self.timeout:g} s; killed") from None
        if proc.returncode != 0:
            tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] if err else []
            raise HookError(f"{self.command[0]} exited {proc.returncode}" + (f": {tail[0][:200]}" if tail else ""))

    def close(self) -> None:
        """Nothing to close."""


def report(record: Record, ctx: SinkContext, command: Sequence[str] | str, timeout: float = 10.0) -> None:
    """One-shot form (bandit-style entry)."""
    Sink(command, ctx, timeout=timeout).emit(record)
