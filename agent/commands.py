"""CLI commands of the agent: ``bmnn events [verify]``, ``bmnn status``, ``bmnn reload``.

cli.py registers them (``cli.add_command(events_group)`` ...). They follow its conventions:
Vietnamese text by default, ``--lang en``, ``--json``, and exit codes 0 ok, 1 usage/internal
error (the daemon not running included), 4 integrity failure (``events verify``) or a rejected
policy (``reload``). ``events`` and ``events verify`` read the journal file directly (read-only)
so they work without the daemon; a member of the bmnn group who cannot read the file is served
through the daemon's socket instead.

Never imported by the daemon.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from typing import Any, Iterator, Optional

import click

from .errors import AgentError

EXIT_OK, EXIT_ERROR, EXIT_INTEGRITY = 0, 1, 4

def _t(key: str, lang: str, **kw: Any) -> str:
    """The catalog's text (scanner/locale); strings this module adds go into the .po files."""
    from scanner.i18n import t
    return t(key, lang, **kw)


def _lang_option(f):
    return click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
                        help="Ngôn ngữ / language (vi, en).")(f)


def _lang(ctx: click.Context, lang: Optional[str]) -> str:
    if lang:
        return lang
    obj = ctx.find_root().obj
    return getattr(obj, "lang", None) or "vi"


def _paths(ctx: click.Context):
    from .paths import from_env
    obj = ctx.find_root().obj
    return from_env(config_dir=getattr(obj, "config_dir", None))


def _reword(exc: AgentError, lang: str) -> str:
    """The agent's English message in ``lang`` (the catalog's ``agent.why.*`` patterns)."""
    from scanner.i18n import reword
    return reword(str(exc), lang, "agent.why.", sep="\n")


def _fail(exc: AgentError, lang: Optional[str] = None) -> click.ClickException:
    from scanner.textsafe import visible_lines
    if lang is None:
        ctx = click.get_current_context(silent=True)
        lang = getattr(ctx.find_root().obj, "lang", None) if ctx is not None else None
    err = click.ClickException(visible_lines(_reword(exc, lang or "vi")))
    err.kind = exc.kind  # named in the CLI's --json error object
    return err


_REL = re.compile(r"^(\d+)\s*([smhdw])$")


def parse_since(text: str, now: Optional[dt.datetime] = None) -> str:
    """``--since``: 30m, 2h, 7d, 1w, an ISO date or date-time (local time unless it has a zone);
    returned as the journal's UTC format."""
    from .journal import iso
    now = now or dt.datetime.now(dt.timezone.utc)
    m = _REL.match(text.strip())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        secs = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit] * n
        return iso(now - dt.timedelta(seconds=secs))
    try:
        t = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        from scanner.i18n import default_lang
        from scanner.textsafe import visible
        lang = getattr(click.get_current_context(silent=True) and click.get_current_context().find_root().obj, "lang", None)
        raise click.BadParameter(_t("events.bad_since", lang or default_lang(), text=visible(text))) from None
    if t.tzinfo is None:
        t = t.astimezone()  # local time
    return iso(t)


def _line(r: dict[str, Any], lang: str) -> str:
    """One record as one line. Messages quote file names, device strings and other text from the
    machine: a newline there must not forge a second record, nor ESC move the cursor, so every
    field is shown through ``visible`` (escaped, one line)."""
    from scanner.i18n import has, t
    from scanner.textsafe import visible
    kind = f"journal.kind.{r['kind']}"
    parts = [f"#{r['seq']:<6}", visible(str(r["time"]).replace("T", " ")[:19]) + "Z",
             t(kind, lang) if has(kind) else visible(r["kind"])]
    if r.get("check_id"):
        parts.append(visible(r["check_id"]))
    if r.get("severity"):
        parts.append(f"[{visible(r['severity'])}]")
    if r.get("message"):
        parts.append(visible(r["message"]))
    return "  ".join(parts)


class _Reader:
    """Records from the journal file, or through the daemon when the file cannot be read."""

    def __init__(self, path, socket_path):
        from .journal import Journal
        self.journal = None
        self.client = None
        try:
            self.journal = Journal.open(path, readonly=True)
        except AgentError as exc:
            import os
            if os.path.exists(path) and os.access(path, os.R_OK):
                raise
            from .ipc import IpcClient
            self.client = IpcClient(socket_path)
            self._first_error = exc

    def fetch(self, since_seq: Optional[int], since_time: Optional[str], kinds) -> Iterator[dict[str, Any]]:
        if self.journal is not None:
            for r in self.journal.records(since_seq=since_seq, since_time=since_time, kinds=kinds or None):
                yield r.to_dict()
            return
        last = since_seq
        while True:
            try:
                batch = self.client.call("events", since_seq=last, since_time=since_time, limit=5000)
            except AgentError as exc:
                if exc.kind == "not_running":
                    raise self._first_error from None
                raise
            for r in batch:
                if not kinds or r["kind"] in kinds:
                    yield r
            if len(batch) < 5000:
                return
            last = batch[-1]["seq"]


