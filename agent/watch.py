"""The live watch: event sources -> engine -> journal -> sinks, plugged into the Daemon.

Sources (rtnetlink, udev, the marked folders) run in their own threads and only say which fact
domain changed. The watcher coalesces their triggers and, on the daemon's main loop, re-reads
those domains with the same collectors as ``bmnn scan``, evaluates with the same evaluator, and
journals what opened or cleared. A lost-events trigger (ENOBUFS, inotify overflow, a dead source)
is journaled as a ``gap`` and followed by a full re-read. A periodic full reconcile (default
every 5 minutes) catches anything else. File events in marked folders are journaled with path,
type, size, owner and the SHA-256 of the content once the write is closed, described off the main
loop without following any link (agent/filemeta.py); the content itself never leaves the machine. New files there and on every mounted removable medium are scanned for
secrecy stamps and copies out by the content watch (agent/content.py), off the main loop.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any, Optional

from .engine import Engine
from .event import Event
from .wording import said
from .filemeta import DEFAULT_LIMIT, FileEvents
from .latency import latency_ms
from .membership import UeventMembership
from .sources.base import Trigger
from .throttle import Throttle

FOLDER_REFRESH_S = 1.0
"""File events re-read the marked folders' facts at most this often, off the main loop
(agent/throttle.py); a slower read stretches the interval to ten times its own length."""
DEVICE_REREAD_S = 0.05
"""After a USB device was judged from its uevent, the full re-read of the devices waits until no
uevent came for this long: more uevents of the same plug-in (its interfaces, its disk and
partitions) and the next device are judged first, each in milliseconds, and the ~10 ms re-read
never sits in front of them on the main loop."""
DEVICE_REREAD_MAX_S = 1.0
"""...but never later than this after the first judgement it reconciles (a stream of uevents
does not postpone the re-read for ever)."""
MAX_BATCH_TRIGGERS = 4096
"""Change triggers kept per batch for latency figures (a netlink flood must not grow memory)."""


class _Reconciler:
    """A Source: a timer thread asking for a full re-read every ``interval()`` seconds."""

    name = "reconcile"

    def __init__(self, interval, checkpoint):
        self.interval, self.checkpoint = interval, checkpoint
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def start(self, emit) -> None:
        self._thread = threading.Thread(target=self._run, args=(emit,), name="bmnn-reconcile", daemon=True)
        self._thread.start()

    def _run(self, emit) -> None:
        while not self._stop.wait(self.interval()):
            emit(Trigger("reconcile", "*", "change", {"reason": "periodic full reconcile"}))
            self.checkpoint()  # keeps the folder index's replay at the next start short

    def stop(self) -> None:
        self._stop.set()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


class _Folders:
    """A Source: the marked folders' inotify watch, following the policy in force."""

    name = "folders"

    def __init__(self, marked):
        self.marked = marked
        self.inner = None
        self.paths: tuple[str, ...] = ()
        self._emit = None

    def start(self, emit) -> None:
        self._emit = emit
        self.retarget(self.marked())

    def retarget(self, paths) -> None:
        """Watch exactly ``paths`` (a new FolderSource when they changed)."""
        from .sources.folders import FolderSource
        paths = tuple(paths)
        if paths == self.paths or self._emit is None:
            return
        old, self.inner, self.paths = self.inner, None, paths
        if old is not None:
            old.stop()
        if paths:
            src = FolderSource(list(paths))
            src.start(self._emit)
            self.inner = src

    def stop(self) -> None:
        if self.inner is not None:
            self.inner.stop()

    def alive(self) -> bool:
        return not self.paths or (self.inner is not None and self.inner.alive())


class _Content:
    """A Source: the content watch, started once agent.yaml has been read."""

    name = "content"

    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def start(self, emit) -> None:
        cfg = getattr(self.watcher.host.config(), "content", None)
        if cfg is not None and not cfg.enabled:
            return
        self.watcher.start_content(workers=cfg.workers if cfg is not None else 1,
                                   media=cfg.media if cfg is not None else True)

    def stop(self) -> None:
        self.watcher.stop_content()

    def alive(self) -> bool:
        c = self.watcher.content
        return c is None or c.alive()


