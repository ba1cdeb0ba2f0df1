"""``bmnn handover`` and ``bmnn incident``: the signed hand-over record and the incident report.

cli.py registers both groups. Each makes a signed JSON document by default (scripts read it,
``verify`` checks it offline) or writes the same content for people (``--format text|html|pdf``);
``show`` renders a signed file after verifying it. Exit codes: 0 ok, 1 usage/unreadable, 2 the
person still holds stamped documents, 3 incomplete (something could not be read or checked),
4 a record that does not verify. Never imported by the daemon.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from typing import Optional

import click

from .errors import AgentError

EXIT_OK, EXIT_ERROR, EXIT_INTEGRITY = 0, 1, 4
FORMATS = click.Choice(["json", "text", "html", "pdf"])
SHOW_FORMATS = click.Choice(["text", "html", "pdf"])


class _DefaultFirst(click.Group):
    """A group whose first argument, when it names no subcommand, goes to the hidden default one:
    ``bmnn handover alice -o R`` and ``bmnn handover verify R`` side by side (``--`` before a user
    literally named "verify")."""

    default = "make"

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx, formatter) -> None:
        cmd = self.commands[self.default]
        args = " ".join(a.human_readable_name.upper() for a in cmd.params if isinstance(a, click.Argument))
        formatter.write_usage(ctx.command_path, f"{args} [OPTIONS]".strip() + " | COMMAND [ARGS]...")

    def format_options(self, ctx, formatter) -> None:
        """The default command's options first (they are what people type), then the subcommands."""
        cmd = self.commands[self.default]
        with click.Context(cmd, info_name=self.default, parent=ctx) as sub:
            rows = [r for r in (p.get_help_record(sub) for p in cmd.get_params(sub) if isinstance(p, click.Option)) if r]
        with formatter.section("Options"):
            formatter.write_dl(rows)
        self.format_commands(ctx, formatter)


class _DefaultContext(click.Context):
    @property
    def command_path(self) -> str:
        return super().command_path.rstrip()


class _Default(click.Command):
    """The hidden default command: its usage line reads as the group's (``bmnn handover USER ...``),
    and its errors point to ``bmnn handover USER --help``, never to its own name."""

    context_class = _DefaultContext

    def make_context(self, info_name, args, parent=None, **extra):
        names = [a.human_readable_name.upper() for a in self.params if isinstance(a, click.Argument)]
        return super().make_context(" ".join(names), args, parent=parent, **extra)

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, "[OPTIONS]")


def _obj(ctx: click.Context):
    return ctx.find_root().obj


def _lang(ctx: click.Context, lang: Optional[str]) -> str:
    return lang or getattr(_obj(ctx), "lang", None) or "vi"


def _paths(ctx: click.Context):
    from .paths import from_env
    return from_env(config_dir=getattr(_obj(ctx), "config_dir", None))


def _policy(ctx: click.Context):
    from bmnn_guard.policies.loader import load_bundle, load_tailoring
    paths = _paths(ctx)
    bundle = load_bundle(getattr(_obj(ctx), "policy_dir", None))
    return bundle, load_tailoring(paths.local_d, bundle).tailoring


def _lang_option(f):
    return click.option("--lang", type=click.Choice(["vi", "en"]), default=None, help="Ngôn ngữ / language (vi, en).")(f)


def _pubkey_option(f):
    return click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), default=None,
                        help="Khóa công khai đã đăng ký của máy / the machine's registered public key.")(f)


def _before_output(fmt: str, output: Optional[str], lang: str) -> None:
    """Refuse what cannot be written before any work is done."""
    from bmnn_guard.scanner import output as out
    from bmnn_guard.scanner.errors import ScanError
    from bmnn_guard.scanner.i18n import t
    if fmt == "pdf":
        from bmnn_guard.scanner.report import pdf
        if not output:
            raise click.UsageError(t("error.pdf_needs_output", lang))
        if pdf.chromium() is None:
            raise ScanError(t("error.no_chromium", lang))
    out.check(output, lang)


