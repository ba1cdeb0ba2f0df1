"""Block devices, mounts and encryption: a loop-mounted ext4 image in a private mount namespace,
and a LUKS header on a loop device."""

import os
import subprocess

import pytest

from bmnn_guard.policies import facts as F
from bmnn_guard.scanner.collect import collect_storage
from bmnn_guard.scanner.collect._common import Errors
from bmnn_guard.scanner.collect.storage import _encrypted_stack, encrypted_devices

from .support import facts_of, judge, need_root, need_tool, run_python


def test_loop_mounted_image_is_a_mounted_block_device(tmp_path):
    need_root()
    need_tool("unshare", "mkfs.ext4", "mount")
    img, mnt = tmp_path / "disk.img", tmp_path / "mnt"
    mnt.mkdir()
    subprocess.run(["truncate", "-s", "16M", str(img)], check=True)
    subprocess.run(["mkfs.ext4", "-q", "-L", "BMNNTEST", str(img)], check=True)
    code = f"""
import subprocess
subprocess.run(['mount', '-o', 'loop', {str(img)!r}, {str(mnt)!r}], check=True)
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_devices, collect_storage
try:
    result = Facts(devices=collect_devices(), storage=collect_storage(target={str(mnt)!r}),
                   collected=('devices', 'storage'))
finally:
    subprocess.run(['umount', {str(mnt)!r}], check=True)
"""
    facts = facts_of(run_python(code, prefix=("unshare", "-m", "--propagation", "private", "--")))
    mount = next(m for m in facts.devices.mounts if m.mountpoint == str(mnt))
    assert mount.fs_type == "ext4" and mount.device.startswith("/dev/loop")
    loop = next(b for b in facts.devices.block if str(mnt) in b.mountpoints)
    assert loop.name == os.path.basename(mount.device)
    assert loop.size_bytes == 16 * 1024 * 1024 and loop.devtype == "disk"
    assert loop.fs_type == "ext4" and loop.fs_label == "BMNNTEST"
    assert facts.storage.root_encrypted is False  # a plain loop device, no dm-crypt below


@pytest.fixture
def luks_loop(tmp_path):
    need_root()
    need_tool("cryptsetup", "losetup")
    img, key = tmp_path / "luks.img", tmp_path / "key"
    key.write_bytes(b"bmnn-test-key")
    subprocess.run(["truncate", "-s", "20M", str(img)], check=True)
    subprocess.run(["cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2",
                    "--pbkdf-force-iterations", "1000", "--key-file", str(key), str(img)], check=True,
                   capture_output=True)
    dev = subprocess.run(["losetup", "--find", "--show", str(img)], check=True, capture_output=True,
                         text=True).stdout.strip()
    yield dev
    subprocess.run(["losetup", "-d", dev], check=False)


def test_luks_header_is_seen_and_reported(luks_loop):
    code = """
from bmnn_guard.policies.facts import Facts
from bmnn_guard.scanner.collect import collect_devices, collect_storage
result = Facts(devices=collect_devices(), storage=collect_storage(), collected=('devices', 'storage'))
"""
    facts = facts_of(run_python(code))
    dev = next(b for b in facts.devices.block if b.devnode == luks_loop)
    assert dev.fs_type == "crypto_LUKS" and dev.is_luks
    # judge STO-001 on this device alone: other disks of a build machine may be unreadable (containers)
    only = F.Facts(devices=F.DeviceFacts(block=(dev,)), storage=F.StorageFacts(root_encrypted=False),
                   collected=("devices", "storage"))
    results, _ = judge(only)
    r = results["BMNN-STO-001"]
    assert r.status == "informational" and r.underlying_status == "fail"
    assert any(row.get("name") == dev.name and row.get("fs_type") == "crypto_LUKS" for row in r.evidence)


def test_dm_crypt_stack_walk(tmp_path):
    """LVM on LUKS: root on dm-1 (LVM) whose slave dm-0 is CRYPT-. No device-mapper on the build
    machines, so this one walks a sysfs-shaped tree."""
    block = tmp_path / "block"
    for name, uuid, dmname in (("dm-0", "CRYPT-LUKS2-abc-luks-abc", "luks-abc"), ("dm-1", "LVM-xyz", "vg-root")):
        (block / name / "dm").mkdir(parents=True)
        (block / name / "dm" / "uuid").write_text(uuid + "\n")
        (block / name / "dm" / "name").write_text(dmname + "\n")
        (block / name / "slaves").mkdir()
    os.symlink(block / "dm-0", block / "dm-1" / "slaves" / "dm-0")
    (block / "sda2" / "slaves").mkdir(parents=True)
    assert _encrypted_stack(str(block / "dm-1")) is True
    assert _encrypted_stack(str(block / "sda2")) is False
    assert encrypted_devices(str(tmp_path), Errors()) == ["luks-abc"]


def test_root_on_non_block_filesystem_is_unknown_not_false(tmp_path):
    proc = tmp_path / "proc" / "self"
    proc.mkdir(parents=True)
    (proc / "mountinfo").write_text("1 0 0:31 / / rw,relatime - overlay overlay rw,lowerdir=/a\n")
    st = collect_storage(proc_root=str(tmp_path / "proc"), sys_root=str(tmp_path))
    assert st.root_encrypted is None
    assert any(e.affects == "storage.root_encrypted" for e in st.errors)
    results, _ = judge(F.Facts(storage=st, devices=F.DeviceFacts(), collected=("storage", "devices")))
    assert results["BMNN-STO-001"].status == "error"
