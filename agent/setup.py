"""`bmnn init`: directories with the right owners and modes, and the bmnn group."""

from __future__ import annotations

import grp
import os
import subprocess

GROUP = "bmnn"


def prepare(paths) -> list[str]:
    """Create config (0755), state (0700), runtime (0750, group bmnn) and log (0750) directories.

    Returns notes for the user (e.g. the group could not be created as a normal user).
    """
    notes = []
    root = os.geteuid() == 0
    gid = None
    if root:
        try:
            gid = grp.getgrnam(GROUP).gr_gid
        except KeyError:
            p = subprocess.run(["groupadd", "--system", GROUP], capture_output=True, text=True)
            if p.returncode == 0:
                gid = grp.getgrnam(GROUP).gr_gid
                notes.append(f"created group {GROUP}: add the security officer with 'usermod -aG {GROUP} USER'")
            else:
                notes.append(f"could not create group {GROUP}: {p.stderr.strip()}")
    else:
        notes.append("not root: directories are created for this user only and no group is made")
    for path, mode, group in ((paths.config_dir, 0o755, None), (paths.state_dir, 0o700, None),
                              (paths.runtime_dir, 0o750, gid), (paths.log_dir, 0o750, None)):
        os.makedirs(path, mode=mode, exist_ok=True)
        os.chmod(path, mode)
        if root:
            os.chown(path, 0, group if group is not None else 0)
    os.makedirs(os.path.join(paths.config_dir, "local.d"), mode=0o755, exist_ok=True)
    return notes
