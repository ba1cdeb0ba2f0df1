"""`bmnn`: the command line of bmnn-guard.

Parses, calls one layer, prints, and maps each layer's exception to a one-line message and an
exit code:  0 ok/compliant, 1 usage or internal error, 2 non-compliant, 3 incomplete,
4 policy or integrity error. Heavy imports (rich, the collectors) happen inside the commands so
that `bmnn --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

import click

EXIT_OK, EXIT_ERROR, EXIT_NONCOMPLIANT, EXIT_INCOMPLETE, EXIT_INTEGRITY = 0, 1, 2, 3, 4
LANGS = click.Choice(["vi", "en"])


class Env:
    """Options shared by every command."""

    def __init__(self, lang: str, config_dir: str, policy_dir: Optional[str]):
        self.lang = lang
        self.config_dir = config_dir
        self.policy_dir = policy_dir

    @property
    def local_d(self) -> str:
        return os.path.join(self.config_dir, "local.d")

    def bundle(self):
        from policies.loader import load_bundle
        return load_bundle(self.policy_dir)

    def console(self, stderr: bool = False):
        from rich.console import Console
        return Console(stderr=stderr, highlight=False)


def _lang_option(f):
    return click.option("--lang", type=LANGS, default=None, help="Ngôn ngữ / language (vi, en).")(f)


def _env(ctx: click.Context, lang: Optional[str]) -> Env:
    env: Env = ctx.find_object(Env)
    if lang:
        env.lang = lang
    return env


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--lang", type=LANGS, envvar="BMNN_LANG", default="vi", show_default=True,
              help="Ngôn ngữ hiển thị / display language.")
@click.option("--config-dir", envvar="BMNN_CONFIG_DIR", default="/etc/bmnn", show_default=True,
              type=click.Path(file_okay=False), help="Thư mục cấu hình (local.d, sổ thiết bị) / config directory.")
@click.option("--policy-dir", envvar="BMNN_POLICY_DIR", default=None, type=click.Path(file_okay=False),
              help="Bộ chính sách thay cho bộ có sẵn / policy bundle instead of the built-in one.")
@click.version_option(package_name="bmnn-guard", prog_name="bmnn")
@click.pass_context
def cli(ctx: click.Context, lang: str, config_dir: str, policy_dir: Optional[str]) -> None:
    """bmnn-guard: kiểm tra, giám sát máy tính lưu giữ bí mật nhà nước theo Luật 117/2025/QH15.

    Endpoint compliance scanner and agent for workstations holding Vietnamese state secrets.
    """
    ctx.obj = Env(lang, config_dir, policy_dir)


# ---------------------------------------------------------------- policy


@cli.group()
def policy() -> None:
    """Bộ quy tắc kiểm tra và căn cứ pháp lý / the rule set and its legal basis."""


@policy.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--profile", default=None, help="Only the checks of this profile.")
@_lang_option
@click.pass_context
def policy_list(ctx, as_json: bool, profile: Optional[str], lang: Optional[str]) -> None:
    """Liệt kê các kiểm tra / list the checks."""
    from scanner.policyview import check_summary, print_list
    env = _env(ctx, lang)
    bundle = env.bundle()
    ids = sorted(bundle.checks)
    if profile:
        if profile not in bundle.profiles:
            raise click.UsageError(f"unknown profile {profile!r}; known: {', '.join(sorted(bundle.profiles))}")
        chosen = {e if isinstance(e, str) else e.id for e in bundle.profiles[profile].checks}
        ids = [i for i in ids if i in chosen]
    rows = [check_summary(bundle, i, env.lang) for i in ids]
    if as_json:
        _dump({"policy_bundle": {"sha256": bundle.sha256}, "checks": rows,
               "profiles": [{"id": p.id, "version": p.version, "title": p.title.get(env.lang), "threshold": p.threshold}
                            for p in bundle.profiles.values()]})
    else:
        print_list(env.console(), rows, env.lang)


def _known_check(bundle, cid: str, lang: str) -> str:
    cid = cid.upper()
    if cid not in bundle.checks:
        from scanner.i18n import t
        raise click.UsageError(t("error.unknown_check", lang, id=cid))
    return cid


@policy.command("show")
@click.argument("check_id")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def policy_show(ctx, check_id: str, as_json: bool, lang: Optional[str]) -> None:
    """Chi tiết một kiểm tra / one check in full."""
    from scanner.policyview import check_detail, print_detail
    env = _env(ctx, lang)
    bundle = env.bundle()
    d = check_detail(bundle, _known_check(bundle, check_id, env.lang), env.lang)
    if as_json:
        _dump(d)
    else:
        print_detail(env.console(), d, env.lang)


@policy.command("explain")
@click.argument("check_id")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def policy_explain(ctx, check_id: str, as_json: bool, lang: Optional[str]) -> None:
    """Căn cứ pháp lý kèm nguyên văn điều khoản / the legal basis with the article text."""
    from scanner.policyview import check_detail, print_detail
    env = _env(ctx, lang)
    bundle = env.bundle()
    d = check_detail(bundle, _known_check(bundle, check_id, env.lang), env.lang)
    if as_json:
        _dump({k: d[k] for k in ("id", "title", "legal_refs", "rationale")})
    else:
        print_detail(env.console(), d, env.lang, explain=True)


@policy.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def policy_validate(ctx, paths: tuple[str, ...], as_json: bool, lang: Optional[str]) -> None:
    """Kiểm tra tính hợp lệ của tệp chính sách / validate policy files.

    Without PATH: the bundle in use and the local tailoring (CONFIG_DIR/local.d).
    """
    from policies.errors import PolicyError
    from policies.loader import load_tailoring
    from policies.validate import validate_path
    from scanner.i18n import t
    env = _env(ctx, lang)
    report = []
    if not paths:
        try:
            bundle = env.bundle()
            report.append({"path": env.policy_dir or "(built-in)", "kind": "bundle", "ok": True, "sha256": bundle.sha256})
            lt = load_tailoring(env.local_d, bundle)
            report.append({"path": env.local_d, "kind": "tailoring", "ok": True, "files": list(lt.files)})
        except PolicyError as exc:
            report.append({"path": env.policy_dir or env.local_d, "ok": False,
                           "problems": [p.render() for p in exc.problems]})
    for p in paths:
        try:
            kind = validate_path(p, base=env.policy_dir)
            report.append({"path": p, "kind": kind, "ok": True})
        except PolicyError as exc:
            report.append({"path": p, "ok": False, "problems": [pr.render() for pr in exc.problems]})
    bad = [r for r in report if not r["ok"]]
    if as_json:
        _dump({"ok": not bad, "results": report})
    else:
        for r in report:
            if r["ok"]:
                click.echo(f"{r['path']}: {t('policy.valid', env.lang)} ({r['kind']})")
            else:
                for text in r["problems"]:
                    click.echo(text, err=True)
    if bad:
        raise SystemExit(EXIT_INTEGRITY)


# ---------------------------------------------------------------- scan, facts, devices


class _Progress:
    """A live display of the collectors while they run (stderr, only on a terminal)."""

    def __init__(self, env: Env, enabled: bool):
        self.env = env
        self.enabled = enabled
        self.progress = None
        self.tasks: dict[str, int] = {}

    def __enter__(self):
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=self.env.console(stderr=True), transient=True)
            self.progress.__enter__()
        return self

    def __call__(self, domain: str, done: bool) -> None:
        if self.progress is None:
            return
        from scanner.i18n import t
        label = f"{t('scan.collecting', self.env.lang)}: {t('domain.' + domain, self.env.lang)}"
        if domain not in self.tasks:
            self.tasks[domain] = self.progress.add_task(label, total=1)
        if done:
            self.progress.update(self.tasks[domain], completed=1, description=f"{label} — {t('scan.done', self.env.lang)}")

    def documents(self, p) -> None:
        """The document step: files done / total, MB/s and time left (``content.scan.Progress``)."""
        if self.progress is None:
            return
        from scanner.i18n import t
        lang = self.env.lang
        rate = p.bytes_done / p.elapsed / 1e6 if p.elapsed > 0 else 0.0
        if p.bytes_done and p.bytes_total > p.bytes_done and p.elapsed > 0.5:
            left = round((p.bytes_total - p.bytes_done) / (p.bytes_done / p.elapsed))
            label = t("scan.doc_progress_eta", lang, done=p.files_done, total=p.files_total, rate=rate, s=left)
        else:
            label = t("scan.doc_progress", lang, done=p.files_done, total=p.files_total, rate=rate)
        if "documents" not in self.tasks:
            self.tasks["documents"] = self.progress.add_task(label, total=1)
        self.progress.update(self.tasks["documents"], description=label)

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)


def _write_output(path: Optional[str], data: str) -> None:
    """``data`` to ``path`` atomically, or to stdout when no path was given."""
    if not path:
        click.echo(data, nl=False)
        return
    from scanner.atomic import write_atomic
    from scanner.errors import ScanError
    try:
        write_atomic(path, data.encode("utf-8"), 0o640)
    except OSError as exc:
        raise ScanError(f"cannot write {path}: {exc.strerror}") from None


def _journal_check(env: Env):
    """AGT-001's journal verification, handed to the scanner (which may not import the agent)."""
    def check():
        from agent.journal import health_check
        return health_check(str(_paths(env).journal))
    return check


