#!/usr/bin/python3
"""Build bmnn-guard_<version>_<arch>.deb: the project and every Python dependency in one venv.

Debian 12 cannot carry this project as Debian Python packages (no msgspec or pypdfium2, older
watchdog and cryptography), so the package carries a virtual environment, the way Matrix
Synapse's packages do. The venv is made for its final path, /usr/lib/bmnn-guard, with Debian's
own /usr/bin/python3 (its interpreter is a symlink to it, so a Python point release needs no
rebuild); the only things on the target are Debian's packages named in Depends.

Why dpkg-deb and not dh-virtualenv 1.2.2 (both measured on this machine, docs/packaging.md): the
dh-virtualenv package carried pip, setuptools and 87 __pycache__ directories compiled with the
build path inside them (lintian errors), took 85 s against ~30 s here, and still needed a
generated debian/changelog in a copy of the tree to take its version from pyproject.toml.

Everything the package says about the project is read, not written down twice: the version from
pyproject.toml, the commands from the wheel's console_scripts, the units from systemd/, the
shared-library dependencies from dpkg-shlibdeps. Nothing here names a module of the project, so
moving the modules under a namespace needs no change to the packaging.

Python files are not compiled into the package (Debian policy: no .pyc in .debs); the postinst
compiles them with py3compile and the prerm removes them with py3clean, as dh_python3 does.
Files that no Python 3 can compile (a dependency's Python 2 leftovers) are listed for py3compile
in /usr/share/python3/bcep/bmnn-guard.

Run it with Debian's python3: ``make deb`` (or ``/usr/bin/python3 packaging/deb/build.py``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

PACKAGE = "bmnn-guard"
PREFIX = f"/usr/lib/{PACKAGE}"
UNIT_DIR = "/lib/systemd/system"
HERE = Path(__file__).resolve().parent
DEFAULT_MAINTAINER = "bmnn-guard developers <dev@bmnn-guard.invalid>"
SECTION = "admin"

# Debian packages the code runs or loads at run time, beyond what the ELF files link to
# (dpkg-shlibdeps finds those): pyudev dlopens libudev.so.1; the daemon's device events come
# from systemd-udevd; `bmnn init` creates the bmnn group with groupadd. Essential packages
# (util-linux: blkid; bsdutils: wall; libc-bin: getent, ldconfig) need no entry.
RUNTIME_DEPENDS = ["libudev1", "udev", "passwd", "tesseract-ocr-vie"]
# tesseract-ocr-vie: the Vietnamese model the bundled tesserocr reads stamps in scans with (without
# it image pages are "not read: OCR not installed", so a scan with scanned documents is incomplete)
# systemd: the unit, loginctl for desktop alerts, systemd-detect-virt in the scan;
# libnotify-bin: notify-send for the desktop alert (a note in `bmnn status` when missing)
RECOMMENDS = ["systemd", "libnotify-bin", "logrotate"]

DESCRIPTION = """\
compliance agent and scanner for workstations holding state secrets
 bmnn-guard checks Linux workstations of Vietnamese agencies that draft and
 store state secrets (bi mat nha nuoc) against the Law on Protection of State
 Secrets (Law 117/2025/QH15) and its decrees.
 .
 The daemon bmnn-agent watches network state, USB and storage devices and
 marked folders, records every violation in a tamper-evident journal and
 alerts at once. The command bmnn runs the device-inspection checklist, lets
 the security officer query the daemon, and exports signed snapshots for
 inspectors.
 .
 The package carries its own Python environment in /usr/lib/bmnn-guard, with
 every Python library it needs: nothing is downloaded at install time."""

# the NAME line of the man pages (help2man writes the rest from --help); a command not named
# here gets the package name
MAN_NAMES = {"bmnn": "inspection checklist, daemon queries and signed snapshots of bmnn-guard",
             "bmnn-agent": "the bmnn-guard monitoring daemon (run by bmnn-agent.service)"}

SKIP_COPY = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".mypy_cache"}


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    try:
        p = subprocess.run(cmd, text=True, capture_output=True, **kw)
    except FileNotFoundError:
        raise BuildError(f"{cmd[0]} not found (Debian package: {tool_package(cmd[0])})") from None
    if p.returncode != 0:
        raise BuildError(f"{' '.join(cmd[:4])}... failed (exit {p.returncode}):\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return p


def wheel_env(python: Path) -> dict[str, str]:
    """Build environment for the project's wheel, linked without the build interpreter's paths.

    The build venv's interpreter may be a pyenv or /usr/local build whose LDSHARED carries
    -L and -Wl,-rpath to its own lib/: a C extension linked with it gets a RUNPATH into the
    build machine (lintian: custom-library-search-path) that means nothing on the target.
    Extensions need no libpython on Debian, so the link flags keep everything but those.
    """
    env = dict(os.environ)
    if not python.exists():
        return env
    out = run([str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('LDSHARED') or '')"]).stdout
    words = out.split()
    if not words:
        return env
    keep = [w for w in words if not (w.startswith("-L") or w.startswith("-Wl,-rpath") or w.startswith("-Wl,-R"))]
    env["LDSHARED"] = " ".join(keep)
    env.pop("LDFLAGS", None)
    return env


def tool_package(tool: str) -> str:
    return {"help2man": "help2man", "dpkg-shlibdeps": "dpkg-dev", "strip": "binutils"}.get(os.path.basename(tool), tool)


def deb_version(v: str) -> str:
    """PEP 440 -> Debian, in the same order: pre-releases and dev releases sort before the release
    (``~``), a dev release before the pre-releases (``~~``), post and local releases after it."""
    m = re.fullmatch(r"(?:(\d+)!)?(\d+(?:\.\d+)*)((?:a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?(\+[A-Za-z0-9.]+)?", v)
    if not m:
        raise BuildError(f"pyproject.toml: version {v!r} is not a PEP 440 version this build can map to Debian")
    epoch, release, pre, post, dev, local = m.groups()
    out = (f"{epoch}:" if epoch else "") + release
    if pre:
        out += "~" + pre
    if post:
        out += post
    if dev:  # 1.0.dev1 < 1.0a1 < 1.0a1.dev1... : "~~" sorts before "~a"
        out += ("~" if pre or post else "~~") + dev[1:]
    if local:
        out += local
    return out


def read_version(src: Path) -> str:
    with open(src / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def copy_source(src: Path, dest: Path) -> None:
    """A clean copy to build the wheel from: setuptools' build/ keeps files of removed modules."""
    def ignore(d, names):
        return [n for n in names if n in SKIP_COPY or n.endswith(".egg-info") or n.endswith(".deb")]
    shutil.copytree(src, dest, ignore=ignore, symlinks=True)


