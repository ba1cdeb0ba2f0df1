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
        from bmnn_guard.policies.loader import load_bundle
        return load_bundle(self.policy_dir)

    def console(self, stderr: bool = False):
        from rich.console import Console
        return Console(stderr=stderr, highlight=False)


def _lang_option(f):
    return click.option("--lang", type=LANGS, default=None, help="Ngôn ngữ / language (vi, en).")(f)


_LANG = {"lang": "vi"}
"""The language chosen on the command line, for errors rendered after the command has ended and
for click's own texts (usage errors come before any callback has run)."""


def _say(key: str, **kw) -> str:
    """The catalog's text for ``key`` in the language of the command line (``_LANG``)."""
    from bmnn_guard.scanner.i18n import t
    return t(key, _LANG["lang"], **kw)


def _reword(message: str, prefix: str) -> str:
    """A lower layer's English error (``no journal at PATH``) in the language of the command line
    (``bmnn_guard.scanner.i18n.reword``: the English texts of the catalog's ``prefix`` keys as patterns)."""
    from bmnn_guard.scanner.i18n import reword
    return reword(message, _LANG["lang"], prefix, sep="\n")


def _policy_texts(exc) -> list[str]:
    """A PolicyError's problems in the language of the command line: the policies layer words
    them in English (it reads no catalog); the catalog's ``policy.why.*`` texts reword them here."""
    from bmnn_guard.scanner.i18n import reword
    lang = _LANG["lang"]
    blocks = []
    for p in exc.problems:
        head, nl, rest = p.render(lang).partition("\n")
        where = p.where() + ": "
        if head.startswith(where):
            head = where + reword(head[len(where):], lang, "policy.why.", sep="\n")
        blocks.append(head + nl + rest)
    return blocks


def _policy_text(exc) -> str:
    return "\n".join(_policy_texts(exc))


def _why(strerror) -> str:
    """An OS error text (``Permission denied``) in the language of the command line."""
    from bmnn_guard.scanner.i18n import reword
    return reword(str(strerror or ""), _LANG["lang"], "oserror.")


def visible_text(value) -> str:
    """A value from the user or the machine, shown escaped (controls, bidi overrides)."""
    from bmnn_guard.scanner.textsafe import visible
    return visible(str(value))


def _argv_lang(argv: Optional[list[str]]) -> str:
    """The language the command line asks for (``--lang X`` anywhere before ``--``), else
    BMNN_LANG, else Vietnamese: known before click parses, so its usage errors speak it too."""
    args = sys.argv[1:] if argv is None else argv
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args) and args[i + 1] in LANGS.choices:
            return args[i + 1]
        if arg.startswith("--lang=") and arg[7:] in LANGS.choices:
            return arg[7:]
    lang = os.environ.get("BMNN_LANG", "vi")
    return lang if lang in LANGS.choices else "vi"


def _click_speaks_our_language() -> None:
    """click's own texts ("Usage:", "Error: No such option", "Missing argument", "Options",
    "Show this message and exit.") from our catalog, in the language of ``_LANG``.

    click binds ``from gettext import gettext as _`` (and ``ngettext``) in each of its modules;
    those names are rebound here to functions that read the catalog at call time. Its msgids are
    plain English (msgid = click's text); tests/i18n checks every click module is covered."""
    import gettext

    def _(message: str) -> str:
        if message in ("file", "directory", "path"):  # Path's {name}, fixed at import: unused in vi
            return message
        from bmnn_guard.scanner.i18n import translations
        text = translations(_LANG["lang"]).gettext(message)
        return message if text is None else text

    def ngettext(one: str, many: str, n: int) -> str:
        from bmnn_guard.scanner.i18n import translations
        text = translations(_LANG["lang"]).ngettext(one, many, n)
        return (one if n == 1 else many) if text is None else text

    for name, mod in list(sys.modules.items()):
        if name == "click" or name.startswith("click."):
            if getattr(mod, "_", None) is gettext.gettext:
                mod._ = _
            if getattr(mod, "ngettext", None) is gettext.ngettext:
                mod.ngettext = ngettext


_click_speaks_our_language()


def _env(ctx: click.Context, lang: Optional[str]) -> Env:
    env: Env = ctx.find_object(Env)
    if lang:
        env.lang = lang
    _LANG["lang"] = env.lang
    return env


# ---------------------------------------------------------------- shell completion (click's shell_complete)
# Called by the completion script through _BMNN_COMPLETE: the group callback has not run, so the
# options come from the parsed root parameters or the environment. Never raise: a broken
# completion must not print a traceback into the user's shell.


def _completion_bundle(ctx: click.Context):
    """(bundle, lang) for a completion callback, or None when the bundle cannot be loaded."""
    from bmnn_guard.policies.loader import load_bundle
    root = ctx.find_root()
    try:
        bundle = load_bundle(root.params.get("policy_dir") or os.environ.get("BMNN_POLICY_DIR") or None)
    except Exception:
        return None
    return bundle, root.params.get("lang") or os.environ.get("BMNN_LANG") or "vi"