@cli.command()
@click.option("--profile", default=None, help="Hồ sơ kiểm tra / profile id (default: local tailoring, then secret-workstation).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "csv"]), default="text", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp / write to FILE.")
@click.option("--answers", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Câu trả lời các mục thủ công (YAML) / answers to manual items.")
@click.option("--inspector", default=None, help="Họ tên cán bộ kiểm tra / inspector's name.")
@click.option("--content/--no-content", "content", default=True, show_default=True,
              help="Quét nội dung tài liệu (mặc định: có; --no-content để bỏ qua) / "
                   "scan document content (default on; --no-content skips it).")
@click.option("--no-input", is_flag=True, help="Không hỏi các mục thủ công / never prompt.")
@click.argument("paths", nargs=-1, type=click.Path())
@_lang_option
@click.pass_context
def scan(ctx, profile, fmt, output, answers, inspector, content, no_input, paths, lang) -> None:
    """Kiểm tra thiết bị trước khi đưa vào sử dụng / the pre-deployment inspection checklist.

    Bước quét tài liệu chạy mặc định: PATHS được quét tìm dấu độ mật; không có PATHS thì quét
    phạm vi mặc định (thư mục mật, thư mục người dùng, /tmp và /var/tmp, thiết bị lưu trữ rời đang
    gắn), chọn tệp theo loại, không theo liên kết tượng trưng bên dưới các gốc đó, tệp không đổi
    lấy kết luận từ bộ đệm trong thư mục trạng thái. --no-content bỏ qua bước này: BMNN-DOC-001/002
    khi đó là "chưa quét" và kết luận là chưa đầy đủ.

    The document step runs by default: PATHS are scanned for secrecy stamps, and without PATHS
    the default scope (marked folders, home folders, /tmp and /var/tmp, mounted removable media),
    files chosen by type, symbolic links never followed below those roots, unchanged files
    judged from the verdict cache in the state directory. --no-content skips it: BMNN-DOC-001/002
    then read "not scanned" and the verdict is incomplete.

    Exit: 0 compliant, 2 non-compliant, 3 incomplete, 1 error, 4 policy error.
    """
    from scanner import scan as S
    env = _env(ctx, lang)
    if paths and not content:
        raise click.UsageError("PATHS are only used with the document step (drop --no-content)")
    interactive = not no_input and sys.stdin.isatty() and fmt == "text" and output is None
    opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir, profile=profile,
                         answers_file=answers, inspector=inspector,
                         content_paths=tuple(paths) if content else None, journal_check=_journal_check(env))
    prompt = (lambda text: click.prompt(text, default="", show_default=False)) if interactive else None
    with _Progress(env, sys.stderr.isatty()) as progress:
        outcome = S.run(opts, progress=progress, doc_progress=progress.documents, prompt=prompt, lang=env.lang)
    doc = outcome.document
    if fmt == "text":
        from scanner.report import text
        if output:
            import io
            from rich.console import Console
            buf = io.StringIO()
            text.report(doc, Console(file=buf, width=120, force_terminal=False, color_system=None), env.lang)
            _write_output(output, buf.getvalue())
        else:
            text.report(doc, env.console(), env.lang)
    else:
        import importlib
        _write_output(output, importlib.import_module(f"scanner.report.{fmt}").report(doc, env.lang))
    raise SystemExit(S.EXIT_BY_VERDICT[doc["summary"]["verdict"]])


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def facts(ctx, as_json: bool, lang: Optional[str]) -> None:
    """Kiểm kê máy (không đánh giá) / the inventory alone, without judging it."""
    from policies.facts import to_dict
    from scanner import scan as S
    env = _env(ctx, lang)
    opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir)
    _, tailoring = S.load_policy(opts)
    with _Progress(env, sys.stderr.isatty() and not as_json) as progress:
        collected = S.collect(opts, tailoring, progress)
    data = to_dict(collected)
    if as_json:
        _dump(data)
        return
    from rich.pretty import Pretty
    env.console().print(Pretty(data, expand_all=False))


