"""Answers to manual checklist items: from a YAML file, or asked at the terminal.

File format (``--answers FILE``; ``bmnn answers template`` writes one to fill in)::

    BMNN-MAN-001: pass
    BMNN-MAN-002: {answer: fail, note: "Tem niêm phong bị rách"}
    BMNN-MAN-003:
      answer:          # left empty: the item stays not reviewed
      note:

Answers: pass / fail / not_applicable (also đạt / không đạt / không áp dụng, yes / no / na).
"""

from __future__ import annotations

import textwrap
import unicodedata
from typing import Callable, Iterable, Optional

from bmnn_guard.policies.errors import PolicyError
from bmnn_guard.policies.evaluator import Answer
from bmnn_guard.policies.yamlmarks import CONFIG_LIMITS, key_name, load_file

from .errors import ScanError
from .i18n import t
from .textsafe import visible, visible_lines

ANSWERS = ("answers file", "tệp câu trả lời")
ANSWERS_DIR = ("answers", "câu trả lời")
SYNONYMS = {
    "pass": "pass", "đạt": "pass", "dat": "pass", "yes": "pass", "y": "pass", "có": "pass", "co": "pass", "c": "pass",
    "fail": "fail", "không đạt": "fail", "khong dat": "fail", "no": "fail", "n": "fail", "k": "fail",
    "not_applicable": "not_applicable", "na": "not_applicable", "n/a": "not_applicable",
    "không áp dụng": "not_applicable", "khong ap dung": "not_applicable", "kad": "not_applicable",
}


def normalise(value: object) -> Optional[str]:
    """The canonical answer for ``value``, or None when it is not one."""
    if isinstance(value, bool):
        return "pass" if value else "fail"
    if not isinstance(value, str):
        return None
    return SYNONYMS.get(value.strip().lower())


def load_answers(path: str, known: Iterable[str]) -> dict[str, Answer]:
    """Read an answers file; errors name file:line and are ScanErrors (exit 1).

    The file is the inspector's own input, not configuration: ownership is not checked, but it is
    read like every YAML input (no link, a regular file, bounded, the YAML limits)."""
    try:
        doc = load_file(path, CONFIG_LIMITS, enforce=False, what=ANSWERS, folder=ANSWERS_DIR)
    except FileNotFoundError:
        raise ScanError(f"{path}: no such file") from None
    except PolicyError as exc:
        raise ScanError(exc.render()) from None
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise ScanError(doc.problem((), "an answers file maps check ids to answers").render())
    known = set(known)
    out: dict[str, Answer] = {}
    for key, value in doc.data.items():
        cid = str(key).upper()
        if cid not in known:
            raise ScanError(doc.problem((key,), f"{key_name(key)} is not a manual check of this profile", key=True).render())
        note = None
        if value is None:  # an item of the template left empty: not reviewed
            continue
        if isinstance(value, dict):
            extra = set(value) - {"answer", "note"}
            if extra:
                raise ScanError(doc.problem((key, sorted(extra)[0]), f"unknown key {key_name(sorted(extra)[0])}; use answer and note", key=True).render())
            note = value.get("note")
            value = value.get("answer")
            if value is None:
                continue
        status = normalise(value)
        if status is None:
            raise ScanError(doc.problem((key,), f"not an answer: {key_name(value) if isinstance(value, str) else type(value).__name__}; "
                                                     "use pass, fail or not_applicable").render())
        out[cid] = Answer(status=status, note=str(note) if note is not None else None)
    return out


def ask(items: list[tuple[str, str]], prompt: Callable[[str], str], lang: str,
        say: Optional[Callable[[str], None]] = None) -> dict[str, Answer]:
    """Ask each (check id, question) at the terminal; an empty answer leaves the item not reviewed.

    ``prompt`` shows a text and returns what was typed; ``say`` shows a line (the introduction, a
    retry hint). The keys are plain text: nothing here goes through a markup renderer.
    """
    keys = t("answers.keys", lang)
    out: dict[str, Answer] = {}
    if items and say is not None:
        say(t("answers.intro", lang, n=len(items)))
    for cid, question in items:
        while True:
            raw = unicodedata.normalize("NFC", prompt(f"{cid}: {visible_lines(question)}\n  ({keys}): ")).strip()
            if not raw:
                break
            status = normalise(raw) or normalise({"đ": "pass"}.get(raw.lower(), raw))
            if status is None:
                if say is not None:
                    say(t("answers.again", lang, answer=visible(raw), keys=keys))
                continue
            note = prompt(f"  {t('answers.note', lang)}: ").strip() or None
            out[cid] = Answer(status=status, note=note)
            break
    return out


def template(items: list[tuple[str, str, str]], profile: str, profile_title: str, lang: str) -> str:
    """The answers file to fill in: every manual item of the profile, empty, with its title and
    question as YAML comments in ``lang``. Loaded untouched it answers nothing."""
    def comment(text: str, indent: str = "") -> list[str]:
        out = []
        for line in str(text).splitlines() or [""]:
            out += [f"# {indent}{part}" for part in textwrap.wrap(visible(line), 96 - len(indent)) or [""]]
        return out
    lines = [*comment(t("answers.template_head", lang, profile=profile, title=profile_title)),
             *comment(t("answers.template_use", lang)), ""]
    for cid, title, question in items:
        lines += comment(f"{cid} — {title}")
        lines += comment(question, "  ")
        lines += [f"{cid}:", "  answer:", "  note:", ""]
    return "\n".join(lines)
