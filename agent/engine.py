"""The daemon's judgement: re-read a domain, evaluate, and say what opened or cleared.

Triggers only say which domain changed; the engine re-reads it with the same collectors as
``bmnn scan``, merges it into the last facts, runs the same evaluator, and compares each check
with its previous state. What comes out is a list of journal events:

* ``violation`` — a check starts failing, or fails with different evidence (a second stick);
* ``cleared`` — a check that was failing no longer fails;
* ``state`` — a check becomes (or stops being) undecidable (``error``): monitoring is blind there.

Manual items are not the daemon's business (they stay ``not_reviewed``) and never produce events.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from typing import Any, Callable, Iterable, Mapping, Optional

from bmnn_guard.policies import facts as F

from .event import Event
from bmnn_guard.policies.context import EvalContext
from bmnn_guard.policies.evaluator import CheckResult, evaluate
from bmnn_guard.policies.loader import Bundle
from bmnn_guard.policies.schema import Tailoring

OPEN_STATUSES = ("fail",)


def fingerprint(items: Iterable[Mapping[str, Any]]) -> str:
    """What makes two failures of a check the same violation: the SHA-256 of its evidence items
    as the journal stores them (canonical JSON after one round trip), so that the fingerprint of a
    result judged now equals the one recomputed from its journaled record after a restart."""
    from .event import canonical_json
    stored = json.loads(canonical_json([dict(e) for e in items]))
    return hashlib.sha256(canonical_json(stored).encode("utf-8")).hexdigest()


def _fingerprint(r: CheckResult) -> str:
    return fingerprint(r.evidence)


class Engine:
    """Holds the last facts and check states; turns domain refreshes into events."""

    def __init__(self, bundle: Bundle, tailoring: Tailoring, context: EvalContext, *, profile: Optional[str] = None,
                 collect: Callable[[tuple[str, ...]], F.Facts], clock: Callable[[], dt.datetime] = None):
        self.bundle = bundle
        self.tailoring = tailoring
        self.context = context
        self.profile = profile
        self.collect = collect
        self.clock = clock or (lambda: dt.datetime.now().astimezone())
        self.facts = F.Facts()
        self.states: dict[str, tuple[str, str]] = {}  # check id -> (status, evidence fingerprint)
        self.results: dict[str, CheckResult] = {}  # check id -> its latest result
        self._judged_all = False  # every check judged once since the last (re)configuration

    def restore(self, open_fingerprints: Mapping[str, str]) -> None:
        """Checks failing when the daemon last stopped (check id -> fingerprint, from the journal):
        the same failure judged again is not a new violation."""
        for cid, fp in open_fingerprints.items():
            self.states[cid] = ("fail", fp)

    def reconfigure(self, bundle: Bundle, tailoring: Tailoring, context: EvalContext, profile: Optional[str]) -> None:
        """New policy (after reload); the next refresh re-judges everything against it."""
        self.bundle, self.tailoring, self.context, self.profile = bundle, tailoring, context, profile
        self._judged_all = False

    def refresh(self, domains: Iterable[str]) -> list[Event]:
        """Re-read ``domains`` (all when empty), evaluate, and return the changes."""
        wanted = self.wanted(domains)
        return self.update(self.collect(wanted), wanted)

    @staticmethod
    def wanted(domains: Iterable[str]) -> tuple[str, ...]:
        """The domains a refresh of ``domains`` re-reads (all when empty; documents never)."""
        return tuple(d for d in (tuple(domains) or F.DOMAINS) if d != "documents")

    def update(self, new: F.Facts, wanted: tuple[str, ...]) -> list[Event]:
        """Merge ``new`` (read for ``wanted``, possibly in another thread), evaluate, return the changes."""
        changes = {d: getattr(new, d) for d in wanted if d in new.collected}
        collected = tuple(dict.fromkeys([*self.facts.collected, *[d for d in wanted if d in new.collected]]))
        self.facts = dataclasses.replace(self.facts, collected=collected, **changes)
        return self.judge(wanted if set(wanted) != set(self.wanted(())) else None)

    def set_documents(self, documents: F.DocumentFacts) -> list[Event]:
        """Document findings from the content worker (they are not re-read by a collector)."""
        collected = tuple(dict.fromkeys([*self.facts.collected, "documents"]))
        self.facts = dataclasses.replace(self.facts, documents=documents, collected=collected)
        return self.judge(("documents",))

    def judge(self, domains: Optional[Iterable[str]] = None) -> list[Event]:
        """Evaluate the current facts and diff against the previous states. ``domains``: only
        these were re-read, so only the checks reading one of them (``CompiledCheck.domains``,
        computed by the loader from the compiled conditions) are judged again; None judges all."""
        only = None
        if domains is not None and self._judged_all:
            changed = set(domains)
            only = [cid for cid, c in self.bundle.checks.items() if c.domains & changed]
        ev = evaluate(self.facts, self.bundle, profile=self.profile, tailoring=self.tailoring,
                      context=self.context, now=self.clock(), only=only)
        if only is None:
            self.results = {}
            self._judged_all = True
        self.results.update((r.check_id, r) for r in ev.results)
        events: list[Event] = []
        for r in ev.results:
            if r.mode == "manual" or r.status == "not_selected":
                continue
            if "documents" in self.bundle.checks[r.check_id].domains and "documents" not in self.facts.collected:
                continue  # fed by the content watch, which has not delivered yet: not a monitoring gap
            before = self.states.get(r.check_id)
            now_state = (r.status, _fingerprint(r) if r.status in OPEN_STATUSES else "")
            self.states[r.check_id] = now_state
            if before == now_state:
                continue
            was_open = before is not None and before[0] in OPEN_STATUSES
            if r.status in OPEN_STATUSES:
                events.append(self._event("violation", r))
            elif was_open:
                events.append(self._event("cleared", r))
            if r.status == "error" and (before is None or before[0] != "error"):
                events.append(self._event("state", r, note="check cannot run"))
            elif before is not None and before[0] == "error" and r.status != "error":
                events.append(self._event("state", r, note="check runs again"))
        return events

    def enforcements(self, check_id: str) -> tuple[str, ...]:
        """What the check data lets ``action: block`` do about ``check_id`` (its ``enforce:``)."""
        c = self.bundle.checks.get(check_id)
        return tuple(c.spec.enforce) if c is not None else ()

    def open_violations(self) -> list[dict[str, Any]]:
        """Checks failing now, for `bmnn status`."""
        return [{"check_id": r.check_id, "severity": r.severity, "reason": r.reason.vi, "reason_en": r.reason.en}
                for _, r in sorted(self.results.items()) if r.status in OPEN_STATUSES]

    def _event(self, kind: str, r: CheckResult, note: Optional[str] = None) -> Event:
        refs = [x.source + (f" art. {x.article}" if x.article else "") + (f" cl. {x.clause}" if x.clause else "")
                for x in r.legal_refs]
        evidence = {"status": r.status, "items": [dict(e) for e in r.evidence], "reason_en": r.reason.en,
                    "legal_refs": refs}
        if note:
            evidence["note"] = note
        return Event.of(kind, check_id=r.check_id, severity=r.severity, message=r.reason.vi, evidence=evidence)