@cli.group()
def devices() -> None:
    """Sổ đăng ký thiết bị lưu trữ rời đã kiểm tra / the approved removable-device registry."""


@devices.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def devices_list(ctx, as_json: bool, lang: Optional[str]) -> None:
    """Liệt kê thiết bị đã đăng ký / list approved devices."""
    import msgspec
    from scanner import registry
    env = _env(ctx, lang)
    entries = registry.load(env.config_dir)
    if as_json:
        _dump({"registry": registry.registry_path(env.config_dir), "devices": [msgspec.to_builtins(d) for d in entries]})
        return
    from rich.table import Table
    vi = env.lang != "en"
    table = Table(title=registry.registry_path(env.config_dir), title_justify="left")
    for col in (("Nhãn", "Label"), ("Hãng:SP", "Vendor:product"), ("Số sê-ri", "Serial"), ("Người duyệt", "Approved by"),
                ("Thời điểm", "When"), ("Biên bản", "Reference")):
        table.add_column(col[0] if vi else col[1])
    for d in entries:
        table.add_row(d.label, f"{d.vendor_id}:{d.product_id}", d.serial, d.approved_by, d.approved_at, d.reference or "")
    env.console().print(table)


def _attached_storage():
    """(vendor_id, product_id, serial, description, nodes, kind) of attached removable storage."""
    from scanner.collect import collect_all
    facts_ = collect_all(domains=("devices",))
    out = []
    for u in facts_.devices.usb:
        if any(i.cls in ("08", "06") for i in u.interfaces) or u.mtp:
            nodes = [b.devnode for b in facts_.devices.block if b.serial and b.serial == u.serial and b.devnode]
            out.append((u.vendor_id or "", u.product_id or "", u.serial or "", f"{u.vendor or ''} {u.product or ''}".strip(), nodes, "usb"))
    for b in facts_.devices.block:
        if b.devtype == "disk" and b.bus == "mmc" and b.mmc_type in (None, "SD"):
            out.append(("", "", b.serial or "", b.name, [b.devnode] if b.devnode else [], "sd"))
    return out, facts_.devices.errors


