"""Collectors: read the real machine and return the fact dataclasses of ``bmnn_guard.policies.facts``.

One module per domain; each ``collect_<domain>()`` catches its own read failures and records them
as ``CollectionError`` in the domain's ``errors`` (so a check reading it reports ``error``), and
never judges what it reads. ``collect_all`` runs the requested domains and lists them in
``Facts.collected``. The ``documents`` domain is the content scanner's, not collected here.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Optional

from bmnn_guard.policies.facts import (AgentHealth, CollectionError, DeviceFacts, Facts, FolderFacts, HostFacts, NetworkFacts,
                            SoftwareFacts, StorageFacts)

from ._common import describe
from .agent import collect_agent
from .devices import collect_devices
from .folders import collect_folders
from .host import collect_host
from .network import collect_network
from .probe import probe
from .software import collect_software
from .storage import collect_storage

DOMAINS = ("host", "network", "devices", "software", "storage", "folders", "agent")
"""Domains collected here, in collection order."""

_EMPTY = {"host": HostFacts, "network": NetworkFacts, "devices": DeviceFacts, "software": SoftwareFacts,
          "storage": StorageFacts, "folders": FolderFacts, "agent": AgentHealth}

Progress = Callable[[str, bool], Any]

__all__ = ["DOMAINS", "collect_all", "collect_agent", "collect_devices", "collect_folders", "collect_host",
           "collect_network", "collect_software", "collect_storage", "probe"]


def collect_all(*, domains: Optional[Iterable[str]] = None, marked_folders: Iterable[Any] = (),
                probe_hosts: Iterable[Any] = (), progress: Optional[Progress] = None,
                journal_check: Optional[Callable[[], Any]] = None) -> Facts:
    """Collect ``domains`` (default: all of DOMAINS) from this machine.

    ``marked_folders``: the tailoring's declared folders (``MarkedFolderDecl``, mappings with
    ``path``/``owner``, or paths). ``probe_hosts``: the tailoring's probe hosts (``ProbeHost``,
    ``(host, port)`` or ``"host:port"``); none means no probe is sent at all. ``progress``:
    called as ``progress(domain, False)`` before and ``progress(domain, True)`` after each domain.
    Unknown domain names raise ValueError; ``documents`` is accepted and left uncollected.
    ``journal_check``: returns (verified, last heartbeat, problem) for AGT-001; the journal lives in
    the agent layer, which this layer may not import, so the caller hands the check in.
    """
    wanted = DOMAINS if domains is None else tuple(domains)
    unknown = [d for d in wanted if d not in DOMAINS and d != "documents"]
    if unknown:
        raise ValueError(f"unknown domain(s): {', '.join(unknown)}; known: {', '.join(DOMAINS)}")
    folders, probes = tuple(marked_folders), tuple(probe_hosts)
    runners: dict[str, Callable[[], Any]] = {
        "host": collect_host,
        "network": lambda: collect_network(probe_hosts=probes),
        "devices": collect_devices,
        "software": collect_software,
        "storage": collect_storage,
        "folders": lambda: collect_folders(folders),
        "agent": lambda: collect_agent(journal_check=journal_check),
    }
    values: dict[str, Any] = {}
    collected = []
    for name in DOMAINS:
        if name not in wanted:
            continue
        if progress:
            progress(name, False)
        try:
            values[name] = runners[name]()
        except Exception as exc:  # a collector bug must not abort the scan nor pass silently
            values[name] = _EMPTY[name](errors=(CollectionError(source=f"collector {name}",
                                                                message=f"internal error: {describe(exc)}"),))
        collected.append(name)
        if progress:
            progress(name, True)
    return Facts(**values, collected=tuple(collected))