def _complete_check_id(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem
    loaded = _completion_bundle(ctx)
    if loaded is None:
        return []
    bundle, lang = loaded
    return [CompletionItem(cid, help=bundle.checks[cid].spec.title.get(lang)) for cid in sorted(bundle.checks)
            if cid.startswith(incomplete.upper())]


def _complete_profile(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem
    loaded = _completion_bundle(ctx)
    if loaded is None:
        return []
    bundle, lang = loaded
    return [CompletionItem(p.id, help=p.title.get(lang)) for p in sorted(bundle.profiles.values(), key=lambda p: p.id)
            if p.id.startswith(incomplete)]


def _complete_registered_serial(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem
    try:
        from bmnn_guard.scanner import registry
        config_dir = ctx.find_root().params.get("config_dir") or os.environ.get("BMNN_CONFIG_DIR") or "/etc/bmnn"
        entries = registry.load(config_dir)
    except Exception:
        return []
    return [CompletionItem(d.serial, help=d.label) for d in entries if d.serial.startswith(incomplete)]


def _complete_attached_serial(ctx, param, incomplete: str):
    from click.shell_completion import CompletionItem
    try:
        attached, _ = _attached_storage()
    except Exception:
        return []
    return [CompletionItem(a[2], help=a[3]) for a in attached if a[2] and a[2].startswith(incomplete)]


def _dump(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _version(ctx: click.Context, value: bool) -> None:
    """``--version`` in the language asked (click's own option renders its text at import time,
    before ``--lang`` or BMNN_LANG is known)."""
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version
    try:
        v = version("bmnn-guard")
    except PackageNotFoundError:
        v = "?"
    click.echo(_say("cli.version", version=v))
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--lang", type=LANGS, envvar="BMNN_LANG", default="vi", show_default=True,
              help="Ngôn ngữ hiển thị / display language.")
@click.option("--config-dir", envvar="BMNN_CONFIG_DIR", default="/etc/bmnn", show_default=True,
              type=click.Path(file_okay=False), help="Thư mục cấu hình (local.d, sổ thiết bị) / config directory.")
@click.option("--policy-dir", envvar="BMNN_POLICY_DIR", default=None, type=click.Path(file_okay=False),
              help="Bộ chính sách thay cho bộ có sẵn / policy bundle instead of the built-in one.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=lambda c, p, v: _version(c, v),
              help="Phiên bản / show the version and exit.")
@click.pass_context
def cli(ctx: click.Context, lang: str, config_dir: str, policy_dir: Optional[str]) -> None:
    """bmnn-guard: kiểm tra, giám sát máy tính lưu giữ bí mật nhà nước theo Luật 117/2025/QH15.

    Endpoint compliance scanner and agent for workstations holding Vietnamese state secrets.
    """
    if ctx.get_parameter_source("lang") is click.core.ParameterSource.DEFAULT:
        lang = _LANG["lang"]  # a command's own --lang, seen before parsing (_argv_lang)
    ctx.obj = Env(lang, config_dir, policy_dir)
    _LANG["lang"] = lang


# ---------------------------------------------------------------- policy


@cli.group()
def policy() -> None:
    """Bộ quy tắc kiểm tra và căn cứ pháp lý / the rule set and its legal basis."""


@policy.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@click.option("--profile", default=None, shell_complete=_complete_profile, help="Only the checks of this profile.")
@_lang_option
@click.pass_context
def policy_list(ctx, as_json: bool, profile: Optional[str], lang: Optional[str]) -> None:
    """Liệt kê các kiểm tra / list the checks."""
    from bmnn_guard.scanner.policyview import check_summary, print_list
    env = _env(ctx, lang)
    bundle = env.bundle()
    ids = sorted(bundle.checks)
    if profile:
        if profile not in bundle.profiles:
            raise click.UsageError(_say("cli.unknown_profile", profile=visible_text(profile), known=", ".join(sorted(bundle.profiles))))
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
        from bmnn_guard.scanner.i18n import t
        raise click.UsageError(t("error.unknown_check", lang, id=cid))
    return cid


def _on_option(f):
    return click.option("--on", "on_day", default=None, metavar="YYYY-MM-DD",
                        help="Ngày xét hiệu lực của văn bản (mặc định hôm nay) / the day texts are judged in force "
                             "(default today).")(f)


def _day(on_day: Optional[str]):
    """The day "in force" is asked for by the policy commands (the policy layer never reads the clock)."""
    import datetime as dt
    if on_day is None:
        return dt.datetime.now().astimezone().date()
    try:
        return dt.date.fromisoformat(on_day)
    except ValueError:
        raise click.BadParameter(_say("cli.bad_date", value=visible_text(on_day)), param_hint="--on") from None


@policy.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="JSON output (both languages).")
@_on_option
@_lang_option
@click.pass_context
def policy_coverage(ctx, as_json: bool, on_day: Optional[str], lang: Optional[str]) -> None:
    """Bản đồ yêu cầu pháp lý và các kiểm tra / the map of legal requirements to checks.

    Every entry of the legal catalog is either served by checks or marked not checkable on a
    workstation, with the reason.
    """
    from bmnn_guard.scanner.policyview import coverage, print_coverage
    env = _env(ctx, lang)
    cov = coverage(env.bundle(), _day(on_day))
    if as_json:
        _dump(cov)
    else:
        print_coverage(env.console(), cov, env.lang)


@policy.command("show")
@click.argument("check_id", shell_complete=_complete_check_id)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_on_option
@_lang_option
@click.pass_context
def policy_show(ctx, check_id: str, as_json: bool, on_day: Optional[str], lang: Optional[str]) -> None:
    """Chi tiết một kiểm tra / one check in full."""
    from bmnn_guard.scanner.policyview import check_detail, print_detail
    env = _env(ctx, lang)
    bundle = env.bundle()
    d = check_detail(bundle, _known_check(bundle, check_id, env.lang), env.lang, _day(on_day))
    if as_json:
        _dump(d)
    else:
        print_detail(env.console(), d, env.lang)


@policy.command("explain")
@click.argument("check_id", shell_complete=_complete_check_id)
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_on_option
@_lang_option
@click.pass_context
def policy_explain(ctx, check_id: str, as_json: bool, on_day: Optional[str], lang: Optional[str]) -> None:
    """Căn cứ pháp lý kèm nguyên văn điều khoản / the legal basis with the article text."""
    from bmnn_guard.scanner.policyview import check_detail, print_detail
    env = _env(ctx, lang)
    bundle = env.bundle()
    d = check_detail(bundle, _known_check(bundle, check_id, env.lang), env.lang, _day(on_day))
    if as_json:
        _dump({k: d[k] for k in ("id", "title", "legal_refs", "exceptions", "requirements", "rationale")})
    else:
        print_detail(env.console(), d, env.lang, explain=True)


@policy.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def policy_validate(ctx, paths: tuple[str, ...], as_json: bool, lang: Optional[str]) -> None:
    """Kiểm tra tính hợp lệ của tệp chính sách / validate policy files.

    Without PATH: the bundle in use and the local tailoring (CONFIG_DIR/local.d). A PATH named
    agent.yaml is checked as the daemon's settings.
    """
    from bmnn_guard.policies.errors import PolicyError
    from bmnn_guard.policies.loader import load_tailoring
    from bmnn_guard.policies.validate import validate_path
    from bmnn_guard.scanner.i18n import t
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
                           "problems": _policy_texts(exc)})
    for p in paths:
        if os.path.basename(p) == "agent.yaml":  # the daemon's settings, not a policy file
            from bmnn_guard.agent.config import load_config
            from bmnn_guard.agent.errors import AgentError
            try:
                load_config(p)
                report.append({"path": p, "kind": "agent", "ok": True})
            except AgentError as exc:
                report.append({"path": p, "ok": False, "problems": [_reword(str(exc), "agent.why.")]})
            continue
        try:
            kind = validate_path(p, base=env.policy_dir)
            report.append({"path": p, "kind": kind, "ok": True})
        except PolicyError as exc:
            report.append({"path": p, "ok": False, "problems": _policy_texts(exc)})
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
        from bmnn_guard.scanner.i18n import t
        label = f"{t('scan.collecting', self.env.lang)}: {t('domain.' + domain, self.env.lang)}"
        if domain not in self.tasks:
            self.tasks[domain] = self.progress.add_task(label, total=1)
        if done:
            self.progress.update(self.tasks[domain], completed=1, description=f"{label} — {t('scan.done', self.env.lang)}")

    def stop(self) -> None:
        """End the live display (before a prompt: a live display would redraw over it)."""
        if self.progress is not None:
            self.progress.__exit__(None, None, None)
            self.progress = None

    def documents(self, p) -> None:
        """The document step: files done / total, MB/s and time left (``content.scan.Progress``)."""
        if self.progress is None:
            return
        from bmnn_guard.scanner.i18n import t
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