@devices.command("approve")
@click.option("--serial", default=None, help="Số sê-ri của thiết bị đang gắn / serial of an attached device.")
@click.option("--node", default=None, help="Hoặc nút thiết bị (/dev/sdb) / or its device node.")
@click.option("--vendor-id", default=None, help="Đăng ký thiết bị không gắn: mã hãng / register a device not attached: vendor id.")
@click.option("--product-id", default=None, help="... và mã sản phẩm / and product id.")
@click.option("--label", required=True, help="Nhãn quản lý (ví dụ USB-VT-07) / asset label.")
@click.option("--by", "approved_by", required=True, help="Người phê duyệt / who approves.")
@click.option("--reference", default=None, help="Số biên bản kiểm tra / inspection record number.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def devices_approve(ctx, serial, node, vendor_id, product_id, label, approved_by, reference, as_json, lang) -> None:
    """Đăng ký thiết bị đã kiểm tra / register an inspected device."""
    import msgspec
    from scanner import registry
    from scanner.errors import ScanError
    env = _env(ctx, lang)
    if vendor_id or product_id:
        if not (vendor_id and product_id and serial):
            raise click.UsageError("--vendor-id, --product-id and --serial go together")
        kind = "usb"
    else:
        if not (serial or node):
            raise click.UsageError("give --serial or --node of an attached device (see 'bmnn facts')")
        attached, errors = _attached_storage()
        match = [a for a in attached if (serial and a[2] == serial) or (node and node in a[4])]
        if not match:
            hint = "; ".join(f"{a[3]} serial={a[2] or '?'} {' '.join(a[4])}" for a in attached) or "none"
            extra = f" (could not read devices: {errors[0].message})" if errors else ""
            raise ScanError(f"no attached removable storage matches; attached: {hint}{extra}")
        if len(match) > 1:
            raise ScanError("several attached devices match; give --serial")
        vendor_id, product_id, serial, _, _, kind = match[0]
    entry = registry.approve(env.config_dir, vendor_id=vendor_id, product_id=product_id, serial=serial, label=label,
                             approved_by=approved_by, reference=reference, kind=kind)
    if as_json:
        _dump(msgspec.to_builtins(entry))
    else:
        click.echo(("Đã đăng ký" if env.lang != "en" else "Approved") + f": {entry.label} {entry.vendor_id}:{entry.product_id} {entry.serial}")


@devices.command("revoke")
@click.argument("serial")
@_lang_option
@click.pass_context
def devices_revoke(ctx, serial: str, lang: Optional[str]) -> None:
    """Hủy đăng ký thiết bị / remove a device from the registry."""
    from scanner import registry
    env = _env(ctx, lang)
    gone = registry.revoke(env.config_dir, serial)
    for d in gone:
        click.echo(("Đã hủy đăng ký" if env.lang != "en" else "Revoked") + f": {d.label} {d.vendor_id}:{d.product_id} {d.serial}")


# ---------------------------------------------------------------- init, snapshot, fleet


def _paths(env: Env):
    from agent.paths import from_env
    return from_env(config_dir=env.config_dir)


@cli.command()
@click.option("--rotate-key", is_flag=True, help="Thay khóa máy (ghi vào nhật ký) / replace the host key (journaled).")
@click.option("--key-days", type=click.IntRange(1, 36500), default=None, help="Hiệu lực của khóa mới (ngày) / validity of a new key.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def init(ctx, rotate_key: bool, key_days: Optional[int], as_json: bool, lang: Optional[str]) -> None:
    """Chuẩn bị thư mục, nhóm bmnn và khóa ký của máy / prepare directories, the bmnn group and the host key.

    Prints the key fingerprint for the asset register. Never replaces an existing key without --rotate-key.
    """
    from agent import keys
    from agent.setup import prepare
    env = _env(ctx, lang)
    paths = _paths(env)
    notes = prepare(paths)
    existing = keys.info(str(paths.config_dir))
    rotated = None
    if existing is None:
        info = keys.generate(str(paths.config_dir), days=key_days)
    elif rotate_key:
        rotated, info = keys.rotate(str(paths.config_dir), days=key_days)
        _journal_rotation(paths, rotated, info)
    else:
        info = existing
    if as_json:
        _dump({"config_dir": str(paths.config_dir), "state_dir": str(paths.state_dir), "runtime_dir": str(paths.runtime_dir),
               "fingerprint": info.fingerprint, "created_at": info.created_at, "rotated_from": rotated.fingerprint if rotated else None,
               "notes": notes})
        return
    vi = env.lang != "en"
    for note in notes:
        click.echo(note)
    if rotated:
        click.echo(("Đã thay khóa; khóa cũ: " if vi else "Key rotated; old key: ") + rotated.fingerprint)
    elif existing is not None:
        click.echo("Khóa máy đã có (dùng --rotate-key để thay)." if vi else "Host key exists (use --rotate-key to replace it).")
    click.echo(("Dấu vân tay khóa máy (ghi vào sổ tài sản): " if vi else "Host key fingerprint (for the asset register): ") + info.fingerprint)


def _journal_rotation(paths, old, new) -> None:
    from agent.journal import Journal
    try:
        with Journal.open(str(paths.journal)) as j:
            j.append("state", message="host key rotated",
                     evidence={"event": "key_rotated", "old_fingerprint": old.fingerprint if old else None,
                               "new_fingerprint": new.fingerprint})
    except Exception as exc:  # the rotation happened; say loudly that it is not journaled
        click.echo(f"bmnn: warning: key rotated but not journaled: {exc}", err=True)


@cli.group()
def snapshot() -> None:
    """Ảnh chụp tuân thủ có chữ ký cho đoàn kiểm tra / signed compliance snapshots for inspectors."""


@snapshot.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Tệp ảnh chụp / snapshot file.")
@click.option("--since", default="last", show_default=True, help="Nhật ký từ bản ghi SEQ, hoặc 'last' (từ ảnh chụp trước).")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False), default=None, help="Khóa của cán bộ kiểm tra để ký kèm / inspector's key to co-sign.")
@click.option("--inspector", default=None, help="Họ tên cán bộ kiểm tra / inspector's name.")
@click.option("--no-scan", is_flag=True, help="Không quét lại máy / do not run a fresh scan.")
@click.option("--answers", type=click.Path(exists=True, dir_okay=False), default=None, help="Câu trả lời các mục thủ công (YAML).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def snapshot_export(ctx, output, since, sign_key, inspector, no_scan, answers, as_json, lang) -> None:
    """Xuất ảnh chụp có chữ ký của máy này / export this machine's signed snapshot."""
    import datetime as dt
    from agent.snapshot.export import export
    env = _env(ctx, lang)
    paths = _paths(env)
    if since != "last":
        try:
            since = int(since)
        except ValueError:
            raise click.UsageError("--since takes a sequence number or 'last'") from None
    doc = html = None
    if not no_scan:
        from scanner import scan as S
        from scanner.report import html as H
        opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir, answers_file=answers, inspector=inspector,
                             journal_check=_journal_check(env))
        with _Progress(env, sys.stderr.isatty() and not as_json) as progress:
            outcome = S.run(opts, progress=progress, lang=env.lang)
        doc, html = outcome.document, H.report(outcome.document, env.lang)
    now = dt.datetime.now().astimezone()
    host = (doc or {}).get("target", {}).get("hostname") or os.uname().nodename
    output = output or f"{host}-{now.strftime('%Y%m%dT%H%M%S')}.bmnnsnap"
    res = export(out_path=output, key_dir=str(paths.config_dir), journal_path=str(paths.journal), state_dir=str(paths.state_dir),
                 config_dir=env.config_dir, scan_doc=doc, scan_html=html, since=since, cosign_key=sign_key,
                 cosign_name=inspector, now=now)
    if as_json:
        _dump({"path": res.path, "fingerprint": res.fingerprint, "journal_records": res.records, "manifest": res.manifest})
    else:
        vi = env.lang != "en"
        click.echo((f"Đã xuất {res.path}: {res.records} bản ghi nhật ký, khóa {res.fingerprint}" if vi else
                    f"Wrote {res.path}: {res.records} journal records, key {res.fingerprint}"))