def _render(kind: str, doc: dict, fmt: str, lang: str, seal: Optional[dict]):
    """The document in ``fmt``: JSON bytes as signed, or the people's form."""
    from . import signed
    if fmt == "json":
        return signed.dumps(doc)
    import importlib
    module = importlib.import_module(f"bmnn_guard.scanner.report.{kind}")
    return getattr(module, fmt)(doc, lang, seal)


def _seal(doc: dict) -> dict:
    from . import signed
    return {"fingerprint": (doc.get("signed_by") or {}).get("fingerprint"), "digest": signed.digest(doc)}


def _progress(lang: str):
    """A callback showing the content scan on stderr (a terminal only), and its closer."""
    if not sys.stderr.isatty():
        return None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn
    from bmnn_guard.scanner.i18n import t
    bar = Progress(TextColumn(t("case.scanning", lang)), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   console=Console(stderr=True), transient=True)
    bar.start()
    task = bar.add_task("scan", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
    return update, bar.stop


def _problems(ver, lang: str, path: str) -> None:
    from bmnn_guard.scanner.i18n import t
    click.echo(t("signed.tampered", lang, path=path), err=True)
    for p in ver.problems:
        click.echo("  ✘ " + p.message(lang), err=True)


def _verify_command(kind: str):
    """``bmnn KIND verify FILE``: 0 genuine, 4 tampered, 1 unreadable."""

    @click.command("verify")
    @click.argument("file", type=click.Path(dir_okay=False))
    @_pubkey_option
    @click.option("--json", "as_json", is_flag=True, help="JSON output.")
    @_lang_option
    @click.pass_context
    def verify(ctx, file, pubkey, as_json, lang):
        """Kiểm tra chữ ký, không cần mạng / check the signature offline. Exit 0 genuine, 4 tampered, 1 unreadable."""
        from bmnn_guard.scanner.i18n import t
        from . import signed
        lang = _lang(ctx, lang)
        pk = open(pubkey, "rb").read(65536) if pubkey else None
        try:
            doc = signed.read(file, lang)
        except AgentError as exc:
            if exc.kind != "integrity":
                raise
            if as_json:
                click.echo(json.dumps({"path": file, "valid": False, "problems": [{"code": "edited", "message": str(exc)}]},
                                      ensure_ascii=False, indent=2))
            else:
                click.echo(t("signed.tampered", lang, path=file), err=True)
                click.echo("  ✘ " + str(exc), err=True)
            raise SystemExit(EXIT_INTEGRITY)
        ver = signed.verify(doc, pubkey=pk)
        if ver.ok and doc.get("format") not in kind_formats(kind):
            raise click.UsageError(t("signed.other_kind", lang, path=file, kind=t(f"signed.kind.{doc.get('format')}", lang),
                                     command="incident" if kind == "handover" else "handover"))
        if as_json:
            click.echo(json.dumps({"path": file, "format": doc.get("format"), "created_at": doc.get("created_at"),
                                   "host": doc.get("host"), **ver.to_dict(lang)}, ensure_ascii=False, indent=2))
        elif ver.ok:
            host = (doc.get("host") or {}).get("hostname") if isinstance(doc.get("host"), dict) else None
            click.echo(t("signed.genuine", lang, path=file, kind=t(f"signed.kind.{doc.get('format')}", lang),
                         when=doc.get("created_at"), host=host or "?", fingerprint=ver.fingerprint))
            click.echo(f"  SHA-256: {ver.digest}")
        else:
            _problems(ver, lang, file)
        if not as_json:
            for w in ver.warnings:
                click.echo("  ! " + w.message(lang), err=True)
        raise SystemExit(EXIT_OK if ver.ok else EXIT_INTEGRITY)
    return verify


def kind_formats(kind: str) -> tuple[str, ...]:
    from . import handover, incident
    return (handover.FORMAT, handover.CHECK_FORMAT) if kind == "handover" else (incident.FORMAT,)


def _show_command(kind: str, fmt_name: str):
    """``bmnn KIND show FILE --format text|html|pdf``: a signed file for people, verified first."""

    @click.command("show")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--format", "fmt", type=SHOW_FORMATS, default="text", show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
                  help="Ghi ra tệp; thư mục phải có sẵn / write to FILE; its folder must exist.")
    @_pubkey_option
    @_lang_option
    @click.pass_context
    def show(ctx, file, fmt, output, pubkey, lang):
        """Trình bày tài liệu đã ký (kiểm tra chữ ký trước) / render a signed document, verified first."""
        from . import signed
        from bmnn_guard.scanner import output as out
        lang = _lang(ctx, lang)
        _before_output(fmt, output, lang)
        loaded = signed.load_verified(file, kind=fmt_name, pubkey=open(pubkey, "rb").read(65536) if pubkey else None,
                                      lang=lang)
        if not loaded.verification.ok:
            _problems(loaded.verification, lang, file)
            raise SystemExit(EXIT_INTEGRITY)
        out.write(output, _render(kind, loaded.doc, fmt, lang, _seal(loaded.doc)), lang)
    return show


