"""A scan document built from fixed facts (no collection), for report tests."""

import datetime as dt

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext
from bmnn_guard.policies.evaluator import evaluate
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.scanner import document

HOSTILE = '<script>alert("x")</script> Ổ đĩa'


def make_document(lang_unit: str = "Phòng Văn thư, Sở Nội vụ") -> dict:
    bundle = load_bundle()
    facts = F.Facts(
        collected=("host", "network", "devices", "software", "storage", "folders", "agent"),
        host=F.HostFacts(hostname="may-mat-01", machine_id="0123456789abcdef", dmi_vendor="Dell Inc.",
                         dmi_product="OptiPlex 7010", dmi_serial="7XK2QH3", os_name="Debian GNU/Linux 12 (bookworm)",
                         kernel="6.1.0-27-amd64"),
        network=F.NetworkFacts(interfaces=(
            F.NetInterface("lo", "loopback", True, True, ("127.0.0.1/8",)),
            F.NetInterface("eth0", "ethernet", True, True, ("192.168.1.20/24",), mac="aa:bb:cc:dd:ee:ff"),
        )),
        devices=F.DeviceFacts(usb=(F.UsbDevice("/sys/devices/usb1/1-2", "0781", "5567", "SanDisk", HOSTILE, "4C530001",
                                               interfaces=(F.UsbInterface("00", "08", "06", "50", "usb-storage"),)),)),
        storage=F.StorageFacts(root_encrypted=False),
        agent=F.AgentHealth(installed=False, running=False),
    )
    ev = evaluate(facts, bundle, context=EvalContext(), now=dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc))
    t0 = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return document.build(facts, ev, bundle, started_at=t0, finished_at=t0 + dt.timedelta(seconds=1),
                          inspector="Nguyễn Thị Hằng", unit=lang_unit)
