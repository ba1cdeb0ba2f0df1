"""The fact model: what the machine looked like, as plain frozen data.

Collectors (``scanner/``) fill these dataclasses; the evaluator only reads them. They live in
``policies/`` so that the loader can check every field path a rule names against them: a typo in a
check becomes a load error with file:line:col, not a silent ``error`` at 3 a.m.

Every domain carries ``errors``: a source that could not be read is recorded here, and any check
that reads the domain reports ``error`` instead of a pass built on an empty list.

Conventions: ``None`` means "unknown" (the collector could not tell), never "no" or "empty".
USB ids are lower-case four-digit hex strings ("0781"); interface classes two-digit hex ("08").
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class CollectionError:
    """A source that could not be read; turns every check reading its domain into ``error``."""

    source: str
    """What was being read, e.g. ``/sys/class/net`` or ``dpkg``."""
    message: str
    """Why it failed, in English, for the evidence and the log."""
    affects: Optional[str] = None
    """Fact path left incomplete (``network.history``); None means the whole domain."""


# ---------------------------------------------------------------- host


@dataclass(frozen=True)
class HostFacts:
    """Identity of the machine under inspection (the "device identity" of the checklist)."""

    hostname: Optional[str] = None
    """Kernel host name."""
    machine_id: Optional[str] = None
    """Contents of /etc/machine-id."""
    dmi_vendor: Optional[str] = None
    """System manufacturer from DMI (sys_vendor)."""
    dmi_product: Optional[str] = None
    """System product name from DMI."""
    dmi_serial: Optional[str] = None
    """System serial number from DMI (root-only on most machines); waivers scope on it."""
    os_name: Optional[str] = None
    """PRETTY_NAME from os-release."""
    os_version: Optional[str] = None
    """VERSION_ID from os-release."""
    kernel: Optional[str] = None
    """Running kernel release."""
    virtualization: Optional[str] = None
    """Hypervisor or container type, "none" on bare metal."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- network

INTERFACE_KINDS = ("ethernet", "wifi", "wwan", "bluetooth", "tunnel", "virtual", "loopback", "other")


@dataclass(frozen=True)
class NetInterface:
    """One network interface as the kernel shows it."""

    name: str
    """Interface name (eth0, wlan0, wg0)."""
    kind: str = "other"
    """One of INTERFACE_KINDS, from ARPHRD type, DEVTYPE, phy80211 and the driver."""
    up: Optional[bool] = None
    """Administratively up (IFF_UP)."""
    carrier: Optional[bool] = None
    """Link detected (IFF_LOWER_UP / carrier); None when the kernel does not say."""
    addresses: tuple[str, ...] = ()
    """Addresses in CIDR form, IPv4 and IPv6, link-local included."""
    mac: Optional[str] = None
    """Hardware address."""
    driver: Optional[str] = None
    """Kernel driver bound to the device, if any."""
    bus: Optional[str] = None
    """Bus of the parent device: usb, pci, sdio, virtual."""
    wireless_associated: Optional[bool] = None
    """For Wi-Fi: associated with an access point (operstate up with carrier)."""
    tunnel_type: Optional[str] = None
    """tun, tap, wireguard, ppp, gre... for tunnel interfaces."""
    wwan_evidence: tuple[str, ...] = ()
    """Why ``kind`` is wwan, one telltale per entry as ``code detail``: devtype wwan, driver, arphrd
    rawip, or the cellular judgement of the USB device behind it (modeswitch-target, usb-ids-name,
    mac-oui, net+storage, tethering... see ``UsbDevice.cellular_evidence``). Empty for other kinds."""


@dataclass(frozen=True)
class Route:
    """One route from any routing table except ``local`` (a VPN's default route in its own table counts)."""

    destination: str
    """Destination in CIDR form; 0.0.0.0/0 and ::/0 are default routes (from every table but ``local``)."""
    interface: Optional[str] = None
    """Outgoing interface."""
    gateway: Optional[str] = None
    """Next hop, if any."""
    family: str = "ipv4"
    """ipv4 or ipv6."""

    @property
    def is_default(self) -> bool:
        """True for 0.0.0.0/0 and ::/0."""
        return self.destination in ("0.0.0.0/0", "::/0", "default")