# ---------------------------------------------------------------- bmnn handover


@click.group("handover", cls=_DefaultFirst)
def handover_group() -> None:
    """Biên bản bàn giao tài liệu, vật chứa bí mật nhà nước / the hand-over record.

    \b
    bmnn handover USER -o RECORD.json         the signed record (JSON); exit 2 while USER holds
                                             stamped documents in their personal areas
    bmnn handover USER --format pdf -o R.pdf  the same for people (text, html, pdf)
    bmnn handover USER --check RECORD.json    what has been recovered since, what remains
    bmnn handover USER --destroyed PATH --reason "..." [--record RECORD.json]
                                             journal a destruction (then --check counts it)
    bmnn handover verify RECORD.json          offline: exit 0 genuine, 4 tampered, 1 unreadable
    bmnn handover show RECORD.json --format pdf -o R.pdf
    """


@handover_group.command("make", cls=_Default, hidden=True)
@click.argument("user")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Tệp biên bản; thư mục phải có sẵn (mặc định: màn hình) / record file; its folder must exist.")
@click.option("--format", "fmt", type=FORMATS, default="json", show_default=True,
              help="json: bản có chữ ký; text, html, pdf: cho người đọc / json: the signed record; text, html, pdf: for people.")
@click.option("--check", "check_path", type=click.Path(dir_okay=False), default=None,
              help="Đối chiếu máy với biên bản đã ký / compare the machine with a signed record.")
@click.option("--destroyed", "destroyed_path", type=click.Path(), default=None,
              help="Ghi nhận tài liệu đã tiêu hủy (vào nhật ký) / journal that a document was destroyed.")
@click.option("--reason", default=None, help="Lý do, cách tiêu hủy (với --destroyed) / why and how (with --destroyed).")
@click.option("--minutes", default=None, help="Số biên bản tiêu hủy (với --destroyed) / number of the destruction minutes.")
@click.option("--record", "record_path", type=click.Path(dir_okay=False), default=None,
              help="Biên bản bàn giao chứa mã băm của tài liệu (với --destroyed) / the record holding its hash.")
@click.option("--receiver", default=None, help="Họ tên người nhận bàn giao / receiver's full name.")
@click.option("--officer", default=None, help="Họ tên cán bộ bảo mật (mặc định record.security_officer) / security officer.")
@click.option("--name", "full_name", default=None, help="Họ tên người bàn giao (mặc định: GECOS) / full name of USER.")
@click.option("--occasion", type=click.Choice(["leaving", "transfer", "retirement"]), default=None,
              help="Thôi việc, chuyển công tác, nghỉ hưu / stops work, moves, retires.")
