"""The hand-over record for people: "BIÊN BẢN BÀN GIAO TÀI LIỆU, VẬT CHỨA BÍ MẬT NHÀ NƯỚC".

The same content as the signed JSON record (agent/handover.py), laid out as a Decree 30 document
(the page and blocks of the inspection record: templates/decree30.*): who hands over to whom and
when; what was looked at; the stamped documents with level, size, SHA-256, last change and who
acted on them; the marked-folder files they own or wrote; their registered devices; the open
violations tied to them; the conclusion; the commitment they sign; the signature blocks of the
person leaving, the receiver and the security officer; and the seal (key fingerprint and digest)
that ties the paper to its signed file. ``html`` and ``text`` are the two forms; PDF is the HTML
printed by Chromium (``pdf.render``).
"""

from __future__ import annotations

from typing import Any, Optional

from ..i18n import t
from ..textsafe import visible
from .casefile import Text, said_in, heading, journal_text, level_text, rows, seal, size_text, when, who_text

COMMAND = "bmnn handover verify"


def _area(d: dict, lang: str) -> str:
    area = d.get("area") if d.get("area") in ("home", "temp", "media", "marked", "other") else "other"
    return t(f"handover.area.{area}", lang, medium=d.get("medium") or "")


def _level(d: dict, lang: str) -> str:
    if d.get("level"):
        return level_text(d["level"], lang)
    if d.get("copy_of"):
        return t("handover.copy_level", lang)
    if d.get("verdict") == "review":
        return t("handover.review", lang)
    return "—"


def _links(d: dict, lang: str) -> list[str]:
    """A file with other names (hard links): the same content may sit in another folder too."""
    n = d.get("links")
    return [t("handover.links", lang, n=n)] if isinstance(n, int) and not isinstance(n, bool) and n > 1 else []


def _document(d: dict, tz, lang: str) -> dict[str, Any]:
    notes = [_area(d, lang)]
    if d.get("verdict") == "review":
        notes.append(t("handover.review", lang))
    if d.get("copy_of"):
        notes.append(t("handover.copy_of", lang, path=d["copy_of"]))
    if d.get("error"):
        notes.append(t("handover.read_error", lang, error=d["error"]))
    if d.get("note"):
        notes.append(str(d["note"]))
    notes += _links(d, lang)
    return {"path": d.get("path") or "?", "level": _level(d, lang), "size": size_text(d.get("size"), lang),
            "modified": when(d.get("modified"), tz, lang), "sha256": d.get("sha256") or "—",
            "notes": notes, "who": who_text(d, lang), "held": bool(d.get("held")) and bool(d.get("personal"))}


def _marked(d: dict, tz, lang: str) -> dict[str, Any]:
    notes = []
    j = d.get("journal") if isinstance(d.get("journal"), dict) else None
    if not d.get("present"):
        notes.append(t("handover.not_present", lang, seq=(j or {}).get("seq") or "?", event=(j or {}).get("event") or "?"))
    elif j:
        notes.append(t("handover.journal_ref", lang, seq=j.get("seq") or "?", event=j.get("event") or "?"))
    notes += _links(d, lang)
    return {"path": d.get("path") or "?", "level": level_text(d.get("level"), lang),
            "size": size_text(d.get("size"), lang), "modified": when(d.get("modified"), tz, lang),
            "sha256": d.get("sha256") or "—", "notes": notes, "who": who_text(d, lang), "held": False}


def _device(d: dict, tz, lang: str) -> dict[str, Any]:
    mounts = ", ".join(str(m) for m in d.get("mountpoints") or [] if isinstance(m, str))
    state = (t("handover.attached_at", lang, where=mounts) if mounts else t("handover.attached", lang)) \
        if d.get("attached") else t("handover.not_attached", lang)
    return {"label": d.get("label") or "?", "ids": f"{d.get('vendor_id') or '?'}:{d.get('product_id') or '?'}",
            "serial": d.get("serial") or "?", "approved": t("handover.approved", lang, by=d.get("approved_by") or "?",
                                                           when=when(d.get("approved_at"), tz, lang)),
            "reference": d.get("reference") or "", "state": state}


