"""``bmnn content PATH...``: the content scan as a click command (the lead registers it in cli.py).

Exit codes: 0 nothing classified, 2 classified documents or copies out found, 1 usage or
internal error. Vietnamese by default, English with ``--lang en``. Rich is imported here only.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Optional

import click

EXIT_OK, EXIT_ERROR, EXIT_FOUND = 0, 1, 2

TEXT = {
    "help": ("Tìm tài liệu mang dấu độ mật (MẬT, TỐI MẬT, TUYỆT MẬT) trong các tệp và thư mục. "
             "Chỉ các đường dẫn được nêu trên dòng lệnh mới được theo nếu là liên kết tượng trưng; "
             "liên kết bên trong không bao giờ được theo (được liệt kê kèm đích của nó). "
             "Kết luận được lưu đệm trong thư mục trạng thái: tệp không đổi không phải đọc lại.",
             "Find documents bearing a secrecy stamp (MẬT, TỐI MẬT, TUYỆT MẬT) in files and folders. "
             "Only the paths named on the command line are followed if they are symbolic links; "
             "links inside them are never followed (they are listed with their target). "
             "Verdicts are cached in the state directory: unchanged files are not read again."),
    "follow": ("Chỉ theo các đường dẫn đã nêu; liên kết tượng trưng bên trong không được theo.",
               "Only the named paths were followed; symbolic links inside them were not."),
    "cache": ("Bộ đệm kết luận: {h} tệp không đổi, không đọc lại.", "Verdict cache: {h} unchanged files not read again."),
    "note": ("Lưu ý: {n}", "Note: {n}"),
    "path": ("Tệp", "File"), "verdict": ("Kết luận", "Verdict"), "level": ("Độ mật", "Level"),
    "score": ("Điểm", "Score"), "encoding": ("Bảng mã", "Encoding"), "where": ("Vị trí", "Where"),
    "reasons": ("Lý do", "Reasons"),
    "classified": ("MẬT", "classified"), "review": ("cần xem xét", "review"), "clean": ("không dấu", "clean"),
    "mat": ("Mật", "Mật"), "toi_mat": ("Tối mật", "Tối mật"), "tuyet_mat": ("Tuyệt mật", "Tuyệt mật"),
    "inside": ("trong thư mục mật", "in a marked folder"), "outside": ("ngoài thư mục mật", "outside marked folders"),
    "removable": ("trên thiết bị lưu trữ rời", "on removable media"), "copy_of": ("bản sao của {src}", "copy of {src}"),
    "summary": ("Đã đọc {n} tệp ({mb:.1f} MB) trong {s:.1f} giây: {c} tài liệu mật, {r} cần xem xét, {k} bản sao, "
                "{e} tệp không đọc được, {sk} mục bỏ qua, {nd} tệp không phải tài liệu.",
                "Read {n} files ({mb:.1f} MB) in {s:.1f} s: {c} classified, {r} to review, {k} copies, "
                "{e} unreadable, {sk} skipped, {nd} not documents."),
    "errors": ("Không đọc được (không thể kết luận là sạch):", "Could not be read (not clean, unknown):"),
    "skipped": ("Bỏ qua có lý do:", "Skipped, with reasons:"),
    "none": ("Không tìm thấy tài liệu mang dấu độ mật.", "No stamped document found."),
    "scanning": ("Đang quét", "Scanning"),
    "no_paths": ("Cần ít nhất một đường dẫn hoặc --marked.", "Give at least one path or --marked."),
    "internal": ("Lỗi nội bộ: {e}", "Internal error: {e}"),
}


def _t(key: str, lang: str, **kw) -> str:
    text = TEXT[key][1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


def _progress(console, lang: str):
    from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task):
            el = task.elapsed or 0
            if not el:
                return Text("")
            mb = task.fields.get("bytes", 0) / 1e6
            return Text(f"{task.completed / el:,.0f} tệp/s {mb / el:,.1f} MB/s" if lang != "en"
                        else f"{task.completed / el:,.0f} files/s {mb / el:,.1f} MB/s")

    return Progress(TextColumn(_t("scanning", lang)), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    Rate(), TimeRemainingColumn(), console=console, transient=True)


class _Command(click.Command):
    """Usage errors exit 1 here (click's default 2 means "classified found" for this command)."""

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise


@click.command("content", cls=_Command, help=TEXT["help"][0] + "\n\n" + TEXT["help"][1])
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
    lang = lang or os.environ.get("BMNN_LANG", "vi")
    if not paths and not marked:
        exc = click.UsageError(_t("no_paths", lang))
        exc.exit_code = EXIT_ERROR
        raise exc
    from rich.console import Console

    from policies.facts import to_dict

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
        click.echo(_t("internal", lang, e=exc), err=True)
        sys.exit(EXIT_ERROR)
    facts = report.facts
    found = any(f.verdict == "classified" or f.copy_of for f in facts.findings)
    if as_json:
        from ..textsafe import visible
        for note in report.notes:  # stdout stays one JSON document
            click.echo(visible(_t("note", lang, n=note)), err=True)
        click.echo(json.dumps(to_dict(facts), ensure_ascii=False, indent=2))
        sys.exit(EXIT_FOUND if found else EXIT_OK)
    _print(Console(highlight=False), report, lang)
    sys.exit(EXIT_FOUND if found else EXIT_OK)


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
            table.add_column(_t(k, lang), overflow="fold")
        for f in facts.findings:
            where = [_t("inside" if f.in_marked_folder else "outside", lang)]
            if f.on_removable:
                where.append(_t("removable", lang))
            if f.copy_of:
                where.append(_t("copy_of", lang, src=f.copy_of))
            style = "bold red" if f.verdict == "classified" else ("yellow" if f.verdict == "review" else "")
            table.add_row(escape(f.path), f"[{style}]{_t(f.verdict, lang)}[/]" if style else _t(f.verdict, lang),
                          _t(f.level, lang) if f.level else "—", str(f.score), f.encoding or "—",
                          escape("; ".join(where)), ", ".join(f.reasons + tuple(f"+{m}" for m in f.marks)))
        console.print(table)
    else:
        console.print(_t("none", lang))
    for title, items in (("errors", facts.errors), ("skipped", facts.skipped)):
        if items:
            console.print(f"[bold]{_t(title, lang)}[/bold]")
            for e in items[:50]:
                console.print(f"  {escape(e.source)}: {escape(e.message)}")
            if len(items) > 50:
                console.print(f"  … (+{len(items) - 50})")
    for note in report.notes:
        console.print(escape(_t("note", lang, n=note)))
    if report.cache_hits:
        console.print(_t("cache", lang, h=report.cache_hits))
    console.print(_t("follow", lang))
    console.print(_t("summary", lang, n=facts.files_scanned, mb=report.bytes_read / 1e6, s=report.elapsed,
                     c=sum(f.verdict == "classified" for f in facts.findings),
                     r=sum(f.verdict == "review" for f in facts.findings),
                     k=sum(bool(f.copy_of) for f in facts.findings), e=len(facts.errors), sk=len(facts.skipped),
                     nd=facts.not_documents))


if __name__ == "__main__":
    content_command()
