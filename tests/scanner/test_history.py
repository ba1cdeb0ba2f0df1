"""Connection traces: NetworkManager, wpa_supplicant, iwd, DHCP leases, netplan, ifupdown."""

import os

from bmnn_guard.policies import facts as F
from bmnn_guard.scanner.collect.history import collect_history

from .support import as_nobody, judge, open_tmp  # noqa: F401 (fixture)


def _tree(root):
    nm = root / "etc/NetworkManager/system-connections"
    nm.mkdir(parents=True)
    (nm / "Office.nmconnection").write_text("[connection]\nid=Office WiFi\ntype=wifi\n[wifi]\nssid=CorpNet\n[wifi-security]\npsk=secret\n")
    (nm / "Wired.nmconnection").write_text("[connection]\nid=Wired connection 1\ntype=ethernet\n")
    os.chmod(nm / "Wired.nmconnection", 0o600)
    wpa = root / "etc/wpa_supplicant"
    wpa.mkdir(parents=True)
    (wpa / "wpa_supplicant-wlan0.conf").write_text('ctrl_interface=/run/wpa\nnetwork={\n  ssid="HomeAP"\n  psk="x"\n}\nnetwork={\n ssid=4341\n}\n')
    (wpa / "functions.sh").write_text("# not a config\n")
    dhcp = root / "var/lib/dhcp"
    dhcp.mkdir(parents=True)
    (dhcp / "dhclient.eth0.leases").write_text("lease {\n  interface \"eth0\";\n}\n")
    (dhcp / "dhclient.leases").write_text("")  # empty: no lease ever obtained
    iwd = root / "var/lib/iwd"
    iwd.mkdir(parents=True)
    (iwd / "Cafe.psk").write_text("[Security]\n")
    netplan = root / "etc/netplan"
    netplan.mkdir(parents=True)
    (netplan / "01-nm.yaml").write_text("network:\n  version: 2\n  renderer: NetworkManager\n")
    (netplan / "50-cloud.yaml").write_text("network:\n  ethernets:\n    ens3:\n      dhcp4: true\n")
    ifup = root / "etc/network"
    ifup.mkdir(parents=True)
    (ifup / "interfaces").write_text("auto lo\niface lo inet loopback\nallow-hotplug eth0\niface eth0 inet dhcp\n")


def test_traces_found(tmp_path):
    _tree(tmp_path)
    traces, errors = collect_history(root=str(tmp_path))
    assert errors == ()
    got = {(t.source, t.name, t.kind) for t in traces}
    assert got == {
        ("networkmanager", "CorpNet", "wifi"), ("networkmanager", "Wired connection 1", "ethernet"),
        ("wpa_supplicant", "HomeAP", "wifi"), ("wpa_supplicant", "CA", "wifi"),
        ("dhclient", "eth0", "lease"), ("iwd", "Cafe", "wifi"), ("netplan", "ens3", "ethernet"),
        ("ifupdown", "eth0", "ethernet")}
    assert all(t.modified and t.path.startswith(str(tmp_path)) for t in traces)
    facts = F.Facts(network=F.NetworkFacts(history=traces), collected=("network",))
    results, _ = judge(facts)
    assert results["BMNN-NET-005"].status == "fail"


def test_clean_machine_has_no_traces(tmp_path):
    traces, errors = collect_history(root=str(tmp_path))
    assert traces == () and errors == ()


def test_unreadable_sources_as_normal_user(open_tmp):
    tmp_path = open_tmp
    _tree(tmp_path)
    os.chmod(tmp_path / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf", 0o600)
    os.chmod(tmp_path / "var/lib/iwd", 0o700)

    def run():
        traces, errors = collect_history(root=str(tmp_path))
        return [t.name for t in traces], [(e.source, e.affects) for e in errors]

    names, errors = as_nobody(run)
    # root-only NetworkManager profile still counts (its existence is the trace), name from the file
    assert "Wired" in names
    assert (str(tmp_path / "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"), "network.history") in [tuple(e) for e in errors]
    assert (str(tmp_path / "var/lib/iwd"), "network.history") in [tuple(e) for e in errors]