@snapshot.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), default=None, help="Khóa công khai đã đăng ký của máy / the machine's registered public key.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False), default=None, help="Ảnh chụp trước của cùng máy / previous snapshot of the same machine.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def snapshot_verify(ctx, file, pubkey, previous, as_json, lang) -> None:
    """Kiểm tra chữ ký và tính toàn vẹn của ảnh chụp / verify a snapshot. Exit 0 valid, 4 invalid."""
    from agent.snapshot.verify import verify
    env = _env(ctx, lang)
    pk = open(pubkey, "rb").read() if pubkey else None
    rep = verify(file, pubkey=pk, previous=previous)
    if as_json:
        _dump(rep.to_dict(env.lang))
    else:
        vi = env.lang != "en"
        m = rep.manifest
        host = (m.get("host") or {}).get("hostname") or "?"
        j = m.get("journal") or {}
        if rep.ok:
            click.echo((f"HỢP LỆ: {file} — máy {host}, lập lúc {m.get('created_at')}, nhật ký {j.get('first_seq')}…{j.get('last_seq')}, khóa {(m.get('key') or {}).get('fingerprint')}"
                        if vi else f"VALID: {file} — host {host}, made {m.get('created_at')}, journal {j.get('first_seq')}…{j.get('last_seq')}, key {(m.get('key') or {}).get('fingerprint')}"))
        else:
            click.echo(("KHÔNG HỢP LỆ: " if vi else "INVALID: ") + file, err=True)
            for p in rep.problems:
                click.echo("  ✘ " + p.get(env.lang), err=True)
        for w in rep.warnings:
            click.echo("  ! " + w.get(env.lang), err=True)
    raise SystemExit(EXIT_OK if rep.ok else EXIT_INTEGRITY)