class _Access:
    """A Source: who did it (agent/actors.py), started once agent.yaml has been read."""

    name = "access"

    def __init__(self, watcher: "Watcher"):
        self.watcher = watcher

    def start(self, emit) -> None:
        w = self.watcher
        if not getattr(w.host.config(), "who_did_it", True):
            return
        from .actors import Actors
        host = w.host

        def stamped(path: str):
            c = w.content
            f = c.findings.get(path) if c is not None else None
            return f if f is not None and (f.level or f.copy_of) else None
        def copy_of(sha256: str, size: int):
            c = w.content
            return c.index.source_of(sha256, size) if c is not None else None
        w.actors = Actors(marked=w.marked_paths, stamped=stamped, copy_of=copy_of,
                          record=lambda ev: host.call_soon(lambda: host.record(ev)))
        w.actors.start(emit)

    def stop(self) -> None:
        if self.watcher.actors is not None:
            self.watcher.actors.stop()

    def alive(self) -> bool:
        a = self.watcher.actors
        return a is None or a.alive()

    def details(self) -> dict[str, Any]:
        """For ``bmnn status``: whether fanotify is in use, why not, what is not marked."""
        a = self.watcher.actors
        if a is None:
            return {"available": False, "reason": "who_did_it: false"}
        st = a.status()
        return {k: st.get(k) for k in ("available", "reason", "error", "unmarked", "process", "events", "kept",
                                       "overflows") if k in st}


