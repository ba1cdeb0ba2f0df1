"""CLI commands of the agent: ``bmnn events [verify|ack]``, ``bmnn status``, ``bmnn reload``.

cli.py registers them (``cli.add_command(events_group)`` ...). They follow its conventions:
Vietnamese text by default, ``--lang en``, ``--json``, and exit codes 0 ok, 1 usage/internal
error (the daemon not running included), 3 incomplete (``events verify`` without the initial key:
chain only), 4 integrity failure (``events verify``) or a rejected policy (``reload``). ``events`` and ``events verify`` read the journal file directly (read-only)
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

EXIT_OK, EXIT_ERROR, EXIT_INCOMPLETE, EXIT_INTEGRITY = 0, 1, 3, 4

def _t(key: str, lang: str, **kw: Any) -> str:
    """The catalog's text (scanner/locale); strings this module adds go into the .po files."""
    from bmnn_guard.scanner.i18n import t
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
    from bmnn_guard.scanner.i18n import reword
    return reword(str(exc), lang, "agent.why.", sep="\n")


def _fail(exc: AgentError, lang: Optional[str] = None) -> click.ClickException:
    from bmnn_guard.scanner.textsafe import visible_lines
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
        from bmnn_guard.scanner.i18n import default_lang
        from bmnn_guard.scanner.textsafe import visible
        lang = getattr(click.get_current_context(silent=True) and click.get_current_context().find_root().obj, "lang", None)
        raise click.BadParameter(_t("events.bad_since", lang or default_lang(), text=visible(text))) from None
    if t.tzinfo is None:
        t = t.astimezone()  # local time
    return iso(t)


def _line(r: dict[str, Any], lang: str) -> str:
    """One record as one line. Messages quote file names, device strings and other text from the
    machine: a newline there must not forge a second record, nor ESC move the cursor, so every
    field is shown through ``visible`` (escaped, one line)."""
    from bmnn_guard.scanner.i18n import has, t
    from bmnn_guard.scanner.textsafe import visible

    from .wording import shown_record
    kind = f"journal.kind.{r['kind']}"
    parts = [f"#{r['seq']:<6}", visible(str(r["time"]).replace("T", " ")[:19]) + "Z",
             t(kind, lang) if has(kind) else visible(r["kind"])]
    if r.get("check_id"):
        parts.append(visible(r["check_id"]))
    if r.get("severity"):
        parts.append(f"[{visible(r['severity'])}]")
    message = shown_record(r, lang)
    if message:
        parts.append(visible(message))
    return "  ".join(parts)


def _json_line(r: dict[str, Any], lang: str) -> str:
    """The record as the journal has it, and ``message_shown``: its message in ``lang``."""
    from .wording import shown_record
    return json.dumps({**r, "message_shown": shown_record(r, lang)}, ensure_ascii=False)


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
            click.echo(_json_line(r, lang) if as_json else _line(r, lang))
            last = r["seq"]
        while follow:
            time.sleep(0.5)
            if last is None:
                batch = list(reader.fetch(None, since_time, kinds))
            else:
                batch = list(reader.fetch(last, None, kinds))
            for r in batch:
                click.echo(_json_line(r, lang) if as_json else _line(r, lang))
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
@click.option("--retention-days", "retention_days", default=None, type=click.FloatRange(min=1),
              help="Thời hạn lưu của máy / the host's retention_days (default: agent.yaml here); every checkpoint "
                   "must have removed only older records.")
