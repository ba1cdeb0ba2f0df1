"""Device facts from udev and sysfs: USB devices with every interface, block devices, mounts,
cameras, microphones and Bluetooth controllers.

Classes are read from what the kernel and udev say (interface classes, drivers, subsystems,
udev properties), never from a list of known ids. pyudev's ``match_property`` filters are OR-ed,
so enumeration uses one subsystem at a time and everything else is filtered here, in Python.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
from typing import Optional

from bmnn_guard.policies.facts import BlockDevice, BluetoothController, CaptureDevice, DeviceFacts, Mount, UsbDevice, UsbInterface

from . import cellular
from ._common import Errors, parse_mountinfo, read_text

_PCM_CAPTURE = re.compile(r"^pcmC(\d+)D(\d+)c$")
_HCI = re.compile(r"^hci\d+$")


def udev_database_present() -> bool:
    """udev properties are available: udevd keeps /run/udev/data, or a umockdev testbed stands in for it."""
    return bool(os.environ.get("UMOCKDEV_DIR")) or os.path.isdir("/run/udev/data")


def _attr(dev, name: str) -> Optional[str]:
    try:
        value = dev.attributes.asstring(name)
    except (KeyError, UnicodeDecodeError, OSError, ValueError):
        return None
    value = value.strip()
    return value or None


def _hex(value: Optional[str], width: int) -> Optional[str]:
    if value is None:
        return None
    value = value.strip().lower()
    if value.startswith("0x"):
        value = value[2:]
    try:
        return f"{int(value, 16):0{width}x}"
    except ValueError:
        return value or None


def _driver(dev) -> Optional[str]:
    # the DRIVER property first: libudev's get_driver() drops it when the driver link is missing
    return dev.properties.get("DRIVER") or dev.driver or None


def _bus_of(dev) -> Optional[str]:
    """Bus of the hardware behind a device, from its sysfs ancestors."""
    for parent in dev.ancestors:
        sub = parent.subsystem
        if sub == "usb":
            return "usb"
        if sub in ("mmc", "sdio"):
            return "sdio" if dev.subsystem in ("net", "bluetooth") else "mmc"
        if sub in ("serial", "tty", "serial-base"):
            return "uart"
        if sub in ("pci", "platform", "nvme", "virtio", "acpi"):
            return sub
    if "/devices/virtual/" in dev.sys_path:
        return "virtual"
    return None


def _usb_parent(dev):
    try:
        return dev.find_parent("usb", "usb_device")
    except Exception:
        return None


# ---------------------------------------------------------------- USB


def _below(sys_path: str, devices: dict) -> Optional[str]:
    """The USB device (a key of ``devices``) whose sysfs directory holds ``sys_path``."""
    path = os.path.dirname(sys_path)
    while len(path) > 1:
        if path in devices:
            return path
        path = os.path.dirname(path)
    return None


def _usb_children(context, devices: dict) -> tuple[dict, dict]:
    """Per USB device: the (name, MAC) of its network interfaces, and whether a CD-ROM unit
    (SCSI type 5) sits on its mass-storage interface (absent: no unit seen)."""
    macs: dict[str, list] = {}
    cdrom: dict[str, bool] = {}
    for dev in context.list_devices(subsystem="net"):
        owner = _below(dev.sys_path, devices)
        mac = _attr(dev, "address") if owner else None
        if owner and mac:
            macs.setdefault(owner, []).append((dev.sys_name, mac))
    for dev in context.list_devices(subsystem="scsi"):
        if dev.device_type != "scsi_device":
            continue
        owner = _below(dev.sys_path, devices)
        if owner:
            cdrom[owner] = cdrom.get(owner, False) or _attr(dev, "type") == "5"
    return macs, cdrom


def _usb_build(dev, itfs: list, udev_db: bool) -> tuple[UsbDevice, Optional[str], Optional[str]]:
    """One USB device and its interfaces as sysfs and udev describe them (before the cellular
    judgement), with the hwdb name and manufacturer that judgement reads."""
    props = dev.properties
    ifaces = []
    mtp_iface = False
    for itf in sorted(itfs, key=lambda d: d.sys_path):
        cls = _hex(_attr(itf, "bInterfaceClass"), 2)
        if cls is None:
            continue
        ifaces.append(UsbInterface(
            number=_hex(_attr(itf, "bInterfaceNumber"), 2) or itf.sys_name.rsplit(".", 1)[-1],
            cls=cls, subclass=_hex(_attr(itf, "bInterfaceSubClass"), 2),
            protocol=_hex(_attr(itf, "bInterfaceProtocol"), 2), driver=_driver(itf)))
        if (_attr(itf, "interface") or "").strip().upper() in ("MTP", "PTP"):
            mtp_iface = True
    mtp: Optional[bool] = None
    if udev_db or mtp_iface:
        mtp = mtp_iface or any(props.get(k) not in (None, "", "0") for k in ("ID_MTP_DEVICE", "ID_MEDIA_PLAYER", "ID_GPHOTO2"))

    def num(name: str) -> Optional[int]:
        v = _attr(dev, name)
        try:
            return int(v) if v is not None else None
        except ValueError:
            return None

    manufacturer = _attr(dev, "manufacturer")
    usb = UsbDevice(
        sys_path=dev.sys_path,
        vendor_id=_hex(_attr(dev, "idVendor") or props.get("ID_VENDOR_ID"), 4),
        product_id=_hex(_attr(dev, "idProduct") or props.get("ID_MODEL_ID"), 4),
        vendor=manufacturer or props.get("ID_VENDOR_FROM_DATABASE") or props.get("ID_VENDOR"),
        product=_attr(dev, "product") or props.get("ID_MODEL_FROM_DATABASE") or props.get("ID_MODEL"),
        serial=_attr(dev, "serial") or props.get("ID_SERIAL_SHORT"),
        device_class=_hex(_attr(dev, "bDeviceClass"), 2),
        interfaces=tuple(ifaces), mtp=mtp, busnum=num("busnum"), devnum=num("devnum"))
    return usb, props.get("ID_MODEL_FROM_DATABASE"), manufacturer


def _usb(context, udev_db: bool, errors: Errors) -> list[UsbDevice]:
    devices, interfaces = {}, {}
    for dev in context.list_devices(subsystem="usb"):
        dtype = dev.device_type
        if dtype == "usb_device":
            devices[dev.sys_path] = dev
        elif dtype == "usb_interface":
            interfaces.setdefault(os.path.dirname(dev.sys_path), []).append(dev)
    table = None
    if any(not d.sys_name.startswith("usb") for d in devices.values()):
        try:
            table = cellular.load_table()
        except cellular.TableError as exc:
            errors.add("cellular id table", f"{exc}: cellular modems known only by their id are not recognised",
                       "devices.usb.cellular_evidence")
    built = []
    for path, dev in sorted(devices.items()):
        if dev.sys_name.startswith("usb"):
            continue  # root hub: the host controller, not an attached device
        built.append(_usb_build(dev, interfaces.get(path, []), udev_db))
    return _judged(context, devices, built, table)


def _judged(context, devices: dict, built: list, table) -> list[UsbDevice]:
    """The built devices with the cellular judgement applied."""
    # MACs and CD-ROM units matter only beside a USB network function: enumerate them only then
    needed = any(cellular.net_function(i) for usb, _, _ in built for i in usb.interfaces)
    macs, cdrom = _usb_children(context, devices) if needed else ({}, {})
    out = []
    for usb, hwdb_name, manufacturer in built:
        verdict = cellular.judge(usb, table=table, macs=macs.get(usb.sys_path, ()), cdrom=cdrom.get(usb.sys_path),
                                 hwdb_name=hwdb_name, manufacturer=manufacturer)
        if verdict is not None:
            usb = dataclasses.replace(usb, cellular=verdict.mode, cellular_evidence=verdict.evidence)
        out.append(usb)
    return out


_CONTEXT = None


def _context():
    """One libudev context for ``collect_usb_device`` (making one costs ~3 ms; it is called from
    the daemon's main loop only)."""
    global _CONTEXT
    if _CONTEXT is None:
        import pyudev
        _CONTEXT = pyudev.Context()
    return _CONTEXT


def warm_usb_device() -> None:
    """Make the first ``collect_usb_device`` as fast as the next ones (the libudev context, the
    cellular id table): the daemon calls it when it starts watching."""
    _context()
    try:
        cellular.load_table()
    except cellular.TableError:
        pass  # collect_usb_device then leaves the judgement to the full read


def collect_usb_device(sys_path: str) -> Optional[UsbDevice]:
    """The one USB device at ``sys_path`` or above it (a uevent's device: the stick itself, or one
    of its interfaces), read exactly as ``collect_devices`` reads it, so that the daemon can judge
    a plug-in from its uevent before the full re-read (which then finds the same facts and
    journals nothing twice). None when it is gone, is a root hub, or cannot be read as the full
    read would (the cellular id table refused): the full re-read of the same batch judges it."""
    import pyudev

    context = _context()
    try:
        dev = pyudev.Devices.from_sys_path(context, sys_path)
        while dev is not None and not (dev.subsystem == "usb" and dev.device_type == "usb_device"):
            dev = dev.parent
        if dev is None or dev.sys_name.startswith("usb"):
            return None
        # its interfaces are the entries "<device>:<config>.<n>" of its sysfs folder (cheaper than
        # an enumeration of its children, which walks the subtree)
        itfs = []
        for name in sorted(os.listdir(dev.sys_path)):
            if name.startswith(dev.sys_name + ":"):
                itf = pyudev.Devices.from_sys_path(context, os.path.join(dev.sys_path, name))
                if itf.subsystem == "usb" and itf.device_type == "usb_interface":
                    itfs.append(itf)
    except (pyudev.DeviceNotFoundError, OSError, ValueError):
        return None  # gone while read: its remove uevent follows
    try:
        table = cellular.load_table()
    except cellular.TableError:
        return None
    built = [_usb_build(dev, itfs, udev_database_present())]
    return _judged(context, {dev.sys_path: dev}, built, table)[0]


# ---------------------------------------------------------------- block


def _blkid(nodes: list[str], errors: Errors) -> dict[str, dict[str, str]]:
    """Filesystem signatures by low-level probing, for when no udev database holds them."""
    if not nodes:
        return {}
    tool = shutil.which("blkid") or ("/sbin/blkid" if os.path.exists("/sbin/blkid") else None)
    if tool is None:
        errors.add("blkid", "no udev database and no blkid to probe filesystems: LUKS and filesystem types unknown",
                   "devices.block.fs_type")
        return {}
    out: dict[str, dict[str, str]] = {}
    for node in nodes:  # one call per device: blkid -p stops at the first device it cannot open
        try:
            res = subprocess.run([tool, "-p", "-o", "export", node], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as exc:
            errors.oserror("blkid", exc, "devices.block.fs_type")
            continue
        values: dict[str, str] = {}
        for line in res.stdout.splitlines():
            key, sep, value = line.partition("=")
            if sep and key != "DEVNAME":
                values["ID_FS_" + key] = value
        out[node] = values
        if res.returncode not in (0, 2) or "error" in res.stderr.lower():
            msg = res.stderr.strip().splitlines()[0] if res.stderr.strip() else f"blkid exit {res.returncode}"
            errors.add(f"blkid {node}", msg + " (no udev database: filesystem type unknown)", "devices.block.fs_type")
    return out


def _block(context, udev_db: bool, mounts_by_dev: dict, errors: Errors) -> list[BlockDevice]:
    raw = []
    for dev in context.list_devices(subsystem="block"):
        dtype = dev.device_type
        if dtype not in ("disk", "partition"):
            continue
        size = _attr(dev, "size")
        try:
            size_bytes = int(size) * 512 if size is not None else None
        except ValueError:
            size_bytes = None
        if dev.sys_name.startswith(("loop", "ram", "zram")) and not size_bytes:
            continue  # unattached loop device, unconfigured RAM disk
        raw.append((dev, size_bytes))
    probed: dict[str, dict[str, str]] = {}
    if not udev_db:
        nodes = [d.device_node for d, s in raw if d.device_node and s]
        probed = _blkid(nodes, errors)
    out = []
    for dev, size_bytes in sorted(raw, key=lambda r: r[0].sys_name):
        props = dev.properties
        fs = probed.get(dev.device_node or "", props) if not udev_db else props
        disk = dev if dev.device_type == "disk" else (dev.find_parent("block", "disk") or dev)
        usb = _usb_parent(dev)
        try:
            mmc = dev.find_parent("mmc")
        except Exception:
            mmc = None
        if usb is not None:
            bus = "usb"
        elif mmc is not None:
            bus = "mmc"
        else:
            bus = props.get("ID_BUS") or _bus_of(dev)
            if bus in ("scsi", None) and "/ata" in dev.sys_path:
                bus = "ata"
            if bus == "virtio" or (bus is None and "/virtio" in dev.sys_path):
                bus = "virtio"
        mmc_type = _attr(mmc, "type") if mmc is not None else None
        removable = None
        rem = _attr(disk, "removable")
        if rem is not None:
            removable = rem == "1"
        if bus == "usb" or mmc_type == "SD":
            removable = True
        serial = None
        vendor_id = product_id = None
        if usb is not None:
            vendor_id = _hex(_attr(usb, "idVendor"), 4)
            product_id = _hex(_attr(usb, "idProduct"), 4)
            serial = _attr(usb, "serial")
        elif mmc is not None:
            serial = _attr(mmc, "serial")
        serial = serial or props.get("ID_SERIAL_SHORT") or (_attr(disk, "serial") if disk is not None else None)
        major, minor = props.get("MAJOR"), props.get("MINOR")
        if (major is None or minor is None) and _attr(dev, "dev"):
            major, _, minor = (_attr(dev, "dev") or "").partition(":")
        try:
            key = (int(major), int(minor))
        except (TypeError, ValueError):
            key = None
        out.append(BlockDevice(
            name=dev.sys_name, devtype=dev.device_type, devnode=dev.device_node, bus=bus, removable=removable,
            vendor_id=vendor_id, product_id=product_id, serial=serial, size_bytes=size_bytes,
            fs_type=fs.get("ID_FS_TYPE") or None, fs_label=fs.get("ID_FS_LABEL") or None,
            fs_uuid=fs.get("ID_FS_UUID") or None,
            mountpoints=tuple(mounts_by_dev.get(key, ())) if key else (), mmc_type=mmc_type))
    return out


def _mounts(proc_root: str, errors: Errors) -> tuple[list[Mount], dict]:
    path = os.path.join(proc_root, "self", "mountinfo")
    try:
        entries = parse_mountinfo(read_text(path))
    except OSError as exc:
        errors.oserror(path, exc, "devices.mounts")
        errors.add(path, "mount table unreadable: mount points unknown", "devices.block.mountpoints")
        return [], {}
    mounts, by_dev = [], {}
    for e in entries:
        if e["dev"][0] == 0 and not e["source"].startswith("/dev/"):
            continue  # pseudo filesystem (proc, tmpfs, overlay...)
        mounts.append(Mount(device=e["source"], mountpoint=e["mountpoint"], fs_type=e["fstype"], options=e["options"]))
        key = e["dev"]
        if key[0] == 0:
            try:
                st = os.stat(e["source"])
                key = (os.major(st.st_rdev), os.minor(st.st_rdev))
            except OSError:
                continue
        by_dev.setdefault(key, []).append(e["mountpoint"])
    return mounts, by_dev


# ---------------------------------------------------------------- capture and Bluetooth


_WIRED_BUSES = ("pci", "platform", "acpi", "virtio")
_WIRELESS_CONTROLLER = "e0"  # USB interface class: Bluetooth and other radio controllers


def _usb_identity(dev, usb_classes: dict[str, set[str]]) -> dict:
    """USB ids and strings of the device behind a capture node, and whether it is reached over a
    radio: on a Bluetooth link, or carried by a USB device that also has a wireless-controller
    interface. Wired (False) on PCI/platform buses or a USB device without one; unknown (None)
    otherwise. The product string is reported as is: whether it names a wireless kit is the
    checks' call, not the collector's."""
    usb = _usb_parent(dev)
    bus = _bus_of(dev)
    radio: Optional[bool] = None
    if any(p.subsystem == "bluetooth" for p in dev.ancestors):
        bus, radio = "bluetooth", True
    elif usb is not None:
        radio = _WIRELESS_CONTROLLER in usb_classes.get(usb.sys_path, set())
    elif bus in _WIRED_BUSES:
        radio = False
    if usb is None:
        return {"bus": bus, "radio": radio}
    props = usb.properties
    return {"bus": bus, "radio": radio,
            "vendor_id": _hex(_attr(usb, "idVendor"), 4), "product_id": _hex(_attr(usb, "idProduct"), 4),
            "vendor": _attr(usb, "manufacturer") or props.get("ID_VENDOR_FROM_DATABASE") or props.get("ID_VENDOR"),
            "product": _attr(usb, "product") or props.get("ID_MODEL_FROM_DATABASE") or props.get("ID_MODEL")}


def _usb_interface_classes(context) -> dict[str, set[str]]:
    """Interface classes of every USB device, by the device's sysfs path."""
    out: dict[str, set[str]] = {}
    for itf in context.list_devices(subsystem="usb"):
        if itf.device_type != "usb_interface":
            continue
        cls = _hex(_attr(itf, "bInterfaceClass"), 2)
        if cls is not None:
            out.setdefault(os.path.dirname(itf.sys_path), set()).add(cls)
    return out


def _capture(context) -> list[CaptureDevice]:
    out = []
    usb_classes = _usb_interface_classes(context)
    for dev in context.list_devices(subsystem="video4linux"):
        if not dev.sys_name.startswith("video"):
            continue
        caps = dev.properties.get("ID_V4L_CAPABILITIES")
        if caps is not None and ":capture:" not in caps:
            continue  # metadata or output node of a camera, or a codec
        out.append(CaptureDevice(kind="camera", name=_attr(dev, "name") or dev.sys_name, devnode=dev.device_node,
                                 **_usb_identity(dev, usb_classes)))
    for dev in context.list_devices(subsystem="sound"):
        m = _PCM_CAPTURE.match(dev.sys_name)
        if not m:
            continue
        card = dev.find_parent("sound")
        card_id = (_attr(card, "id") if card is not None else None) or f"{m.group(1)}"
        out.append(CaptureDevice(kind="microphone", name=f"hw:CARD={card_id},DEV={m.group(2)}",
                                 devnode=dev.device_node or f"/dev/snd/{dev.sys_name}",
                                 **_usb_identity(dev, usb_classes)))
    return out


def _bluetooth(context) -> list[BluetoothController]:
    out = []
    for dev in context.list_devices(subsystem="bluetooth"):
        if not _HCI.match(dev.sys_name):
            continue
        addr = _attr(dev, "address")
        out.append(BluetoothController(name=dev.sys_name, bus=_bus_of(dev), address=addr.lower() if addr else None))
    return out


# ---------------------------------------------------------------- entry


def collect_devices(*, proc_root: str = "/proc") -> DeviceFacts:
    """USB, block, mount, capture and Bluetooth facts as udev and sysfs show them."""
    errors = Errors()
    try:
        import pyudev

        context = pyudev.Context()
    except Exception as exc:  # libudev missing or unusable
        errors.oserror("libudev", exc)
        return DeviceFacts(errors=errors.tuple())
    udev_db = udev_database_present()  # without it sysfs still names every device; blkid fills fs types
    mounts, by_dev = _mounts(proc_root, errors)
    parts: dict[str, list] = {}
    for name, fn, affects in (("usb", lambda: _usb(context, udev_db, errors), "devices.usb"),
                              ("block", lambda: _block(context, udev_db, by_dev, errors), "devices.block"),
                              ("capture", lambda: _capture(context), "devices.capture"),
                              ("bluetooth", lambda: _bluetooth(context), "devices.bluetooth")):
        try:
            parts[name] = fn()
        except Exception as exc:
            errors.oserror(f"udev ({name})", exc, affects)
            parts[name] = []
    return DeviceFacts(usb=tuple(parts["usb"]), block=tuple(parts["block"]), mounts=tuple(mounts),
                       capture=tuple(parts["capture"]), bluetooth=tuple(parts["bluetooth"]), errors=errors.tuple())