def target_python(python: str) -> tuple[str, str]:
    """The interpreter's X.Y and the Debian package that ships it (it must be Debian's)."""
    real = os.path.realpath(python)
    ver = run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    p = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
    if p.returncode != 0:
        raise BuildError(f"{python} ({real}) is not from a Debian package: build with Debian's /usr/bin/python3")
    return ver, p.stdout.split(":")[0]


def console_scripts(site: Path) -> list[str]:
    """Commands of the project, from its wheel's entry_points.txt."""
    dists = list(site.glob("bmnn_guard-*.dist-info"))
    if len(dists) != 1:
        raise BuildError(f"expected one bmnn_guard dist-info in the venv, found {[d.name for d in dists]}")
    names, section = [], None
    for line in (dists[0] / "entry_points.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "console_scripts" and "=" in line:
            names.append(line.split("=", 1)[0].strip())
    if not names:
        raise BuildError("the wheel declares no console_scripts")
    return names


def is_elf(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


def not_compilable(python: str, site: Path) -> list[str]:
    """Python files the target interpreter cannot byte-compile (relative to site)."""
    code = ("import sys, pathlib\n"
            "root = pathlib.Path(sys.argv[1])\n"
            "for p in sorted(root.rglob('*.py')):\n"
            "    try:\n"
            "        compile(p.read_bytes(), str(p), 'exec', dont_inherit=True)\n"
            "    except (SyntaxError, ValueError):\n"
            "        print(p.relative_to(root))\n")
    return run([python, "-I", "-c", code, str(site)], cwd="/").stdout.split()


def build(args) -> Path:
    src = Path(args.src).resolve()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    version = read_version(src)
    dversion = deb_version(version)
    pyver, pypkg = target_python(args.python)
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    maintainer = os.environ.get("DEB_MAINTAINER", DEFAULT_MAINTAINER)
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or source_epoch(src))
    t0 = time.monotonic()

    with tempfile.TemporaryDirectory(prefix="bmnn-deb-", dir=args.tmp) as tmp:
        tmp = Path(tmp)
        # dpkg-shlibdeps wants debian/control and the tree in debian/<package>
        (tmp / "debian").mkdir()
        (tmp / "debian/control").write_text(f"Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n")
        root = tmp / "debian" / PACKAGE
        venv = root / PREFIX.lstrip("/")
        step("wheel")
        copy_source(src, tmp / "src")
        run([args.pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp / "wheels"), str(tmp / "src")],
            env=wheel_env(Path(args.pip).parent / "python"))
        wheels = list((tmp / "wheels").glob("*.whl"))
        step(f"venv for {PREFIX} with {args.python} (Python {pyver}, package {pypkg})")
        run([args.python, "-m", "venv", "--without-pip", str(venv)])
        vpy = str(venv / "bin" / "python3")
        run([args.pip, "--python", vpy, "install", "--quiet", "--no-compile", "--only-binary=:all:",
             "--no-warn-script-location", "--disable-pip-version-check", *map(str, wheels)])
        site = venv / "lib" / f"python{pyver}" / "site-packages"
        commands = console_scripts(site)
        step("man pages")
        man = root / "usr/share/man/man1"
        man.mkdir(parents=True)
        for name in commands:
            page = run(["help2man", "--no-info", "--no-discard-stderr", "--locale=C.UTF-8",
                        f"--version-string={version}", f"--name={MAN_NAMES.get(name, PACKAGE)}",
                        str(venv / "bin" / name)],
                       env={**os.environ, "COLUMNS": "80", "SOURCE_DATE_EPOCH": str(epoch)}, cwd=tmp).stdout
            gz_write(man / f"{name}.1.gz", page.encode("utf-8"), epoch)
        freeze = bundled(vpy)
        skip = not_compilable(vpy, site)
        step("venv for its final path")
        finalize_venv(venv, root, commands)  # from here on the staged venv does not run
        step("strip")
        for p in sorted(root.rglob("*")):
            if p.is_file() and not p.is_symlink() and is_elf(p):
                run(["strip", "--remove-section=.comment", "--remove-section=.note", "--strip-unneeded", str(p)])
        step("files")
        usr_bin = root / "usr/bin"
        usr_bin.mkdir(parents=True)
        for name in commands:
            (usr_bin / name).symlink_to(os.path.relpath(f"{PREFIX}/bin/{name}", "/usr/bin"))
        units = sorted((src / "systemd").glob("*.service"))
        (root / UNIT_DIR.lstrip("/")).mkdir(parents=True)
        for u in units:
            shutil.copy(u, root / UNIT_DIR.lstrip("/") / u.name)
        etc = root / "etc"
        (etc / "bmnn").mkdir(parents=True)
        shutil.copy(HERE / "agent.yaml", etc / "bmnn/agent.yaml")
        (etc / "logrotate.d").mkdir()
        shutil.copy(HERE / "logrotate", etc / f"logrotate.d/{PACKAGE}")
        doc = root / f"usr/share/doc/{PACKAGE}"
        doc.mkdir(parents=True)
        shutil.copy(HERE / "copyright", doc / "copyright")
        gz_write(doc / "changelog.gz", changelog(dversion, maintainer, epoch).encode(), epoch)
        shutil.copy(src / "README.md", doc / "README.md")
        for d in sorted((src / "docs").glob("*.md")):
            shutil.copy(d, doc / d.name)
        (doc / "bundled-python.txt").write_text(
            f"Python distributions in {PREFIX} (name, version, license; texts in each *.dist-info):\n" + freeze)
        over = root / "usr/share/lintian/overrides"
        over.mkdir(parents=True)
        shutil.copy(HERE / "lintian-overrides", over / PACKAGE)
        if skip:
            bcep = root / "usr/share/python3/bcep"
            bcep.mkdir(parents=True)
            (bcep / PACKAGE).write_text("# files no Python 3 compiles (left out by py3compile)\n" + "".join(
                f"file|-|{PREFIX}/lib/python{pyver}/site-packages/{f}\n" for f in skip))
        leaked = [str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink() and str(tmp).encode() in p.read_bytes()]
        if leaked:
            raise BuildError(f"the build path is still written in: {', '.join(leaked[:10])}")
        step("control")
        debian = root / "DEBIAN"
        # made before dpkg-shlibdeps: it marks the root of the package's tree, so that the libraries a
        # wheel bundles beside itself (Pillow's pillow.libs, tesserocr.libs; RPATH $ORIGIN/..) are
        # found in the package and need no Depends
        debian.mkdir()
        shlibs = shlib_depends(tmp, root)
        depends = [f"python3 (>= {pyver}~)", f"python3 (<< {next_minor(pyver)})", *shlibs, *RUNTIME_DEPENDS]
        fix_permissions(root)
        conffiles = sorted("/" + str(p.relative_to(root)) for p in etc.rglob("*") if p.is_file())
        (debian / "conffiles").write_text("".join(c + "\n" for c in conffiles))
        subst = {"@PACKAGE@": PACKAGE, "@PREFIX@": PREFIX, "@PYVER@": pyver,
                 "@UNITS@": " ".join(u.name for u in units), "@COMMANDS@": " ".join(commands)}
        for script in ("postinst", "prerm", "postrm"):
            text = (HERE / script).read_text(encoding="utf-8")
            for k, v in subst.items():
                text = text.replace(k, v)
            (debian / script).write_text(text)
            os.chmod(debian / script, 0o755)
        md5 = []
        for p in sorted(root.rglob("*")):
            rel = str(p.relative_to(root))
            if p.is_file() and not p.is_symlink() and not rel.startswith("DEBIAN/") and "/" + rel not in conffiles:
                md5.append(f"{hashlib.md5(p.read_bytes()).hexdigest()}  {rel}\n")
        (debian / "md5sums").write_text("".join(md5))
        os.chmod(debian / "md5sums", 0o644)
        os.chmod(debian / "conffiles", 0o644)
        size_kib = installed_size(root)
        (debian / "control").write_text(
            f"Package: {PACKAGE}\nVersion: {dversion}\nArchitecture: {arch}\nMaintainer: {maintainer}\n"
            f"Installed-Size: {size_kib}\nDepends: {', '.join(depends)}\nRecommends: {', '.join(RECOMMENDS)}\n"
            f"Section: {SECTION}\nPriority: optional\nDescription: {DESCRIPTION}\n")
        os.chmod(debian / "control", 0o644)
        for p in [root, *root.rglob("*")]:
            os.utime(p, (epoch, epoch), follow_symlinks=False)
        deb = out / f"{PACKAGE}_{dversion.split(':')[-1]}_{arch}.deb"
        step(f"dpkg-deb -> {deb.name}")
        run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
            env={**os.environ, "SOURCE_DATE_EPOCH": str(epoch)})
    print(f"{deb}: {deb.stat().st_size / 2**20:.1f} MiB, installed {size_kib / 1024:.1f} MiB, "
          f"Depends: {', '.join(depends)}; built in {time.monotonic() - t0:.0f} s")
    return deb


