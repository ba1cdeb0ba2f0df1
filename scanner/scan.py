"""`bmnn scan`: collect facts, judge them with the shared evaluator, build the record.

The same evaluator and fact model serve the daemon, so a rule behaves the same here and at
3 a.m. Collection never raises for an unreadable source (it becomes an ``error`` result); only
unusable inputs (policy, answers file) stop the scan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import build_context
from bmnn_guard.policies.evaluator import Answer, Evaluation, evaluate
from bmnn_guard.policies.loader import Bundle, LoadedTailoring, load_bundle, load_tailoring

from . import document, registry
from .answers import ask, load_answers
from .errors import ScanError
from .localtime import zone


@dataclass(frozen=True)
class ScanOptions:
    """What `bmnn scan` was asked to do."""

    config_dir: str
    """Config directory (local.d, devices.yaml)."""
    policy_dir: Optional[str] = None
    """Policy bundle instead of the built-in one."""
    profile: Optional[str] = None
    """Profile id; default from tailoring, then the bundle default."""
    answers_file: Optional[str] = None
    """YAML answers to manual items."""
    inspector: Optional[str] = None
    """Name of the inspecting officer."""
    content_paths: Optional[tuple[str, ...]] = None
    """None: no content scan (``--no-content``); () the default scope (``default_content_scope``);
    else these paths."""
    content_cache: Optional[str] = None
    """Verdict cache file; None: ``$BMNN_STATE_DIR/content-cache.json``; "" for none."""
    domains: Optional[tuple[str, ...]] = None
    """Restrict collection to these domains (tests, `bmnn facts`)."""
    journal_check: Optional[Callable[[], Any]] = None
    """Verifies the agent's journal for AGT-001: () -> (verified, last heartbeat, problem)."""
    number: Optional[str] = None
    """Record number to print (``--number``); None: local.d ``record.number``."""
    timezone: Optional[str] = None
    """Zone of the times a person reads (``--timezone``); None: local.d, else Asia/Ho_Chi_Minh."""
    holder: Optional[str] = None
    """Name of the equipment's user, for the record's signature block."""


@dataclass
class ScanOutcome:
    """Everything one scan produced."""

    facts: F.Facts
    evaluation: Evaluation
    bundle: Bundle
    tailoring: LoadedTailoring
    document: dict[str, Any]


def load_policy(opts: ScanOptions) -> tuple[Bundle, LoadedTailoring]:
    """Bundle and tailoring, or PolicyError (exit 4)."""
    bundle = load_bundle(opts.policy_dir)
    tailoring = load_tailoring(os.path.join(opts.config_dir, "local.d"), bundle)
    return bundle, tailoring


def collect(opts: ScanOptions, tailoring: LoadedTailoring, progress: Optional[Callable[[str, bool], None]] = None,
            doc_progress: Optional[Callable[[Any], None]] = None, policy_version: Optional[str] = None) -> F.Facts:
    """Read the machine (and documents unless ``content_paths`` is None). ``doc_progress`` gets the
    document step's ``content.scan.Progress`` (files done / total, bytes) as it goes."""
    from .collect import collect_all
    t = tailoring.tailoring
    facts = collect_all(domains=opts.domains, marked_folders=tuple(t.marked_folders),
                        probe_hosts=tuple(t.probe_hosts), progress=progress, journal_check=opts.journal_check)
    if opts.content_paths is not None:
        if progress is not None:
            progress("documents", False)
        facts = _with_documents(facts, opts, tailoring, doc_progress, policy_version)
        if progress is not None:
            progress("documents", True)
    return facts


