"""What the daemon says in its records, in the reader's language.

A record's ``message`` is signed text: it is written once, in English, and never changes (a
verifier, a SIEM rule or a grep may depend on it). What a person reads — ``bmnn events``,
``bmnn status``, an alert, a syslog line, a report — is the same message in the language asked,
from the one catalog (``record.msg.*`` keys). ``said(key, **args)`` makes both at the call site:
the English message and ``evidence["text"] = {"key", "args"}``, which is signed with the rest of
the evidence, so the words can be rendered again in any language later without trusting anything
outside the record. Records written before this existed (no ``text``) are matched against the
English texts of the same keys (``reword``), and shown as they are when nothing matches.

Args are plain values (str, int) taken from the machine (paths, device strings, errors): the
renderers here return text, and every caller shows it through ``visible`` as before.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from bmnn_guard.scanner.i18n import has, reword, t

PREFIX = "record.msg."


def said(key: str, **args: Any) -> dict[str, Any]:
    """``Event.of(..., **said("record.msg.x", a=1))``: the English message and its key and args."""
    if not key.startswith(PREFIX):
        raise ValueError(f"record message key {key!r} is not under {PREFIX}")
    plain = {k: (v if v is None or isinstance(v, (int, str)) else str(v)) for k, v in args.items()}
    return {"message": t(key, "en", **dict(plain)), "text": {"key": key, "args": plain}}


def _text_of(evidence: Any) -> Optional[tuple[str, dict[str, Any]]]:
    if not isinstance(evidence, Mapping):
        return None
    text = evidence.get("text")
    if not isinstance(text, Mapping):
        return None
    key, args = text.get("key"), text.get("args")
    if not isinstance(key, str) or not key.startswith(PREFIX) or not has(key) or not isinstance(args, Mapping):
        return None
    return key, dict(args)


def _file_text(evidence: Any, lang: str) -> Optional[str]:
    """File records are the many (10,000 a burst): their words come from the evidence they carry
    anyway (``event``, ``path``, ``dest``), never from a copy of it."""
    if not isinstance(evidence, Mapping) or "text" in evidence:
        return None
    event = evidence.get("event")
    key = f"{PREFIX}file.{event}"
    if not isinstance(event, str) or not has(key):
        return None
    out = t(key, lang, path=str(evidence.get("path") or ""), dest=str(evidence.get("dest") or ""),
            files=evidence.get("files"))
    if evidence.get("resync") and event != "baseline":
        out += t(f"{PREFIX}file.resync_suffix", lang)
    return out


def shown(message: Optional[str], evidence: Any, lang: str, kind: Optional[str] = None) -> Optional[str]:
    """The record's message in ``lang``: from its ``text`` when it has one the catalog knows (or,
    for a file record, from its event and path), else the English message reworded through
    ``record.msg.*``, else the message as it is."""
    if kind == "file":
        text = _file_text(evidence, lang)
        if text is not None:
            return text
    if lang == "en" and isinstance(evidence, Mapping) and isinstance(evidence.get("reason_en"), str):
        return evidence["reason_en"]  # a rule's reason: the policy's own English (the message is its Vietnamese)
    found = _text_of(evidence)
    if found is not None:
        key, args = found
        try:
            return t(key, lang, **args)
        except (KeyError, IndexError, ValueError):  # args of another version of the key
            pass
    if not message or lang == "en":
        return message
    return reword(message, lang, PREFIX, sep="\n")


def words(message: Optional[str], evidence: Any, kind: Optional[str] = None, limit: int = 2000) -> dict[str, Optional[str]]:
    """The message in every language, for documents that are rendered later in either one
    (incident and hand-over reports): ``{"vi": ..., "en": ...}``."""
    out = {}
    for lang in ("vi", "en"):
        text = shown(message, evidence, lang, kind)
        out[lang] = text[:limit] if text else None
    return out


def shown_record(record: Any, lang: str) -> Optional[str]:
    """``shown`` of a Record or of its dict form."""
    if isinstance(record, Mapping):
        return shown(record.get("message"), record.get("evidence"), lang, record.get("kind"))
    return shown(record.message, record.evidence, lang, record.kind)
