"""Microphones under umockdev (issue 14): the collector says whether a microphone is reached over
a radio, and the meeting-room checks follow Decree 26/2020 Art. 6 cl. 2 — a wired microphone
passes, a wireless one fails in a Tối mật or Tuyệt mật room, and in a Mật room the chair decides."""

import msgspec
import pytest

from bmnn_guard.policies.context import build_context
from bmnn_guard.policies.schema import Tailoring

from .support import facts_of, judge, run_python, umockdev_prefix

COLLECT = """
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_devices
result = Facts(devices=collect_devices(), collected=('devices',))
"""


def collect(*fixtures):
    return facts_of(run_python(COLLECT, prefix=umockdev_prefix(*fixtures)))


@pytest.fixture(scope="module")
def sets():
    return {name: collect(name) for name in ("builtin-hda-microphone", "wireless-mic-receiver", "bluetooth-audio-dongle",
                                             "webcam-microphone")}


def _mics(facts):
    return [c for c in facts.devices.capture if c.kind == "microphone"]


def _room(facts, level=None):
    t = msgspec.convert({"meeting_room": {"level": level}} if level else {}, Tailoring)
    results, _ = judge(facts, profile="meeting-room", context=build_context(t))
    return results


def test_collector_tells_wired_from_radio(sets):
    (hda,) = _mics(sets["builtin-hda-microphone"])
    assert (hda.name, hda.bus, hda.radio, hda.product) == ("hw:CARD=PCH,DEV=0", "pci", False, None)
    (rx,) = _mics(sets["wireless-mic-receiver"])
    assert (rx.bus, rx.radio, rx.product, rx.vendor, rx.vendor_id) == ("usb", False, "Wireless Microphone Receiver", "Generic", "1e7d")
    (bt,) = _mics(sets["bluetooth-audio-dongle"])
    assert (bt.bus, bt.radio, bt.product) == ("usb", True, "BT Audio Adapter")
    cam = next(c for c in sets["webcam-microphone"].devices.capture if c.kind == "camera")
    assert (cam.radio, cam.product) == (False, "HD Pro Webcam C920")


@pytest.mark.parametrize("level", ["toi_mat", "tuyet_mat", None])
def test_wired_passes_wireless_fails_in_strict_rooms(sets, level):
    assert _room(sets["builtin-hda-microphone"], level)["BMNN-REC-004"].status == "pass"
    assert _room(sets["webcam-microphone"], level)["BMNN-REC-004"].status == "pass"  # a wired USB webcam mic
    for name in ("wireless-mic-receiver", "bluetooth-audio-dongle"):
        r = _room(sets[name], level)["BMNN-REC-004"]
        assert r.status == "fail" and r.severity == "critical", (name, r.reason.en)
        assert r.evidence and r.evidence[0]["fact"] == "devices.capture"
    # recording devices: a camera fails in such a room
    assert _room(sets["webcam-microphone"], level)["BMNN-REC-001"].status == "fail"


def test_mat_room_is_the_chairs_decision(sets):
    for name in sets:
        results = _room(sets[name], "mat")
        assert results["BMNN-REC-004"].status == "not_applicable"
        assert results["BMNN-REC-001"].status == "not_applicable"
        assert results["BMNN-MAN-007"].status == "not_reviewed"
        assert results["BMNN-REC-003"].status == "pass"


def test_any_microphone_is_a_warning_on_an_office_workstation(sets):
    for name in ("builtin-hda-microphone", "wireless-mic-receiver", "bluetooth-audio-dongle"):
        results, _ = judge(sets[name])
        assert results["BMNN-REC-002"].status == "fail" and results["BMNN-REC-002"].severity == "low"
        assert results["BMNN-REC-004"].status == "not_selected"
