"""Network collector in private network namespaces (unshare -n) with real veth pairs, routes and
tun devices; probes against a listener inside the namespace. Nothing leaves the namespace."""

from bmnn_guard.policies.context import EvalContext

from .support import facts_of, in_netns, judge

COLLECT = """
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_network
result = Facts(network=collect_network(history=False), collected=('network',))
"""

VETH = ["ip link add veth0 type veth peer name veth1", "ip link set lo up"]


def net001(facts, **kw):
    results, _ = judge(facts, **kw)
    return results["BMNN-NET-001"]


def test_loopback_only_passes():
    facts = facts_of(in_netns(["ip link set lo up"], COLLECT))
    assert [(i.name, i.kind, i.up) for i in facts.network.interfaces] == [("lo", "loopback", True)]
    assert "127.0.0.1/8" in facts.network.interfaces[0].addresses
    assert facts.network.routes == ()
    assert net001(facts).status == "pass"


def test_veth_with_address_and_default_route_fails():
    facts = facts_of(in_netns(VETH + ["ip addr add 10.99.0.2/24 dev veth0", "ip link set veth1 up",
                                      "ip link set veth0 up", "ip route add default via 10.99.0.1"], COLLECT))
    veth0 = next(i for i in facts.network.interfaces if i.name == "veth0")
    assert (veth0.kind, veth0.up, veth0.carrier, veth0.bus) == ("virtual", True, True, "virtual")
    assert "10.99.0.2/24" in veth0.addresses
    default = [r for r in facts.network.routes if r.is_default]
    assert [(r.destination, r.interface, r.gateway, r.family) for r in default] == [
        ("0.0.0.0/0", "veth0", "10.99.0.1", "ipv4")]
    r = net001(facts)
    assert r.status == "fail"
    assert any(row.get("name") == "veth0" for row in r.evidence), r.evidence
    assert any(row.get("destination") == "0.0.0.0/0" and row.get("interface") == "veth0" for row in r.evidence)


def test_default_route_alone_fails_even_with_interface_down():
    # an IPv6 default route and a default route in a non-main table are links too
    facts = facts_of(in_netns(VETH + ["ip link set veth1 up", "ip link set veth0 up",
                                      "ip -6 route add default via fe80::1 dev veth0",
                                      "ip route add default dev veth0 table 100"], COLLECT))
    dests = {(r.destination, r.interface) for r in facts.network.routes if r.is_default}
    assert dests == {("::/0", "veth0"), ("0.0.0.0/0", "veth0")}
    assert net001(facts).status == "fail"


def test_independent_lan_address_without_default_route_passes():
    facts = facts_of(in_netns(VETH + ["ip addr add 10.20.1.5/16 dev veth0", "ip link set veth0 up"], COLLECT))
    ctx = EvalContext(lan_declared=True, lan_interfaces=("veth0",), lan_subnets=("10.20.0.0/16",))
    results, _ = judge(facts, profile="independent-lan-workstation", context=ctx)
    assert results["BMNN-NET-001"].status == "pass", results["BMNN-NET-001"].reason.en
    assert results["BMNN-NET-006"].status == "pass", results["BMNN-NET-006"].reason.en
    assert results["BMNN-NET-008"].status == "pass"
    # the same machine without the declaration is connected
    assert net001(facts).status == "fail"


def test_independent_lan_with_default_route_inside_the_lan_passes():
    # a default route to a gateway inside the declared LAN does not leave the premises (issue 14)
    facts = facts_of(in_netns(VETH + ["ip addr add 10.20.1.5/16 dev veth0", "ip link set veth0 up",
                                      "ip route add default via 10.20.0.1"], COLLECT))
    ctx = EvalContext(lan_declared=True, lan_interfaces=("veth0",), lan_subnets=("10.20.0.0/16",))
    results, _ = judge(facts, profile="independent-lan-workstation", context=ctx)
    assert results["BMNN-NET-006"].status == "pass", results["BMNN-NET-006"].reason.en
    assert results["BMNN-NET-001"].status == "pass", results["BMNN-NET-001"].reason.en