@dataclass(frozen=True)
class RfkillSwitch:
    """A radio kill switch from /sys/class/rfkill."""

    index: int
    """rfkill index."""
    type: str
    """wlan, bluetooth, wwan, gps, nfc, uwb..."""
    name: Optional[str] = None
    """Name of the switch (phy0, hci0)."""
    soft_blocked: Optional[bool] = None
    """Blocked in software (can be undone by any user with rfkill rights)."""
    hard_blocked: Optional[bool] = None
    """Blocked by a hardware switch or the firmware."""


@dataclass(frozen=True)
class ProbeResult:
    """Reachability of an agency-owned probe host named in the configuration (never a third party)."""

    host: str
    """The host as configured."""
    port: Optional[int] = None
    """TCP port tried."""
    reachable: Optional[bool] = None
    """True when it answered; None when the probe itself failed."""
    detail: Optional[str] = None
    """Error or latency text."""


@dataclass(frozen=True)
class ConnectionTrace:
    """A trace of a past connection: a saved profile or a lease file."""

    source: str
    """networkmanager, wpa_supplicant, dhclient, networkd, netplan."""
    path: str
    """File the trace was found in."""
    name: Optional[str] = None
    """Profile name or SSID when the file says it (metadata only)."""
    kind: Optional[str] = None
    """wifi, ethernet, gsm, vpn, lease."""
    modified: Optional[str] = None
    """File modification time, ISO 8601."""