@click.option("--number", default=None, help="Số biên bản (mặc định: record.number trong local.d) / record number.")
@click.option("--timezone", default=None, help="Múi giờ (mặc định record.timezone, Asia/Ho_Chi_Minh) / time zone.")
@_pubkey_option
@click.option("--json", "as_json", is_flag=True, help="JSON output (--check, --destroyed).")
@_lang_option
@click.pass_context
def handover_make(ctx, user, output, fmt, check_path, destroyed_path, reason, minutes, record_path, receiver, officer,
                  full_name, occasion, number, timezone, pubkey, as_json, lang) -> None:
    """The record of USER (see ``bmnn handover --help``)."""
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.localtime import zone
    from . import handover as H
    lang = _lang(ctx, lang)
    if check_path and destroyed_path:
        raise click.UsageError(t("handover.check_with_destroyed", lang))
    if (reason or minutes or record_path) and not destroyed_path:
        raise click.UsageError(t("handover.destroyed_options", lang))
    if check_path and fmt != "json":
        raise click.UsageError(t("handover.format_with_check", lang))
    paths = _paths(ctx)
    bundle, tailoring = _policy(ctx)
    rec_settings = tailoring.record
    tz_name = timezone or getattr(rec_settings, "timezone", None) or "Asia/Ho_Chi_Minh"
    tz = zone(tz_name, lang)
    p = H.person(user, lang)
    marked = [m.path for m in tailoring.marked_folders]
    if destroyed_path:
        return _destroyed(ctx, p, destroyed_path, reason or "", minutes, record_path, pubkey, tz, as_json, lang)
    if check_path:
        return _check(ctx, p, check_path, output, pubkey, marked, tz, as_json, lang)
    _before_output(fmt, output, lang)
    h = _collect(paths, p, marked, tz, lang)
    now = dt.datetime.now(tz)
    number = number or _take_number(paths, getattr(rec_settings, "number", None), now.year, lang)
    doc = H.record(h, bundle=bundle, tailoring=tailoring, now=now, tz_name=tz_name, number=number, occasion=occasion,
                   receiver=receiver, officer=officer, full_name=full_name)
    original = _write_signed("handover", doc, fmt, output, str(paths.config_dir), lang)
    s = doc["summary"]
    if output:
        from bmnn_guard.scanner.i18n import t
        click.echo(t("handover.wrote", lang, path=output, held=s["held_personal"], files=s["marked_files"],
                     devices=s["devices"], violations=s["violations"]), err=True)
        if original:
            click.echo(t("case.original", lang, path=original), err=True)
    raise SystemExit(H.EXIT_BY_VERDICT[s["verdict"]])


def _collect(paths, p, marked, tz, lang: str):
    """What ``p`` holds now, with the content scan's progress on a terminal."""
    from . import handover as H
    progress, stop = _progress(lang)
    try:
        return H.collect(p, config_dir=str(paths.config_dir), journal_path=str(paths.journal), marked=marked, tz=tz,
                         progress=progress)
    finally:
        stop()


def _take_number(paths, pattern: Optional[str], year: int, lang: str) -> Optional[str]:
    """The next record number from the local.d pattern (scanner/recordno.py), or None (a blank)."""
    from bmnn_guard.scanner import recordno
    from bmnn_guard.scanner.errors import ScanError
    from bmnn_guard.scanner.i18n import t
    if not pattern:
        return None
    seq = None
    if recordno.needs_counter(pattern):
        try:
            seq = recordno.next_number(str(paths.state_dir), year)
        except ScanError as exc:
            click.echo(t("record.number_failed", lang, reason=str(exc)), err=True)
            return None
    return recordno.render(pattern, seq=seq, year=year)


def companion(output: str) -> str:
    """Where the signed JSON goes when a record is written for people (``R.pdf`` -> ``R.json``):
    the paper names its electronic original by digest, so the original must exist."""
    base = os.path.splitext(output)[0] + ".json"
    return base if os.path.abspath(base) != os.path.abspath(output) else output + ".signed.json"