@snapshot.command("keygen")
@click.argument("stem", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="Họ tên cán bộ kiểm tra / inspector's name.")
@click.option("--days", type=click.IntRange(1, 36500), default=365, show_default=True, help="Hiệu lực (ngày) / validity in days.")
@_lang_option
@click.pass_context
def snapshot_keygen(ctx, stem, name, days, lang) -> None:
    """Tạo khóa ký của cán bộ kiểm tra (STEM.pem, STEM.pub, STEM.json) / make an inspector key."""
    from agent import keys
    env = _env(ctx, lang)
    directory, base = os.path.split(os.path.abspath(stem))
    if os.path.exists(os.path.join(directory, base + ".pem")):
        raise click.UsageError(f"{stem}.pem exists; choose another name")
    info = keys.generate(directory, stem=base, name=name, days=days)
    click.echo(("Dấu vân tay: " if env.lang != "en" else "Fingerprint: ") + info.fingerprint)


@cli.group()
def report() -> None:
    """Báo cáo tổng hợp / reports over many machines."""


@report.command("fleet")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "html", "csv", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None)
@_lang_option
@click.pass_context
def report_fleet(ctx, directory, fmt, output, lang) -> None:
    """Tổng hợp nhiều ảnh chụp, máy xấu nhất trước / many snapshots, worst machines first.

    Exit 4 when any snapshot is invalid, 2 when any machine is non-compliant, else 0.
    """
    import dataclasses
    from agent.snapshot.fleet import review
    env = _env(ctx, lang)
    machines = [dataclasses.asdict(m) for m in review(directory, lang=env.lang)]
    if fmt == "text" and not output:
        from scanner.report import fleet_text
        fleet_text.report(machines, env.console(), env.lang)
    else:
        if fmt == "json":
            body = json.dumps({"machines": machines}, ensure_ascii=False, indent=2) + "\n"
        elif fmt == "text":
            import io
            from rich.console import Console
            from scanner.report import fleet_text
            buf = io.StringIO()
            fleet_text.report(machines, Console(file=buf, width=140, color_system=None), env.lang)
            body = buf.getvalue()
        else:
            import importlib
            body = importlib.import_module(f"scanner.report.fleet_{fmt}").report(machines, env.lang)
        _write_output(output, body)
    if any(not m["valid"] for m in machines):
        raise SystemExit(EXIT_INTEGRITY)
    if any(m["verdict"] == "NON_COMPLIANT" for m in machines):
        raise SystemExit(EXIT_NONCOMPLIANT)


