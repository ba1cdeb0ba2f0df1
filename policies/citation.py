"""Render legal references as people cite them, with the article text, in vi or en."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .schema import Article, Clause, Source

KIND = {
    "vi": {"law": "Luật", "decree": "Nghị định", "directive": "Chỉ thị", "circular": "Thông tư", "code": "Bộ luật Hình sự", "decision": "Quyết định"},
    "en": {"law": "Law", "decree": "Decree", "directive": "Directive", "circular": "Circular", "code": "Criminal Code", "decision": "Decision"},
}
WORDS = {
    "vi": {"article": "Điều", "clause": "khoản", "unverified": "chưa xác minh", "history": "đã hết hiệu lực"},
    "en": {"article": "Article", "clause": "clause", "unverified": "unverified", "history": "no longer in force"},
}


@dataclass(frozen=True)
class Citation:
    """A resolved reference: the words to print and the provision's text."""

    label: str
    """E.g. "Luật Bảo vệ bí mật nhà nước số 117/2025/QH15, Điều 5 khoản 2"."""
    short: str
    """E.g. "Luật 117/2025/QH15, Điều 5 khoản 2", for tables."""
    text: Optional[str]
    """The provision's text in the requested language, when the catalog has it."""
    verified: bool
    """False when the catalog marks the source, article or clause unverified."""
    in_force: bool
    """False for history texts."""
    source: str
    article: str
    clause: Optional[str]


def resolve(sources: dict[str, Source], source: str, article: str, clause: Optional[str], lang: str = "vi") -> Citation:
    """Resolve one reference against the catalog (the loader has already checked it exists)."""
    w = WORDS["en" if lang == "en" else "vi"]
    src = sources[source]
    art: Optional[Article] = next((a for a in src.articles if a.number == article), None)
    cl: Optional[Clause] = None
    if art is not None and clause is not None:
        cl = next((c for c in art.clauses if c.number == clause), None)
    verified = src.status == "verified" and (art is None or art.status == "verified") and (cl is None or cl.status == "verified")
    name = f"{src.title.get(lang)} {'số' if lang != 'en' else 'No.'} {src.number}"
    parts = [name]
    if article:
        if art is not None and art.status == "unverified":
            parts.append(f"{art.title.get(lang)} ({w['article'].lower()} {w['unverified']})")
        else:
            where = f"{w['article']} {article}"
            if clause is not None:
                where += f" {w['clause']} {clause}" if (cl is None or cl.status == "verified") else f" ({w['clause']} {w['unverified']})"
            parts.append(where)
    label = ", ".join(parts)
    kind = KIND["en" if lang == "en" else "vi"][src.kind]
    short = ", ".join([kind if src.kind == "code" else f"{kind} {src.number}", *parts[1:]])
    if src.role == "history":
        label += f" ({w['history']})"
        short += f" ({w['history']})"
    text = None
    if cl is not None:
        text = cl.text.get(lang)
    elif art is not None and art.text is not None:
        text = art.text.get(lang)
    return Citation(label=label, short=short, text=text, verified=verified, in_force=src.role == "in_force",
                    source=source, article=article, clause=clause)
