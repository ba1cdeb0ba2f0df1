"""Default routes, gateways and declared cơ yếu links as the kernel shows them, in private network
namespaces with veth pairs (issue 14): the gateway address decides whether a default route leaves
the declared independent LAN; a link the agency declares as protected by a cơ yếu product is the
law's exception, shown with its declaration; commercial tunnels never are. Nothing leaves the
namespace: no packet is sent."""

import msgspec

from bmnn_guard.policies.context import build_context
from bmnn_guard.policies.schema import Tailoring

from .support import facts_of, in_netns, judge

COLLECT = """
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_network
result = Facts(network=collect_network(history=False), collected=('network',))
"""
VETH = ["ip link add veth0 type veth peer name veth1", "ip link set lo up", "ip link set veth1 up"]
LAN = {"independent_lan": {"interfaces": ["veth0"], "subnets": ["10.20.0.0/16"]}}


def _judge(facts, tailoring: dict, profile: str = "independent-lan-workstation"):
    t = msgspec.convert(tailoring, Tailoring)
    results, ev = judge(facts, profile=profile, context=build_context(t))
    return results


def test_default_route_to_a_gateway_outside_the_lan_fails_both_checks():
    facts = facts_of(in_netns(VETH + ["ip addr add 10.20.1.5/16 dev veth0", "ip link set veth0 up",
                                      "ip route add default via 10.99.0.1 dev veth0 onlink"], COLLECT))
    default = [r for r in facts.network.routes if r.is_default]
    assert [(r.interface, r.gateway) for r in default] == [("veth0", "10.99.0.1")]
    results = _judge(facts, LAN)
    for cid in ("BMNN-NET-001", "BMNN-NET-006"):
        r = results[cid]
        assert r.status == "fail", (cid, r.reason.en)
        assert any(row.get("gateway") == "10.99.0.1" for row in r.evidence), r.evidence


def test_device_route_without_a_gateway_on_the_lan_fails():
    facts = facts_of(in_netns(VETH + ["ip addr add 10.20.1.5/16 dev veth0", "ip link set veth0 up",
                                      "ip route add default dev veth0"], COLLECT))
    assert [(r.interface, r.gateway) for r in facts.network.routes if r.is_default] == [("veth0", None)]
    results = _judge(facts, LAN)
    assert results["BMNN-NET-006"].status == "fail" and results["BMNN-NET-001"].status == "fail"


def test_declared_cơ_yếu_link_is_shown_as_the_exception():
    # the peer stays down: the one live link is the declared one
    facts = facts_of(in_netns(VETH[:2] + ["ip addr add 172.31.0.2/30 dev veth0", "ip link set veth0 up",
                                          "ip route add default via 172.31.0.1"], COLLECT))
    assert [(r.interface, r.gateway) for r in facts.network.routes if r.is_default] == [("veth0", "172.31.0.1")]
    declared = {"crypto_products": [{"name": "Thiết bị mã hóa luồng IP", "reference": "BB 12/BCY ngày 02/03/2026",
                                     "interfaces": ["veth0"]}]}
    r = _judge(facts, declared, profile="secret-workstation")["BMNN-NET-001"]
    assert r.status == "pass", r.reason.en
    assert [e.item for e in r.exceptions] == ["veth0"]
    assert "BB 12/BCY ngày 02/03/2026" in r.reason.vi and "Thiết bị mã hóa luồng IP" in r.reason.vi
    # the very same link without the declaration is a violation
    assert _judge(facts, {}, profile="secret-workstation")["BMNN-NET-001"].status == "fail"


def test_wireguard_like_tunnel_is_never_inferred_to_be_cơ_yếu():
    facts = facts_of(in_netns(["ip link set lo up", "ip tuntap add mode tun tun7", "ip link set tun7 up",
                               "ip addr add 10.8.0.2/24 dev tun7"], COLLECT))
    declared = {"crypto_products": [{"name": "Thiết bị mã hóa", "reference": "BB 12/BCY", "interfaces": ["cy0"]}]}
    r = _judge(facts, declared, profile="secret-workstation")["BMNN-NET-001"]
    assert r.status == "fail" and not r.exceptions
    assert any(row.get("name") == "tun7" for row in r.evidence)