def _check_output(path: Optional[str], lang: str) -> None:
    """Refuse an output file whose folder does not exist, before any work is done (scanner/output.py)."""
    from bmnn_guard.scanner import output
    output.check(path, lang)


def _write_output(path: Optional[str], data, lang: str = "vi") -> None:
    """``data`` (text or bytes) to ``path`` atomically, or to stdout when no path was given."""
    from bmnn_guard.scanner import output
    output.write(path, data, lang)


def _journal_check(env: Env):
    """AGT-001's journal verification, handed to the scanner (which may not import the agent)."""
    def check():
        from bmnn_guard.agent.health import journal_health
        return journal_health(str(_paths(env).journal))
    return check


@cli.command()
@click.option("--profile", default=None, shell_complete=_complete_profile,
              help="Hồ sơ kiểm tra / profile id (default: local tailoring, then secret-workstation).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html", "pdf", "csv"]), default="text", show_default=True,
              help="html, pdf: biên bản A4 để ký / the A4 record to sign (pdf needs Chromium and -o).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Ghi ra tệp; thư mục phải có sẵn / write to FILE; its folder must exist.")
@click.option("--answers", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Câu trả lời các mục thủ công (YAML, mẫu: bmnn answers template) / answers to manual items "
                   "(YAML: CHECK-ID: pass|fail|not_applicable, or {answer: ..., note: ...}).")
@click.option("--inspector", default=None, help="Họ tên cán bộ kiểm tra / inspector's name.")
@click.option("--holder", default=None, help="Họ tên người sử dụng thiết bị / name of the equipment's user.")
@click.option("--number", default=None,
              help="Số biên bản, ví dụ 12/BB-CNTT (mặc định: record.number trong local.d) / record number.")
@click.option("--timezone", default=None,
              help="Múi giờ của biên bản (mặc định: record.timezone, rồi Asia/Ho_Chi_Minh) / time zone of the record.")
@click.option("--content/--no-content", "content", default=True, show_default=True,
              help="Quét nội dung tài liệu (mặc định: có; --no-content để bỏ qua) / "
                   "scan document content (default on; --no-content skips it).")