@click.option("--head", "seen_head", default=None, metavar="SEQ:HASH",
              help="Đầu nhật ký đã thấy trước (ảnh chụp, nhịp tim) / a head seen before: prove the journal extends it.")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def events_verify(ctx: click.Context, key_path: Optional[str], journal_path: Optional[str],
                  retention_days: Optional[float], seen_head: Optional[str], as_json: bool, lang: Optional[str]) -> None:
    """Kiểm tra toàn vẹn nhật ký / verify the journal (exit 0 intact with the key, 3 chain only, 4 tampered).

    With the initial key (``--key FILE``, or journal.key beside the journal): the hash chain,
    every MAC and the tail (the key state names the last record), exit 0. Without it only the
    chain, exit 3: a truncated tail or a rewritten chain cannot be detected. A key file that is
    not a key is exit 1; a key that is not this journal's, a damaged file or a bad record exit 4.
    """
    from bmnn_guard.scanner.textsafe import visible
    from .journal import Journal, damage_report, wal_state
    lang = _lang(ctx, lang)
    path = journal_path or ctx.parent.meta.get("bmnn.journal") or _paths(ctx).journal
    seen = None
    if seen_head is not None:
        m = re.fullmatch(r"\s*#?(\d{1,18}):([0-9a-fA-F]{64})\s*", seen_head)
        if not m:
            raise click.UsageError(_t("head.bad", lang))
        seen = (int(m.group(1)), m.group(2).lower())
    verdict, facts = None, {}
    try:
        with Journal.open(path, readonly=True) as j:
            key = j.read_initial_key(key_path) if key_path else None
            res = j.verify(key, retention_days=retention_days if retention_days is not None else
                           _configured_retention(ctx))
            if seen is not None and res.ok:
                verdict, facts = j.extends(*seen)
    except AgentError as exc:
        if exc.kind != "integrity":
            raise _fail(exc) from None
        res = damage_report(path, exc, False)
        res = res.__class__(**{**res.__dict__, "wal": wal_state(path)})
    code = EXIT_INTEGRITY if not res.ok else EXIT_OK if res.mac_checked else EXIT_INCOMPLETE
    if verdict in ("rollback", "branch"):
        code = EXIT_INTEGRITY
    elif verdict == "unproven":
        code = max(code, EXIT_INCOMPLETE)
    damaged = not res.ok and (res.reason or "").startswith("damaged file")
    if as_json:
        click.echo(json.dumps({"journal": str(path), **res.__dict__, "damaged": damaged,
                               "checked": ("chain", "mac", "tail") if res.ok and res.mac_checked else ("chain",),
                               **({"head_check": {"verdict": verdict, **facts}} if seen is not None else {}),
                               "exit_code": code}, ensure_ascii=False, indent=2))
        raise SystemExit(code)
    wal = f"{path}-wal"
    if res.key_mismatch:
        click.echo(_t("verify.key_mismatch", lang, key_file=visible(str(key_path or j.key_path)), path=visible(str(path))),
                   err=True)
    elif damaged:
        from bmnn_guard.scanner.i18n import reword  # the salvage's findings, made in English by the journal
        click.echo(_t("verify.damaged", lang, path=visible(str(path)),
                      reason=visible(reword(res.reason or "", lang, "agent.why."))), err=True)
    elif not res.ok:
        click.echo(_t("verify.bad", lang, seq=res.first_bad_seq, reason=visible(res.reason)), err=True)
    elif res.count == 0:
        click.echo(_t("verify.empty_key" if res.mac_checked else "verify.empty_chain", lang))
    else:
        rng = f"#{res.first_seq}..#{res.head_seq}"
        click.echo(_t("verify.ok" if res.mac_checked else "verify.chain_only", lang, count=res.count, range=rng))
        click.echo(_t("verify.head", lang, hash=res.head_hash))
    if verdict is not None:
        cur = facts["head"]
        kw = dict(seq=seen[0], hash=seen[1][:16], cur_seq=cur["seq"], cur_hash=cur["hash"][:16])
        if verdict == "reset":
            r = facts["reset"]
            kw.update(time=r["time"], reason=visible(str(r["reason"])), old_seq=r["previous"]["seq"],
                      old_hash=visible(r["previous"]["hash"][:16]))
        elif verdict == "unproven":
            kw.update(through=facts["checkpoint_through"])
        click.echo(_t("head." + verdict, lang, **kw), err=verdict != "extends")
    if res.wal:
        click.echo(_t("verify.wal_" + res.wal, lang, wal=visible(wal)), err=not res.ok)
    raise SystemExit(code)


def _configured_retention(ctx: click.Context) -> Optional[float]:
    """retention_days of this machine's agent.yaml (None: not configured, or the file cannot be read:
    then every checkpoint fails, and --retention-days says what the host is configured with)."""
    from .config import load_config
    try:
        return load_config(_paths(ctx).agent_config).retention_days
    except AgentError:
        return None


@click.group("journal")
def journal_group() -> None:
    """Quản lý tệp nhật ký / the journal files (reset)."""


