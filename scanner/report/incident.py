"""The incident report for people: a draft "BÁO CÁO" the security officer completes and signs.

The same content as the signed JSON report (agent/incident.py), laid out as a Decree 30 document
(templates/decree30.*) and marked DỰ THẢO: the window and the journal it was drawn from, the
timeline, the violations with what cleared, acknowledged and enforced them and who was logged in
when each opened, the devices, the files with their hashes and who acted on them, network state,
enforcement, acknowledgements, monitoring gaps, the login sessions, the checks involved with
their legal basis, a space for the officer's assessment, the signatures and the recipients.
"""

from __future__ import annotations

from typing import Any, Optional

from ..i18n import has, t
from ..textsafe import visible
from .casefile import Text, said_in, actor_text, heading, journal_text, rows, seal, size_text, when, who_text

COMMAND = "bmnn incident verify"
TIMELINE_SHOWN = 400
"""Timeline rows printed (the JSON keeps them all)."""
FILES_SHOWN = 400


def _word(prefix: str, value: Any, lang: str) -> str:
    key = f"{prefix}.{value}"
    return t(key, lang) if isinstance(value, str) and has(key) else str(value or "—")


def _severity(value: Any, lang: str) -> str:
    return _word("severity", value, lang) if value else "—"


def _items(items: Any, lang: str, tz) -> list[str]:
    """Evidence items as labelled values ("Đường dẫn: …; Độ mật: Mật"), the acting process last."""
    from .evidence import label, value_text
    out = []
    for i in rows(items)[:20]:
        fact = str(i.get("fact") or "")
        parts = [f"{label(fact, k, lang)}: {value_text(k, i[k], lang, tz)}" for k in i
                 if k not in ("fact", "actor") and i[k] not in (None, "", [])]
        a = actor_text(i.get("actor"))
        if a:
            parts.append(t("case.actor", lang, desc=a))
        if parts:
            out.append("; ".join(str(p) for p in parts))
    return out


def _refs(c: dict, lk: str) -> list[str]:
    return [str((r.get("citation") or {}).get(lk) or "") for r in rows(c.get("legal_refs"))]