def step(what: str) -> None:
    print(f"deb: {what}", flush=True)


def next_minor(ver: str) -> str:
    major, minor = ver.split(".")
    return f"{major}.{int(minor) + 1}"


def source_epoch(src: Path) -> int:
    """The last commit's time (reproducible builds), else pyproject.toml's mtime."""
    p = subprocess.run(["git", "-C", str(src), "log", "-1", "--format=%ct"], capture_output=True, text=True)
    if p.returncode == 0 and p.stdout.strip().isdigit():
        return int(p.stdout.strip())
    return int((src / "pyproject.toml").stat().st_mtime)


def gz_write(path: Path, data: bytes, epoch: int) -> None:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=epoch) as g:
        g.write(data)
    path.write_bytes(buf.getvalue())


def changelog(dversion: str, maintainer: str, epoch: int) -> str:
    date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(epoch))
    return (f"{PACKAGE} ({dversion}) stable; urgency=medium\n\n"
            f"  * Release {dversion}; the changes are in the project's history.\n\n"
            f" -- {maintainer}  {date}\n")


def bundled(vpy: str) -> str:
    code = ("import importlib.metadata as m\n"
            "for d in sorted(m.distributions(), key=lambda d: d.metadata['Name'].lower()):\n"
            "    md = d.metadata\n"
            "    lic = md.get('License-Expression') or (md.get('License') or '').splitlines()[0:1]\n"
            "    lic = lic if isinstance(lic, str) else (lic[0] if lic else '')\n"
            "    if not lic or len(lic) > 60:\n"
            "        lic = '; '.join(c.split(' :: ')[-1] for c in md.get_all('Classifier') or [] if c.startswith('License')) or lic[:60]\n"
            "    print(f\"{md['Name']}=={d.version}  {lic}\")\n")
    return run([vpy, "-I", "-c", code], cwd="/").stdout