@journal_group.command("reset")
@click.option("--reason", required=True, help="Lý do bắt đầu nhật ký mới / why a new journal is started (recorded).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def journal_reset(ctx: click.Context, reason: str, as_json: bool, lang: Optional[str]) -> None:
    """Bắt đầu nhật ký mới, giữ lại tệp cũ / start a new journal, keeping the old files aside (root, daemon stopped).

    The old journal.db (with -wal/-shm), journal.key and journal.head are renamed to
    NAME.reset-TIME, never deleted; the new journal's first record names the reason, the old
    head (seq, hash) and the old key id, so that an inspector holding an earlier head sees the
    break. The daemon refuses to start on an emptied or older journal until this is done.
    """
    from bmnn_guard.scanner.textsafe import visible
    from .journal_reset import reset
    lang = _lang(ctx, lang)
    paths = _paths(ctx)
    try:
        res = reset(paths, reason)
    except AgentError as exc:
        raise _fail(exc) from None
    ev = res.record.evidence
    prev = ev["previous"]
    if as_json:
        click.echo(json.dumps({"record": res.record.to_dict(), "kept": list(res.kept)}, ensure_ascii=False, indent=2))
        return
    head = prev.get("head")
    shown = f"#{head['seq']} {head['hash'][:16]}…" if head else "?"
    click.echo(_t("reset.done", lang, seq=res.record.seq, head=shown, key_id=visible(str(prev.get("key_id") or "?"))))
    click.echo(_t("reset.kept", lang, files=visible(", ".join(res.kept)) if res.kept else _t("reset.none", lang)))
    click.echo(_t("reset.key", lang, key_file=visible(str(paths.journal_key))))


def _usage_error(key: str, lang: str, code: str, **kw: Any) -> click.ClickException:
    """A localized one-line error (exit 1) that --json prints as the error object (``code`` is its kind)."""
    err = click.ClickException(_t(key, lang, **kw))
    err.kind = code
    return err


@events_group.command("ack")
@click.argument("seq", metavar="SEQ", required=False)
@click.option("--reason", default=None, metavar="TEXT",
              help="Lý do xác nhận (bắt buộc) / why it is acknowledged (required).")
@click.option("--json", "as_json", is_flag=True, help="JSON output.")
@_lang_option
@click.pass_context
def events_ack(ctx: click.Context, seq: Optional[str], reason: Optional[str], as_json: bool,
               lang: Optional[str]) -> None:
    """Xác nhận một vi phạm đang mở (root) / acknowledge an open violation (root).

    SEQ là số thứ tự của bản ghi vi phạm (bmnn status cho biết). Dịch vụ ghi một bản ghi ack vào
    nhật ký, nêu vi phạm, lý do và người xác nhận; vi phạm vẫn mở đến khi máy tuân thủ trở lại.

    SEQ is the journal sequence number of the violation (bmnn status shows it). The daemon journals
    an ack record naming the violation, the reason and who acknowledged it; the violation stays
    open until the machine complies again. Only root may acknowledge.
    """
    from bmnn_guard.scanner.textsafe import visible as v
    from .ipc import IpcClient
    lang = _lang(ctx, lang)
    if seq is None or not seq.strip().lstrip("#").isdigit() or int(seq.strip().lstrip("#")) < 1:
        raise _usage_error("ack.bad_seq", lang, "usage")
    n = int(seq.strip().lstrip("#"))
    if reason is None or not reason.strip():
        raise _usage_error("ack.empty_reason", lang, "usage")
    from .ack import REASON_MAX, SEQ_MAX
    if len(" ".join(reason.split())) > REASON_MAX:
        raise _usage_error("ack.too_long", lang, "usage", n=len(" ".join(reason.split())), max=REASON_MAX)
    if n > SEQ_MAX:
        raise _usage_error("ack.no_such_record", lang, "no_such_record", seq=n)
    sock = _paths(ctx).socket
    try:
        res = IpcClient(sock).call("ack", seq=n, reason=reason)
    except AgentError as exc:
        if exc.kind == "not_running":
            raise _usage_error("ack.not_running", lang, exc.kind, socket=v(str(sock))) from None
        if exc.kind == "forbidden":
            raise _usage_error("ack.forbidden", lang, exc.kind) from None
        raise _fail(exc) from None
    if not res.get("ok"):
        code = res.get("error")
        a = res.get("ack") or {}
        from bmnn_guard.scanner.i18n import has, t
        kind = f"journal.kind.{res.get('kind')}"
        fields = {"seq": n, "check": v(res.get("check_id") or "?"),
                  "kind": t(kind, lang) if has(kind) else v(res.get("kind") or "?"),
                  "by": v(a.get("by") or "?"), "time": v(a.get("time") or "?"), "ack_seq": v(a.get("seq")),
                  "reason": v(a.get("reason") or "-")}
        key = {"already_acknowledged": "ack.already", "cleared": "ack.cleared", "not_a_violation": "ack.not_a_violation",
               "no_such_record": "ack.no_such_record"}.get(code, "ack.not_open")
        raise _usage_error(key, lang, code or "usage", **fields)
    if as_json:
        click.echo(json.dumps(res, ensure_ascii=False, indent=2))
    elif res.get("journaled") is False:
        click.echo(_t("ack.spooled", lang, vseq=n, check=v(res.get("check_id"))))
    else:
        click.echo(_t("ack.ok", lang, vseq=n, check=v(res.get("check_id")), seq=v(res.get("seq")),
                      by=v(res.get("by") or "?")))


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
    from bmnn_guard.scanner.i18n import reword
    from bmnn_guard.scanner.textsafe import visible as v  # messages, notes and errors quote the machine

    from .wording import shown
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
        d = s.get("details") if isinstance(s.get("details"), dict) else {}
        if d.get("available") is False and d.get("reason"):
            click.echo("    " + _t("status.source_off", lang, reason=v(reword(str(d["reason"]), lang, "sink.note."))))
        if d.get("resyncing"):
            click.echo("    " + _t("status.source_resyncing", lang))
        if d.get("waiting"):
            click.echo("    " + _t("status.source_waiting", lang, n=v(d["waiting"])))
        for root, why in sorted((d.get("unmarked") or {}).items()):
            click.echo("    " + _t("status.source_unmarked", lang, path=v(root), reason=v(str(why))))
    click.echo(_t("status.reconcile", lang, t=v(st.get("last_reconcile") or _t("status.none", lang))))
    click.echo(_t("status.open", lang, n=len(st["open_violations"])))
    for o in st["open_violations"]:
        a = o.get("ack") or {}
        ack = (f" ({_t('status.acked_by', lang, by=v(a.get('by') or '?'), time=v(a.get('time') or '?'), seq=v(a.get('seq')), reason=v(a.get('reason') or '-'))})"
               if a else f" ({_t('status.acked', lang)})" if o.get("acknowledged") else "")
        seq = f"#{v(o['seq'])}" if o.get("seq") is not None else f"({_t('status.unjournaled', lang)})"
        click.echo(f"  {v(o['check_id'])} [{v(o.get('severity'))}] {seq} {v(o['time'])}{ack}: "
                   f"{v(shown(o.get('message'), o.get('evidence'), lang) or '')}")
    if st.get("incident_draft"):
        click.echo(_t("status.incident", lang, path=v(st["incident_draft"])))
    click.echo(_t("status.sinks", lang) + ":")
    for s in st["sinks"]:
        state = _t("status.sink_failing" if s["failing"] else "status.sink_ok", lang)
        extra = f"; {v(reword(s['last_error'], lang, 'sink.note.'))}" if s["failing"] and s.get("last_error") else ""
        note = f" ({v(reword(s['note'], lang, 'sink.note.'))})" if s.get("note") else ""
        cursor = s.get("cursor_seq")
        click.echo("  " + _t("status.sink_line", lang, name=v(s["name"]), state=state, delivered=s["delivered"],
                              cursor="-" if cursor is None else cursor, lag=s.get("lag_records", 0),
                              lag_s=s.get("lag_s", 0)) + note + extra)
        if s.get("behind"):
            click.echo("    " + _t("status.sink_behind", lang))
        if s.get("lost"):
            click.echo("    " + _t("status.sink_lost", lang, n=s["lost"]))
        if s.get("dropped"):
            click.echo("    " + _t("status.sink_dropped", lang, n=s["dropped"]))
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
        from bmnn_guard.scanner.textsafe import visible_lines
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
    cannot start (the reason is on stderr), 3 when its main loop hangs, 4 when it refuses the
    journal (emptied, missing or older than the head it witnessed: see `bmnn journal reset`).
    """
    from .daemon import Daemon
    from .paths import from_env
    from .watch import run_daemon
    obj = ctx.find_root().obj
    paths = from_env(config_dir=getattr(obj, "config_dir", None), state_dir=state_dir, runtime_dir=runtime_dir,
                     log_dir=log_dir)
    rv = run_daemon(Daemon(paths, policy_dir=getattr(obj, "policy_dir", None)))
    raise SystemExit(rv or 0)
