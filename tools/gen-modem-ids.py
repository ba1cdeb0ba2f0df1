#!/usr/bin/env python3
"""Generate scanner/data/cellular-ids.json, the cellular-modem telltales, from Debian packages.

    python tools/gen-modem-ids.py            # write the table
    python tools/gen-modem-ids.py --check    # exit 1 when the checked-in table differs
    python tools/gen-modem-ids.py --review   # also print every decision, for a reviewer

Inputs (each recorded in the output with its package version and sha256):

- usb-modeswitch-data: configPack.tar.gz names, per USB id a stick shows before switching
  ("source"), the ids it switches to ("TargetVendor"/"TargetProduct[List]", or the same id with
  another class), under a comment naming the device; 40-usb_modeswitch.rules adds the rules that
  match a whole vendor (Huawei: mass storage on interface 0, not an Android phone).
  The database also switches Wi-Fi dongles, printers, a racing wheel and Ethernet adapters out
  of their driver-CD mode: an entry is left out when its own name, or the usb.ids name of an id it
  switches to, names another kind of device (scanner.collect.cellular.other_device), or when it
  switches to the printer or HID class. Left-out entries are listed under "not_cellular" with
  the reason, so that a reviewer sees every decision.
- usb.ids (the same names udev's hwdb carries): every id whose model name the shared name rules
  (scanner.collect.cellular.name_kind) read as a cellular device or a tethering phone.
- ieee-data: the MAC prefixes (MA-L) registered to Huawei. Huawei's HiLink firmware gives its
  network function a Huawei-registered address (00:1E:10 on the E3372); no data here ties another
  maker's registered prefixes to its sticks rather than to its phones, routers and NICs, so none
  are listed.

The output is deterministic (sorted, no timestamps): the same package versions give the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from bmnn_guard.scanner.collect.cellular import TABLE_PATH, name_kind, other_device, parse_table  # noqa: E402

CONFIGPACK = "/usr/share/usb_modeswitch/configPack.tar.gz"
RULES = ("/lib/udev/rules.d/40-usb_modeswitch.rules", "/usr/lib/udev/rules.d/40-usb_modeswitch.rules")
USB_IDS = ("/usr/share/misc/usb.ids", "/usr/share/hwdata/usb.ids", "/var/lib/usbutils/usb.ids")
OUI_CSV = "/usr/share/ieee-data/oui.csv"
OUI_ORGS = re.compile(r"^HUAWEI (?:TECHNOLOGIES|DEVICE)\b", re.I)
NON_MODEM_CLASSES = {"0x07": "switches to the printer class", "0x03": "switches to the HID class"}
MAX_MEMBER = 64 << 10
MAX_MORE = 3  # "from" references kept per target id


class GenError(Exception):
    """An input is missing or does not look as expected."""


def first(paths) -> str:
    for p in paths:
        if os.path.exists(p):
            return p
    raise GenError(f"none of {', '.join(paths)} exists: install the Debian package (see tools/packages-test.txt)")


def provenance(path: str) -> dict:
    real = os.path.realpath(path)
    pkg = version = None
    for candidate in (path, real):
        res = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if res.returncode == 0:
            pkg = res.stdout.split(":", 1)[0].split(",")[0].strip()
            break
    if pkg:
        res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True)
        version = res.stdout.strip() or None
    if not pkg or not version:
        raise GenError(f"{path}: not owned by an installed Debian package")
    with open(real, "rb") as fh:
        digest = hashlib.sha256(fh.read()).hexdigest()
    return {"package": pkg, "version": version, "file": path, "sha256": digest}


def hex4(value: str) -> str:
    return "%04x" % int(value.strip().strip('"'), 16)


# ---------------------------------------------------------------- usb-modeswitch


def read_configpack(path: str) -> dict[str, dict]:
    """{member name: {name, vendor, product, qualifier, targets, target_class}}."""
    out = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile() or member.size > MAX_MEMBER:
                continue
            m = re.match(r"^([0-9a-fA-F]{4}):([0-9a-fA-F]{4})(?::(.+))?$", os.path.basename(member.name))
            if not m:
                continue  # new.lst and other notes
            text = tar.extractfile(member).read().decode("utf-8", "replace")
            name, values = None, {}
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("#"):
                    if name is None and line.lstrip("# ").strip():
                        name = line.lstrip("# ").strip()
                    continue
                key, sep, value = line.partition("=")
                if sep:
                    values[key.strip()] = value.strip().strip('"')
            targets = []
            if "TargetVendor" in values:
                tv = hex4(values["TargetVendor"])
                products = []
                if "TargetProduct" in values:
                    products.append(values["TargetProduct"])
                if "TargetProductList" in values:
                    products += values["TargetProductList"].split(",")
                targets = [f"{tv}:{hex4(p)}" for p in products if p.strip()]
            out[os.path.basename(member.name)] = {
                "id": f"{m.group(1).lower()}:{m.group(2).lower()}", "qualifier": m.group(3), "name": name,
                "targets": targets, "target_class": values.get("TargetClass", "").lower() or None}
    if not out:
        raise GenError(f"{path}: no entries")
    return out


_RULE_PAIR = re.compile(r'(ATTRS?)\{(\w+)\}\s*(==|!=)\s*"([^"]*)"')


def read_rules(path: str) -> tuple[list[dict], dict[str, str]]:
    """(vendor-wide rules, {id: comment name} of the per-id rules)."""
    vendor_rules, per_id = [], {}
    comment = None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith("#"):
                comment = line.lstrip("# ").strip() or comment
                continue
            if "usb_modeswitch" not in line or "RUN" not in line:
                continue
            attrs = {(k, op): v for _, k, op, v in _RULE_PAIR.findall(line)}
            vendor = attrs.get(("idVendor", "=="))
            if vendor is None:
                continue
            product = attrs.get(("idProduct", "=="))
            if product is not None:
                per_id[f"{vendor.lower()}:{product.lower()}"] = comment or ""
                continue
            known = {("idVendor", "=="), ("manufacturer", "!="), ("bInterfaceNumber", "=="), ("bInterfaceClass", "==")}
            unknown = set(attrs) - known
            if unknown:
                raise GenError(f"{path}: vendor rule with conditions this generator does not know: {sorted(unknown)}")
            vendor_rules.append({"vendor": vendor.lower(), "manufacturer_not": attrs.get(("manufacturer", "!=")),
                                 "interface_number": attrs.get(("bInterfaceNumber", "==")),
                                 "interface_class": attrs.get(("bInterfaceClass", "==")), "name": comment or ""})
    return vendor_rules, per_id


# ---------------------------------------------------------------- usb.ids and IEEE


def read_usb_ids(path: str) -> tuple[dict[str, str], dict[str, str]]:
    """({vvvv:pppp: model name}, {vvvv: vendor name}) from the device section of usb.ids."""
    models, vendors, vendor = {}, {}, None
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.startswith("C "):
                break  # the class section follows the devices
            m = re.match(r"^([0-9a-f]{4})\s+(.*)$", line)
            if m:
                vendor = m.group(1)
                vendors[vendor] = m.group(2).strip()
                continue
            m = re.match(r"^\t([0-9a-f]{4})\s+(.*)$", line)
            if m and vendor:
                models[f"{vendor}:{m.group(1)}"] = m.group(2).strip()
    if len(models) < 1000:
        raise GenError(f"{path}: only {len(models)} models: not a usb.ids file")
    return models, vendors


def read_ouis(path: str) -> dict[str, str]:
    out = {}
    with open(path, encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("Registry") == "MA-L" and OUI_ORGS.search(row.get("Organization Name") or ""):
                out[row["Assignment"].lower()] = " ".join(row["Organization Name"].split())
    if "001e10" not in out:
        raise GenError(f"{path}: 00:1E:10 is not registered to Huawei here: the data changed, review OUI_ORGS")
    return out


# ---------------------------------------------------------------- the table


def build(review=None) -> dict:
    def say(*parts):
        if review is not None:
            print(*parts, file=review)

    cp_path, rules_path, ids_path = CONFIGPACK, first(RULES), first(USB_IDS)
    sources = [provenance(cp_path), provenance(rules_path), provenance(ids_path), provenance(OUI_CSV)]
    pack = read_configpack(cp_path)
    vendor_rules, rule_ids = read_rules(rules_path)
    models, _vendors = read_usb_ids(ids_path)
    ouis = read_ouis(OUI_CSV)

    ids: dict[str, dict] = {}
    not_cellular: dict[str, str] = {}

    def entry(key: str, kind: str = "cellular") -> dict:
        e = ids.setdefault(key, {"kind": kind})
        if kind == "cellular":
            e["kind"] = "cellular"
        return e

    for member, e in sorted(pack.items()):
        name = e["name"] or rule_ids.get(e["id"]) or member
        why = other_device(name)
        why = f"its name says {why!r}" if why else None
        if why is None and e["target_class"] in NON_MODEM_CLASSES:
            why = NON_MODEM_CLASSES[e["target_class"]]
        for t in e["targets"]:
            word = other_device(models.get(t))
            if why is None and word:
                why = f"switches to {t} {models[t]!r} ({word!r})"
        if why:
            not_cellular[member] = f"{name}: {why}"
            say("not cellular", member, "-", not_cellular[member])
            continue
        say("cellular", member, "-", name, "->", ",".join(e["targets"]) or e["target_class"] or "(same id)")
        src = entry(e["id"])
        ref = {"role": "source", "name": name}
        if e["qualifier"]:
            ref["when"] = e["qualifier"]
        if ref not in src.setdefault("modeswitch", []):
            src["modeswitch"].append(ref)
        for t in e["targets"]:
            tgt = entry(t)
            refs = tgt.setdefault("modeswitch", [])
            tref = {"role": "target", "from": e["id"], "name": name}
            if tref not in refs and sum(1 for r in refs if r["role"] == "target") < MAX_MORE:
                refs.append(tref)

    missing = sorted(set(rule_ids) - {e["id"] for e in pack.values()})
    for key in missing:
        why = other_device(rule_ids[key])
        if why:
            not_cellular[key] = f"{rule_ids[key]}: its name says {why!r}"
            continue
        entry(key).setdefault("modeswitch", []).append({"role": "source", "name": rule_ids[key] or "udev rule"})

    for key, name in sorted(models.items()):
        kind = name_kind(name)
        if kind:
            e = entry(key, kind)
            say(kind, key, "-", name)
        if key in ids:
            ids[key]["usb_ids"] = name

    for key, e in ids.items():
        if "modeswitch" in e:
            e["modeswitch"].sort(key=lambda r: (r["role"], r.get("from", ""), r["name"], r.get("when", "")))
    table = {
        "about": "Cellular-modem telltales; generated by tools/gen-modem-ids.py from the Debian packages listed "
                 "in sources. Do not edit by hand: regenerate.",
        "generator": "tools/gen-modem-ids.py",
        "sources": sources,
        "ids": dict(sorted(ids.items())),
        "vendor_rules": vendor_rules,
        "ouis": dict(sorted(ouis.items())),
        "not_cellular": dict(sorted(not_cellular.items())),
    }
    parse_table(table, "generated table")  # the reader accepts what we write
    return table


def render(table: dict) -> str:
    """JSON with one line per id, rule, prefix or source: reviewable as a diff when packages change."""
    def one(v):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    parts = []
    for key, value in table.items():
        if isinstance(value, dict) and value:
            body = ",\n".join(f"  {one(k)}:{one(v)}" for k, v in value.items())
            parts.append(f"{one(key)}:{{\n{body}\n}}")
        elif isinstance(value, list) and value:
            body = ",\n".join(f"  {one(v)}" for v in value)
            parts.append(f"{one(key)}:[\n{body}\n]")
        else:
            parts.append(f"{one(key)}:{one(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the checked-in table, write nothing")
    ap.add_argument("--review", action="store_true", help="print every decision on stderr")
    ap.add_argument("-o", "--output", default=TABLE_PATH)
    args = ap.parse_args(argv)
    try:
        text = render(build(sys.stderr if args.review else None))
    except (GenError, OSError, tarfile.TarError) as exc:
        print(f"gen-modem-ids: {exc}", file=sys.stderr)
        return 1
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as fh:
                same = fh.read() == text
        except OSError:
            same = False
        print("gen-modem-ids: up to date" if same else f"gen-modem-ids: {args.output} differs: regenerate it",
              file=sys.stderr)
        return 0 if same else 1
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    tmp = args.output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, args.output)
    data = json.loads(text)
    print(f"gen-modem-ids: {len(data['ids'])} ids, {len(data['vendor_rules'])} vendor rule(s), "
          f"{len(data['ouis'])} MAC prefixes, {len(data['not_cellular'])} entries left out -> {args.output}",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