def test_tun_device_fails():
    facts = facts_of(in_netns(["ip link set lo up", "ip tuntap add mode tun tun0", "ip link set tun0 up",
                               "ip tuntap add mode tap tap0"], COLLECT))
    tun = next(i for i in facts.network.interfaces if i.name == "tun0")
    tap = next(i for i in facts.network.interfaces if i.name == "tap0")
    assert (tun.kind, tun.tunnel_type, tun.up) == ("tunnel", "tun", True)
    assert (tap.kind, tap.tunnel_type, tap.up) == ("tunnel", "tap", False)
    r = net001(facts)
    assert r.status == "fail" and any(row.get("name") == "tun0" for row in r.evidence)


PROBE = """
import socket
from bmnn_guard.policies.facts import Facts, NetworkFacts
from bmnn_guard.scanner.collect import probe
srv = socket.socket()
srv.bind(('10.99.0.1', 0))
srv.listen()
port = srv.getsockname()[1]
closed = socket.socket(); closed.bind(('10.99.0.1', 0)); closed_port = closed.getsockname()[1]; closed.close()
res = probe([('10.99.0.1', port), f'10.99.0.1:{closed_port}', {'host': '10.98.0.1', 'port': 443}, 'no-such-host.invalid:443'],
            timeout=1.0)
result = Facts(network=NetworkFacts(probes=res), collected=('network',))
"""


def test_probe_reaches_only_the_listener_it_was_given():
    data = in_netns(VETH + ["ip addr add 10.99.0.2/24 dev veth0", "ip addr add 10.99.0.1/24 dev veth1",
                            "ip link set veth0 up", "ip link set veth1 up"], PROBE)
    probes = facts_of(data).network.probes
    assert [p.reachable for p in probes] == [True, True, False, False], probes
    assert "connected" in probes[0].detail and "refused" in probes[1].detail
    facts = facts_of(data)
    results, _ = judge(facts, context=EvalContext(probes_configured=True))
    assert results["BMNN-NET-007"].status == "fail"
    assert any(row.get("host") == "10.99.0.1" for row in results["BMNN-NET-007"].evidence)


def test_probe_offline_passes():
    code = """
from bmnn_guard.policies.facts import Facts, NetworkFacts
from bmnn_guard.scanner.collect import probe
result = Facts(network=NetworkFacts(probes=probe(['10.99.0.1:443'], timeout=0.5)), collected=('network',))
"""
    facts = facts_of(in_netns(["ip link set lo up"], code))
    assert facts.network.probes[0].reachable is False
    results, _ = judge(facts, context=EvalContext(probes_configured=True))
    assert results["BMNN-NET-007"].status == "pass"


def test_no_probe_without_configured_hosts():
    from bmnn_guard.scanner.collect import probe

    assert probe([]) == ()


def test_without_rtnetlink_psutil_sysfs_and_proc_still_see_the_link():
    # a seccomp/address-family filter may refuse AF_NETLINK: the fallback must not pass a connected machine
    code = """
from bmnn_guard.scanner.collect import _netlink
def refuse():
    raise PermissionError(1, 'Operation not permitted')
_netlink.links = _netlink.routes = refuse
""" + COLLECT
    facts = facts_of(in_netns(VETH + ["ip addr add 10.99.0.2/24 dev veth0", "ip link set veth1 up",
                                      "ip link set veth0 up", "ip route add default via 10.99.0.1"], code))
    veth0 = next(i for i in facts.network.interfaces if i.name == "veth0")
    assert veth0.up is True and "10.99.0.2/24" in veth0.addresses
    assert ("0.0.0.0/0", "veth0", "10.99.0.1") in {(r.destination, r.interface, r.gateway) for r in facts.network.routes}
    assert net001(facts).status == "fail"
