"""udev: devices arriving and leaving, with a pyudev Monitor in our own read loop.

Not ``MonitorObserver``: its thread dies on any error, ENOBUFS included, and nobody notices.
Here a lost-events error becomes a gap trigger and the loop goes on. Filtering by subsystem
is done in Python (pyudev's filters are OR-ed and cannot express what we need).
"""

from __future__ import annotations

import errno

from .base import Emit, KernelSource, Trigger

DOMAIN_OF = {"usb": ("devices",), "block": ("devices",), "video4linux": ("devices",), "sound": ("devices",),
             "bluetooth": ("devices", "network"), "net": ("network",), "rfkill": ("network",), "mmc": ("devices",)}


class UdevSource(KernelSource):
    """Triggers the devices and network domains on udev events of the subsystems rules read."""

    name = "udev"
    domains = ("devices",)

    def __init__(self, rcvbuf: int = 4 << 20, netlink_source: str = "auto"):
        super().__init__()
        self.rcvbuf = rcvbuf
        self.netlink_source = netlink_source
        self.monitor = None

    def _open(self) -> None:
        import os
        import pyudev
        context = pyudev.Context()
        source = self.netlink_source
        if source == "auto":
            # Events processed by udevd carry the properties we want; without a running udevd
            # (containers, early boot) only the kernel's raw uevents arrive, and they still tell
            # us which domain to re-read.
            source = "udev" if os.path.exists("/run/udev/control") else "kernel"
        self.netlink_source = source
        monitor = pyudev.Monitor.from_netlink(context, source=source)
        try:
            monitor.set_receive_buffer_size(self.rcvbuf)
        except (OSError, EnvironmentError):
            pass  # needs CAP_NET_ADMIN beyond rmem_max; the default buffer still works
        monitor.start()
        self.monitor = monitor

    def _run(self, emit: Emit) -> None:
        monitor = self.monitor
        while self._wait(monitor.fileno()):
            while True:
                try:
                    device = monitor.poll(timeout=0)
                except OSError as exc:
                    if exc.errno == errno.ENOBUFS:
                        self.gaps += 1
                        emit(Trigger(self.name, "devices", "gap", {"reason": "udev monitor buffer overflowed (ENOBUFS)"}))
                        continue
                    raise
                if device is None:
                    break
                subsystem = device.subsystem or ""
                domains = DOMAIN_OF.get(subsystem)
                if not domains:
                    continue
                self.events += 1
                detail = {"action": device.action, "subsystem": subsystem, "devtype": device.device_type,
                          "sys_path": device.sys_path}
                for domain in domains:
                    emit(Trigger(self.name, domain, "change", detail))