@click.group("events", invoke_without_command=True)
@click.option("--since", default=None, metavar="T", help="Từ thời điểm / since: 30m, 2h, 7d, 2026-11-23, ISO time.")
@click.option("--follow", "-f", is_flag=True, help="Theo dõi bản ghi mới / keep printing new records.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines output (one record per line).")
@click.option("--kind", "kinds", multiple=True, help="Chỉ loại này / only this kind (repeatable).")
@click.option("--journal", "journal_path", default=None, type=click.Path(dir_okay=False),
              help="Tệp nhật ký / journal file (default $BMNN_STATE_DIR/journal.db).")
@_lang_option
@click.pass_context
def events_group(ctx: click.Context, since: Optional[str], follow: bool, as_json: bool, kinds: tuple[str, ...],
                 journal_path: Optional[str], lang: Optional[str]) -> None:
    """Nhật ký sự kiện chống sửa đổi / the tamper-evident event journal."""
    if ctx.invoked_subcommand is not None:
        ctx.meta["bmnn.journal"] = journal_path
        return
    lang = _lang(ctx, lang)
    paths = _paths(ctx)
    since_time = parse_since(since) if since else None
    try:
        reader = _Reader(journal_path or paths.journal, paths.socket)
        last: Optional[int] = None
        for r in reader.fetch(None, since_time, kinds):
            click.echo(json.dumps(r, ensure_ascii=False) if as_json else _line(r, lang))
            last = r["seq"]
        while follow:
            time.sleep(0.5)
            if last is None:
                batch = list(reader.fetch(None, since_time, kinds))
            else:
                batch = list(reader.fetch(last, None, kinds))
            for r in batch:
                click.echo(json.dumps(r, ensure_ascii=False) if as_json else _line(r, lang))
                last = r["seq"]
    except AgentError as exc:
        raise _fail(exc) from None
    except KeyboardInterrupt:
        return


@events_group.command("verify")
@click.option("--key", "key_path", default=None, type=click.Path(dir_okay=False),
              help="Khóa ban đầu / initial key file (default: journal.key beside the journal).")
@click.option("--journal", "journal_path", default=None, type=click.Path(dir_okay=False),
              help="Tệp nhật ký / journal file.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def events_verify(ctx: click.Context, key_path: Optional[str], journal_path: Optional[str], as_json: bool,
                  lang: Optional[str]) -> None:
    """Kiểm tra toàn vẹn nhật ký / verify the journal's hash chain (exit 4 names the first bad record)."""
    from .journal import Journal
    lang = _lang(ctx, lang)
    path = journal_path or ctx.parent.meta.get("bmnn.journal") or _paths(ctx).journal
    try:
        with Journal.open(path, readonly=True) as j:
            key = None
            if key_path:
                key = j.read_initial_key(key_path)
                if key is None:
                    raise AgentError(f"cannot read a 32-byte hex key from {key_path}", kind="usage")
            res = j.verify(key)
    except AgentError as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps({"journal": str(path), **res.__dict__}, ensure_ascii=False, indent=2))
    elif res.ok:
        if res.count == 0:
            click.echo(_t("verify.empty", lang))
        else:
            click.echo(_t("verify.ok", lang, count=res.count, range=f"#{res.first_seq}..#{res.head_seq}"))
            click.echo(_t("verify.head", lang, hash=res.head_hash))
        click.echo(_t("verify.mac_yes" if res.mac_checked else "verify.mac_no", lang))
    else:
        from scanner.textsafe import visible
        click.echo(_t("verify.bad", lang, seq=res.first_bad_seq, reason=visible(res.reason)), err=True)
    if not res.ok:
        raise SystemExit(EXIT_INTEGRITY)


