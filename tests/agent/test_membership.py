"""Attached devices follow the uevents between full re-reads; latency counts from the cause."""

from bmnn_guard.policies import facts as F

from bmnn_guard.agent.latency import cause
from bmnn_guard.agent.membership import UeventMembership
from bmnn_guard.agent.sources.base import Trigger

STICK = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"
IFACE = STICK + "/1-2:1.0"
BLOCK = IFACE + "/host6/target6:0:0/6:0:0:0/block/sdb"


def devices(*, stick=True, block=True):
    return F.DeviceFacts(usb=(F.UsbDevice(sys_path=STICK, vendor_id="0781", product_id="5567"),) if stick else (),
                         block=(F.BlockDevice(name="sdb", bus="usb"),) if block else ())


def test_a_removed_device_is_not_resurrected_by_a_lagging_sysfs():
    m = UeventMembership()
    for p, sub in ((BLOCK, "block"), (IFACE, "usb"), (STICK, "usb")):
        m.note({"action": "remove", "sys_path": p, "subsystem": sub})
    still_in_sysfs = devices()
    out = m.apply(still_in_sysfs, devices(), full=False)
    assert out.usb == () and out.block == ()
    # even a full re-read does not bring it back while sysfs still lists it
    assert m.apply(still_in_sysfs, devices(), full=True).usb == ()
    # sysfs caught up: the full re-read drops the mark, nothing is hidden afterwards
    assert m.apply(devices(stick=False, block=False), devices(), full=True).usb == ()
    assert m.apply(devices(), F.DeviceFacts(), full=True).usb != ()


def test_an_add_uevent_lifts_the_mark():
    m = UeventMembership()
    m.note({"action": "remove", "sys_path": STICK, "subsystem": "usb"})
    m.note({"action": "remove", "sys_path": BLOCK, "subsystem": "block"})
    m.note({"action": "add", "sys_path": STICK, "subsystem": "usb"})
    m.note({"action": "add", "sys_path": BLOCK, "subsystem": "block"})
    out = m.apply(devices(), F.DeviceFacts(), full=False)
    assert [u.sys_path for u in out.usb] == [STICK] and [b.name for b in out.block] == ["sdb"]


def test_a_device_missing_before_its_remove_uevent_is_kept_until_the_uevent():
    m = UeventMembership()
    out = m.apply(devices(stick=False, block=False), devices(), full=False)
    assert [u.sys_path for u in out.usb] == [STICK] and [b.name for b in out.block] == ["sdb"]
    m.note({"action": "remove", "sys_path": STICK, "subsystem": "usb"})
    assert m.apply(devices(stick=False, block=False), devices(), full=False).usb == ()
    # a full re-read trusts sysfs (uevents may have been lost)
    assert m.apply(F.DeviceFacts(), devices(), full=True) == F.DeviceFacts()


def test_a_udev_gap_forgets_every_mark():
    m = UeventMembership()
    m.note({"action": "remove", "sys_path": STICK, "subsystem": "usb"})
    m.forget()
    assert m.apply(devices(), F.DeviceFacts(), full=False).usb != ()


def _t(action, path, received, domain="devices", source="udev"):
    return Trigger(source, domain, "change", {"action": action, "sys_path": path}, received=received)


def test_latency_counts_from_the_uevent_of_the_device_not_an_older_trigger():
    old_remove = _t("remove", STICK, 1.0)
    mount = Trigger("mounts", "devices", "mount", {"added": [], "removed": ["/media/x"]}, received=1.5)
    add, add_iface = _t("add", STICK, 2.0), _t("add", IFACE, 2.1)
    net = Trigger("netlink", "network", "change", {}, received=0.5)
    batch = [net, old_remove, mount, add, add_iface]
    ev = {"items": [{"fact": "devices.usb", "sys_path": STICK}]}
    assert cause(batch, "violation", ev) is add
    assert cause(batch, "cleared", {"items": []}) is old_remove
    assert cause([net], "violation", ev) is net  # nothing better: the batch's own trigger
    assert cause([], "violation", ev) is None