def finalize_venv(venv: Path, root: Path, commands: list[str]) -> None:
    """Make the venv what it will be at PREFIX: only the project's commands, no build paths.

    The build path is removed from the commands' shebangs, pyvenv.cfg and direct_url.json;
    activate scripts, the dependencies' own commands, include/ and lib64 are dropped (nobody
    activates a system package's venv). Python shebangs inside site-packages point to Debian's
    python3, as dh_python3 does.
    """
    staged = str(venv)
    bindir = venv / "bin"
    for p in bindir.iterdir():
        if p.is_symlink() and p.name.startswith("python"):
            target = os.readlink(p)
            if os.path.isabs(target):  # Debian wants links inside /usr relative
                p.unlink()
                p.symlink_to(os.path.relpath(target, f"{PREFIX}/bin"))
            continue
        if p.name not in commands:
            p.unlink()
            continue
        text = p.read_text(encoding="utf-8")
        first, rest = text.split("\n", 1)
        if not first.startswith(f"#!{staged}/bin/python"):
            raise BuildError(f"unexpected interpreter line in {p.name}: {first}")
        # bin/python, not bin/python3: lintian takes any ".../python3" for a misspelt /usr/bin/python3
        p.write_text(f"#!{PREFIX}/bin/python\n{rest}", encoding="utf-8")
    for extra in ("include", "lib64"):
        e = venv / extra
        if e.is_symlink():
            e.unlink()
        elif e.exists():
            shutil.rmtree(e)
    cfg = venv / "pyvenv.cfg"
    cfg.write_text("".join(l for l in cfg.read_text().splitlines(True) if not l.startswith("command")))
    for d in venv.rglob("direct_url.json"):
        d.unlink()
        rec = d.parent / "RECORD"
        if rec.exists():
            rec.write_text("".join(l for l in rec.read_text().splitlines(True) if not l.startswith(f"{d.parent.name}/direct_url.json")))
    shebang = re.compile(rb"#!\s*(/usr/local/bin/|/usr/bin/env\s+|/usr/bin/)python[0-9.]*(\s[^\n]*)?\n")
    for p in venv.rglob("*.py"):
        data = p.read_bytes()
        m = shebang.match(data)
        if m:
            p.write_bytes(b"#!/usr/bin/python3" + (m.group(2) or b"") + b"\n" + data[m.end():])