@click.option("--no-input", is_flag=True, help="Không hỏi các mục thủ công / never prompt.")
@click.argument("paths", nargs=-1, type=click.Path())
@_lang_option
@click.pass_context
def scan(ctx, profile, fmt, output, answers, inspector, holder, number, timezone, content, no_input, paths, lang) -> None:
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

    Manual items are asked at the terminal (on stderr, whatever the format) unless --no-input or
    --answers answers them; unanswered items keep the verdict INCOMPLETE.

    Exit: 0 compliant, 2 non-compliant, 3 incomplete, 1 error, 4 policy error.
    """
    from bmnn_guard.scanner import scan as S
    env = _env(ctx, lang)
    if paths and not content:
        raise click.UsageError(_say("cli.paths_need_content"))
    if fmt == "pdf":
        from bmnn_guard.scanner.report import pdf
        from bmnn_guard.scanner.errors import ScanError
        from bmnn_guard.scanner.i18n import t
        if not output:
            raise click.UsageError(t("error.pdf_needs_output", env.lang))
        if pdf.chromium() is None:
            raise ScanError(t("error.no_chromium", env.lang))
    _check_output(output, env.lang)
    interactive = not no_input and sys.stdin.isatty() and sys.stderr.isatty()
    opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir, profile=profile,
                         answers_file=answers, inspector=inspector,
                         content_paths=tuple(paths) if content else None, journal_check=_journal_check(env),
                         number=number, timezone=timezone, holder=holder)
    with _Progress(env, sys.stderr.isatty()) as progress:
        prompt = say = None
        if interactive:
            def prompt(text: str) -> str:
                progress.stop()
                return click.prompt(text, default="", show_default=False, prompt_suffix="", err=True)

            def say(text: str) -> None:
                progress.stop()
                click.echo(text, err=True)
        outcome = S.run(opts, progress=progress, doc_progress=progress.documents, prompt=prompt, say=say,
                        lang=env.lang)
    doc = outcome.document
    if fmt in ("html", "pdf"):
        _number_record(env, doc)
    if fmt == "text":
        from bmnn_guard.scanner.report import text
        if output:
            import io
            from rich.console import Console
            buf = io.StringIO()
            text.report(doc, Console(file=buf, width=120, force_terminal=False, color_system=None), env.lang)
            _write_output(output, buf.getvalue(), env.lang)
        else:
            text.report(doc, env.console(), env.lang)
    else:
        import importlib
        _write_output(output, importlib.import_module(f"bmnn_guard.scanner.report.{fmt}").report(doc, env.lang), env.lang)
    raise SystemExit(S.EXIT_BY_VERDICT[doc["summary"]["verdict"]])


def _number_record(env: Env, doc: dict) -> None:
    """Give the record its number from the local.d pattern when --number did not (see
    scanner/recordno.py); when no number can be taken, say so and leave the blank."""
    from bmnn_guard.scanner import recordno
    from bmnn_guard.scanner.errors import ScanError
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.localtime import local, zone
    rec = doc["record"]
    pattern = rec.get("number_pattern")
    if rec.get("number") or not pattern:
        return
    year = local(doc["started_at"], zone(rec.get("timezone"), env.lang)).year
    seq = None
    if recordno.needs_counter(pattern):
        try:
            seq = recordno.next_number(str(_paths(env).state_dir), year)
        except ScanError as exc:
            click.echo(t("record.number_failed", env.lang, reason=str(exc)), err=True)
            return
    rec["number"] = recordno.render(pattern, seq=seq, year=year)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def facts(ctx, as_json: bool, lang: Optional[str]) -> None:
    """Kiểm kê máy (không đánh giá) / the inventory alone, without judging it."""
    from bmnn_guard.policies.facts import to_dict
    from bmnn_guard.scanner import scan as S
    env = _env(ctx, lang)
    opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir, journal_check=_journal_check(env))
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
    from bmnn_guard.scanner import registry
    env = _env(ctx, lang)
    entries = registry.load(env.config_dir)
    if as_json:
        _dump({"registry": registry.registry_path(env.config_dir), "devices": [msgspec.to_builtins(d) for d in entries]})
        return
    from rich.markup import escape
    from bmnn_guard.scanner.localtime import short, zone
    from bmnn_guard.scanner.report.layout import fitted_table
    from bmnn_guard.scanner.textsafe import visible
    tz = zone(None, env.lang)
    console = env.console()
    headers = [_say(f"devices.col.{c}") for c in ("label", "ids", "serial", "approved_by", "when", "reference", "holder")]
    rows = [[escape(visible(v)) for v in (d.label, f"{d.vendor_id}:{d.product_id}", d.serial, d.approved_by,
                                          short(d.approved_at, tz, env.lang) if d.approved_at else "", d.reference or "",
                                          d.holder or "")]
            for d in entries]
    # a serial is typed back (devices revoke SERIAL): whole on one line whenever the terminal allows
    serial = max((len(visible(d.serial)) for d in entries), default=8)
    console.print(fitted_table(console, headers, rows, [None, 9, serial, None, 10, None, None], show_lines=True,
                               title=escape(visible(registry.registry_path(env.config_dir))), title_justify="left"))


def _attached_storage():
    """(vendor_id, product_id, serial, description, nodes, kind) of attached removable storage."""
    from bmnn_guard.scanner.collect import collect_all
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
@click.option("--serial", default=None, shell_complete=_complete_attached_serial,
              help="Số sê-ri của thiết bị đang gắn / serial of an attached device.")
@click.option("--node", default=None, help="Hoặc nút thiết bị (/dev/sdb) / or its device node.")
@click.option("--vendor-id", default=None, help="Đăng ký thiết bị không gắn: mã hãng / register a device not attached: vendor id.")
@click.option("--product-id", default=None, help="... và mã sản phẩm / and product id.")
@click.option("--label", required=True, help="Nhãn quản lý (ví dụ USB-VT-07) / asset label.")
@click.option("--by", "approved_by", required=True, help="Người phê duyệt / who approves.")
@click.option("--reference", default=None, help="Số biên bản kiểm tra / inspection record number.")
@click.option("--holder", default=None, metavar="USER",
              help="Tài khoản của người được giao thiết bị (biên bản bàn giao liệt kê) / login name of the person "
                   "it is issued to (listed in their hand-over record).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def devices_approve(ctx, serial, node, vendor_id, product_id, label, approved_by, reference, holder, as_json,
                    lang) -> None:
    """Đăng ký thiết bị đã kiểm tra / register an inspected device."""
    import msgspec
    from bmnn_guard.scanner import registry
    from bmnn_guard.scanner.errors import ScanError
    env = _env(ctx, lang)
    if holder is not None:
        import pwd
        from bmnn_guard.scanner.i18n import t
        try:
            holder = pwd.getpwnam(holder).pw_name
        except KeyError:
            raise click.UsageError(t("devices.no_holder", env.lang, user=holder)) from None
    if vendor_id or product_id:
        if not (vendor_id and product_id and serial):
            raise click.UsageError(_say("cli.vendor_together"))
        kind = "usb"
    else:
        if not (serial or node):
            raise click.UsageError(_say("cli.serial_or_node"))
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
                             approved_by=approved_by, reference=reference, kind=kind, holder=holder)
    if as_json:
        _dump(msgspec.to_builtins(entry))
    else:
        from bmnn_guard.scanner.textsafe import visible
        click.echo(_say("devices.approved_holder" if entry.holder else "devices.approved", label=visible(entry.label),
                        vendor=visible(entry.vendor_id), product=visible(entry.product_id), serial=visible(entry.serial),
                        holder=visible(entry.holder or "")))


@devices.command("revoke")
@click.argument("serial", shell_complete=_complete_registered_serial)
@_lang_option
@click.pass_context
def devices_revoke(ctx, serial: str, lang: Optional[str]) -> None:
    """Hủy đăng ký thiết bị / remove a device from the registry."""
    from bmnn_guard.scanner import registry
    env = _env(ctx, lang)
    gone = registry.revoke(env.config_dir, serial)
    from bmnn_guard.scanner.textsafe import visible
    for d in gone:
        click.echo(_say("devices.revoked", label=visible(d.label), vendor=visible(d.vendor_id),
                        product=visible(d.product_id), serial=visible(d.serial)))


# ---------------------------------------------------------------- init, snapshot, fleet


def _paths(env: Env):
    from bmnn_guard.agent.paths import from_env
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
    from bmnn_guard.agent import keys
    from bmnn_guard.agent.setup import prepare
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
    for note in notes:
        click.echo(note)
    if rotated:
        click.echo(_say("cli.key_rotated", fingerprint=rotated.fingerprint))
    elif existing is not None:
        click.echo(_say("cli.key_exists"))
    click.echo(_say("cli.key_fingerprint", fingerprint=info.fingerprint))


def _journal_rotation(paths, old, new) -> None:
    from bmnn_guard.agent.journal import Journal
    try:
        with Journal.open(str(paths.journal)) as j:
            j.append("state", message="host key rotated",
                     evidence={"event": "key_rotated", "old_fingerprint": old.fingerprint if old else None,
                               "new_fingerprint": new.fingerprint})
    except Exception as exc:  # the rotation happened; say loudly that it is not journaled
        click.echo(_say("cli.rotate_not_journaled", error=visible_text(exc)), err=True)


@cli.group()
def snapshot() -> None:
    """Ảnh chụp tuân thủ có chữ ký cho đoàn kiểm tra / signed compliance snapshots for inspectors."""


def _inspector_option(f):
    return click.option("--inspector-dir", type=click.Path(file_okay=False), default=None,
                        help="Thư mục của đoàn kiểm tra: sổ khóa, các đầu nhật ký đã chấp nhận (mặc định $BMNN_INSPECTOR_DIR "
                             "hoặc ~/.config/bmnn-inspector) / the inspector's directory: key registry and accepted "
                             "journal heads (default $BMNN_INSPECTOR_DIR or ~/.config/bmnn-inspector).")(f)


def _inspector(env: Env, path: Optional[str]):
    """The inspector's directory; never inside the host configuration directory."""
    from bmnn_guard.agent.snapshot.inspector import HOST_CONFIG_DIRS, InspectorDir, default_path
    return InspectorDir(path or default_path(), host_config_dirs=(env.config_dir, *HOST_CONFIG_DIRS))