def _violation(v: dict, tz, lang: str) -> dict[str, Any]:
    why = [t(f"handover.tie.{w}", lang) for w in v.get("why") or [] if w in ("area", "device", "actor", "owner")]
    from .evidence import label, value_text
    items = []
    for i in rows(v.get("items"))[:20]:
        items.append("; ".join(f"{label('', k, lang)}: {value_text(k, i[k], lang, tz)}"
                               for k in ("path", "copy_of", "serial", "level", "sha256") if i.get(k)))
    return {"check_id": v.get("check_id") or "?", "severity": t(f"severity.{v['severity']}", lang)
            if v.get("severity") in ("critical", "high", "medium", "low", "info") else "—",
            "seq": v.get("seq"), "time": when(v.get("time"), tz, lang), "message": said_in(v, "en" if lang == "en" else "vi"),
            "why": ", ".join(why), "items": [x for x in items if x],
            "acknowledged": t("handover.acknowledged", lang) if v.get("acknowledged") else ""}


def context(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> dict[str, Any]:
    """Everything the two forms print, already in words. ``signature``: the verified
    fingerprint and digest of the signed file (the seal line)."""
    h = heading(doc, lang, "{seq}/BB")
    tz = h["tz"]
    lk = "en" if lang == "en" else "vi"
    user = doc.get("user") if isinstance(doc.get("user"), dict) else {}
    people = doc.get("people") if isinstance(doc.get("people"), dict) else {}
    host = doc.get("host") if isinstance(doc.get("host"), dict) else {}
    ar = doc.get("areas") if isinstance(doc.get("areas"), dict) else {}
    occasion = doc.get("occasion") if doc.get("occasion") in ("leaving", "transfer", "retirement") else "any"
    s = doc.get("summary") if isinstance(doc.get("summary"), dict) else {}
    media = []
    for m in rows(ar.get("media")):
        why = ", ".join(t(f"handover.why.{w}", lang) for w in m.get("why") or []
                        if w in ("registered", "mounted_for_user", "owned_by_user"))
        media.append(f"{m.get('mountpoint')} ({m.get('device') or '?'}"
                     + (f", {t('record.serial', lang)} {m['serial']}" if m.get("serial") else "") + "): "
                     + (t("handover.medium_theirs", lang, why=why) if m.get("theirs") else t("handover.medium_other", lang)))
    docs = [_document(d, tz, lang) for d in rows(doc.get("documents"))]
    verdict = s.get("verdict") if s.get("verdict") in ("holds", "clear", "incomplete") else "incomplete"
    conclusion = {"holds": t("handover.holds", lang, n=s.get("held_personal", 0)),
                  "clear": t("handover.clear", lang),
                  "incomplete": t("handover.incomplete", lang, n=s.get("unreadable", 0))}[verdict]
    commitment = doc.get("commitment") if isinstance(doc.get("commitment"), dict) else {}
    tool = doc.get("tool") if isinstance(doc.get("tool"), dict) else {}
    return {
        **h, "doc": doc, "lang": lang, "lk": lk, "generator": f"{tool.get('name', '')} {tool.get('version', '')}",
        "tool_name": tool.get("name", ""), "tool_version": tool.get("version", ""),
        "t": lambda key, **kw: t(key, lang, **kw),
        "leaving": people.get("leaving") or user.get("name") or "?",
        "account": t("handover.account", lang, user=user.get("name") or "?", uid=user.get("uid", "?")),
        "receiver": people.get("receiver"), "officer": people.get("security_officer"),
        "occasion": t(f"handover.occasion.{occasion}", lang), "host": host.get("hostname") or "?",
        "machine_id": host.get("machine_id") or "—",
        "scope": [(t("handover.home", lang), ar.get("home") or t("handover.no_home", lang)),
                  (t("handover.temp", lang), ", ".join(str(x) for x in ar.get("temp") or []) or "—"),
                  (t("handover.media", lang), "; ".join(media) or t("handover.no_media", lang)),
                  (t("handover.marked_folders", lang), ", ".join(str(x) for x in ar.get("marked_folders") or []) or "—"),
                  (t("handover.files_scanned", lang), str((doc.get("scan") or {}).get("files_scanned", "—"))),
                  (t("handover.journal", lang), journal_text(doc.get("journal"), lang))],
        "documents": docs, "held": sum(1 for d in docs if d["held"]),
        "marked": [_marked(d, tz, lang) for d in rows(doc.get("marked_files"))],
        "devices": [_device(d, tz, lang) for d in rows(doc.get("devices"))],
        "violations": [_violation(v, tz, lang) for v in rows(doc.get("violations"))],
        "unreadable": [f"{u.get('path') or '—'}: {u.get('error') or '?'}" for u in rows(doc.get("unreadable"))],
        "notes": [str(n) for n in doc.get("notes") or [] if isinstance(n, str)],
        "verdict": verdict, "conclusion": conclusion,
        "review": t("handover.review_note", lang, n=s["review_personal"]) if s.get("review_personal") else None,
        "counts": t("handover.counts", lang, marked=s.get("stamped_marked", 0), files=s.get("marked_files", 0),
                    devices=s.get("devices", 0), violations=s.get("violations", 0)),
        "commitment": commitment.get(lk) or "", "seal": seal(signature, lang, COMMAND),
    }


def html(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> str:
    """The record as one self-contained HTML page (A4, Decree 30)."""
    from .html import render
    return render("handover.html.j2", context(doc, lang, signature))


def pdf(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> bytes:
    """The record printed by headless Chromium."""
    from .pdf import render
    return render(html(doc, lang, signature), lang)


def text(doc: dict, lang: str = "vi", signature: Optional[dict] = None) -> str:
    """The record as plain text (a terminal, a mail, a file)."""
    c = context(doc, lang, signature)
    out = Text()
    out.head(c, lang)
    out.line()
    out.centre(t("handover.title", lang))
    out.line()
    out.para(t("handover.opening", lang, when=c["when"], place=visible(c["unit"] or "……………………")))
    out.para(f"1. {t('handover.leaving', lang)}: {visible(c['leaving'])} ({visible(c['account'])})", "   ")
    out.para(f"2. {t('handover.receiver', lang)}: {visible(c['receiver'] or '……………………')}", "   ")
    out.para(f"3. {t('record.security_officer', lang)}: {visible(c['officer'] or '……………………')}", "   ")
    out.para(t("handover.purpose", lang, host=visible(c["host"]), occasion=c["occasion"]))
    out.heading(f"I. {t('handover.s_scope', lang)}")
    out.para(f"{t('record.hostname', lang)}: {visible(c['host'])}; {t('record.machine_id', lang)}: {visible(c['machine_id'])}")
    out.para(f"{t('handover.created', lang)}: {c['when']} ({c['zone']})")
    for k, v in c["scope"]:
        out.para(f"{k}: {visible(v)}")
    sections = [("s_documents", c["documents"], True), ("s_marked", c["marked"], True)]
    for i, (key, items, files) in enumerate(sections, 2):
        out.heading(f"{_roman(i)}. {t('handover.' + key, lang)}")
        if not items:
            out.para(t("handover.none", lang))
        for n, d in enumerate(items, 1):
            out.entry(n, d["path"], [f"{t('evidence.level', lang)}: {d['level']} · {t('handover.size', lang)}: {d['size']} · "
                                     f"{t('handover.modified', lang)}: {d['modified']}",
                                     f"SHA-256: {d['sha256']}", visible(d["who"])] + [visible(x) for x in d["notes"]])
    out.heading(f"IV. {t('handover.s_devices', lang)}")
    if not c["devices"]:
        out.para(t("handover.none", lang))
    for n, d in enumerate(c["devices"], 1):
        out.entry(n, f"{d['label']} {d['ids']} {t('record.serial', lang)} {d['serial']}",
                  [visible(d["approved"]) + (f" · {visible(d['reference'])}" if d["reference"] else ""), d["state"]])
    out.heading(f"V. {t('handover.s_violations', lang)}")
    if not c["violations"]:
        out.para(t("handover.none", lang))
    for n, v in enumerate(c["violations"], 1):
        out.entry(n, f"{v['check_id']} [{v['severity']}] #{v['seq']} {v['time']} {v['acknowledged']}".strip(),
                  [visible(v["message"]), v["why"]] + [visible(x) for x in v["items"]])
    if c["unreadable"]:
        out.heading(f"VI. {t('handover.s_unreadable', lang)}")
        for n, u in enumerate(c["unreadable"], 1):
            out.entry(n, u, [])
    out.heading(t("record.conclusion", lang))
    out.para(c["conclusion"])
    if c["review"]:
        out.para(c["review"])
    out.para(c["counts"])
    out.heading(t("handover.s_commitment", lang))
    out.para(visible(c["commitment"]))
    out.line()
    out.para(t("handover.closing", lang, when=c["when"]))
    for title, name in ((t("handover.sign_leaving", lang), c["leaving"]), (t("handover.sign_receiver", lang), c["receiver"]),
                        (t("record.sign_security", lang), c["officer"])):
        out.line()
        out.line(f"{title} {t('record.sign_hint', lang)}")
        out.line()
        out.line(visible(name or "……………………"))
    if c["seal"]:
        out.line()
        out.para(c["seal"])
    return out.text()


def _roman(n: int) -> str:
    return ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")[n - 1]