def _uptime(s: float) -> str:
    s = int(s)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool, lang: Optional[str]) -> None:
    """Trạng thái dịch vụ giám sát / state of the bmnn-agent daemon."""
    from .ipc import IpcClient
    lang = _lang(ctx, lang)
    try:
        st = IpcClient(_paths(ctx).socket).call("status")
    except AgentError as exc:
        if exc.kind != "not_running":
            raise _fail(exc) from None
        if as_json:
            # the error object every --json command prints (cli.py _error), with running: false
            click.echo(json.dumps({"running": False, "error": {"type": "agent", "kind": exc.kind, "message": _reword(exc, lang),
                                                               "exit_code": EXIT_ERROR}}, ensure_ascii=False, indent=2))
        else:
            click.echo(_reword(exc, lang), err=True)
        raise SystemExit(EXIT_ERROR)
    if not st.get("incident_draft"):  # the daemon names its newest draft; older daemons: look in the state dir
        from .incident import latest_draft
        st["incident_draft"] = latest_draft(str(_paths(ctx).state_dir))
    if as_json:
        click.echo(json.dumps(st, ensure_ascii=False, indent=2))
        return
    from scanner.textsafe import visible as v  # messages, notes and errors quote the machine
    click.echo(_t("status.running", lang, pid=st["pid"], uptime=_uptime(st["uptime_s"])))
    busy = st.get("main_loop") or {}
    if busy.get("busy"):
        click.echo(_t("status.busy", lang, s=busy.get("busy_s") if busy.get("busy_s") is not None else "?",
                      job=v(busy.get("job") or "?")))
    pol = st.get("policy") or {}
    click.echo(_t("status.policy", lang, sha=v((pol.get("sha256") or "-")[:16]), profile=v(pol.get("profile"))))
    click.echo(_t("status.sources", lang) + ":")
    if not st["sources"]:
        click.echo("  " + _t("status.none", lang))
    for s in st["sources"]:
        click.echo(f"  {v(s['name'])}: {_t('status.alive' if s['alive'] else 'status.dead', lang)}")
    click.echo(_t("status.reconcile", lang, t=v(st.get("last_reconcile") or _t("status.none", lang))))
    click.echo(_t("status.open", lang, n=len(st["open_violations"])))
    for o in st["open_violations"]:
        ack = f" ({_t('status.acked', lang)})" if o.get("acknowledged") else ""
        seq = f"#{v(o['seq'])}" if o.get("seq") is not None else f"({_t('status.unjournaled', lang)})"
        click.echo(f"  {v(o['check_id'])} [{v(o.get('severity'))}] {seq} {v(o['time'])}{ack}: "
                   f"{v(o.get('message') or '')}")
    if st.get("incident_draft"):
        click.echo(_t("status.incident", lang, path=v(st["incident_draft"])))
    click.echo(_t("status.sinks", lang) + ":")
    for s in st["sinks"]:
        state = _t("status.sink_failing" if s["failing"] else "status.sink_ok", lang)
        extra = f"; {v(s['last_error'])}" if s["failing"] and s.get("last_error") else ""
        note = f" ({v(s['note'])})" if s.get("note") else ""
        click.echo(f"  {v(s['name'])}: {state}, delivered {s['delivered']}, queued {s['queued']}, "
                   f"dropped {s['dropped']}{note}{extra}")
    j = st["journal"]
    click.echo(_t("status.journal", lang, path=v(j.get("path")), head=j.get("head_seq"), pending=j.get("pending", 0)))
    if j.get("last_error"):
        click.echo(f"  ! {v(j['last_error'])}")


@click.command("reload")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def reload_command(ctx: click.Context, as_json: bool, lang: Optional[str]) -> None:
    """Nạp lại cấu hình và chính sách (kiểm tra trước) / reload config and policy, validated first."""
    from .ipc import IpcClient
    lang = _lang(ctx, lang)
    try:
        res = IpcClient(_paths(ctx).socket, timeout=60).call("reload")
    except AgentError as exc:
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
    elif res.get("ok"):
        click.echo(_t("reload.ok", lang, sha=(res.get("policy_sha256") or "-")[:16], profile=res.get("profile")))
    else:
        from scanner.textsafe import visible_lines
        click.echo(_t("reload.bad", lang, sha=(res.get("policy_sha256") or "-")[:16]), err=True)
        click.echo(visible_lines(res.get("error", "")), err=True)
    if not res.get("ok"):
        raise SystemExit(EXIT_INTEGRITY)


@click.group("agent")
def agent_group() -> None:
    """Dịch vụ giám sát bmnn-agent / the monitoring daemon."""


@agent_group.command("run")
@click.option("--state-dir", type=click.Path(file_okay=False), default=None,
              help="Nhật ký và khóa (mặc định /var/lib/bmnn) / journal and keys (default /var/lib/bmnn).")
@click.option("--runtime-dir", type=click.Path(file_okay=False), default=None,
              help="Socket điều khiển (mặc định /run/bmnn) / control socket (default /run/bmnn).")
@click.option("--log-dir", type=click.Path(file_okay=False), default=None,
              help="Tệp sự kiện ECS (mặc định /var/log/bmnn) / ECS event file (default /var/log/bmnn).")
@click.pass_context
def agent_run(ctx: click.Context, state_dir: Optional[str], runtime_dir: Optional[str], log_dir: Optional[str]) -> None:
    """Chạy dịch vụ ở tiền cảnh, đến khi nhận SIGTERM / run the daemon in the foreground until SIGTERM.

    The same daemon as bmnn-agent under systemd: network, USB and storage, mounts and marked
    folders are watched; violations are journaled and alerted. Exits 0 on SIGTERM, 1 when it
    cannot start (the reason is on stderr), 3 when its main loop hangs.
    """
    from .daemon import Daemon
    from .paths import from_env
    from .watch import run_daemon
    obj = ctx.find_root().obj
    paths = from_env(config_dir=getattr(obj, "config_dir", None), state_dir=state_dir, runtime_dir=runtime_dir,
                     log_dir=log_dir)
    rv = run_daemon(Daemon(paths, policy_dir=getattr(obj, "policy_dir", None)))
    raise SystemExit(rv or 0)