class Watcher:
    """Owns the engine; everything that touches it runs on the daemon's main loop."""

    def __init__(self, host, *, reconcile_seconds: float = 300.0, sources: Optional[list] = None):
        self.host = host
        """bmnn_guard.agent.daemon.WatchHost: all the watch uses of the daemon."""
        self.reconcile_seconds = reconcile_seconds
        self.engine: Optional[Engine] = None
        self._policy_sha: Optional[str] = None
        self._lock = threading.Lock()
        self._pending: set[str] = set()
        self._gaps: list[Trigger] = []
        self._files: list[Trigger] = []
        self._changes: list[Trigger] = []  # the change triggers of this batch, for latency_ms
        self._uevents: list[Trigger] = []  # the udev triggers of this batch, in order
        self._scheduled = False
        self.devices = UeventMembership()
        self._refresh_folders = Throttle(self._read_folders, FOLDER_REFRESH_S)
        self._reread_timer: Optional[threading.Timer] = None
        self._reread_due: Optional[float] = None  # time.monotonic() by which the deferred re-read runs
        self.files = FileEvents(lambda evs: host.call_soon(lambda: host.record(evs)),
                                journal_now=host.record, content=lambda: self.content,
                                on_overflow=self._files_lost,
                                limit=lambda: int(getattr(host.config(), "hash_max_bytes", DEFAULT_LIMIT)),
                                actors=lambda: self.actors)
        self.actors = None  # agent.actors.Actors once started (agent.yaml who_did_it)
        self.last_latency_ms: Optional[float] = None
        """latency_ms of the last change journaled from a re-read."""
        self._sources = sources
        self.content = None  # agent.content.ContentWatch once started
        self._folders: Optional[_Folders] = None
        self._watch_media = True
        self._media: dict[str, Any] = {}  # mount point -> FolderSource watching it
        self.resync = None  # agent.resync.FolderResync once installed

    # ------------------------------------------------------------ wiring

    def install(self) -> None:
        """Register the sources with the daemon (before Daemon.run); follow its reloads."""
        register, emit = self.host.register_source, self.on_trigger
        for src in self._sources if self._sources is not None else self._default_sources():
            register(src, emit)
        self._folders = _Folders(self.marked_paths)
        register(self._folders, emit)
        register(self.files, emit)
        self.resync = self._make_resync()
        register(self.resync, emit)  # after the folder watch: nothing falls between
        # agent.yaml is read in Daemon.setup(), before sources start: its value wins
        register(_Reconciler(lambda: float(getattr(self.host.config(), "reconcile_seconds", None)
                                           or self.reconcile_seconds),
                             lambda: self.resync.request("checkpoint")), emit)
        register(_Content(self), emit)
        register(_Access(self), emit)
        self.host.on_reload(self.policy_reloaded)
        # The first full read happens as soon as the main loop runs.
        self.on_trigger(Trigger("startup", "*", "change", {"reason": "initial full read"}))

    def _make_resync(self):
        from .resync import FolderResync
        host = self.host

        def journal(events):
            try:
                return host.call_soon(lambda: host.record(events)).result(timeout=120)
            except Exception:
                return []

        def records(since):
            from .journal import Journal
            j = Journal.open(host.paths.journal, readonly=True)
            try:
                yield from j.records(since_seq=since, kinds=("file",))
            finally:
                j.close()

        def head():
            from .journal import Journal
            j = Journal.open(host.paths.journal, readonly=True)
            try:
                return j.stats()["head_seq"] or 0
            finally:
                j.close()

        return FolderResync(str(host.paths.state_dir / "folder-index.json"), folders=self.marked_paths,
                            journal=journal, records=records, head=head,
                            limit=lambda: self.files.limit)

    def _default_sources(self) -> list:
        from .sources.mounts import MountSource
        from .sources.netlink import NetlinkSource
        from .sources.udev import UdevSource
        return [NetlinkSource(), UdevSource(), MountSource()]

    def marked_paths(self) -> list[str]:
        """The marked folders of the policy in force that exist."""
        return [m.path for m in self._tailoring().marked_folders if os.path.isdir(m.path)]

    def _tailoring(self):
        from bmnn_guard.policies.schema import Tailoring
        pol = self.host.policy()
        if pol is None:
            from bmnn_guard.policies.loader import load_bundle, load_tailoring
            try:
                return load_tailoring(self.host.paths.local_d, load_bundle(self.host.policy_dir)).tailoring
            except Exception:
                return Tailoring()
        return pol.tailoring

    # ------------------------------------------------------------ any thread

    def on_trigger(self, trigger: Trigger) -> None:
        """Queue a trigger (from a source thread) and make sure the main loop will process it."""
        with self._lock:
            if trigger.kind == "gap":
                self._gaps.append(trigger)
                self._pending.add("*")
            elif trigger.kind == "file":
                self._files.append(trigger)
                if trigger.domain != "documents":
                    self._refresh_folders.poke()  # the folder facts: once a second at most
            else:
                self._pending.add(trigger.domain)
            if trigger.kind != "file" and len(self._changes) < MAX_BATCH_TRIGGERS:
                self._changes.append(trigger)
            if trigger.source == "udev":
                self._uevents.append(trigger)
            if self._scheduled:
                return
            self._scheduled = True
        self.host.call_soon(self.process)

    def _read_folders(self) -> None:
        """Throttle thread: re-read the marked folders' facts here (a walk of every file in them),
        judge them on the main loop. A big folder written into fast never keeps the loop walking."""
        if self.host.policy() is None:
            return
        try:
            facts = self._collect(("folders",))
        except Exception:  # let the main loop's own re-read report it as it always does
            self.on_trigger(Trigger("folders", "folders", "change", {"reason": "file events"}))
            return
        self.host.call_soon(lambda: self._judge_read(facts, ("folders",)))

    def _judge_read(self, facts, wanted: tuple[str, ...]) -> None:
        engine = self._ensure_engine()
        if engine is None:
            return
        try:
            events = engine.update(facts, wanted)
        except Exception as exc:
            self.host.record(Event.of("gap", severity="high", evidence={"source": "engine", "error": repr(exc)},
                               **said("record.msg.gap_judging", domains=", ".join(wanted), error=str(exc))))
            return
        for ev in events:
            self._journal(ev)

    def _files_lost(self, n: int) -> None:
        self.on_trigger(Trigger("folders", "folders", "gap",
                                {"reason": f"{n} file event(s) lost: more than the file-event queue holds"}))

    def policy_reloaded(self) -> None:
        """After a successful reload: a full re-read and judgement under the new policy (which also
        moves the folder watch and the content scan to the newly marked folders)."""
        if self.actors is not None:
            self.actors.set_marked(self.marked_paths())
        self.on_trigger(Trigger("reload", "*", "change", {"reason": "policy reloaded"}))

    # ------------------------------------------------------------ main loop

    def process(self) -> None:
        """Journal gaps and file events, re-read the changed domains, journal what changed."""
        with self._lock:
            pending, self._pending = self._pending, set()
            gaps, self._gaps = self._gaps, []
            files, self._files = self._files, []
            changes, self._changes = self._changes, []
            uevents, self._uevents = self._uevents, []
            self._scheduled = False
        # the attached devices follow exactly the uevents of this batch: one read by the udev
        # thread during the re-read below belongs to the next batch, and is judged there
        for u in uevents:
            if u.kind == "gap":
                self.devices.forget()
            else:
                self.devices.note(u.detail)
        for g in gaps:
            self.host.record(Event.of("gap", severity="high", evidence={"source": g.source, **dict(g.detail)},
                               **said("record.msg.gap_source", source=g.source, reason=g.detail.get("reason"))))
            if g.source == "folders" and self.resync is not None:  # what the lost events hid
                self.resync.request("gap")
            if self.content is not None and g.source in ("media", "folders"):
                self.content.rescan(self.content.media if g.source == "media" else self.content.marked)
        if files:  # described, hashed and journaled off this loop, in order
            self.files.submit([dict(t.detail) for t in files])
        if not pending:
            return
        engine = self._ensure_engine()
        if engine is None:
            return
        if uevents and not gaps and "*" not in pending:
            judged = self._judge_uevents(engine, uevents)
            # the full re-read reconciles, off the path of the next uevent: also for the uevents
            # the fast path leaves alone (a disk, a partition) while a re-read is on its way
            if pending <= {"devices"} and (judged or self._reread_due is not None):
                self._reread_devices_later()
                return
        domains = () if "*" in pending else tuple(sorted(pending))
        try:
            events = engine.refresh(domains)
        except Exception as exc:  # a collector or policy bug must be visible and must not kill the loop
            self.host.record(Event.of("gap", severity="high", evidence={"source": "engine", "error": repr(exc)},
                               **said("record.msg.gap_reread", domains=", ".join(domains) or "*", error=str(exc))))
            return
        self._journal_caused(events, changes)
        if "*" in pending or "devices" in pending:
            self._sync_media(engine.facts.devices)
        self.host.reconciled()

    def _reread_devices_later(self) -> None:
        """(Re-)arm the deferred full re-read: ``DEVICE_REREAD_S`` after this uevent, at most
        ``DEVICE_REREAD_MAX_S`` after the first one it follows."""
        now = time.monotonic()
        with self._lock:
            if self._reread_due is None:
                self._reread_due = now + DEVICE_REREAD_MAX_S
            old = self._reread_timer
            timer = self._reread_timer = threading.Timer(max(0.0, min(DEVICE_REREAD_S, self._reread_due - now)),
                                                         self._reread_devices)
            timer.daemon = True
        if old is not None:
            old.cancel()
        timer.start()

    def _reread_devices(self) -> None:
        with self._lock:
            if self._reread_timer is not threading.current_thread():
                return  # re-armed meanwhile: the newer timer reads
            self._reread_timer = self._reread_due = None
        self.on_trigger(Trigger("watch", "devices", "change", {"reason": "re-read after a device judged from its uevent"}))

    def _judge_uevents(self, engine: Engine, uevents: list[Trigger]) -> bool:
        """A USB device plugged in or removed, judged from its uevent before the full re-read.

        The event names the device (its sys path); only that device is read (sysfs and the udev
        database, as the full read reads it: ``collect_usb_device``), merged into the last device
        facts, and the device checks judged: the violation is journaled (and enforced) in a few
        milliseconds instead of after a re-enumeration of every device and blkid. The full
        re-read follows later (``DEVICE_REREAD_S``) and reconciles: it finds the same facts (no
        second record), or corrects them. A device is read once a batch, whichever of its
        uevents (the device's, its interfaces') names it. A removal drops the devices at and
        below its path. Anything unexpected leaves the judgement to the full re-read. True when
        a device was judged here."""
        from bmnn_guard.scanner.collect.devices import collect_usb_device

        from .membership import ADD_ACTIONS, REMOVE_ACTIONS, _under
        if "devices" not in engine.facts.collected:
            return False  # nothing judged yet to merge into: the full read comes first
        usb = {d.sys_path: d for d in engine.facts.devices.usb}
        read: list[str] = []  # devices read in this batch
        changed = False
        try:
            for u in uevents:
                d = u.detail
                path = d.get("sys_path")
                if d.get("subsystem") != "usb" or not isinstance(path, str) or not path:
                    continue
                if d.get("action") in REMOVE_ACTIONS:
                    gone = [p for p in usb if _under(p, path)]
                    for p in gone:
                        del usb[p]
                    read = [p for p in read if not _under(p, path)]  # plugged in again: read again
                    changed = changed or bool(gone)
                elif d.get("action") in ADD_ACTIONS:
                    if any(_under(path, p) for p in read):
                        continue  # an interface of a device read in this batch, as it is now
                    dev = collect_usb_device(path)
                    if dev is not None:
                        read.append(dev.sys_path)
                    if dev is not None and usb.get(dev.sys_path) != dev:
                        usb[dev.sys_path] = dev
                        changed = True
            if not changed:
                return False
            devices = dataclasses.replace(engine.facts.devices, usb=tuple(usb[p] for p in sorted(usb)))
            events = engine.update(dataclasses.replace(engine.facts, devices=devices), ("devices",))
        except Exception:  # the full re-read below judges it, and reports what fails there
            return False
        self._journal_caused(events, uevents)
        return True

    def _journal_caused(self, events: list[Event], triggers: list[Trigger]) -> None:
        """Journal ``events`` with the latency from the trigger that caused each."""
        now = time.monotonic()
        for ev in events:
            ms = latency_ms(triggers, ev.kind, ev.evidence, now)
            if ms is not None:
                self.last_latency_ms = ms
            self._journal(ev, ms)

    def _ensure_engine(self) -> Optional[Engine]:
        pol = self.host.policy()
        if pol is None:
            return None
        from bmnn_guard.policies.context import build_context
        from bmnn_guard.scanner import registry
        try:
            approved = registry.identities(registry.load(str(self.host.paths.config_dir)))
        except Exception as exc:
            from bmnn_guard.policies.errors import PolicyError
            text = exc.redacted() if isinstance(exc, PolicyError) else str(exc)  # never the file's content
            self.host.record(Event.of("state", severity="high", evidence={"error": text[:4000]},
                               **said("record.msg.registry_unreadable", error=(text.splitlines() or [""])[0][:300])))
            approved = []
        context = build_context(pol.tailoring, approved)
        if self.engine is None:
            self.engine = Engine(pol.bundle, pol.tailoring, context, profile=pol.profile, collect=self._collect)
            try:  # the first plug-in judged from its uevent as fast as the next ones
                from bmnn_guard.scanner.collect.devices import warm_usb_device
                warm_usb_device()
            except Exception:
                pass
            # violations still open in the journal stay open, without being journaled again
            self.engine.restore(self.host.open_fingerprints())
        elif self._policy_sha != pol.sha256 or self.engine.tailoring != pol.tailoring or self.engine.context != context:
            folders_changed = self.engine.tailoring.marked_folders != pol.tailoring.marked_folders
            self.engine.reconfigure(pol.bundle, pol.tailoring, context, pol.profile)
            if folders_changed:  # a reload marked or unmarked folders
                marked = self.marked_paths()
                if self._folders is not None:
                    self._folders.retarget(marked)
                if self.content is not None:
                    self.content.set_marked(marked)
                if self.resync is not None:  # a newly marked folder is taken as a baseline
                    self.resync.request("reload")
        self._policy_sha = pol.sha256
        return self.engine

    def _collect(self, domains):
        from bmnn_guard.scanner.collect import collect_all
        from .journal import health_check
        t = self.host.policy().tailoring
        facts = collect_all(domains=domains, marked_folders=tuple(t.marked_folders), probe_hosts=tuple(t.probe_hosts),
                            journal_check=lambda: health_check(str(self.host.paths.journal)))
        if "devices" in facts.collected and self.engine is not None:
            from bmnn_guard.policies.facts import DOMAINS
            full = set(domains) >= set(DOMAINS) - {"documents"}
            facts = dataclasses.replace(facts, devices=self.devices.apply(facts.devices, self.engine.facts.devices,
                                                                          full=full))
        return facts

    def _journal(self, ev: Event, latency: Optional[float] = None) -> None:
        if latency is not None:
            ev = ev.with_evidence(latency_ms=latency)
        self.host.record(ev)
        if ev.kind == "violation":
            self._enforce(ev)

    # ------------------------------------------------------------ documents

    def start_content(self, *, workers: int = 1, media: bool = True) -> None:
        """Start the content watch (from the daemon, once agent.yaml is read)."""
        from .content import ContentWatch
        host = self.host
        self._watch_media = media
        self.content = ContentWatch(
            deliver=lambda facts: host.call_soon(lambda: self._on_documents(facts)), workers=workers,
            on_error=lambda msg: host.call_soon(lambda: host.record(Event.of(
                "gap", severity="high", evidence={"source": "content", "error": msg},
                **said("record.msg.gap", error=msg)))),
            cache_path=str(host.paths.state_dir / "content-cache.json"))
        self.content.start(self.marked_paths(), ())

    def stop_content(self) -> None:
        for src in self._media.values():
            src.stop()
        self._media.clear()
        if self.content is not None:
            self.content.stop()

    def _on_documents(self, facts) -> None:
        """Main loop: judge the checks reading the documents domain against the content watch's findings."""
        engine = self._ensure_engine()
        if engine is None:
            return
        for ev in engine.set_documents(facts):
            self._journal(ev)

    def _sync_media(self, devices) -> None:
        """Watch and scan each mounted removable medium; forget those that went away."""
        if self.content is None or not self._watch_media:
            return
        from bmnn_guard.scanner.media import removable_mountpoints
        from .sources.folders import FolderSource
        # the device facts may predate an unmount (attached devices follow the uevents between
        # full re-reads, and an unmount sends none): a medium counts only while it is a mount point
        mounted = [mp for mp in removable_mountpoints(devices) if os.path.ismount(mp)]
        # a medium still mounted stays watched even when this devices read missed it (an error)
        mounted += [mp for mp in self._media if mp not in mounted and os.path.ismount(mp)]
        if self.actors is not None and sorted(mounted) != sorted(self._media):
            self.actors.set_media(mounted)
        for mp in [m for m in self._media if m not in mounted]:
            self._media.pop(mp).stop()
            self.host.record(Event.of("media", evidence={"mountpoint": mp, "event": "unmounted"},
                               **said("record.msg.media_unmounted", mountpoint=mp)))
        for mp in [m for m in mounted if m not in self._media]:
            src = FolderSource([mp], name="media", domain="documents")
            try:
                src.start(self.on_trigger)
            except Exception as exc:  # cannot watch: still scanned once, and the gap is journaled
                self.host.record(Event.of("gap", severity="high", evidence={"source": "media", "mountpoint": mp,
                                                                     "error": str(exc)},
                                   **said("record.msg.gap_media", mountpoint=mp, error=str(exc))))
            self._media[mp] = src
            self.host.record(Event.of("media", evidence={"mountpoint": mp, "event": "mounted"},
                               **said("record.msg.media_mounted", mountpoint=mp)))
        self.content.set_media(mounted)

    # ------------------------------------------------------------ enforcement

    def _enforce(self, ev: Event) -> None:
        """``action: block`` in the tailoring does what the check's ``enforce:`` allows, to the
        items of its evidence (policies/loader.py checks that the evidence names them)."""
        actions = {a.check: a.action for a in self.host.policy().tailoring.actions}
        if actions.get(ev.check_id) != "block":
            return
        from . import enforce
        allowed = self.engine.enforcements(ev.check_id)
        done = []
        for item in ev.evidence.get("items", []):
            if "usb_deauthorize" in allowed and item.get("fact") == "devices.usb" and item.get("sys_path"):
                done += enforce.deauthorize_usb(item["sys_path"])
            elif "link_down" in allowed and item.get("fact") == "network.interfaces" and item.get("name"):
                done.append(enforce.link_down(item["name"]))
        for a in done:
            self.host.record(Event.of("enforced", check_id=ev.check_id, severity=ev.severity,
                               evidence={"target": a.target, "action": a.action, "ok": a.ok, "detail": a.detail},
                               **(said("record.msg.enforced_ok", action=a.action, target=a.target) if a.ok else
                                  said("record.msg.enforced_failed", action=a.action, target=a.target,
                                       detail=a.detail))))

    def close(self) -> None:
        self._refresh_folders.cancel()
        with self._lock:
            timer, self._reread_timer, self._reread_due = self._reread_timer, None, None
        if timer is not None:
            timer.cancel()
        self.files.stop()


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point of ``bmnn-agent``: the Daemon with the live watch installed."""
    import sys
    from .daemon import Daemon
    from .daemon import main as plain_main
    from .paths import from_env
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        return plain_main(args)
    return run_daemon(Daemon(from_env()))


def run_daemon(daemon) -> int:
    """Install the live watch on ``daemon`` and run it until SIGTERM (``bmnn-agent``, ``bmnn agent run``)."""
    watcher = Watcher(daemon.watch_host(), reconcile_seconds=float(os.environ.get("BMNN_RECONCILE_SECONDS", "300")))
    watcher.install()
    try:
        return daemon.run()
    finally:
        watcher.close()