def shlib_depends(tmp: Path, root: Path) -> list[str]:
    elves = [str(p.relative_to(tmp)) for p in root.rglob("*") if p.is_file() and not p.is_symlink() and is_elf(p)]
    if not elves:
        return []
    out = run(["dpkg-shlibdeps", "-O", "--warnings=1", *elves], cwd=tmp).stdout
    for line in out.splitlines():
        if line.startswith("shlibs:Depends="):
            return [d.strip() for d in line.split("=", 1)[1].split(",") if d.strip()]
    return []


def installed_size(root: Path) -> int:
    """KiB as dpkg-gencontrol counts: files and symlinks rounded up to 1 KiB, 1 KiB for the rest."""
    total = 0
    for p in root.rglob("*"):
        if str(p.relative_to(root)).startswith("DEBIAN"):
            continue
        total += (p.lstat().st_size + 1023) // 1024 if p.is_symlink() or p.is_file() else 1
    return total


def fix_permissions(root: Path) -> None:
    """0755 directories and programs, 0644 everything else (as dh_fixperms)."""
    for p in [root, *root.rglob("*")]:
        if p.is_symlink():
            continue
        if p.is_dir():
            os.chmod(p, 0o755)
        else:
            os.chmod(p, 0o755 if os.stat(p).st_mode & 0o111 and not p.name.endswith((".so", ".py"))
                     and ".so." not in p.name else 0o644)


def main(argv=None) -> int:
    here = HERE.parents[1]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", default=str(here), help="source tree (default: this checkout)")
    ap.add_argument("--out", default=str(here / "dist"), help="where the .deb goes (default: dist/)")
    ap.add_argument("--pip", default=str(here / ".venv/bin/pip"),
                    help="pip (>= 22.3) that installs into the new venv (default: the checkout's .venv)")
    ap.add_argument("--python", default="/usr/bin/python3", help="Debian's interpreter the venv is made for")
    ap.add_argument("--tmp", default=None, help="scratch directory (default: $TMPDIR)")
    ap.add_argument("--print-version", action="store_true", help="print the package version and stop")
    args = ap.parse_args(argv)
    try:
        if args.print_version:
            print(deb_version(read_version(Path(args.src))).split(":")[-1])
            return 0
        build(args)
    except BuildError as exc:
        print(f"make deb: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