# ---------------------------------------------------------------- commands defined beside their layer

from agent.commands import agent_group, events_group, reload_command, status_command  # noqa: E402  (click only)
from scanner.content.command import content_command  # noqa: E402  (click only: cheap to import)

for _command in (agent_group, content_command, events_group, status_command, reload_command):
    cli.add_command(_command)


# ---------------------------------------------------------------- entry point


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI and turn every layer's exception into a one-line message and an exit code."""
    from policies.errors import PolicyError
    from scanner.errors import ScanError
    from agent.errors import AgentError
    try:
        rv = cli.main(args=argv, prog_name="bmnn", standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("bmnn: aborted", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return EXIT_ERROR
    except PolicyError as exc:
        click.echo(exc.render(), err=True)
        return EXIT_INTEGRITY
    except ScanError as exc:
        click.echo(f"bmnn: {exc}", err=True)
        return EXIT_ERROR
    except AgentError as exc:
        click.echo(f"bmnn: {exc}", err=True)
        return EXIT_INTEGRITY if getattr(exc, "kind", "") == "integrity" else EXIT_ERROR
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("bmnn: interrupted", err=True)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("BMNN_DEBUG"):
            raise
        click.echo(f"bmnn: internal error: {type(exc).__name__}: {exc} (set BMNN_DEBUG=1 for a traceback)", err=True)
        return EXIT_ERROR


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