def _now():
    import datetime as dt
    return dt.datetime.now().astimezone()


@snapshot.command("export")
@click.option("-o", "--output", type=click.Path(), default=None,
              help="Tệp ảnh chụp, hoặc thư mục để đặt tên tự động (HOST-THỜIGIAN.bmnnsnap) / snapshot file, or a folder "
                   "to put HOST-TIME.bmnnsnap in.")
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
    from bmnn_guard.agent.snapshot import SUFFIX
    from bmnn_guard.agent.snapshot.export import export, host_identity
    env = _env(ctx, lang)
    paths = _paths(env)
    into = output if output and os.path.isdir(output) else None
    if output and not into:
        _check_output(output, env.lang)
    if since != "last":
        try:
            since = int(since)
        except ValueError:
            raise click.UsageError(_say("cli.since_seq")) from None
    doc = html = None
    if not no_scan:
        from bmnn_guard.scanner import scan as S
        from bmnn_guard.scanner.report import html as H
        opts = S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir, answers_file=answers, inspector=inspector,
                             journal_check=_journal_check(env))
        with _Progress(env, sys.stderr.isatty() and not as_json) as progress:
            outcome = S.run(opts, progress=progress, lang=env.lang)
        doc, html = outcome.document, H.report(outcome.document, env.lang)
    now = _now()
    host = host_identity(doc)
    if not output or into:
        output = os.path.join(into or "", f"{host['hostname']}-{now.strftime('%Y%m%dT%H%M%S')}{SUFFIX}")
    elif not output.endswith(SUFFIX):
        click.echo(_say("snapshot.no_suffix", output=visible_text(output), suffix=SUFFIX), err=True)
    res = export(out_path=output, key_dir=str(paths.config_dir), journal_path=str(paths.journal), state_dir=str(paths.state_dir),
                 config_dir=env.config_dir, scan_doc=doc, scan_html=html, since=since, cosign_key=sign_key,
                 cosign_name=inspector, host=host, now=now)
    if as_json:
        _dump({"path": res.path, "fingerprint": res.fingerprint, "journal_records": res.records, "manifest": res.manifest})
    else:
        click.echo(_say("snapshot.wrote", path=visible_text(res.path), records=res.records, fingerprint=res.fingerprint))