def _write_signed(kind: str, doc: dict, fmt: str, output: Optional[str], key_dir: str, lang: str) -> Optional[str]:
    """Sign ``doc`` and write it in ``fmt``; for people's formats written to a file, the signed
    JSON beside it (returned). On a terminal the people's form carries no seal line."""
    from bmnn_guard.scanner import output as out
    from . import signed
    sdoc = signed.sign(doc, key_dir)
    if fmt == "json":
        out.write(output, signed.dumps(sdoc), lang, 0o600)
        return None
    original = companion(output) if output else None
    if original:
        out.write(original, signed.dumps(sdoc), lang, 0o600)
    out.write(output, _render(kind, sdoc, fmt, lang, _seal(sdoc) if original else None), lang)
    return original


def _this_machines_record(paths, path: str, pubkey: Optional[str], lang: str):
    """A hand-over record signed by this machine's (current or retired) host key; exit 4 otherwise."""
    from . import handover as H
    from . import signed
    loaded = signed.load_verified(path, kind=H.FORMAT, pubkey=open(pubkey, "rb").read(65536) if pubkey else None,
                                  known=signed.host_fingerprints(str(paths.config_dir)), lang=lang)
    if not loaded.verification.ok:
        _problems(loaded.verification, lang, path)
        raise SystemExit(EXIT_INTEGRITY)
    return loaded


def _check(ctx, p, check_path, output, pubkey, marked, tz, as_json, lang) -> None:
    from bmnn_guard.scanner import output as out
    from bmnn_guard.scanner.i18n import t
    from . import handover as H
    from . import signed
    paths = _paths(ctx)
    out.check(output, lang)
    loaded = _this_machines_record(paths, check_path, pubkey, lang)
    rec = loaded.doc
    ru = rec.get("user") if isinstance(rec.get("user"), dict) else {}
    if ru.get("name") != p.name and ru.get("uid") != p.uid:
        raise click.UsageError(t("handover.other_user", lang, path=check_path, user=ru.get("name") or "?", asked=p.name))
    h = _collect(paths, p, marked, tz, lang)
    result = H.compare(rec, h, tz=tz)
    now = dt.datetime.now(tz)
    if output:
        _write_signed("handover", H.check_document(rec, result, h, now=now, verification=loaded.verification), "json",
                      output, str(paths.config_dir), lang)
    if as_json:
        click.echo(json.dumps({"record": check_path, **result}, ensure_ascii=False, indent=2))
    else:
        _print_check(result, lang)
    raise SystemExit(H.EXIT_BY_VERDICT[result["verdict"]])


def _print_check(result: dict, lang: str) -> None:
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.textsafe import visible
    for i in result["items"] + result["new"]:
        where = f" → {visible(i['where'])}" if i.get("where") and i["status"] == "recovered" else ""
        extra = f" (#{i['journal_seq']})" if i.get("journal_seq") else ""
        note = f" ({t('handover.note.' + i['note'], lang)})" if i.get("note") else ""
        click.echo(f"  {t('handover.status.' + i['status'], lang):<14} {visible(i.get('path') or '?')}{where}{extra}{note}")
    c = result["counts"]
    click.echo(t("handover.check_counts", lang, **c))
    for u in result["unreadable"]:
        click.echo("  ! " + visible(f"{u.get('path') or '—'}: {u.get('error')}"), err=True)
    click.echo(t(f"handover.check.{result['verdict']}", lang))


def _destroyed(ctx, p, path, reason, minutes, record_path, pubkey, tz, as_json, lang) -> None:
    from bmnn_guard.scanner.i18n import t
    from . import handover as H
    from . import signed
    paths = _paths(ctx)
    rec = _this_machines_record(paths, record_path, pubkey, lang).doc if record_path else None
    res = H.record_destroyed(str(paths.journal), p, path, reason=reason, minutes=minutes, rec=rec, tz=tz, lang=lang)
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
    else:
        click.echo(t("handover.destroyed_ok", lang, seq=res["seq"], path=res["path"], sha=res["sha256"]))
        if res["still_present"]:
            click.echo(t("handover.destroyed_still_there", lang, path=res["path"]), err=True)


handover_group.add_command(_verify_command("handover"))
handover_group.add_command(_show_command("handover", "bmnn-handover"))


# ---------------------------------------------------------------- bmnn incident


