"""Which mounted filesystems are removable media: one answer for the scan and the daemon.

A medium is storage that can leave the room with a document on it: a block device the kernel
marks removable, anything on a USB, MMC/SD or FireWire bus, and a disk image attached as a loop
device (a file brought in and mounted is storage from outside the installation). Loop devices
carrying squashfs are left out: those are read-only software images (snaps), not media.
"""

from __future__ import annotations

from bmnn_guard.policies import facts as F

PORTABLE_BUSES = ("usb", "mmc", "sdio", "memstick", "firewire", "ieee1394")
NOT_MEDIA_FS = ("squashfs",)


def is_medium(b: F.BlockDevice) -> bool:
    """True when ``b`` is removable storage in the sense above."""
    if b.fs_type in NOT_MEDIA_FS:
        return False
    return bool(b.removable) or (b.bus or "") in PORTABLE_BUSES or b.name.startswith("loop")


def removable_mountpoints(devices: F.DeviceFacts) -> tuple[str, ...]:
    """Mount points of every mounted medium, in device order."""
    return tuple(dict.fromkeys(mp for b in devices.block if is_medium(b) for mp in b.mountpoints))