@snapshot.command("verify")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--pubkey", type=click.Path(exists=True, dir_okay=False), default=None, help="Khóa công khai của máy, thay cho sổ khóa / the machine's public key, instead of the registry.")
@click.option("--previous", type=click.Path(exists=True, dir_okay=False), default=None, help="Ảnh chụp trước của cùng máy / previous snapshot of the same machine.")
@click.option("--trust-new", is_flag=True, help="Chấp nhận và đăng ký khóa máy chưa biết (sau khi đã đối chiếu sổ tài sản) / accept and register an unknown host key (after checking the asset register).")
@_inspector_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def snapshot_verify(ctx, file, pubkey, previous, trust_new, inspector_dir, as_json, lang) -> None:
    """Kiểm tra chữ ký và tính toàn vẹn của ảnh chụp / verify a snapshot.

    The host key must be in the inspector's key registry (bmnn keys add), pinned with --pubkey, handed
    over by a registered key in a signed rotation, or accepted with --trust-new.
    Exit 0 valid, 4 invalid, 1 when the file cannot be read at all (not found).
    """
    from bmnn_guard.agent.snapshot.registry import Registry, learn
    from bmnn_guard.agent.snapshot.verify import verify
    from bmnn_guard.scanner.textsafe import visible
    env = _env(ctx, lang)
    idir = _inspector(env, inspector_dir)
    pk = open(pubkey, "rb").read(1 << 16) if pubkey else None
    rep = verify(file, registry=Registry.load(idir), pubkey=pk, previous=previous, trust_new=trust_new, now=_now())
    learned = learn(idir, rep.changes, env.lang) if rep.ok else []
    if as_json:
        _dump({**rep.to_dict(env.lang), "registered": learned})
    else:
        m = rep.manifest
        host = visible((m.get("host") or {}).get("hostname") or "?")  # the snapshot's text: no escapes reach the terminal
        j = m.get("journal") or {}
        from bmnn_guard.agent.snapshot.heads import head_of
        head = head_of(m) if m else None
        if head is None:
            journal = _say("snapshot.journal_none")
        elif j.get("first_seq"):
            first, last = visible(j["first_seq"]), visible(j.get("last_seq"))
            journal = _say("snapshot.journal_range", first=first, last=last, seq=head.seq, hash=visible(head.hash[:16]))
        else:
            journal = _say("snapshot.journal_no_new", seq=head.seq, hash=visible(head.hash[:16]))
        fp = visible((m.get("key") or {}).get("fingerprint"))
        made, shown = visible(m.get("created_at")), visible(file)
        if rep.ok:
            click.echo(_say("snapshot.valid", path=shown, host=host, made=made, journal=journal, fingerprint=fp))
        else:
            click.echo(_say("snapshot.invalid", path=shown), err=True)
            for p in rep.problems:
                click.echo("  ✘ " + visible(p.get(env.lang)), err=True)
        for n in rep.notes:
            click.echo("  · " + visible(n.get(env.lang)), err=not rep.ok)
        for w in rep.warnings:
            click.echo("  ! " + visible(w.get(env.lang)), err=True)
        for line in learned:
            click.echo("  + " + visible(line), err=True)
    raise SystemExit(EXIT_OK if rep.ok else EXIT_INTEGRITY)


@snapshot.command("keygen")
@click.argument("stem", type=click.Path(dir_okay=False))
@click.option("--name", required=True, help="Họ tên cán bộ kiểm tra / inspector's name.")
@click.option("--days", type=click.IntRange(1, 36500), default=365, show_default=True, help="Hiệu lực (ngày) / validity in days.")
@click.option("--inspector", "register", is_flag=True,
              help="Đăng ký luôn khóa này vào sổ khóa của đoàn là khóa cán bộ kiểm tra / also register it in this "
                   "inspector's registry as an inspector key.")
@_inspector_option
@_lang_option
@click.pass_context
def snapshot_keygen(ctx, stem, name, days, register, inspector_dir, lang) -> None:
    """Tạo khóa ký của cán bộ kiểm tra (STEM.pem, STEM.pub, STEM.json) / make an inspector key.

    Co-signatures are shown as genuine only for keys registered with --inspector here, or with
    `bmnn keys add --inspector STEM.pub` on the inspectors' machine.
    """
    from bmnn_guard.agent import keys
    env = _env(ctx, lang)
    directory, base = os.path.split(os.path.abspath(stem))
    _check_output(os.path.join(directory, base + ".pem"), env.lang)  # a missing folder is an error, never a mkdir
    if os.path.exists(os.path.join(directory, base + ".pem")):
        raise click.UsageError(_say("cli.pem_exists", stem=visible_text(stem)))
    idir = _inspector(env, inspector_dir) if register else None
    info = keys.generate(directory, stem=base, name=name, days=days, now=_now())
    click.echo(_say("keys.fingerprint", fingerprint=info.fingerprint))
    if idir is not None:
        _keys_add(env, idir, os.path.join(directory, base + ".pub"), None, "inspector", as_json=False)
    else:
        click.echo(_say("keys.register_hint", stem=visible_text(stem)))


# ---------------------------------------------------------------- the inspector's key registry


@cli.group("keys")
def keys_group() -> None:
    """Sổ khóa của đoàn kiểm tra: khóa máy và khóa cán bộ kiểm tra / the inspector's key registry.

    \b
    Host keys: one per inspected machine, from its asset register entry (the host-key.pub that
    `bmnn init` made, with the fingerprint it printed). Inspector keys: whose co-signatures are
    genuine. Kept in the inspector's directory (--inspector-dir, $BMNN_INSPECTOR_DIR, or
    ~/.config/bmnn-inspector), which must be yours and writable by nobody else.
    """


def _read_small(path: str, limit: int = 1 << 16) -> bytes:
    """A small file the user named (a public key), as a regular file of bounded size."""
    import stat as S
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise click.UsageError(_say("cli.file_not_found", path=visible_text(path))) from None
    except OSError as exc:
        raise click.UsageError(_say("cli.file_error", path=visible_text(path), why=_why(exc.strerror))) from None
    try:
        if not S.S_ISREG(os.fstat(fd).st_mode):
            raise click.UsageError(_say("cli.not_regular", path=visible_text(path)))
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise click.UsageError(_say("cli.key_too_large", path=visible_text(path), limit=limit))
    return data


def _keys_add(env: Env, idir, file: str, label: Optional[str], role: str, as_json: bool) -> None:
    from bmnn_guard.agent import keys
    from bmnn_guard.agent.snapshot.messages import say
    from bmnn_guard.agent.snapshot import registry
    pem = _read_small(file)
    stem = os.path.splitext(file)[0]
    meta = None
    try:
        meta = keys.info(os.path.dirname(stem) or ".", os.path.basename(stem))
    except (OSError, ValueError, TypeError):
        meta = None
    if meta is not None and meta.fingerprint != keys.fingerprint(keys.load_public(pem)):
        meta = None  # the .json beside it belongs to another key
    entry = registry.entry_for(pem, role=role, now=_now(), label=label or (meta.name if meta else None) or os.path.basename(stem),
                               source=f"keys add {os.path.basename(file)}", not_after=meta.not_after if meta else None)
    have, added = registry.add(idir, entry)
    if as_json:
        _dump({"added": added, "key": have.__dict__, "registry": idir.path})
        return
    role_text = say(f"role.{role}", env.lang)
    click.echo(say("registry_added" if added else "registry_exists", env.lang, role=role_text,
                   fingerprint=have.fingerprint, label=have.label))


