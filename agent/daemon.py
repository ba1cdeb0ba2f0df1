"""The daemon skeleton: policy, journal, sinks, IPC, heartbeats, watchdog, signals, and a hook
for event sources.

Everything that changes state runs on one thread, the main loop: sources and IPC handlers hand
work to it (``submit``, ``call_soon``) and it journals, then fans out to the sinks. The loop sleeps
in ``select`` on a self-pipe that signals (``signal.set_wakeup_fd``) and other threads write to,
so it wakes only for work, a heartbeat, a watchdog ping or a spool retry (idle: one wakeup per
``WatchdogSec/2``, 15 s with the shipped unit).

Event sources are added with ``register_source(source, emit)``: an ``bmnn_guard.agent.sources.base.Source``
(``name``, ``start(emit)``, ``stop()``, ``alive()``), started after READY with the function its
triggers go to. A source that dies is noticed on the next tick and journaled once as a ``gap``.
The live watch (agent/watch.py) sees the daemon only through ``WatchHost``: the few things it
needs (run on the loop, journal, the policy and configuration in force, the paths, the open
violations' fingerprints, reload notifications), never the whole object.

This module must not import rich, Jinja2 or the report code (see the design notes).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import os
import queue
import select
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from . import sdnotify
from .config import AgentConfig, load_config
from .errors import AgentError
from .ipc import IpcServer, Peer
from .event import Event, now_iso
from .wording import said
from .journal import Journal, Record
from .paths import Paths
from .sinks import RuleInfo, SinkContext, SinkRunner
from .sources.base import Emit, Source
from .spool import JournalWriter



STATUS_LOOP_WAIT = 0.1
"""``status`` waits this long for the main loop, then answers from its own thread."""
JOURNAL_ERROR_LOG_S = 30.0
"""While the journal cannot be written, its error is logged at most this often."""


@dataclass(frozen=True)
class PolicyState:
    """The policy in force (the last one that validated)."""

    bundle: Any
    """bmnn_guard.policies.loader.Bundle."""
    tailoring: Any
    """bmnn_guard.policies.schema.Tailoring (merged local.d)."""
    tailoring_files: tuple[str, ...]
    """Files of local.d that were read."""
    profile: str
    """Profile evaluated."""
    sha256: str
    """Bundle hash."""
    loaded_at: str
    """When it was loaded."""


@dataclass(frozen=True)
class WatchHost:
    """What the live watch may use of the daemon, and nothing else (``Daemon.watch_host``)."""

    paths: Paths
    policy_dir: Optional[str]
    call_soon: Callable[[Callable[[], Any]], concurrent.futures.Future]
    """Run on the main loop (any thread)."""
    record: Callable[[Any], list]
    """Journal events (main loop only)."""
    register_source: Callable[..., None]
    on_reload: Callable[[Callable[[], None]], None]
    policy: Callable[[], Optional[PolicyState]]
    config: Callable[[], AgentConfig]
    open_fingerprints: Callable[[], dict[str, str]]
    """Open violations restored from the journal: check id -> evidence fingerprint."""
    reconciled: Callable[[], None]
    """A re-read was judged (``bmnn status`` shows when)."""


def log(priority: int, text: str, *, lines: bool = False) -> None:
    """The daemon's own diagnostics: stderr with a syslog prefix (journald keeps the priority).
    ``text`` often quotes an error about a file or device: shown escaped, on one line; with
    ``lines`` (a rendered error with its caret line) each line of it gets its own prefix."""
    from bmnn_guard.scanner.textsafe import visible
    out = [visible(x) for x in text.split("\n")] if lines else [visible(text)]
    try:
        sys.stderr.write("".join(f"<{priority}>bmnn-agent: {x}\n" for x in out))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _machine_id() -> Optional[str]:
    try:
        return open("/etc/machine-id").read().strip() or None
    except OSError:
        return None


class Daemon:
    """bmnn-agent."""

    def __init__(self, paths: Paths, *, policy_dir: Optional[str] = None, env: Optional[Mapping[str, str]] = None):
        self.paths = paths
        self.env = os.environ if env is None else env
        self.policy_dir = policy_dir if policy_dir is not None else self.env.get("BMNN_POLICY_DIR")
        self.sources: list[Source] = []
        self._emits: dict[int, Emit] = {}  # id(source) -> where its triggers go
        self._reloaded: list[Callable[[], None]] = []
        self._dead_sources: set[str] = set()
        self._queue: queue.Queue[Callable[[], Any]] = queue.Queue()
        self._rfd, self._wfd = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._stop = False
        self._reload = False
        self.started_mono = time.monotonic()
        self.started = now_iso()
        self.config: AgentConfig = AgentConfig()
        self.policy: Optional[PolicyState] = None
        self.journal: Optional[Journal] = None
        self.writer: Optional[JournalWriter] = None
        self.sinks: Optional[SinkRunner] = None
        self.ipc: Optional[IpcServer] = None
        self.open_violations: dict[str, dict[str, Any]] = {}
        self.incidents: Optional[Any] = None
        """Draft incident reports (agent/incident_drafts.py), made at the first critical violation."""
        self._restoring = False
        self.last_reconcile: Optional[str] = None
        self.last_heartbeat: Optional[str] = None
        self.host = socket.gethostname()
        self.host_id = _machine_id()
        self.watchdog_pings = 0
        self._journal_error_logged = -JOURNAL_ERROR_LOG_S
        self._busy_since: Optional[float] = None  # when the main loop's current job began
        self._busy_job: Optional[str] = None
        self._journal_stats: dict[str, Any] = {}  # the journal's counts as the main loop last read them
        self._last_seq: Optional[int] = None
        self.open_fingerprints: dict[str, str] = {}
        """Check id -> evidence fingerprint of each open violation (agent.engine.fingerprint), so a
        restart does not journal the same open violation again."""
        self._appended: list[Callable[[int], None]] = []

    # ------------------------------------------------------------ API for sources and the lead

    def register_source(self, source: Source, emit: Optional[Emit] = None) -> None:
        """Add an event source; started after READY with ``emit``, stopped before agent_stop."""
        self.sources.append(source)
        self._emits[id(source)] = emit or (lambda trigger: None)

    def on_reload(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` on the main loop after each successful reload (the new policy and
        agent.yaml are in force by then)."""
        self._reloaded.append(callback)

    def watch_host(self) -> "WatchHost":
        """The narrow view of the daemon the live watch works through."""
        return WatchHost(paths=self.paths, policy_dir=self.policy_dir, call_soon=self.call_soon, record=self.record,
                         register_source=self.register_source, on_reload=self.on_reload,
                         policy=lambda: self.policy, config=lambda: self.config,
                         open_fingerprints=lambda: dict(self.open_fingerprints),
                         reconciled=self._reconciled)

    def _reconciled(self) -> None:
        self.last_reconcile = now_iso()

    def on_appended(self, callback: Callable[[int], None]) -> None:
        """Call ``callback(seq)`` after each commit to the journal, ``seq`` the last record
        committed (on the thread that wrote, the main loop; it must not block: set an event, wake
        a reader). What sinks reading the journal with their own cursors wait on."""
        self._appended.append(callback)

    def _notify_appended(self, records: list[Record]) -> None:
        if not records:
            return
        seq = records[-1].seq
        if self.sinks is not None:  # the sinks read the journal themselves, from their cursors (and
            self.sinks.appended(seq, records)  # take what was just committed from memory)
        for cb in self._appended:
            try:
                cb(seq)
            except Exception as exc:  # a listener's bug must not stop journaling
                log(4, f"on_appended listener failed: {exc!r}")

    def wake(self) -> None:
        """Wake the main loop (safe from any thread)."""
        try:
            os.write(self._wfd, b"w")
        except (BlockingIOError, OSError):
            pass

    def call_soon(self, fn: Callable[[], Any]) -> concurrent.futures.Future:
        """Run ``fn`` on the main loop; the future holds its result or exception."""
        fut: concurrent.futures.Future = concurrent.futures.Future()

        def run() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        run.job = getattr(fn, "__qualname__", None)  # type: ignore[attr-defined]  # for status while busy
        self._queue.put(run)
        self.wake()
        return fut

    def submit(self, events: "Event | Iterable[Event]") -> concurrent.futures.Future:
        """Journal events from any thread (returns a future of the records written)."""
        return self.call_soon(lambda: self.record(events))

    def record(self, events: "Event | Iterable[Event]") -> list[Record]:
        """Journal (or spool) events, in order, then hand what was written to the sinks and the
        ``on_appended`` listeners. Main loop only; sources batch what arrived since the last tick
        (10,000 file events/s need it). When the journal cannot take them, urgent events reach the
        sinks at once anyway, marked as not yet journaled (agent/unjournaled.py); their journaled
        records follow later."""
        events = [events] if isinstance(events, Event) else list(events)
        was_failing = self.writer.failing
        records = self.writer.write(events)
        if not records and self.writer.last_error:
            self._log_journal_error()
            self._deliver_unjournaled(events)
        self._journaled(records)
        self._journal_failing(was_failing)
        return records

    def _log_journal_error(self) -> None:
        """The journal's error on stderr, once per ``JOURNAL_ERROR_LOG_S`` (not once per event)."""
        now = time.monotonic()
        if now - self._journal_error_logged >= JOURNAL_ERROR_LOG_S:
            self._journal_error_logged = now
            log(3, f"{self.writer.last_error} ({self.writer.pending} waiting)")

    def _journal_failing(self, was_failing: bool) -> None:
        """Once, when the journal starts failing: a gap event that every sink taking unjournaled
        events shows at once (journaled itself once space returns)."""
        if was_failing or not self.writer.failing:
            return
        self.record(Event.of("gap", severity="high",
                    evidence={"source": "journal", "error": self.writer.last_error,
                              "spool_limit": self.writer.max_spool},
                    **said("record.msg.journal_unwritable", error=self.writer.last_error,
                           limit=self.writer.max_spool)))

    def _deliver_unjournaled(self, events: list[Event]) -> None:
        from .unjournaled import URGENT, provisional
        for ev in events:
            if ev.kind not in URGENT:
                continue
            rec = provisional(ev, self.host)
            if ev.kind == "violation" and rec.check_id:
                self.open_violations[rec.check_id] = {"seq": None, "time": rec.time, "severity": rec.severity,
                                                      "message": rec.message, "acknowledged": False,
                                                      "journaled": False}
                self.open_fingerprints[rec.check_id] = _violation_fingerprint(rec)
            elif ev.kind == "cleared" and rec.check_id:
                self.open_violations.pop(rec.check_id, None)
                self.open_fingerprints.pop(rec.check_id, None)
            if self.sinks is not None:
                self.sinks.submit_unjournaled(rec)

    def _journaled(self, records: list[Record]) -> None:
        """State, sinks and listeners after a commit."""
        for r in records:
            self._after_journal(r)
        self._notify_appended(records)

    def _after_journal(self, r: Record) -> None:
        self._last_seq = r.seq
        if r.kind == "violation" and r.check_id:
            self.open_violations[r.check_id] = {"seq": r.seq, "time": r.time, "severity": r.severity,
                                                "message": r.message, "acknowledged": False, "journaled": True}
            self.open_fingerprints[r.check_id] = _violation_fingerprint(r)
        elif r.kind == "cleared" and r.check_id:
            self.open_violations.pop(r.check_id, None)
            self.open_fingerprints.pop(r.check_id, None)
        elif r.kind == "ack":
            from . import ack
            ack.apply(self.open_violations, r)
        if r.kind == "violation" and r.severity == "critical" and not self._restoring \
                and self.config is not None and self.config.incident_reports:
            self._incident_drafts().opened(r.seq)

    # ------------------------------------------------------------ policy

    def load_policy(self) -> PolicyState:
        """Load and validate bundle + local.d; raises AgentError(config) and changes nothing on error."""
        from bmnn_guard.policies.errors import PolicyError
        from bmnn_guard.policies.loader import load_bundle, load_tailoring
        try:
            bundle = load_bundle(self.policy_dir)
            lt = load_tailoring(self.paths.local_d, bundle)
        except PolicyError as exc:
            # redacted: this text goes into the journal, ECS and the socket reply
            raise AgentError(exc.redacted(), kind="config") from None
        profile = self.config.profile or lt.tailoring.profile or bundle.default_profile
        if profile not in bundle.profiles:
            raise AgentError(f"unknown profile {profile!r}; known: {', '.join(sorted(bundle.profiles))}",
                             kind="config")
        return PolicyState(bundle, lt.tailoring, lt.files, profile, bundle.sha256, now_iso())

    def reload(self) -> dict[str, Any]:
        """Validate the new agent.yaml and policy first; switch only if both are good. Main loop only."""
        old = self.policy.sha256 if self.policy else None
        try:
            cfg = load_config(self.paths.agent_config)
            saved, self.config = self.config, cfg
            try:
                pol = self.load_policy()
            finally:
                self.config = saved
        except AgentError as exc:
            self.record(Event.of("policy_loaded", severity="high", evidence={"ok": False, "error": str(exc)[:4000], "kept": old},
                        **said("record.msg.reload_rejected", policy=(old or "-")[:12],
                               error=(str(exc).splitlines() or [""])[0][:300])))
            return {"ok": False, "error": str(exc), "policy_sha256": old}
        sinks_changed = cfg.sinks != self.config.sinks or cfg.labels != self.config.labels
        self.config, self.policy = cfg, pol
        if sinks_changed:
            self._start_sinks()
        self.record(Event.of("policy_loaded", severity="info",
                    evidence={"ok": True, "sha256": pol.sha256, "previous": old, "profile": pol.profile,
                              "local_d": list(pol.tailoring_files)},
                    **said("record.msg.policy_loaded", policy=pol.sha256[:12], profile=pol.profile)))
        for cb in self._reloaded:  # e.g. the watch judges everything against the new policy now
            cb()
        return {"ok": True, "policy_sha256": pol.sha256, "previous": old, "profile": pol.profile}

    def rule_info(self, check_id: str) -> Optional[RuleInfo]:
        """Title and legal reference of a check in the policy in force (for SIEM rule.* fields)."""
        pol = self.policy
        if pol is None or check_id not in pol.bundle.checks:
            return None
        from bmnn_guard.policies.citation import resolve
        spec = pol.bundle.checks[check_id].spec
        refs = []
        for ref in spec.legal_refs:
            try:
                refs.append(resolve(pol.bundle.sources, ref.source, ref.article, ref.clause, self.config.lang).label)
            except Exception:
                refs.append(f"{ref.source} {ref.article}")
        return RuleInfo(spec.title.get(self.config.lang), "; ".join(refs) or None, spec.category)

    # ------------------------------------------------------------ sinks

    def _start_sinks(self) -> None:
        from .sinks import alert, ecs, hook, journald, syslog
        cfg = self.config
        ctx = SinkContext(host_name=self.host, host_id=self.host_id, labels=dict(cfg.labels), rules=self.rule_info,
                          policy_sha256=self.policy.sha256 if self.policy else None, lang=cfg.lang)
        sinks: list[Any] = []
        sc = cfg.sinks
        if sc.journald.enabled:
            sinks.append(journald.Sink(ctx))
        if sc.ecs.enabled:
            sinks.append(ecs.Sink(sc.ecs.path or self.paths.ecs_log, ctx, fsync=sc.ecs.fsync))
        if sc.syslog.enabled:
            sinks.append(syslog.Sink(sc.syslog.address, ctx, facility=sc.syslog.facility, app_name=sc.syslog.app_name,
                                     sd_id=sc.syslog.sd_id, tls_ca=sc.syslog.tls_ca, tls_cert=sc.syslog.tls_cert,
                                     tls_key=sc.syslog.tls_key, tls_name=sc.syslog.tls_name))
        for h in sc.hooks:
            sinks.append(hook.Sink(h.command, ctx, timeout=h.timeout, kinds=h.kinds, min_severity=h.min_severity,
                                   name=h.name))
        if sc.alert.enabled:
            sinks.append(alert.Sink(ctx, wall=sc.alert.wall, desktop=sc.alert.desktop, kinds=sc.alert.kinds,
                                    min_severity=sc.alert.min_severity, max_age_s=sc.alert.max_age_seconds))
        old, self.sinks = self.sinks, None
        if old is not None:  # stopped first: the new readers resume from the cursors it saved
            old.stop(timeout=2.0, drain=False)
        self.sinks = SinkRunner(sinks, self.paths.journal, self.paths.state_dir / "cursors", start=sc.start,
                                lag_warning_s=sc.lag_warning_seconds, on_event=self._delivery_event,
                                early_size=cfg.queue_size, head=self._journal_head()).start()

    def _journal_head(self) -> int:
        """The newest seq journaled (where a sink without a cursor starts by default). Read from
        the journal: ``_last_seq`` also moves while open violations are restored at start."""
        head = self.journal.head() if self.journal is not None else None
        return head.seq if head is not None else 0

    def _delivery_event(self, kind: str, **fields: Any) -> None:
        """What a sink reader journals about delivery (a lag, a cursor it could not trust, records
        lost to retention): from the reader's thread, through the main loop."""
        self.submit(Event.of(kind, **fields))

    # ------------------------------------------------------------ IPC handlers (IPC threads)

    def _on_loop(self, fn: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Run ``fn`` on the main loop and wait for it (IPC threads)."""
        try:
            return self.call_soon(fn).result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise AgentError(f"the daemon's main loop did not answer within {timeout:g} s (busy or hung; the "
                             "watchdog restarts a hung loop)", kind="ipc") from None

    def _ipc_status(self, params: Mapping[str, Any], peer: Peer) -> Any:
        """The main loop's own view when it answers within ``STATUS_LOOP_WAIT``; else the same
        fields read from this thread, saying how long the loop has been busy with what job: a
        burst written into a marked folder never makes ``bmnn status`` wait, and a hung loop is
        reported as such instead of as a timeout."""
        fut = self.call_soon(self.status)
        try:
            return fut.result(timeout=STATUS_LOOP_WAIT)
        except concurrent.futures.TimeoutError:
            if not fut.cancel():  # the loop took it up meanwhile: its answer is a moment away
                try:
                    return fut.result(timeout=STATUS_LOOP_WAIT)
                except concurrent.futures.TimeoutError:
                    pass
        snap = self.status(direct=True)
        busy = self._busy_since
        snap["main_loop"] = {"busy": True, "busy_s": None if busy is None else round(time.monotonic() - busy, 2),
                             "job": self._busy_job}
        return snap

    def _ipc_events(self, params: Mapping[str, Any], peer: Peer) -> Any:
        since_seq = params.get("since_seq")
        since_time = params.get("since_time")
        limit = params.get("limit", 1000)
        if not isinstance(limit, int) or not 1 <= limit <= 10000:
            raise AgentError("limit must be an integer from 1 to 10000", kind="usage")
        if since_seq is not None and not isinstance(since_seq, int):
            raise AgentError("since_seq must be an integer", kind="usage")
        if since_time is not None and not isinstance(since_time, str):
            raise AgentError("since_time must be an ISO 8601 string", kind="usage")
        return [r.to_dict() for r in self.journal.records(since_seq=since_seq, since_time=since_time, limit=limit)]

    def _ipc_reload(self, params: Mapping[str, Any], peer: Peer) -> Any:
        return self._on_loop(self.reload, 60)

    def _ipc_ack(self, params: Mapping[str, Any], peer: Peer) -> Any:
        """``bmnn events ack SEQ --reason TEXT`` (root only, see agent/ack.py)."""
        from . import ack
        seq, reason = ack.parse_request(params)
        return self._on_loop(lambda: ack.acknowledge(self.open_violations, seq, reason, uid=peer.uid, pid=peer.pid,
                                                     record=lambda kind, **f: self.record(Event.of(kind, **f)),
                                                     lookup=self.journal_record))

    def journal_record(self, seq: int) -> Optional[Record]:
        """The journaled record #``seq``, or None (never written, or removed by retention)."""
        r = next(iter(self.journal.records(since_seq=seq - 1, limit=1)), None)
        return r if r is not None and r.seq == seq else None

    # ------------------------------------------------------------ status

    def status(self, *, direct: bool = False) -> dict[str, Any]:
        """What ``bmnn status`` shows. ``direct``: called from another thread while the main loop
        is busy: the journal's counts are the last ones the loop read, with the head seq of the
        last record journaled since (no wait for the journal's lock and an fsync in progress)."""
        if direct:  # the path even before the loop first read the counts
            journal = {"path": str(self.journal.path) if self.journal else None, **self._journal_stats}
            if self._last_seq is not None:
                journal["head_seq"] = self._last_seq
        else:
            journal = self.journal.stats() if self.journal else {}
            self._journal_stats = journal
        pol = self.policy
        drafts = self.incidents.status() if self.incidents is not None else None
        return {
            "running": True,
            "pid": os.getpid(),
            "host": self.host,
            "started": self.started,
            "uptime_s": round(time.monotonic() - self.started_mono, 1),
            "policy": None if pol is None else {"sha256": pol.sha256, "profile": pol.profile,
                                                "loaded_at": pol.loaded_at, "local_d": list(pol.tailoring_files)},
            "sources": [{"name": s.name, "alive": bool(_safe_alive(s)), **_details(s)} for s in self.sources],
            "last_reconcile": self.last_reconcile,
            "last_heartbeat": self.last_heartbeat,
            "open_violations": [{"check_id": k, **v} for k, v in sorted(dict(self.open_violations).items())],
            "sinks": self.sinks.health() if self.sinks else [],
            "journal": {**journal, **(self.writer.status() if self.writer else {})},
            "watchdog_pings": self.watchdog_pings,
            "ipc": self.ipc.latency() if self.ipc is not None else {},
            "incident_draft": (drafts or {}).get("path"),
            "incident_drafts": drafts,
        }

    # ------------------------------------------------------------ lifecycle

    def _on_signal(self, signum: int, frame: Any) -> None:
        if signum == signal.SIGHUP:
            self._reload = True
        else:
            self._stop = True

    def request_stop(self) -> None:
        """Ask the main loop to stop (any thread)."""
        self._stop = True
        self.wake()

    def _restore_open_violations(self) -> None:
        for r in self.journal.records(kinds=("violation", "cleared", "ack")):
            self._after_journal_state_only(r)

    def _after_journal_state_only(self, r: Record) -> None:
        self._restoring = True  # a violation restored from the journal is not a new one
        try:
            self._after_journal(r)
        finally:
            self._restoring = False

    def _incident_drafts(self) -> Any:
        """The writer of draft incident reports (agent.yaml ``incident_reports``), made on first use."""
        if self.incidents is None:
            from .incident import write_incident_draft
            from .incident_drafts import IncidentDrafts

            def write(seq: int, now: Any) -> str:
                return write_incident_draft(str(self.paths.journal), str(self.paths.state_dir), seq, now,
                                            config_dir=str(self.paths.config_dir), policy_dir=self.policy_dir)

            def failed(seq: int, why: str) -> None:
                self.submit(Event.of("state", severity="medium",
                                     evidence={"source": "incident", "violation_seq": seq, "error": why},
                                     **said("record.msg.incident_not_written", seq=seq, error=why)))
            self.incidents = IncidentDrafts(write, on_error=failed)
        return self.incidents

    def setup(self) -> None:
        """Load config and policy, open the journal, start sinks and IPC. Raises AgentError."""
        self.config = load_config(self.paths.agent_config)
        self.policy = self.load_policy()
        self.journal = Journal.open(self.paths.journal, key_path=self.paths.journal_key, host=self.host)
        try:
            self.journal.check_witness()  # an older or emptied journal put back: refuse, never start anew
        except AgentError:
            self.journal._conn.close()  # as it is: no WAL fold, no new witness
            self.journal = None
            raise
        self.writer = JournalWriter(self.journal, max_spool=self.config.max_spool)
        self._restore_open_violations()
        self._start_sinks()
        self.ipc = IpcServer(self.paths.socket, {"status": self._ipc_status, "events": self._ipc_events,
                                                 "reload": self._ipc_reload, "ack": self._ipc_ack},
                             group=self.config.ipc_group).start()

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code."""
        try:
            self.setup()
        except AgentError as exc:
            if exc.kind == "integrity":  # the journal is not the one kept here: exit 4, nothing written
                log(2, f"refusing to start: {exc}", lines=True)
                sdnotify.notify(f"STATUS=refusing to start: {str(exc).splitlines()[0][:400]}", self.env)
                return 4
            log(2, f"cannot start: {exc}", lines=True)
            sdnotify.notify(f"STATUS=cannot start: {str(exc).splitlines()[0][:200]}", self.env)
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        signal.set_wakeup_fd(self._wfd, warn_on_full_buffer=False)
        head = self.journal.head()
        if head is not None and head.kind != "agent_stop":
            # the previous run did not stop cleanly: say so, the downtime is between these two times
            self.record(Event.of("gap", severity="high",
                        evidence={"previous_seq": head.seq, "previous_time": head.time, "previous_kind": head.kind},
                        **said("record.msg.unclean_stop", seq=head.seq, time=head.time)))
        pol = self.policy
        self.record(Event.of("agent_start", severity="info",
                    evidence={"pid": os.getpid(), "policy_sha256": pol.sha256, "profile": pol.profile,
                              "python": sys.version.split()[0], "host_id": self.host_id},
                    **said("record.msg.agent_started", policy=pol.sha256[:12], profile=pol.profile)))
        self.record(Event.of("policy_loaded", severity="info",
                    evidence={"ok": True, "sha256": pol.sha256, "profile": pol.profile,
                              "local_d": list(pol.tailoring_files)},
                    **said("record.msg.policy_loaded", policy=pol.sha256[:12], profile=pol.profile)))
        for s in self.sources:
            try:
                s.start(self._emits.get(id(s), lambda trigger: None))
            except Exception as exc:
                self.record(Event.of("gap", severity="high", evidence={"source": s.name, "error": str(exc)},
                            **said("record.msg.source_not_started", source=s.name, error=str(exc))))
        sdnotify.notify("READY=1\nSTATUS=watching", self.env)
        log(5, f"ready; journal {self.paths.journal}, socket {self.paths.socket}")
        try:
            self._loop()
        finally:
            self._shutdown()
        return 0

    def _loop(self) -> None:
        wd = sdnotify.watchdog_interval(self.env)
        hb = self.config.heartbeat_seconds
        next_hb = time.monotonic() + hb
        next_wd = time.monotonic()
        next_retention = time.monotonic() + 60 if self.config.retention_days else None
        while not self._stop:
            now = time.monotonic()
            deadlines = [next_hb]
            if wd:
                deadlines.append(next_wd)
            if self.writer.pending or self.writer.dropped:
                deadlines.append(now + 5.0)
            if next_retention:
                deadlines.append(next_retention)
            timeout = max(0.0, min(deadlines) - now)
            try:
                ready, _, _ = select.select([self._rfd], [], [], timeout)
            except InterruptedError:
                ready = []
            if ready:
                try:
                    while os.read(self._rfd, 4096):
                        pass
                except BlockingIOError:
                    pass
            while True:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                self._busy_job = getattr(job, "job", None)
                self._busy_since = time.monotonic()
                try:
                    job()
                finally:
                    self._busy_since = None
            if self._stop:
                break
            if self._reload:
                self._reload = False
                self.reload()
                hb = self.config.heartbeat_seconds
            now = time.monotonic()
            if self.writer.pending or self.writer.dropped:
                self._journaled(self.writer.flush())
            self._check_sources()
            if now >= next_hb:
                self.last_heartbeat = now_iso()
                # the head before this record, witnessed in every sink (and in journal.head)
                head = self._note_head()
                self.record(Event.of("heartbeat", evidence={"uptime_s": round(now - self.started_mono),
                                                            "open_violations": len(self.open_violations),
                                                            **({"head": head} if head else {})}))
                next_hb = now + hb
            if next_retention and now >= next_retention:
                self._retention()
                next_retention = now + 24 * 3600
            if wd and now >= next_wd:
                # pinged from the loop itself: a hung loop stops the pings and systemd restarts us
                sdnotify.notify("WATCHDOG=1", self.env)
                self.watchdog_pings += 1
                next_wd = now + wd

    def _note_head(self) -> Optional[dict]:
        try:
            return self.journal.note_head()
        except AgentError as exc:
            log(4, f"journal head: {exc}")
            try:
                return self.journal.current_head()
            except Exception:
                return None

    def _retention(self) -> None:
        try:
            rec = self.journal.retention(self.config.retention_days)
        except AgentError as exc:
            log(3, f"retention: {exc}")
            return
        if rec is not None:
            self._journaled([rec])

    def _check_sources(self) -> None:
        for s in self.sources:
            if s.name in self._dead_sources:
                continue
            if not _safe_alive(s):
                self._dead_sources.add(s.name)
                self.record(Event.of("gap", severity="high", evidence={"source": s.name},
                            **said("record.msg.source_stopped", source=s.name)))

    def _shutdown(self) -> None:
        sdnotify.notify("STOPPING=1", self.env)
        for s in self.sources:
            try:
                s.stop()
            except Exception as exc:
                log(4, f"stopping source {s.name}: {exc}")
        if self.ipc is not None:
            self.ipc.stop()
        self.record(Event.of("agent_stop", severity="info", evidence={"uptime_s": round(time.monotonic() - self.started_mono)},
                    **said("record.msg.agent_stopped")))
        if self.sinks is not None:
            self.sinks.stop(timeout=5.0)
        if self.writer.pending:
            log(2, f"{self.writer.pending} event(s) could not be journaled before exit: {self.writer.last_error}")
        self.journal.close()


def _violation_fingerprint(r: Record) -> str:
    """The engine's fingerprint of a journaled (or provisional) violation, from its evidence items."""
    from .engine import fingerprint
    ev = r.evidence if isinstance(r.evidence, Mapping) else {}
    items = ev.get("items")
    return fingerprint(x for x in (items if isinstance(items, list) else []) if isinstance(x, Mapping))


def _details(s: Source) -> dict[str, Any]:
    """A source's own account for ``bmnn status`` (``details()``, optional), never an exception."""
    fn = getattr(s, "details", None)
    if fn is None:
        return {}
    try:
        return {"details": fn()}
    except Exception as exc:
        return {"details": {"error": f"{type(exc).__name__}: {exc}"}}


def _safe_alive(s: Source) -> bool:
    try:
        return bool(s.alive())
    except Exception:
        return False


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``bmnn-agent`` / ``python -m bmnn_guard.agent``."""
    from .paths import from_env
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print("usage: bmnn-agent\n\nThe bmnn-guard daemon. Paths: BMNN_CONFIG_DIR, BMNN_STATE_DIR, BMNN_RUNTIME_DIR,"
              " BMNN_LOG_DIR; policy: BMNN_POLICY_DIR. Run it under systemd (bmnn-agent.service).")
        return 0
    if args:
        print(f"bmnn-agent: unexpected argument {args[0]!r}", file=sys.stderr)
        return 1
    return Daemon(from_env()).run()