def context(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> dict[str, Any]:
    """Everything the two forms print, in words."""
    h = heading(doc, lang, "{seq}/BC")
    tz = h["tz"]
    lk = "en" if lang == "en" else "vi"
    w = doc.get("window") if isinstance(doc.get("window"), dict) else {}
    host = (doc.get("host") or {}).get("hostname") if isinstance(doc.get("host"), dict) else None
    s = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    timeline = [{"seq": r.get("seq"), "time": when(r.get("time"), tz, lang), "kind": _word("journal.kind", r.get("kind"), lang),
                 "check_id": r.get("check_id") or "",
                 "severity": _severity(r.get("severity"), lang) if r.get("severity") and r.get("check_id") else "",
                 "message": said_in(r, lk), "strong": r.get("kind") in ("violation", "gap", "enforced")}
                for r in rows(doc.get("timeline"))]
    violations = []
    for v in rows(doc.get("violations")):
        cl = v.get("cleared") if isinstance(v.get("cleared"), dict) else None
        state = t("incident.still_open", lang) if cl is None else \
            t("incident.cleared_at", lang, seq=cl.get("seq"), time=when(cl.get("time"), tz, lang))
        notes = [state]
        if v.get("acknowledged"):
            notes.append(t("incident.acked_by", lang, seqs=", ".join(f"#{x}" for x in v["acknowledged"])))
        if v.get("enforced"):
            notes.append(t("incident.enforced_by", lang, seqs=", ".join(f"#{x}" for x in v["enforced"])))
        notes.append(t("incident.logged_in", lang, who=", ".join(str(x) for x in v.get("logged_in") or [])
                       or t("incident.nobody", lang)))
        if actor_text(v.get("actor")):
            notes.append(t("case.actor", lang, desc=actor_text(v.get("actor"))))
        violations.append({"seq": v.get("seq"), "time": when(v.get("time"), tz, lang), "check_id": v.get("check_id") or "?",
                           "severity": _severity(v.get("severity"), lang), "message": said_in(v, lk),
                           "notes": notes, "items": _items(v.get("items"), lang, tz)})
    files = [{"seq": f.get("seq"), "time": when(f.get("time"), tz, lang), "event": _word("incident.event", f.get("event"), lang),
              "path": f.get("path") or "?", "from": f.get("from"), "sha256": f.get("sha256") or "—",
              "size": size_text(f.get("size"), lang), "who": who_text(f, lang), "reason": f.get("reason")}
             for f in rows(doc.get("files"))]
    devices = [{"seq": d.get("seq"), "time": when(d.get("time"), tz, lang), "kind": _word("journal.kind", d.get("kind"), lang),
                "check_id": d.get("check_id") or "", "what": "; ".join(_items([{k: v for k, v in d.items()
                                                                               if k not in ("seq", "time", "kind", "check_id", "severity", "message")}], lang, tz))}
               for d in rows(doc.get("devices"))]
    network = [{"seq": n.get("seq"), "time": when(n.get("time"), tz, lang), "kind": _word("journal.kind", n.get("kind"), lang),
                "check_id": n.get("check_id") or "", "what": "; ".join(_items([{k: v for k, v in n.items()
                                                                              if k not in ("seq", "time", "kind", "check_id")}], lang, tz))}
               for n in rows(doc.get("network"))]
    enforcement = [{"seq": e.get("seq"), "time": when(e.get("time"), tz, lang), "check_id": e.get("check_id") or "",
                    "what": f"{e.get('action') or '?'} {e.get('target') or ''}".strip(),
                    "ok": t("incident.ok" if e.get("ok") else "incident.failed", lang), "detail": e.get("detail") or ""}
                   for e in rows(doc.get("enforcement"))]
    acks = [{"seq": a.get("seq"), "time": when(a.get("time"), tz, lang), "check_id": a.get("check_id") or "",
             "violation_seq": a.get("violation_seq"),
             "by": f"{a.get('user') or '?'} (uid {a.get('uid') if a.get('uid') is not None else '?'})",
             "note": a.get("note") or ""} for a in rows(doc.get("acknowledgements"))]
    gaps = []
    for g in rows(doc.get("gaps")):
        what = _word("incident.gap", g.get("what"), lang)
        if g.get("what") in ("downtime", "silence"):
            span = t("incident.span", lang, start=when(g.get("from"), tz, lang), end=when(g.get("to"), tz, lang),
                     minutes=round((g.get("seconds") or 0) / 60), a=g.get("from_seq"), b=g.get("to_seq"))
            gaps.append({"what": what, "detail": span})
        else:
            gaps.append({"what": what, "detail": f"#{g.get('seq')}, {when(g.get('time'), tz, lang)}: {g.get('message') or ''}"})
    sessions = [{"user": x.get("user") or "?", "line": x.get("line") or "?", "host": x.get("host") or "",
                 "login": when(x.get("login"), tz, lang),
                 "logout": when(x.get("logout"), tz, lang) if x.get("logout") else "—",
                 "end": _word("incident.session", x.get("end"), lang)} for x in rows(doc.get("sessions"))]
    sources = []
    for src in rows(doc.get("login_sources")):
        state = (t("incident.source_error", lang, error=src.get("error")) if src.get("error") else
                 t("incident.source_read", lang, n=src.get("records", 0)) if src.get("present") else
                 t("incident.source_absent", lang))
        sources.append(f"{src.get('path')}: {state}")
    checks = [{"check_id": c.get("check_id") or "?", "title": ((c.get("title") or {}).get(lk) if isinstance(c.get("title"), dict)
                                                             else None) or t("incident.unknown_check", lang),
               "severity": _severity(c.get("severity"), lang), "refs": _refs(c, lk)} for c in rows(doc.get("checks"))]
    trig = doc.get("trigger") if isinstance(doc.get("trigger"), dict) else None
    open_start = [f"{v.get('check_id')} #{v.get('seq')} ({when(v.get('time'), tz, lang)})" for v in rows(doc.get("open_at_start"))]
    beats = doc.get("heartbeats") if isinstance(doc.get("heartbeats"), dict) else {}
    scope = [
        (t("incident.window", lang), t("incident.window_text", lang, a=w.get("first_seq"), b=w.get("last_seq"),
                                       start=when(w.get("first_time"), tz, lang), end=when(w.get("last_time"), tz, lang),
                                       n=w.get("records", 0))),
        (t("incident.asked", lang), ", ".join(f"{k} {v}" for k, v in (("--seq", _seq(w)), ("--since", _asked(w).get("since")),
                                                                     ("--until", _asked(w).get("until"))) if v) or "—"),
        (t("case.journal", lang), journal_text(doc.get("journal"), lang)),
        (t("incident.anchors", lang), t("incident.anchors_text", lang, prev=w.get("prev_hash") or "?",
                                        last=w.get("last_hash") or "?")),
        (t("incident.heartbeats", lang), t("incident.heartbeats_text", lang, n=beats.get("count", 0))),
        (t("incident.logins_from", lang), "; ".join(sources) or "—"),
    ]
    if w.get("left_out"):
        scope.append((t("incident.left_out", lang), str(w["left_out"])))
    if trig:
        scope.insert(0, (t("incident.trigger", lang), t("incident.trigger_text", lang, seq=trig.get("violation_seq"))))
    if open_start:
        scope.append((t("incident.open_at_start", lang), "; ".join(open_start)))
    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    return {
        **h, "doc": doc, "lang": lang, "lk": lk, "t": lambda key, **kw: t(key, lang, **kw),
        "generator": f"{tool.get('name', '')} {tool.get('version', '')}", "tool_name": tool.get("name", ""),
        "tool_version": tool.get("version", ""), "host": host or "?", "draft": doc.get("draft") is not False,
        "intro": t("incident.intro", lang, start=when(w.get("first_time"), tz, lang), end=when(w.get("last_time"), tz, lang),
                   host=host or "?", n=w.get("records", 0), a=w.get("first_seq"), b=w.get("last_seq"),
                   v=s.get("violations", 0), c=s.get("critical", 0)),
        "scope": scope, "timeline": timeline[:TIMELINE_SHOWN], "timeline_more": max(0, len(timeline) - TIMELINE_SHOWN),
        "violations": violations, "devices": devices, "files": files[:FILES_SHOWN],
        "files_more": max(0, len(files) - FILES_SHOWN), "network": network, "enforcement": enforcement, "acks": acks,
        "gaps": gaps, "sessions": sessions, "checks": checks,
        "officer": (h["rec"] or {}).get("security_officer"), "head": (h["rec"] or {}).get("head_of_unit"),
        "seal": seal(signature, lang, COMMAND), "section": _Sections(lang),
    }


class _Sections:
    """Numbers the sections as the template prints them: "I. PHẠM VI …", "II. …"."""

    def __init__(self, lang: str):
        self.lang, self.n = lang, 0

    def __call__(self, key: str) -> str:
        self.n += 1
        return f"{_ROMAN[self.n - 1]}. {t(key, self.lang).upper()}"


def _asked(w: dict) -> dict:
    return w.get("asked") if isinstance(w.get("asked"), dict) else {}


def _seq(w: dict) -> Optional[str]:
    a, b = _asked(w).get("first_seq"), _asked(w).get("last_seq")
    if a is None and b is None:
        return None
    return f"{a or ''}-{b or ''}"


def html(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> str:
    from .html import render
    return render("incident.html.j2", context(doc, lang, signature))


def pdf(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> bytes:
    from .pdf import render
    return render(html(doc, lang, signature), lang)


def text(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> str:
    c = context(doc, lang, signature)
    out = Text()
    out.head(c, lang)
    if c["draft"]:
        out.line(t("incident.draft", lang))
    out.line()
    out.centre(t("incident.kind", lang))
    out.centre(t("incident.subject", lang, host=visible(c["host"])))
    out.line()
    out.para(c["intro"])
    number = c["section"]

    def section(key: str) -> None:
        out.heading(number(key))

    section("incident.s_scope")
    for k, v in c["scope"]:
        out.para(f"{k}: {visible(v)}")
    section("incident.s_timeline")
    for r in c["timeline"]:
        out.para(visible(f"#{r['seq']} {r['time']} {r['kind']} {r['check_id']} {r['severity']} {r['message']}"))
    if c["timeline_more"]:
        out.para(t("incident.more", lang, n=c["timeline_more"]))
    blocks = [("incident.s_violations", [(f"{v['check_id']} [{v['severity']}] #{v['seq']} {v['time']}",
                                          [visible(v["message"])] + v["notes"] + [visible(i) for i in v["items"]])
                                         for v in c["violations"]]),
              ("incident.s_devices", [(f"#{d['seq']} {d['time']} {d['kind']} {d['check_id']}", [visible(d["what"])])
                                      for d in c["devices"]]),
              ("incident.s_files", [(f["path"], [f"#{f['seq']} {f['time']} {f['event']}" + (f" ← {visible(f['from'])}" if f["from"] else ""),
                                                 f"SHA-256: {f['sha256']} · {f['size']}", visible(f["who"])]
                                     + ([visible(f["reason"])] if f["reason"] else [])) for f in c["files"]]),
              ("incident.s_network", [(f"#{x['seq']} {x['time']} {x['kind']} {x['check_id']}", [visible(x["what"])])
                                      for x in c["network"]]),
              ("incident.s_enforcement", [(f"#{e['seq']} {e['time']} {e['check_id']} {e['what']}", [e["ok"], visible(e["detail"])])
                                          for e in c["enforcement"]]),
              ("incident.s_acks", [(f"#{a['seq']} {a['time']} {a['check_id']} (#{a['violation_seq']})", [visible(a["by"]), visible(a["note"])])
                                   for a in c["acks"]]),
              ("incident.s_gaps", [(g["what"], [visible(g["detail"])]) for g in c["gaps"]]),
              ("incident.s_sessions", [(f"{x['user']} {x['line']} {x['host']}".strip(),
                                        [f"{x['login']} – {x['logout']} ({x['end']})"]) for x in c["sessions"]]),
              ("incident.s_checks", [(f"{x['check_id']} [{x['severity']}] {x['title']}", x["refs"]) for x in c["checks"]])]
    for key, entries in blocks:
        section(key)
        if not entries:
            out.para(t("handover.none", lang))
        for i, (first, more) in enumerate(entries, 1):
            out.entry(i, first, [m for m in more if m])
    if c["files_more"]:
        out.para(t("incident.more", lang, n=c["files_more"]))
    section("incident.s_assessment")
    out.para(t("incident.assessment_hint", lang))
    for _ in range(3):
        out.line("…" * 60)
    out.line()
    for title, name in ((t("incident.sign_author", lang), c["officer"]), (t("record.sign_head", lang), c["head"])):
        out.line(f"{title} {t('record.sign_hint', lang)}")
        out.line()
        out.line(visible(name or "……………………"))
        out.line()
    out.para(t("incident.recipients", lang))
    if c["seal"]:
        out.line()
        out.para(c["seal"])
    return out.text()


_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV")