@click.group("incident", cls=_DefaultFirst)
def incident_group() -> None:
    """Báo cáo vụ việc nghi lộ, mất bí mật nhà nước (dự thảo) / the draft incident report.

    \b
    bmnn incident [--since T] [--until T] [--seq A-B] -o REPORT.json   signed JSON (default: last 24 h)
    bmnn incident --seq 120-180 --format pdf -o R.pdf                  the same for people
    bmnn incident verify REPORT.json           offline: exit 0 genuine, 4 tampered, 1 unreadable
    bmnn incident show DRAFT.json --format html -o R.html   (the daemon's drafts: bmnn status)

    T: 30m, 2h, 7d, 2026-11-23 or 2026-11-23T08:00 (local time unless it has a zone).
    """


@incident_group.command("make", cls=_Default, hidden=True)
@click.option("--since", default=None, metavar="T", help="Từ thời điểm / from: 30m, 2h, 7d, 2026-11-23, ISO time.")
@click.option("--until", default=None, metavar="T", help="Đến thời điểm / to (same forms).")
@click.option("--seq", "seq", default=None, metavar="A-B", help="Bản ghi từ A đến B / journal records A to B (A-, -B).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Tệp báo cáo; thư mục phải có sẵn (mặc định: màn hình) / report file; its folder must exist.")
@click.option("--format", "fmt", type=FORMATS, default="json", show_default=True)
@click.option("--number", default=None, help="Số báo cáo / report number.")
@click.option("--timezone", default=None, help="Múi giờ (mặc định record.timezone, Asia/Ho_Chi_Minh) / time zone.")
@click.option("--journal", "journal_path", type=click.Path(dir_okay=False), default=None,
              help="Tệp nhật ký (mặc định $BMNN_STATE_DIR/journal.db) / journal file.")
@click.option("--wtmp", default=None, type=click.Path(dir_okay=False), help="Tệp wtmp (mặc định /var/log/wtmp).")
@click.option("--utmp", default=None, type=click.Path(dir_okay=False), help="Tệp utmp (mặc định /run/utmp).")
@_lang_option
@click.pass_context
def incident_make(ctx, since, until, seq, output, fmt, number, timezone, journal_path, wtmp, utmp, lang) -> None:
    """The report of a window of the journal (see ``bmnn incident --help``)."""
    from bmnn_guard.scanner.localtime import zone
    from bmnn_guard.scanner.sessions import UTMP, WTMP, read_logins
    from .commands import parse_since
    from .config import load_config
    from . import incident as I
    lang = _lang(ctx, lang)
    paths = _paths(ctx)
    _before_output(fmt, output, lang)
    first = last = None
    if seq:
        first, last = I.parse_seq(seq, lang)
    if not (since or until or seq):
        since = "24h"
    window = I.Window(first, last, parse_since(since) if since else None, parse_since(until) if until else None)
    bundle, tailoring = _policy(ctx)
    tz_name = timezone or getattr(tailoring.record, "timezone", None) or "Asia/Ho_Chi_Minh"
    zone(tz_name, lang)
    try:
        hb = load_config(paths.agent_config).heartbeat_seconds
    except AgentError:
        hb = 60.0
    doc = I.build(journal_path or str(paths.journal), window, now=dt.datetime.now(zone(tz_name, lang)), bundle=bundle,
                  tailoring=tailoring, heartbeat_s=hb, logins=read_logins(wtmp or WTMP, utmp or UTMP), number=number,
                  tz_name=tz_name, lang=lang)
    original = _write_signed("incident", doc, fmt, output, str(paths.config_dir), lang)
    if output:
        from bmnn_guard.scanner.i18n import t
        s = doc["summary"]
        click.echo(t("incident.wrote", lang, path=output, n=s["records"], v=s["violations"], open=s["still_open"]),
                   err=True)
        if original:
            click.echo(t("case.original", lang, path=original), err=True)


incident_group.add_command(_verify_command("incident"))
incident_group.add_command(_show_command("incident", "bmnn-incident"))