def _with_documents(facts: F.Facts, opts: ScanOptions, tailoring: LoadedTailoring, doc_progress,
                    policy_version: Optional[str]) -> F.Facts:
    try:
        from .content.cache import ContentCache
        from .content.scan import run_scan
    except ImportError:
        err = F.CollectionError("content", "document content scanning is not available in this build")
        return dataclasses.replace(facts, documents=F.DocumentFacts(errors=(err,)), collected=facts.collected + ("documents",))
    folders = tuple(m.path for m in tailoring.tailoring.marked_folders)
    from .media import removable_mountpoints
    removable = removable_mountpoints(facts.devices)
    paths = opts.content_paths or default_content_scope(folders, removable)
    cache = ContentCache(opts.content_cache or None, policy=policy_version) if opts.content_cache != "" else None
    report = run_scan(list(paths), marked_folders=folders, removable_mounts=removable, progress=doc_progress,
                      cache=cache)
    return dataclasses.replace(facts, documents=report.facts, collected=facts.collected + ("documents",))


TEMP_FOLDERS = ("/tmp", "/var/tmp")


def default_content_scope(folders: tuple[str, ...], removable: tuple[str, ...]) -> tuple[str, ...]:
    """The document step's default scope (docs/content-detection.md): the marked folders, the
    home folders (``/home``, ``/root``), the temporary folders (``/tmp``, ``/var/tmp``: downloads
    and attachments land there) and every mounted removable medium. Files are chosen by type
    inside them; symbolic links are never followed below these roots."""
    base = [p for p in ("/home", "/root", *TEMP_FOLDERS) if os.path.isdir(p)]
    return tuple(dict.fromkeys([*folders, *base, *removable]))


def manual_items(bundle: Bundle, profile: str) -> list[tuple[str, Any]]:
    """(check id, question) of the manual and hybrid checks selected by ``profile``."""
    prof = bundle.profiles[profile]
    ids = [e if isinstance(e, str) else e.id for e in prof.checks]
    return [(cid, bundle.checks[cid].spec.manual.question) for cid in ids
            if bundle.checks[cid].spec.manual is not None]


def run(opts: ScanOptions, *, progress: Optional[Callable[[str, bool], None]] = None,
        doc_progress: Optional[Callable[[Any], None]] = None,
        prompt: Optional[Callable[[str], str]] = None, say: Optional[Callable[[str], None]] = None, lang: str = "vi",
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone()) -> ScanOutcome:
    """A whole scan. ``prompt`` asks manual items at a terminal (None: do not ask); ``say``
    shows the lines around the questions."""
    bundle, tailoring = load_policy(opts)
    profile = opts.profile or tailoring.tailoring.profile or bundle.default_profile
    if profile not in bundle.profiles:
        raise ScanError(f"unknown profile {profile!r}; known: {', '.join(sorted(bundle.profiles))}")
    rec = tailoring.tailoring.record
    zone(opts.timezone or (rec.timezone if rec else None), lang)  # an unknown zone stops before the scan
    items = manual_items(bundle, profile)
    answers: dict[str, Answer] = {}
    if opts.answers_file:
        answers = load_answers(opts.answers_file, [cid for cid, _ in items])
    devices = registry.load(opts.config_dir)
    started = now()
    facts = collect(opts, tailoring, progress, doc_progress, policy_version=bundle.sha256)
    if prompt is not None:
        pending = [(cid, q.get(lang)) for cid, q in items if cid not in answers]
        answers.update(ask(pending, prompt, lang, say))
    context = build_context(tailoring.tailoring, registry.identities(devices))
    evaluation = evaluate(facts, bundle, profile=profile, tailoring=tailoring.tailoring, context=context,
                          answers=answers, now=started)
    finished = now()
    record = document.record_block(tailoring.tailoring.record, number=opts.number, timezone=opts.timezone,
                                   holder=opts.holder)
    doc = document.build(facts, evaluation, bundle, started_at=started, finished_at=finished,
                         inspector=opts.inspector, unit=tailoring.tailoring.unit, record=record)
    return ScanOutcome(facts, evaluation, bundle, tailoring, doc)


EXIT_BY_VERDICT = {"COMPLIANT": 0, "COMPLIANT_WITH_EXCEPTIONS": 0, "NON_COMPLIANT": 2, "INCOMPLETE": 3}
