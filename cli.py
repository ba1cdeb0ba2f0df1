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


# ---------------------------------------------------------------- entry point


def main(argv: Optional[list[str]] = None) -> int:
    """Run the CLI and turn every layer's exception into a one-line message and an exit code."""
    from policies.errors import PolicyError
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
