"""Host identity: host name, machine id, DMI, OS release, kernel, virtualisation."""

from __future__ import annotations

import os
import shutil
import subprocess
from typing import Optional

from bmnn_guard.policies.facts import HostFacts

from ._common import Errors, read_text


def _os_release(root: str, errors: Errors) -> dict[str, str]:
    for rel in ("etc/os-release", "usr/lib/os-release"):
        path = os.path.join(root, rel)
        try:
            text = read_text(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.oserror(path, exc, "host.os_name")
            return {}
        out = {}
        for line in text.splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() and not key.startswith("#"):
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                out[key.strip()] = value
        return out
    errors.add(os.path.join(root, "etc/os-release"), "not found", "host.os_name")
    return {}


def _dmi(sys_root: str, attr: str, affects: str, errors: Errors) -> Optional[str]:
    path = os.path.join(sys_root, "class", "dmi", "id", attr)
    try:
        value = read_text(path).strip()
    except FileNotFoundError:
        if os.path.isdir(os.path.dirname(path)):
            return None  # the firmware does not provide it
        errors.add(os.path.dirname(path), "no DMI tables (not exposed by this kernel or platform)", affects)
        return None
    except OSError as exc:
        errors.oserror(path, exc, affects)
        return None
    return value or None


def _virtualization(root: str, sys_root: str, proc_root: str) -> Optional[str]:
    """systemd-detect-virt when present, else the usual hints (container files, DMI, cpuinfo)."""
    tool = shutil.which("systemd-detect-virt")
    if tool:
        try:
            res = subprocess.run([tool], capture_output=True, text=True, timeout=2)
            value = res.stdout.strip()
            if value:
                return value
        except (OSError, subprocess.SubprocessError):
            pass
    if os.path.exists(os.path.join(root, ".dockerenv")):
        return "docker"
    if os.path.exists(os.path.join(root, "run/.containerenv")):
        return "podman"
    try:
        with open(os.path.join(proc_root, "1", "environ"), "rb") as fh:
            for var in fh.read().split(b"\0"):
                if var.startswith(b"container="):
                    return var[10:].decode("ascii", "replace") or "container"
    except OSError:
        pass
    vendor = " ".join(filter(None, (_dmi(sys_root, a, "", Errors()) for a in ("sys_vendor", "product_name")))).lower()
    for hint, name in (("qemu", "qemu"), ("kvm", "kvm"), ("vmware", "vmware"), ("virtualbox", "oracle"),
                       ("microsoft corporation virtual", "microsoft"), ("xen", "xen"), ("bochs", "bochs")):
        if hint in vendor:
            return name
    try:
        with open(os.path.join(proc_root, "cpuinfo")) as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "vm-other" if " hypervisor" in line else "none"
    except OSError:
        pass
    return None


def collect_host(*, root: str = "/", sys_root: str = "/sys", proc_root: str = "/proc") -> HostFacts:
    """Identity of this machine."""
    errors = Errors()
    uname = os.uname()
    machine_id = None
    for rel in ("etc/machine-id", "var/lib/dbus/machine-id"):
        path = os.path.join(root, rel)
        try:
            machine_id = read_text(path).strip() or None
            break
        except FileNotFoundError:
            continue
        except OSError as exc:
            errors.oserror(path, exc, "host.machine_id")
            break
    else:
        errors.add(os.path.join(root, "etc/machine-id"), "not found", "host.machine_id")
    rel = _os_release(root, errors)
    return HostFacts(
        hostname=uname.nodename or None,
        machine_id=machine_id,
        dmi_vendor=_dmi(sys_root, "sys_vendor", "host.dmi_vendor", errors),
        dmi_product=_dmi(sys_root, "product_name", "host.dmi_product", errors),
        dmi_serial=_dmi(sys_root, "product_serial", "host.dmi_serial", errors),
        os_name=rel.get("PRETTY_NAME") or rel.get("NAME"),
        os_version=rel.get("VERSION_ID"),
        kernel=uname.release,
        virtualization=_virtualization(root, sys_root, proc_root),
        errors=errors.tuple(),
    )
