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

_T: dict[str, tuple[str, str]] = {
    "verify.ok": ("Nhật ký toàn vẹn: {count} bản ghi ({range}); đã kiểm tra chuỗi băm, MAC và phần cuối bằng khóa ban đầu.",
                  "Journal intact: {count} records ({range}); hash chain, MACs and tail checked with the initial key."),
    "verify.chain_only": ("Chỉ kiểm tra chuỗi băm — không có khóa thì không phát hiện được phần cuối bị cắt bớt hay "
                          "chuỗi bị ghi lại: {count} bản ghi ({range}) nối đúng với nhau. Kiểm tra đầy đủ: --key TỆP "
                          "(khóa ban đầu giữ ngoài máy).",
                          "Chain only — a truncated tail or a rewritten chain cannot be detected without the key: "
                          "{count} records ({range}) link correctly. A full check: --key FILE (the initial key kept "
                          "off the host)."),
    "verify.empty_key": ("Nhật ký trống; trạng thái khóa khớp với khóa ban đầu.",
                         "The journal is empty; its key state matches the initial key."),
    "verify.empty_chain": ("Nhật ký trống. Chỉ kiểm tra chuỗi băm — không có khóa thì không phát hiện được phần "
                           "cuối bị cắt bớt hay chuỗi bị ghi lại.",
                           "The journal is empty. Chain only — a truncated tail or a rewritten chain cannot be "
                           "detected without the key."),
    "verify.bad": ("NHẬT KÝ BỊ SỬA ĐỔI: bản ghi đầu tiên sai là #{seq}: {reason}",
                   "JOURNAL TAMPERED: first bad record is #{seq}: {reason}"),
    "verify.damaged": ("NHẬT KÝ BỊ HỎNG: {path}: {reason}", "JOURNAL DAMAGED: {path}: {reason}"),
    "verify.key_mismatch": ("Khóa {key_file} không phải khóa của nhật ký {path}: không chứng minh được gì "
                            "(nhầm tệp, hoặc nhật ký đã được tạo lại bằng khóa khác).",
                            "The key {key_file} is not the key of the journal {path}: nothing was proven (the wrong "
                            "file, or a journal re-created under another key)."),
    "head.extends": ("Nhật ký nối tiếp đầu đã thấy #{seq} ({hash}…): đầu hiện tại #{cur_seq} ({cur_hash}…).",
                     "The journal extends the head seen before, #{seq} ({hash}…): its head is now #{cur_seq} "
                     "({cur_hash}…)."),
    "head.rollback": ("NHẬT KÝ BỊ QUAY LUI: đầu hiện tại #{cur_seq} ({cur_hash}…) ngắn hơn đầu đã thấy #{seq} ({hash}…).",
                      "JOURNAL ROLLED BACK: its head #{cur_seq} ({cur_hash}…) is shorter than the head seen before, "
                      "#{seq} ({hash}…)."),
    "head.branch": ("NHẬT KÝ RẼ NHÁNH: đầu đã thấy #{seq} ({hash}…) không có trong nhật ký này (đầu hiện tại "
                    "#{cur_seq}, {cur_hash}…).",
                    "JOURNAL BRANCHED: the head seen before, #{seq} ({hash}…), is not in this journal (its head is "
                    "#{cur_seq}, {cur_hash}…)."),
    "head.reset": ("Nhật ký đã được tạo lại bằng `bmnn journal reset` lúc {time} (lý do: {reason}); nhật ký cũ có đầu "
                   "#{old_seq} ({old_hash}…), không trước đầu đã thấy #{seq} ({hash}…). Hãy kiểm tra các tệp cũ đã giữ lại.",
                   "The journal was started anew by `bmnn journal reset` at {time} (reason: {reason}); the old journal's "
                   "head was #{old_seq} ({old_hash}…), not before the head seen before, #{seq} ({hash}…). Check the "
                   "old files kept aside."),
    "head.unproven": ("Không chứng minh được: bản ghi #{seq} đã bị xóa bởi mốc lưu trữ (đến #{through}).",
                      "Cannot be proven: record #{seq} was removed by a checkpoint (through #{through})."),
    "head.bad": ("--head phải có dạng SỐ:BĂM (64 ký tự hex), ví dụ 27:3f2a…", "--head must be SEQ:HASH (64 hex digits), "
                 "for example 27:3f2a…"),
    "verify.head": ("Băm cuối (ghi lại để đối chiếu): {hash}", "Head hash (write it down to compare later): {hash}"),
    "verify.wal_present": ("Có tệp {wal} bên cạnh: các bản ghi trong đó cũng đã được đọc.",
                           "A file {wal} is beside it: the records in it were read too."),
    "verify.wal_absent": ("Không có tệp {wal} bên cạnh: đủ nếu nhật ký đã được gộp (dịch vụ dừng đúng cách, hoặc "
                          "khi xuất ảnh chụp); bản sao lấy lúc dịch vụ đang ghi mà thiếu tệp này có thể thiếu các bản "
                          "ghi mới nhất, chỉ so với đầu nhật ký đã được chứng kiến (--head) mới thấy được.",
                          "No file {wal} beside it: complete if the journal was folded (a clean stop of the daemon, "
                          "or a snapshot export); a copy taken while the daemon wrote, without that file, may lack "
                          "the newest records, which only a comparison with a witnessed head (--head) shows."),
    "reset.done": ("Đã bắt đầu nhật ký mới: bản ghi #{seq} ghi lại đầu nhật ký cũ {head} và mã khóa cũ {key_id}.",
                   "A new journal was started: record #{seq} records the old journal's head {head} and key id {key_id}."),
    "reset.kept": ("Các tệp cũ được giữ lại (không xóa): {files}", "The old files are kept (not deleted): {files}"),
    "reset.none": ("(không có tệp cũ)", "(no old file)"),
    "reset.key": ("Sao chép khóa ban đầu mới {key_file} ra khỏi máy (thiết bị lưu trữ đã đăng ký) rồi xóa nó (shred -u), "
                  "sau đó khởi động lại bmnn-agent.",
                  "Copy the new initial key {key_file} off the host (a registered storage device), remove it (shred -u), "
                  "then start bmnn-agent again."),
    "status.not_running": ("bmnn-agent không chạy: {msg}", "bmnn-agent is not running: {msg}"),
    "status.running": ("bmnn-agent đang chạy (pid {pid}), thời gian chạy {uptime}",
                       "bmnn-agent running (pid {pid}), uptime {uptime}"),
    "status.policy": ("Chính sách: {sha} hồ sơ {profile}", "Policy: {sha} profile {profile}"),
    "status.sources": ("Nguồn sự kiện", "Event sources"),
    "status.none": ("(chưa có)", "(none)"),
    "status.alive": ("hoạt động", "alive"),
    "status.dead": ("ĐÃ DỪNG", "STOPPED"),
    "status.reconcile": ("Đối chiếu gần nhất: {t}", "Last reconcile: {t}"),
    "status.open": ("Vi phạm đang mở: {n}", "Open violations: {n}"),
    "status.acked": ("đã xác nhận", "acknowledged"),
    "status.acked_by": ("đã xác nhận bởi {by} lúc {time} (bản ghi #{seq}), lý do: {reason}",
                        "acknowledged by {by} at {time} (record #{seq}), reason: {reason}"),
    "ack.ok": ("Đã ghi xác nhận vi phạm #{vseq} ({check}) vào nhật ký (bản ghi #{seq}) với tư cách {by}. "
               "Vi phạm vẫn mở cho đến khi máy tuân thủ trở lại.",
               "Violation #{vseq} ({check}) acknowledged in the journal (record #{seq}) as {by}. "
               "It stays open until the machine complies again."),
    "ack.spooled": ("Nhật ký hiện không ghi được: xác nhận vi phạm #{vseq} ({check}) đang chờ trong bộ nhớ của "
                    "dịch vụ và sẽ được ghi khi nhật ký ghi được trở lại.",
                    "The journal cannot be written now: the acknowledgement of violation #{vseq} ({check}) waits "
                    "in the daemon's memory and is journaled as soon as the journal can be written."),
    "ack.empty_reason": ("Cần ghi lý do xác nhận: --reason \"đã báo cán bộ bảo mật, đã rút cáp mạng\".",
                         "A reason is required: --reason \"reported to the security officer, cable unplugged\"."),
    "ack.too_long": ("Lý do dài {n} ký tự; tối đa {max} ký tự.", "The reason is {n} characters long; at most {max}."),
    "ack.bad_seq": ("SEQ phải là số thứ tự (một số nguyên dương) của một vi phạm đang mở; xem: bmnn status.",
                    "SEQ must be the sequence number (a positive integer) of an open violation; see: bmnn status."),
    "ack.not_running": ("bmnn-agent không chạy (không có dịch vụ trả lời trên {socket}). Xác nhận được ghi qua dịch "
                        "vụ, bên duy nhất ghi nhật ký: khởi động dịch vụ (systemctl start bmnn-agent) rồi thử lại.",
                        "bmnn-agent is not running (nothing answers on {socket}). Acknowledgements are journaled by "
                        "the daemon, the journal's only writer: start it (systemctl start bmnn-agent) and try again."),
    "ack.forbidden": ("Chỉ root được xác nhận vi phạm (thành viên nhóm bmnn chỉ được xem trạng thái và nhật ký): "
                      "chạy lại bằng sudo.",
                      "Only root may acknowledge a violation (members of the bmnn group may read status and "
                      "events only): run it again with sudo."),
    "ack.not_open": ("Bản ghi #{seq} không phải là một vi phạm đang mở; xem các vi phạm đang mở: bmnn status.",
                     "Record #{seq} is not an open violation; see the open violations: bmnn status."),
    "ack.no_such_record": ("Nhật ký không có bản ghi #{seq}; xem các vi phạm đang mở: bmnn status.",
                           "There is no record #{seq} in the journal; see the open violations: bmnn status."),
    "ack.not_a_violation": ("Bản ghi #{seq} không phải vi phạm (loại: {kind}); xem các vi phạm đang mở: bmnn status.",
                            "Record #{seq} is not a violation (its kind: {kind}); see the open violations: bmnn status."),
    "ack.cleared": ("Vi phạm #{seq} ({check}) đã hết (máy đã tuân thủ trở lại), không cần xác nhận.",
                    "Violation #{seq} ({check}) is no longer open (the machine complies again): nothing to "
                    "acknowledge."),
    "ack.already": ("Vi phạm #{seq} ({check}) đã được xác nhận bởi {by} lúc {time} (bản ghi #{ack_seq}), lý do: "
                    "{reason}.",
                    "Violation #{seq} ({check}) was already acknowledged by {by} at {time} (record #{ack_seq}), "
                    "reason: {reason}."),
    "status.unjournaled": ("chưa ghi vào nhật ký", "not yet journaled"),
    "status.busy": ("Vòng xử lý chính đang bận {s} giây ({job}); trạng thái dưới đây được đọc trực tiếp.",
                    "The main loop has been busy for {s} s ({job}); the state below was read directly."),
    "status.sinks": ("Đầu ra", "Sinks"),
    "status.sink_ok": ("tốt", "ok"),
    "status.sink_failing": ("LỖI", "FAILING"),
    "status.sink_line": ("{name}: {state}, đã gửi {delivered}, đã đến #{cursor}, còn chậm {lag} bản ghi ({lag_s} giây)",
                         "{name}: {state}, delivered {delivered}, at #{cursor}, lag {lag} records ({lag_s} s)"),
    "status.sink_behind": ("chậm quá ngưỡng cảnh báo (đã ghi vào nhật ký)", "behind the warning limit (journaled)"),
    "status.sink_lost": ("{n} bản ghi đã bị xóa theo thời hạn lưu trữ trước khi gửi được",
                         "{n} record(s) were removed by retention before they could be delivered"),
    "status.sink_dropped": ("{n} bản ghi chưa ghi nhật ký bị bỏ khỏi hàng đợi gửi sớm (vẫn được gửi từ nhật ký)",
                            "{n} not-yet-journaled record(s) dropped from the early queue (still sent from the journal)"),
    "status.incident": ("Báo cáo vụ việc (dự thảo): {path} — xem: bmnn incident show {path} --format html -o TỆP.html",
                        "Incident report (draft): {path} — read it: bmnn incident show {path} --format html -o FILE.html"),
    "status.journal": ("Nhật ký: {path}, bản ghi cuối #{head}, chờ ghi {pending}",
                       "Journal: {path}, head #{head}, pending {pending}"),
    "reload.ok": ("Đã nạp lại chính sách {sha} (hồ sơ {profile}).", "Policy {sha} reloaded (profile {profile})."),
    "reload.bad": ("Chính sách mới không hợp lệ, vẫn dùng chính sách cũ {sha}:",
                   "The new policy is invalid; keeping {sha}:"),
}


