"""``bmnn content PATH...``: the content scan as a click command (the lead registers it in cli.py).

Exit codes: 0 nothing classified and every file read, 2 classified documents or copies out
found, 3 incomplete (files that could not be read: not clean, unknown), 1 usage or internal error. Vietnamese by default, English with ``--lang en``. Rich is imported here only.
"""

from __future__ import annotations

import json
import sys
from typing import Optional

import click

from ..i18n import default_lang, reword, t

EXIT_OK, EXIT_ERROR, EXIT_FOUND, EXIT_INCOMPLETE = 0, 1, 2, 3



def _c(key: str, lang: str, **kw) -> str:
    """This command's texts: ``content.*`` keys of the message catalog (scanner/locale)."""
    return t(f"content.{key}", lang, **kw)


def _why(message: str, lang: str) -> str:
    """A reason the content engine gave in English (``cannot read: …``), in ``lang``."""
    return reword(message, lang, "content.why.")


def _lang(lang: Optional[str]) -> str:
    """--lang of this command, else the root's (``bmnn --lang en content``), else BMNN_LANG."""
    if lang:
        return lang
    ctx = click.get_current_context(silent=True)
    root = getattr(ctx.find_root().obj, "lang", None) if ctx is not None else None
    return root or default_lang()


def _progress(console, lang: str):
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            el = task.elapsed or 0
            if not el:
                return Text("")
            mb = task.fields.get("bytes", 0) / 1e6
            return Text(_c("rate", lang, files=task.completed / el, mb=mb / el))

    return Progress(TextColumn(_c("scanning", lang)), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    Rate(), TimeRemainingColumn(), console=console, transient=True)


class _Command(click.Command):
    """Usage errors exit 1 here (click's default 2 means "classified found" for this command)."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise


@click.command("content", cls=_Command, help=_c("help", "vi") + "\n\n" + _c("help", "en"))
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=True, dir_okay=True))
@click.option("--marked", "marked", multiple=True, type=click.Path(file_okay=False),
              help="Thư mục mật (lặp lại được) / marked folder (repeatable).")
@click.option("--removable", multiple=True, type=click.Path(file_okay=False),
              help="Điểm gắn thiết bị rời / removable mount point (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Xuất JSON / JSON output.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Số tiến trình đọc tệp / worker processes.")
@click.option("--no-cache", "no_cache", is_flag=True,
              help="Không dùng bộ đệm kết luận / read every file again (no verdict cache).")
@click.option("--lang", type=click.Choice(["vi", "en"]), default=None, help="Ngôn ngữ / language.")
def content_command(paths, marked, removable, as_json: bool, jobs: Optional[int], no_cache: bool,
                    lang: Optional[str]) -> None:
    lang = _lang(lang)
    if not paths and not marked:
        exc = click.UsageError(_c("no_paths", lang))
        exc.exit_code = EXIT_ERROR
        raise exc
    from rich.console import Console

    from bmnn_guard.policies.facts import to_dict

    from .scan import run_scan

    err = Console(stderr=True, highlight=False)
    try:
        cache = None
        if not no_cache:
            from .cache import ContentCache
            cache = ContentCache()
        kw = dict(marked_folders=list(marked), removable_mounts=list(removable), jobs=jobs, cache=cache)
        if as_json or not err.is_terminal:
            report = run_scan(list(paths), **kw)
        else:
            with _progress(err, lang) as prog:
                task = prog.add_task("scan", total=None, bytes=0)

                def show(p):
                    prog.update(task, completed=p.files_done, total=p.files_total, bytes=p.bytes_done)

                report = run_scan(list(paths), progress=show, **kw)
    except Exception as exc:  # one line, exit 1: never a traceback for a user
        click.echo(_c("internal", lang, e=exc), err=True)
        sys.exit(EXIT_ERROR)
    facts = report.facts
    found = any(f.verdict == "classified" or f.copy_of for f in facts.findings)
    code = EXIT_FOUND if found else EXIT_INCOMPLETE if facts.errors else EXIT_OK
    if as_json:
        from ..textsafe import visible
        for note in report.notes:  # stdout stays one JSON document
            click.echo(visible(_c("note", lang, n=note)), err=True)
        if facts.errors:
            click.echo(visible(_c("incomplete_json", lang, n=len(facts.errors),
                                  paths=", ".join(e.source for e in facts.errors[:20])
                                  + ("" if len(facts.errors) <= 20 else ", …"))), err=True)
        click.echo(json.dumps(to_dict(facts), ensure_ascii=False, indent=2))
        sys.exit(code)
    _print(Console(highlight=False), report, lang)
    sys.exit(code)


def _print(console, report, lang: str) -> None:
    from rich.markup import escape as _markup
    from rich.table import Table

    from ..textsafe import visible

    def escape(value: str) -> str:
        """File names and reasons come from the machine: controls, ESC and bidi overrides shown
        escaped (``visible``), then rich markup escaped."""
        return _markup(visible(value))

    facts = report.facts
    if facts.findings:
        table = Table(show_lines=False)
        for k in ("path", "verdict", "level", "score", "encoding", "where", "reasons"):
            table.add_column(_c(k, lang), overflow="fold")
        for f in facts.findings:
            where = [_c("inside" if f.in_marked_folder else "outside", lang)]
            if f.on_removable:
                where.append(_c("removable", lang))
            if f.copy_of:
                where.append(_c("copy_of", lang, src=f.copy_of))
            style = "bold red" if f.verdict == "classified" else ("yellow" if f.verdict == "review" else "")
            table.add_row(escape(f.path), f"[{style}]{_c(f.verdict, lang)}[/]" if style else _c(f.verdict, lang),
                          _c(f.level, lang) if f.level else "—", str(f.score), f.encoding or "—",
                          escape("; ".join(where)), escape(", ".join(f.reasons + tuple(f"+{m}" for m in f.marks))))
        console.print(table)
    else:
        console.print(_c("none", lang))
    for title, items in (("errors", facts.errors), ("skipped", facts.skipped)):
        if items:
            console.print(f"[bold]{_c(title, lang)}[/bold]")
            for e in items[:50]:
                console.print(f"  {escape(e.source)}: {escape(_why(e.message, lang))}", soft_wrap=True)  # whole paths
            if len(items) > 50:
                console.print("  " + escape(_c("more", lang, n=len(items) - 50)))
    for note in report.notes:
        console.print(escape(_c("note", lang, n=note)))
    if report.cache_hits:
        console.print(_c("cache", lang, h=report.cache_hits))
    console.print(_c("follow", lang))
    console.print(_c("summary", lang, n=facts.files_scanned, mb=report.bytes_read / 1e6, s=report.elapsed,
                     c=sum(f.verdict == "classified" for f in facts.findings),
                     r=sum(f.verdict == "review" for f in facts.findings),
                     k=sum(bool(f.copy_of) for f in facts.findings), e=len(facts.errors), sk=len(facts.skipped),
                     nd=facts.not_documents))
    if facts.errors:
        console.print(f"[bold yellow]{_markup(_c('incomplete', lang, n=len(facts.errors)))}[/]")


if __name__ == "__main__":
    content_command()
