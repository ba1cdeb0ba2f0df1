"""Which trigger caused a journaled change, for the ``latency_ms`` of its evidence.

Triggers are coalesced: one re-read can follow several triggers, some of them left over from an
earlier change (the last remove uevents of an unplug that was already judged, a mount table
change, a periodic reconcile). Counting from the oldest trigger of the batch then over-states
the latency of the change that really happened. So each event is matched with the triggers that
could have caused it:

* of the domains its evidence items come from (``fact: devices.usb`` -> ``devices``), when known;
* a violation (something appeared) is not caused by a remove uevent, and a cleared (something
  went away) is caused by one when the batch has one;
* when the evidence names sys paths, the uevents at, above or below them.

Each narrowing applies only when it leaves a candidate. The latency counts from the earliest
trigger left: the first uevent of the device that made the change.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from .sources.base import Trigger

REMOVALS = ("remove", "unbind")


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b.rstrip("/") + "/") or b.startswith(a.rstrip("/") + "/")


def _narrow(candidates: list[Trigger], keep) -> list[Trigger]:
    kept = [t for t in candidates if keep(t)]
    return kept or candidates


def cause(triggers: Sequence[Trigger], kind: str, evidence: Mapping[str, Any]) -> Optional[Trigger]:
    """The trigger of ``triggers`` (one coalesced batch) that most likely caused an event of
    ``kind`` with ``evidence``; None when the batch is empty."""
    if not triggers:
        return None
    items = [i for i in evidence.get("items") or () if isinstance(i, Mapping)]
    domains = {str(i["fact"]).split(".", 1)[0] for i in items if isinstance(i.get("fact"), str)}
    paths = [i["sys_path"] for i in items if isinstance(i.get("sys_path"), str)]
    candidates = list(triggers)
    if domains:
        candidates = _narrow(candidates, lambda t: t.domain in domains or t.domain == "*")
    if kind == "violation":
        candidates = _narrow(candidates, lambda t: t.detail.get("action") not in REMOVALS)
    elif kind == "cleared":
        candidates = _narrow(candidates, lambda t: t.detail.get("action") in REMOVALS)
    if paths:
        candidates = _narrow(candidates, lambda t: isinstance(t.detail.get("sys_path"), str)
                             and any(_related(t.detail["sys_path"], p) for p in paths))
    return min(candidates, key=lambda t: t.received)


def latency_ms(triggers: Iterable[Trigger], kind: str, evidence: Mapping[str, Any], now: float) -> Optional[float]:
    """Milliseconds from the causing trigger to ``now`` (time.monotonic())."""
    t = cause(list(triggers), kind, evidence)
    return None if t is None else round((now - t.received) * 1000, 2)