def _t(key: str, lang: str, **kw: Any) -> str:
    pair = _T.get(key)
    text = key if pair is None else pair[1 if lang == "en" else 0]
    return text.format(**kw) if kw else text


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


def _fail(exc: AgentError) -> click.ClickException:
    from scanner.textsafe import visible_lines
    err = click.ClickException(visible_lines(exc))
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
        raise click.BadParameter(f"{text!r}: use 30m, 2h, 7d, 2026-11-23 or 2026-11-23T08:00") from None
    if t.tzinfo is None:
        t = t.astimezone()  # local time
    return iso(t)


def _line(r: dict[str, Any], lang: str) -> str:
    """One record as one line. Messages quote file names, device strings and other text from the
    machine: a newline there must not forge a second record, nor ESC move the cursor, so every
    field is shown through ``visible`` (escaped, one line)."""
    from scanner.i18n import CATALOG, t
    from scanner.textsafe import visible
    kind = f"journal.kind.{r['kind']}"
    parts = [f"#{r['seq']:<6}", visible(str(r["time"]).replace("T", " ")[:19]) + "Z",
             t(kind, lang) if kind in CATALOG else visible(r["kind"])]
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
    from scanner.textsafe import visible
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
        click.echo(_t("verify.damaged", lang, path=visible(str(path)), reason=visible(res.reason)), err=True)
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
    from scanner.textsafe import visible
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
    from scanner.textsafe import visible as v
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
        from scanner.i18n import CATALOG, t
        kind = f"journal.kind.{res.get('kind')}"
        fields = {"seq": n, "check": v(res.get("check_id") or "?"),
                  "kind": t(kind, lang) if kind in CATALOG else v(res.get("kind") or "?"),
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
            click.echo(json.dumps({"running": False, "error": {"type": "agent", "kind": exc.kind, "message": str(exc),
                                                               "exit_code": EXIT_ERROR}}, ensure_ascii=False, indent=2))
        else:
            click.echo(_t("status.not_running", lang, msg=str(exc)), err=True)
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
        a = o.get("ack") or {}
        ack = (f" ({_t('status.acked_by', lang, by=v(a.get('by') or '?'), time=v(a.get('time') or '?'), seq=v(a.get('seq')), reason=v(a.get('reason') or '-'))})"
               if a else f" ({_t('status.acked', lang)})" if o.get("acknowledged") else "")
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
