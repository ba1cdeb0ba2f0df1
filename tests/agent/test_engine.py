"""Engine: refresh a domain, diff states into violation / cleared / state events."""

import datetime as dt

from bmnn_guard.policies import facts as F
from bmnn_guard.policies.context import EvalContext
from bmnn_guard.policies.loader import load_bundle
from bmnn_guard.policies.schema import Tailoring

from bmnn_guard.agent.engine import Engine

BUNDLE = load_bundle()
STICK = F.UsbDevice("/sys/u/1-2", "0781", "5567", serial="S1", interfaces=(F.UsbInterface("00", "08"),))
STICK2 = F.UsbDevice("/sys/u/1-3", "0951", "1666", serial="S2", interfaces=(F.UsbInterface("00", "08"),))


class Machine:
    """A machine whose devices the test changes; collect() returns only what was asked."""

    def __init__(self):
        self.usb = ()
        self.asked = []

    def collect(self, domains):
        self.asked.append(domains)
        parts = {"devices": F.DeviceFacts(usb=self.usb)}
        return F.Facts(collected=tuple(d for d in domains if d in parts), **{d: parts[d] for d in domains if d in parts})


def engine(m):
    return Engine(BUNDLE, Tailoring(), EvalContext(), collect=m.collect,
                  clock=lambda: dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc))


def by_check(events, cid):
    return [e for e in events if e.check_id == cid]


def test_plug_unplug_cycle():
    m = Machine()
    e = engine(m)
    first = e.refresh(["devices"])
    assert not by_check(first, "BMNN-USB-001") or by_check(first, "BMNN-USB-001")[0].kind != "violation"
    m.usb = (STICK,)
    ev = by_check(e.refresh(["devices"]), "BMNN-USB-001")
    assert [x.kind for x in ev] == ["violation"]
    assert ev[0].evidence["items"][0]["serial"] == "S1" and ev[0].severity == "critical"
    assert by_check(e.refresh(["devices"]), "BMNN-USB-001") == []  # nothing changed, nothing journaled
    m.usb = (STICK, STICK2)
    ev = by_check(e.refresh(["devices"]), "BMNN-USB-001")
    assert [x.kind for x in ev] == ["violation"] and len(ev[0].evidence["items"]) == 2
    m.usb = ()
    ev = by_check(e.refresh(["devices"]), "BMNN-USB-001")
    assert [x.kind for x in ev] == ["cleared"]
    assert [v["check_id"] for v in e.open_violations()] == []


def test_uncollected_domain_reports_state_once_and_never_manual_items():
    m = Machine()
    e = engine(m)
    events = e.refresh(["devices"])
    net = by_check(events, "BMNN-NET-001")
    assert [x.kind for x in net] == ["state"] and net[0].evidence["status"] == "error"
    assert not any(x.check_id.startswith("BMNN-MAN-") for x in events)
    assert not by_check(events, "BMNN-DOC-001")
    assert by_check(e.refresh(["devices"]), "BMNN-NET-001") == []


def test_a_domain_change_rejudges_only_the_checks_reading_it(monkeypatch):
    import bmnn_guard.agent.engine as E
    judged = []
    real = E.evaluate

    def spy(*a, **kw):
        judged.append(kw.get("only"))
        return real(*a, **kw)

    monkeypatch.setattr(E, "evaluate", spy)
    m = Machine()
    e = engine(m)
    e.refresh(["devices"])  # the first judgement covers every check
    m.usb = (STICK,)
    ev = by_check(e.refresh(["devices"]), "BMNN-USB-001")
    assert [x.kind for x in ev] == ["violation"]
    assert judged[0] is None
    assert set(judged[1]) == {cid for cid, c in BUNDLE.checks.items() if "devices" in c.domains}
    assert "BMNN-USB-001" in judged[1] and not any("network" in BUNDLE.checks[c].domains and
                                                   "devices" not in BUNDLE.checks[c].domains for c in judged[1])
    assert [v["check_id"] for v in e.open_violations()] == ["BMNN-USB-001"]
    e.refresh(())  # a full re-read judges everything again
    assert judged[-1] is None


def test_enforcements_come_from_the_check_data():
    e = engine(Machine())
    assert e.enforcements("BMNN-USB-001") == ("usb_deauthorize",)
    assert e.enforcements("BMNN-SW-001") == ()
