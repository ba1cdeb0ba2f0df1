"""Acknowledging an open violation: ``bmnn events ack SEQ --reason TEXT``.

An officer who has seen a violation and acted on it says so, with a reason, and the daemon — the
journal's only writer — journals an ``ack`` record naming the violation's seq, the reason and who
acknowledged it (the kernel's credentials of the socket peer, never what the client claims). An
ack does not clear the violation: it stays open until the machine complies again, and ``bmnn
status`` shows it acknowledged (by whom, when, why). The acknowledgement is state rebuilt from the
journal, so it survives a restart; an ack applies only to the violation it names by seq, so a
violation that clears and opens again is a new violation, unacknowledged.

Only root may acknowledge (``ack`` is one of the IPC's root methods): a member of the ``bmnn``
group may read status and events but not write to the journal, since an acknowledgement is a
statement made in the journal on the officer's responsibility.

The request is checked here; the daemon calls ``acknowledge`` on its main loop. Refusals are
returned as ``{"ok": false, "error": CODE, ...}`` (codes in ``REFUSALS``) so that the CLI can say
them in the user's language.
"""

from __future__ import annotations

import pwd
from typing import Any, Callable, Mapping, MutableMapping, Optional

from .errors import AgentError
from .wording import said

REASON_MAX = 1000
"""Characters of a reason; an acknowledgement is a sentence, not a document."""
SEQ_MAX = 2 ** 63 - 1
"""SQLite's largest integer: a larger seq names no record (and would not bind)."""
REFUSALS = ("not_open", "already_acknowledged", "cleared", "not_a_violation", "no_such_record")
"""Why an ack can be refused once the request is well formed."""


def parse_request(params: Mapping[str, Any]) -> tuple[int, str]:
    """(seq, reason) of an ``ack`` request; AgentError(usage) when malformed or the reason is empty."""
    seq, reason = params.get("seq"), params.get("reason")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= SEQ_MAX:
        raise AgentError("ack needs seq: the journal sequence number of an open violation (a positive integer)",
                         kind="usage")
    if not isinstance(reason, str) or not reason.strip():
        raise AgentError("ack needs a reason (a non-empty text)", kind="usage")
    reason = " ".join(reason.split())  # one line: a newline must not forge a second line in status
    if len(reason) > REASON_MAX:
        raise AgentError(f"the reason is {len(reason)} characters; at most {REASON_MAX}", kind="usage")
    return seq, reason


def user_name(uid: int) -> str:
    """The account name of ``uid``, or the number when it has none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError):
        return str(uid)


def _refuse(code: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message, **fields}


def acknowledge(open_violations: Mapping[str, Mapping[str, Any]], seq: int, reason: str, *, uid: int, pid: int,
                record: Callable[..., list], lookup: Callable[[int], Optional[Any]]) -> dict[str, Any]:
    """Journal an ack of the open violation #``seq``, or say why not. Main loop only.

    ``record(kind, **fields)`` journals (the daemon's ``record``); ``lookup(seq)`` returns the
    journal record #seq or None, to tell a cleared violation from a record that is no violation.
    """
    match = [(cid, v) for cid, v in open_violations.items() if v.get("seq") == seq]
    if not match:
        rec = lookup(seq)
        if rec is None:
            return _refuse("no_such_record", f"there is no record #{seq} in the journal", seq=seq)
        if rec.kind != "violation":
            return _refuse("not_a_violation", f"record #{seq} is a {rec.kind} record, not a violation",
                           seq=seq, kind=rec.kind)
        return _refuse("cleared", f"violation #{seq} ({rec.check_id}) is no longer open (it was cleared)",
                       seq=seq, check_id=rec.check_id)
    cid, v = match[0]
    done = v.get("ack")
    if done:
        return _refuse("already_acknowledged", f"violation #{seq} ({cid}) was already acknowledged by "
                                               f"{done.get('by')} at {done.get('time')} (record #{done.get('seq')})",
                       seq=seq, check_id=cid, ack=dict(done))
    user = user_name(uid)
    recs = record("ack", check_id=cid, severity=v.get("severity"),
                  evidence={"violation_seq": seq, "reason": reason, "uid": uid, "user": user, "pid": pid},
                  **said("record.msg.ack", seq=seq, check_id=cid, user=user, uid=uid, note=reason))
    if not recs:  # the journal cannot be written now: the ack waits in the spool with the other events
        return {"ok": True, "journaled": False, "check_id": cid, "violation_seq": seq, "by": user, "uid": uid,
                "reason": reason}
    ack = dict(open_violations.get(cid, {}).get("ack") or state_of(recs[0]) or {})
    return {"ok": True, "journaled": True, "check_id": cid, "violation_seq": seq, **ack}


def state_of(r: Any) -> Optional[dict[str, Any]]:
    """What an ``ack`` record says about the violation it names: seq, time, by, uid, reason.
    An ack journaled before acks named their reason (``note``) still counts."""
    ev = r.evidence if isinstance(r.evidence, Mapping) else {}
    vseq = ev.get("violation_seq")
    if not isinstance(vseq, int) or isinstance(vseq, bool):
        return None
    uid = ev.get("uid") if isinstance(ev.get("uid"), int) else None
    by = ev.get("user") if isinstance(ev.get("user"), str) else (str(uid) if uid is not None else None)
    reason = ev.get("reason") if isinstance(ev.get("reason"), str) else ev.get("note")
    return {"violation_seq": vseq, "seq": r.seq, "time": r.time, "by": by, "uid": uid,
            "reason": reason if isinstance(reason, str) else None}


def apply(open_violations: MutableMapping[str, dict[str, Any]], r: Any) -> None:
    """Mark the violation an ``ack`` record names as acknowledged, when it is still the open one
    (live, and when the daemon rebuilds its state from the journal at start)."""
    v = open_violations.get(r.check_id) if r.check_id else None
    if v is None:
        return
    st = state_of(r)
    if st is None or st["violation_seq"] != v.get("seq"):
        return  # an ack of an earlier violation of this check, since cleared
    v["acknowledged"] = True
    v["ack"] = {k: st[k] for k in ("seq", "time", "by", "uid", "reason")}
