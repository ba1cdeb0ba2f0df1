"""The journal's verification for the scanner's agent check (the agent-health check), read-only.

``bmnn scan`` and ``bmnn facts`` hand ``journal_health`` to the scanner's agent collector, which
may not import the agent. It says not only whether the journal verifies but how far that goes:
with the initial key readable here (root, on the machine itself) every record's MAC is checked
too (``mac_checked``); without it only the plain hash chain is, which a person who rewrites the
whole chain would pass. The daemon judges itself with it too (agent/watch.py, through
``journal.health_check``).
"""

from __future__ import annotations

import os
from typing import Any, Optional

from .errors import AgentError

HEARTBEAT_WINDOW = 5000
"""The last heartbeat is looked for among this many records before the head."""


def journal_health(path: os.PathLike | str) -> tuple[Optional[bool], Optional[str], Optional[str], dict[str, Any]]:
    """(verified, time of the last heartbeat, problem, details) of the journal at ``path``.

    A missing or unreadable journal is a problem (verified None: could not check); one that does
    not verify is ``False`` and the details name the first bad record and why. ``details``:
    ``mac_checked``, ``count``, ``head_seq``, ``first_bad_seq``, ``reason``.
    """
    from .journal import Journal
    if not os.path.exists(path):
        return None, None, f"no journal at {path} (the agent never ran with this state directory)", {}
    try:
        j = Journal.open(path, readonly=True)
    except AgentError as exc:
        return None, None, str(exc), {}
    try:
        res = j.verify()
        start = max(0, (res.head_seq or 0) - HEARTBEAT_WINDOW)
        beats = list(j.records(kinds=("heartbeat",), since_seq=start))
    except AgentError as exc:
        return None, None, str(exc), {}
    finally:
        j.close()
    detail = {"mac_checked": res.mac_checked, "count": res.count, "head_seq": res.head_seq,
              "first_bad_seq": res.first_bad_seq, "reason": res.reason}
    return res.ok, (beats[-1].time if beats else None), None, detail