@keys_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--label", default=None, help="Tên máy / nhãn tài sản, hoặc họ tên cán bộ / host name or asset label, or the person's name.")
@click.option("--inspector", "as_inspector", is_flag=True, help="Khóa của cán bộ kiểm tra (chữ ký kèm) / an inspector's key (co-signatures).")
@_inspector_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def keys_add(ctx, file, label, as_inspector, inspector_dir, as_json, lang) -> None:
    """Đăng ký một khóa công khai (FILE.pub) / register a public key (FILE.pub)."""
    env = _env(ctx, lang)
    _keys_add(env, _inspector(env, inspector_dir), file, label, "inspector" if as_inspector else "host", as_json)


@keys_group.command("list")
@_inspector_option
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def keys_list(ctx, inspector_dir, as_json, lang) -> None:
    """Các khóa đã đăng ký / the registered keys."""
    from bmnn_guard.agent.snapshot.messages import say
    from bmnn_guard.agent.snapshot.registry import Registry
    from bmnn_guard.scanner.textsafe import visible
    env = _env(ctx, lang)
    idir = _inspector(env, inspector_dir)
    entries = sorted(Registry.load(idir).entries.values(), key=lambda e: (e.role, e.added_at, e.fingerprint))
    if as_json:
        _dump({"registry": idir.path, "keys": [e.__dict__ for e in entries]})
        return
    if not entries:
        click.echo(say("registry_empty", env.lang, path=idir.path))
        return
    for e in entries:
        status = (_say("keys.retired", by=visible(e.retired_by), at=visible(e.retired_at)) if e.retired_by
                  else _say("keys.active"))
        click.echo(f"{e.fingerprint}  {say('role.' + e.role, env.lang)}  {visible(e.label or '?')}  "
                   f"{e.added_at}  {status}")


@keys_group.command("remove")
@click.argument("fingerprint")
@_inspector_option
@_lang_option
@click.pass_context
def keys_remove(ctx, fingerprint, inspector_dir, lang) -> None:
    """Xóa một khóa khỏi sổ (dấu vân tay, ít nhất 8 chữ số hex đầu) / remove a key (its fingerprint, at least
    the first 8 hex digits)."""
    from bmnn_guard.agent.snapshot.messages import say
    from bmnn_guard.agent.snapshot.registry import remove
    env = _env(ctx, lang)
    gone = remove(_inspector(env, inspector_dir), fingerprint)
    click.echo(say("registry_removed", env.lang, fingerprint=gone.fingerprint, label=gone.label))


@cli.group()
def report() -> None:
    """Báo cáo tổng hợp / reports over many machines."""


@report.command("fleet")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "html", "csv", "json"]), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Ghi ra tệp; thư mục phải có sẵn / write to FILE; its folder must exist.")
@click.option("--timezone", default=None, help="Múi giờ hiển thị (mặc định Asia/Ho_Chi_Minh) / time zone of the times shown.")
@click.option("--trust-new", is_flag=True, help="Chấp nhận và đăng ký khóa máy chưa biết / accept and register unknown host keys.")
@_inspector_option
@_lang_option
@click.pass_context
def report_fleet(ctx, directory, fmt, output, timezone, trust_new, inspector_dir, lang) -> None:
    """Tổng hợp nhiều ảnh chụp, máy xấu nhất trước / many snapshots, worst machines first.

    Every file in DIRECTORY (and its folders) is tried, whatever its name; one that is no snapshot
    is listed and counted. Each host must follow the journal head accepted at the previous review.
    Exit 4 when any file is invalid or no snapshot, 3 when the folder holds no file,
    2 when any machine is non-compliant, else 0.
    """
    import dataclasses
    from bmnn_guard.agent.snapshot.fleet import review
    from bmnn_guard.scanner.i18n import t
    from bmnn_guard.scanner.localtime import zone
    from bmnn_guard.scanner.textsafe import visible
    env = _env(ctx, lang)
    zone(timezone, env.lang)
    _check_output(output, env.lang)
    done = review(directory, lang=env.lang, inspector=_inspector(env, inspector_dir), trust_new=trust_new, now=_now())
    machines = [dataclasses.asdict(m) for m in done.machines]
    if fmt == "text" and not output:
        from bmnn_guard.scanner.report import fleet_text
        fleet_text.report(machines, env.console(), env.lang, timezone)
    else:
        if fmt == "json":
            body = json.dumps({"files": done.files, "invalid": done.invalid, "not_snapshots": done.not_snapshots,
                               "registered": done.learned, "machines": machines}, ensure_ascii=False, indent=2) + "\n"
        elif fmt == "text":
            import io
            from rich.console import Console
            from bmnn_guard.scanner.report import fleet_text
            buf = io.StringIO()
            fleet_text.report(machines, Console(file=buf, width=140, color_system=None), env.lang, timezone)
            body = buf.getvalue()
        else:
            import importlib
            module = importlib.import_module(f"bmnn_guard.scanner.report.fleet_{fmt}")
            body = module.report(machines, env.lang, timezone) if fmt == "html" else module.report(machines, env.lang)
        _write_output(output, body, env.lang)
    for line in done.learned:
        click.echo("bmnn: " + visible(line), err=True)
    if not machines:
        click.echo("bmnn: " + t("fleet.empty", env.lang), err=True)
        raise SystemExit(EXIT_INCOMPLETE)
    if any(not m["valid"] for m in machines):
        raise SystemExit(EXIT_INTEGRITY)
    if any(m["verdict"] == "NON_COMPLIANT" for m in machines):
        raise SystemExit(EXIT_NONCOMPLIANT)


# ---------------------------------------------------------------- answers, completion


@cli.group()
def answers() -> None:
    """Câu trả lời các mục kiểm tra thủ công / answers to the manual checks.

    The file `bmnn scan --answers FILE` reads: one entry per manual check id, e.g.

    \b
        BMNN-MAN-001: pass
        BMNN-MAN-002: {answer: fail, note: "Tem niêm phong bị rách"}
        BMNN-MAN-003:
          answer:        # empty: stays not reviewed
          note:

    Answers: pass, fail, not_applicable (also đạt, không đạt, không áp dụng, yes, no, na).
    """