@dataclass(frozen=True)
class NetworkFacts:
    """Everything that tells whether the machine is, can be, or has been connected."""

    interfaces: tuple[NetInterface, ...] = ()
    """All interfaces, loopback included."""
    routes: tuple[Route, ...] = ()
    """Main routing table, IPv4 and IPv6."""
    rfkill: tuple[RfkillSwitch, ...] = ()
    """Radio kill switches."""
    probes: tuple[ProbeResult, ...] = ()
    """Results for configured probe hosts; empty when none is configured."""
    history: tuple[ConnectionTrace, ...] = ()
    """Traces of past connections."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- devices


@dataclass(frozen=True)
class UsbInterface:
    """One interface of a USB device: what the device really is."""

    number: str
    """bInterfaceNumber."""
    cls: str
    """bInterfaceClass, two hex digits (03 HID, 08 mass storage, 06 still image/MTP, 0e video, 01 audio, e0 wireless)."""
    subclass: Optional[str] = None
    """bInterfaceSubClass."""
    protocol: Optional[str] = None
    """bInterfaceProtocol."""
    driver: Optional[str] = None
    """Bound kernel driver (usb-storage, usbhid, uvcvideo, btusb, cdc_ether...)."""


@dataclass(frozen=True)
class UsbDevice:
    """One USB device with all its interfaces."""

    sys_path: str
    """Sysfs path; the handle for enforcement."""
    vendor_id: Optional[str] = None
    """idVendor."""
    product_id: Optional[str] = None
    """idProduct."""
    vendor: Optional[str] = None
    """Manufacturer string."""
    product: Optional[str] = None
    """Product string."""
    serial: Optional[str] = None
    """Serial number string; what the approved-device registry keys on."""
    device_class: Optional[str] = None
    """bDeviceClass (09 is a hub)."""
    interfaces: tuple[UsbInterface, ...] = ()
    """All interfaces of the active configuration."""
    mtp: Optional[bool] = None
    """udev marks it as an MTP/PTP media device (ID_MTP_DEVICE, ID_MEDIA_PLAYER, ID_GPHOTO2)."""
    busnum: Optional[int] = None
    """USB bus number."""
    devnum: Optional[int] = None
    """USB device number."""
    cellular: Optional[str] = None
    """The device is a cellular modem, or a phone sharing its mobile connection, in this mode:
    storage (still its virtual CD-ROM, before switching), hilink (a network function with a router
    inside), modem (AT/QMI/MBIM ports), tethering (a phone), other; None when no telltale matched."""
    cellular_evidence: tuple[str, ...] = ()
    """The telltales that matched, each as ``code detail``: driver, mbim-class, modeswitch-source,
    modeswitch-target, modeswitch-rule (usb-modeswitch-data), usb-ids-name, hwdb-name, product-name,
    mac-oui (IEEE registry), net+storage (a network function beside the virtual CD-ROM), tethering."""

    @property
    def identity(self) -> str:
        """vendor:product:serial, the registry key."""
        return f"{self.vendor_id or ''}:{self.product_id or ''}:{self.serial or ''}"


@dataclass(frozen=True)
class BlockDevice:
    """A disk or partition."""

    name: str
    """Kernel name (sda, sdb1, mmcblk0)."""
    devtype: str = "disk"
    """disk or partition."""
    devnode: Optional[str] = None
    """/dev path."""
    bus: Optional[str] = None
    """ata, nvme, usb, mmc, scsi, virtio."""
    removable: Optional[bool] = None
    """Removable medium or hot-pluggable bus."""
    vendor_id: Optional[str] = None
    """USB vendor id when on USB."""
    product_id: Optional[str] = None
    """USB product id when on USB."""
    serial: Optional[str] = None
    """Disk serial (ID_SERIAL_SHORT) or MMC serial."""
    size_bytes: Optional[int] = None
    """Size in bytes."""
    fs_type: Optional[str] = None
    """ID_FS_TYPE (ext4, vfat, crypto_LUKS...)."""
    fs_label: Optional[str] = None
    """Filesystem label."""
    fs_uuid: Optional[str] = None
    """Filesystem UUID."""
    mountpoints: tuple[str, ...] = ()
    """Where it is mounted."""
    mmc_type: Optional[str] = None
    """For MMC-bus media: SD (a card), MMC (soldered eMMC) or SDIO."""

    @property
    def is_luks(self) -> bool:
        """A LUKS container."""
        return self.fs_type == "crypto_LUKS"

    @property
    def identity(self) -> str:
        """vendor:product:serial, the registry key."""
        return f"{self.vendor_id or ''}:{self.product_id or ''}:{self.serial or ''}"


@dataclass(frozen=True)
class Mount:
    """A mounted filesystem."""

    device: str
    """Source device or pseudo source."""
    mountpoint: str
    """Where it is mounted."""
    fs_type: str
    """Filesystem type."""
    options: tuple[str, ...] = ()
    """Mount options."""


@dataclass(frozen=True)
class CaptureDevice:
    """Something that can record images or sound."""

    kind: str
    """camera or microphone."""
    name: str
    """Kernel or ALSA name."""
    devnode: Optional[str] = None
    """/dev node."""
    bus: Optional[str] = None
    """usb, pci, platform."""
    vendor_id: Optional[str] = None
    """USB vendor id when on USB."""
    product_id: Optional[str] = None
    """USB product id when on USB."""
    vendor: Optional[str] = None
    """Manufacturer string of the USB device (or the sound card's vendor), as the device says it."""
    product: Optional[str] = None
    """Product string of the USB device, as the device says it (receivers of wireless microphone kits
    often name themselves "Wireless ..."); None when the device has no such string."""
    radio: Optional[bool] = None
    """The device reaches its microphone or camera over a radio: it sits on a Bluetooth link, or the
    USB device that carries it also exposes a wireless-controller interface (class e0). False for a
    device wired to the machine (PCI, platform, a USB device without a radio interface); None when
    the collector could not tell. A wired microphone (micro có dây) is one with radio False."""


@dataclass(frozen=True)
class BluetoothController:
    """A Bluetooth controller (hciN)."""

    name: str
    """hci0..."""
    bus: Optional[str] = None
    """usb, uart, sdio."""
    address: Optional[str] = None
    """Controller address."""


@dataclass(frozen=True)
class DeviceFacts:
    """Attached USB, storage and capture devices."""

    usb: tuple[UsbDevice, ...] = ()
    """USB devices (root hubs excluded)."""
    block: tuple[BlockDevice, ...] = ()
    """Disks and partitions."""
    mounts: tuple[Mount, ...] = ()
    """Mounted filesystems backed by block devices."""
    capture: tuple[CaptureDevice, ...] = ()
    """Cameras and microphones."""
    bluetooth: tuple[BluetoothController, ...] = ()
    """Bluetooth controllers."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- software


@dataclass(frozen=True)
class Package:
    """An installed package."""

    name: str
    """Package name as the manager spells it."""
    version: Optional[str] = None
    """Installed version."""
    manager: str = "dpkg"
    """dpkg, rpm, flatpak, snap."""


@dataclass(frozen=True)
class Process:
    """A running process (name and executable only: command lines can carry secrets)."""

    pid: int
    """Process id."""
    name: str
    """Process name (comm)."""
    exe: Optional[str] = None
    """Executable path when readable."""
    user: Optional[str] = None
    """Owner user name."""


@dataclass(frozen=True)
class SoftwareFacts:
    """Installed packages and running processes."""

    packages: tuple[Package, ...] = ()
    """Installed packages from every manager found."""
    processes: tuple[Process, ...] = ()
    """Running processes."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- storage


@dataclass(frozen=True)
class StorageFacts:
    """Disk encryption status (informational: commercial encryption is not the cơ yếu exception)."""

    root_encrypted: Optional[bool] = None
    """The root filesystem sits on a dm-crypt/LUKS device."""
    encrypted_devices: tuple[str, ...] = ()
    """Names of LUKS/dm-crypt devices."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- folders


@dataclass(frozen=True)
class MarkedFolder:
    """A folder declared (in local tailoring) to hold secret documents, as found on disk."""

    path: str
    """Declared path."""
    exists: Optional[bool] = None
    """The path exists and is a directory."""
    owner: Optional[str] = None
    """Owner user name."""
    group: Optional[str] = None
    """Owner group name."""
    mode: Optional[int] = None
    """Permission bits (e.g. 0o700)."""
    file_count: Optional[int] = None
    """Regular files below it (content is never read here)."""
    declared_owner: Optional[str] = None
    """Owner the tailoring requires, if it names one."""


@dataclass(frozen=True)
class FolderFacts:
    """Marked folders."""

    folders: tuple[MarkedFolder, ...] = ()
    """Each declared folder."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- documents


@dataclass(frozen=True)
class DocumentFinding:
    """A document the content scanner judged; never its text."""

    path: str
    """Where the file is."""
    size: int
    """Size in bytes."""
    sha256: str
    """Content hash."""
    verdict: str
    """classified, review or clean."""
    level: Optional[str] = None
    """mat, toi_mat or tuyet_mat when a mark was found."""
    score: int = 0
    """Detector score."""
    reasons: tuple[str, ...] = ()
    """Why the score is what it is (codes, never text)."""
    encoding: Optional[str] = None
    """Encoding the mark was read in (utf-8, tcvn3, vni...)."""
    in_marked_folder: Optional[bool] = None
    """Inside a declared marked folder."""
    on_removable: Optional[bool] = None
    """On a removable medium."""
    copy_of: Optional[str] = None
    """Path of the marked-folder file with the same hash, when this is a copy out."""
    marks: tuple[str, ...] = ()
    """Other marks seen, never secrecy: khan, thuong_khan, hoa_toc, giai_mat, luu_hanh_noi_bo, du_thao."""


@dataclass(frozen=True)
class DocumentFacts:
    """Result of the document content scan."""

    scanned: bool = False
    """A content scan ran; False means the documents were not looked at (an ``error``, not a pass)."""
    roots: tuple[str, ...] = ()
    """What was scanned."""
    files_scanned: int = 0
    """Files read."""
    findings: tuple[DocumentFinding, ...] = ()
    """Files with a classified or review verdict, and copies out."""
    errors: tuple[CollectionError, ...] = ()
    """Files or roots that could not be read."""
    skipped: tuple[CollectionError, ...] = ()
    """Entries passed over on purpose, each with its reason (FIFOs, device nodes, sockets, symbolic
    links not followed, images without OCR, binaries of no document format): listed, never silently
    dropped, but not an ``error`` since they hold no readable document text."""
    not_documents: int = 0
    """Files of a kind that holds no document (programs, Java/Python packages, zips of no document),
    chosen by content: counted, neither clean nor an error."""


# ---------------------------------------------------------------- agent


@dataclass(frozen=True)
class AgentHealth:
    """State of the bmnn-agent daemon as seen from outside."""

    installed: Optional[bool] = None
    """The unit file is installed."""
    running: Optional[bool] = None
    """The daemon answers on its socket."""
    journal_verified: Optional[bool] = None
    """The journal hash chain verifies."""
    last_heartbeat: Optional[str] = None
    """Time of the last heartbeat record, ISO 8601."""
    running_how: Optional[str] = None
    """How ``running`` is known: ``socket`` (the daemon answered a status request on its socket),
    ``systemd`` (the unit is active per systemd; the socket would not serve this user), or None."""
    running_problem: Optional[str] = None
    """Why the daemon is not counted as running (no socket, a stale socket, no answer)."""
    pid: Optional[int] = None
    """Process id of the daemon (its own answer, matched against the socket's peer credentials)."""
    started: Optional[str] = None
    """When the daemon started, ISO 8601, by its own answer."""
    uptime_s: Optional[float] = None
    """Seconds the daemon has been running, by its own answer."""
    policy_sha256: Optional[str] = None
    """Hash of the policy bundle the daemon enforces."""
    unit_state: Optional[str] = None
    """``ActiveState`` of bmnn-agent.service per systemd (active, inactive, failed...), None without systemd."""
    journal_check: Optional[str] = None
    """What verified the journal: ``chain+mac`` (hash chain and every MAC, with the initial key) or
    ``chain only`` (the key was not readable here)."""
    journal_records: Optional[int] = None
    """Records verified."""
    journal_first_bad_seq: Optional[int] = None
    """The first record that does not verify, when the journal was altered."""
    journal_problem: Optional[str] = None
    """Why the journal does not verify."""
    errors: tuple[CollectionError, ...] = ()
    """Sources that could not be read."""


# ---------------------------------------------------------------- all


@dataclass(frozen=True)
class Facts:
    """One observation of the whole machine. A domain left at its default was not collected."""

    host: HostFacts = field(default_factory=HostFacts)
    """Machine identity."""
    network: NetworkFacts = field(default_factory=NetworkFacts)
    """Network state, capability and history."""
    devices: DeviceFacts = field(default_factory=DeviceFacts)
    """USB, storage and capture devices."""
    software: SoftwareFacts = field(default_factory=SoftwareFacts)
    """Packages and processes."""
    storage: StorageFacts = field(default_factory=StorageFacts)
    """Disk encryption."""
    folders: FolderFacts = field(default_factory=FolderFacts)
    """Marked folders."""
    documents: DocumentFacts = field(default_factory=DocumentFacts)
    """Content scan results."""
    agent: AgentHealth = field(default_factory=AgentHealth)
    """Daemon health."""
    collected: tuple[str, ...] = ()
    """Domains that were actually collected; a domain not listed reads as ``error``."""


DOMAINS = tuple(f.name for f in dataclasses.fields(Facts) if f.name != "collected")


# ---------------------------------------------------------------- (de)serialisation


def to_dict(obj: Any) -> Any:
    """Plain JSON-ready form of a fact tree (properties left out: they are derived)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    return obj


class FactsFormatError(ValueError):
    """A facts document (JSON or a test fixture) does not fit the fact model."""


def from_dict(cls: type, data: Any, path: str = "$") -> Any:
    """Build a fact dataclass tree from plain data, strictly: unknown keys are errors."""
    if not isinstance(data, dict):
        raise FactsFormatError(f"{path}: expected a mapping for {cls.__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise FactsFormatError(f"{path}: unknown field(s) {sorted(unknown)} for {cls.__name__}")
    kwargs = {k: _convert(hints[k], v, f"{path}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise FactsFormatError(f"{path}: {exc}") from None


def _convert(tp: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise FactsFormatError(f"{path}: expected a list")
        return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, path)
    if tp is bool and not isinstance(value, bool):
        raise FactsFormatError(f"{path}: expected true or false, got {value!r}")
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise FactsFormatError(f"{path}: expected an integer, got {value!r}")
    if tp is str and not isinstance(value, str):
        raise FactsFormatError(f"{path}: expected a string, got {value!r}")
    return value


def field_type(cls: type, name: str) -> Any:
    """Type of a field or property of a fact dataclass, or None when it has no such member."""
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        if name in hints and name in {f.name for f in dataclasses.fields(cls)}:
            return hints[name]
        prop = getattr(cls, name, None)
        if isinstance(prop, property):
            return typing.get_type_hints(prop.fget).get("return", Any)
    return None


def element_type(tp: Any) -> Any:
    """The element type of ``tuple[X, ...]``, else None."""
    if typing.get_origin(tp) is tuple:
        return typing.get_args(tp)[0]
    return None