@answers.command("template")
@click.option("--profile", default=None, shell_complete=_complete_profile,
              help="Hồ sơ kiểm tra / profile id (default: local tailoring, then secret-workstation).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Ghi ra tệp (mặc định: màn hình) / write to FILE (default: stdout).")
@_lang_option
@click.pass_context
def answers_template(ctx, profile: Optional[str], output: Optional[str], lang: Optional[str]) -> None:
    """Tệp trả lời để điền / the answers file to fill in, every manual check with its question."""
    from bmnn_guard.scanner import scan as S
    from bmnn_guard.scanner.answers import template
    from bmnn_guard.scanner.errors import ScanError
    from bmnn_guard.scanner.i18n import t
    env = _env(ctx, lang)
    _check_output(output, env.lang)
    bundle, tailoring = S.load_policy(S.ScanOptions(config_dir=env.config_dir, policy_dir=env.policy_dir))
    profile = profile or tailoring.tailoring.profile or bundle.default_profile
    if profile not in bundle.profiles:
        raise ScanError(f"unknown profile {profile!r}; known: {', '.join(sorted(bundle.profiles))}")
    items = [(cid, bundle.checks[cid].spec.title.get(env.lang), q.get(env.lang)) for cid, q in S.manual_items(bundle, profile)]
    body = template(items, profile, bundle.profiles[profile].title.get(env.lang), env.lang)
    _write_output(output, body, env.lang)
    if output:
        click.echo(t("answers.wrote", env.lang, path=output, n=len(items)), err=True)


@cli.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Mã hoàn thành lệnh cho shell / the shell completion script.

    \b
    bash:  eval "$(bmnn completion bash)"    (or save it to /etc/bash_completion.d/bmnn)
    zsh:   eval "$(bmnn completion zsh)"
    fish:  bmnn completion fish > ~/.config/fish/completions/bmnn.fish

    Completes commands and options, check ids, profiles and device serials.
    """
    from click.shell_completion import get_completion_class
    cls = get_completion_class(shell)
    click.echo(cls(cli, {}, "bmnn", "_BMNN_COMPLETE").source())


# ---------------------------------------------------------------- commands defined beside their layer

from bmnn_guard.agent.commands import agent_group, events_group, journal_group, reload_command, status_command  # noqa: E402
from bmnn_guard.agent.record_commands import handover_group, incident_group  # noqa: E402  (click only)
from bmnn_guard.scanner.content.command import content_command  # noqa: E402  (click only: cheap to import)

for _command in (agent_group, content_command, events_group, handover_group, incident_group, status_command,
                 reload_command, journal_group):
    cli.add_command(_command)


# ---------------------------------------------------------------- entry point


def _wants_json(argv: Optional[list[str]]) -> bool:
    """True when the command line asks for JSON (``--json`` before any ``--``)."""
    for arg in (sys.argv[1:] if argv is None else argv):
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _error(as_json: bool, code: int, kind: str, message: str, *, detail: Optional[str] = None,
           problems: Optional[list] = None, show=None) -> int:
    """Report one error and return its exit code.

    With ``--json`` the error is one JSON object on stdout, the stream a script parses::

        {"error": {"type": "usage|policy|scan|agent|interrupted|internal", "kind": null,
                   "message": "...", "exit_code": 1, "problems": [...]}}

    (``kind`` is the agent's reason such as ``not_running``; ``problems`` the policy problems with
    file, line and column.) Without it, one line on stderr (``show`` prints click's usage text).
    """
    if as_json:
        err = {"type": kind, "kind": detail, "message": message, "exit_code": code}
        if problems:
            err["problems"] = [{"path": p.path, "line": p.line, "col": p.col, "message": p.message} for p in problems]
        click.echo(json.dumps({"error": err}, ensure_ascii=False))
    elif show is not None:
        show()
    else:  # messages quote file names and device strings: shown escaped
        from bmnn_guard.scanner.textsafe import visible_lines
        click.echo(visible_lines(message) if kind == "policy" else f"bmnn: {visible_lines(message)}", err=True)
    return code


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI and turn every layer's exception into a one-line message (or, with --json, one
    JSON error object on stdout) and an exit code."""
    from bmnn_guard.policies.errors import PolicyError
    from bmnn_guard.scanner.errors import ScanError
    from bmnn_guard.agent.errors import AgentError
    as_json = _wants_json(argv)
    _LANG["lang"] = _argv_lang(argv)
    try:
        rv = cli.main(args=argv, prog_name="bmnn", standalone_mode=False)
        return rv if isinstance(rv, int) else EXIT_OK
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return _error(as_json, EXIT_ERROR, "interrupted", _say("cli.aborted"))
    except click.ClickException as exc:
        kind = "usage" if isinstance(exc, click.UsageError) else "agent" if hasattr(exc, "kind") else "error"
        return _error(as_json, EXIT_ERROR, kind, exc.format_message(), detail=getattr(exc, "kind", None), show=exc.show)
    except PolicyError as exc:
        return _error(as_json, EXIT_INTEGRITY, "policy", _policy_text(exc), problems=exc.problems)
    except ScanError as exc:
        return _error(as_json, EXIT_ERROR, "scan", _reword(str(exc), "scan.why."))
    except AgentError as exc:
        return _error(as_json, EXIT_INTEGRITY if getattr(exc, "kind", "") == "integrity" else EXIT_ERROR, "agent",
                      _reword(str(exc), "agent.why."), detail=getattr(exc, "kind", None))
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except KeyboardInterrupt:
        return _error(as_json, 130, "interrupted", _say("cli.interrupted"))
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("BMNN_DEBUG"):
            raise
        return _error(as_json, EXIT_ERROR, "internal",
                      _say("cli.internal", error=f"{type(exc).__name__}: {exc}"))


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
