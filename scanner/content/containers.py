"""Zip containers that are not office documents: packages are "not a document", archives of
documents are "not fully read".

Decided by the members a container lists (its central directory), never by the file name: a
``.docx`` renamed ``.jar`` is still read as a document, and a ``.jar`` renamed ``.docx`` is still
a package. A developer's home holds thousands of these (``~/.m2`` jars, pip wheels, browser and
editor extensions); listing them as errors would keep BMNN-DOC-001 from ever passing.
"""

from __future__ import annotations

import os
from typing import Iterable

from .limits import NotDocument, Unreadable

# (marker test on the member names, what the package is); first match wins
_PACKAGES = (
    (lambda n: "AndroidManifest.xml" in n and "classes.dex" in n, "Android package (.apk)"),
    (lambda n: "META-INF/MANIFEST.MF" in n or any(x.endswith(".class") for x in n), "Java archive (.jar/.war/.ear)"),
    (lambda n: any(x.endswith(".dist-info/WHEEL") or x.endswith(".dist-info/RECORD") for x in n), "Python wheel (.whl)"),
    (lambda n: "EGG-INFO/PKG-INFO" in n, "Python egg (.egg)"),
    (lambda n: any(x.endswith(".nuspec") and "/" not in x for x in n), "NuGet package (.nupkg)"),
    (lambda n: "extension.vsixmanifest" in n, "Visual Studio extension (.vsix)"),
    (lambda n: "manifest.json" in n and any(x.startswith("META-INF/") or x.endswith(".js") for x in n),
     "browser extension (.xpi/.crx)"),
    (lambda n: "install.rdf" in n or "chrome.manifest" in n, "browser extension (.xpi)"),
    (lambda n: "AppManifest.xaml" in n, "Silverlight package (.xap)"),
)

DOCUMENT_MEMBER_EXT = {".doc", ".docx", ".docm", ".xls", ".xlsx", ".xlsm", ".ppt", ".pptx", ".odt", ".ods",
                       ".odp", ".pdf", ".rtf", ".txt", ".csv", ".htm", ".html", ".zip", ".rar", ".7z"}
"""Members that may be documents (or archives of them) inside a plain zip archive. (Images in an
archive are left to the OCR step, like image files outside one.)"""
MAX_ARCHIVE_MEMBERS = 200
"""Document members read from one archive; past it the archive is "not fully read"."""


class ArchiveOfDocuments(Unreadable):
    """A plain zip holding documents: ``read_archive`` reads them (one level deep)."""

    def __init__(self, reader, members: list[str]):
        super().__init__(f"zip archive holding {len(members)} document(s) or archive(s)")
        self.reader = reader
        self.members = members


def read_archive(zr, members: list[str], limits, depth: int):
    """(segments of the member with the strongest match, problems) of an archive of documents.

    Every document member is read and judged like a file of its own, within the archive's byte
    budget; the archive takes the verdict of its strongest member. An archive inside an archive,
    a member that cannot be read and members past ``MAX_ARCHIVE_MEMBERS`` are problems: the
    archive is then "not fully read", never clean."""
    import dataclasses

    from . import detect
    from .analyse import extract
    problems: list[str] = []
    best = None
    for name in members[:MAX_ARCHIVE_MEMBERS]:
        shown = name[-120:]
        try:
            data = zr.read(name)
        except Unreadable as exc:
            problems.append(str(exc))
            continue
        if not data:
            continue
        inner = dataclasses.replace(limits, max_total_bytes=max(0, limits.max_total_bytes - zr.total))
        try:
            _, segs, probs = extract(data, name, inner, depth + 1)
        except NotDocument:
            continue
        except Unreadable as exc:
            problems.append(f"member {shown}: {exc}")
            continue
        problems += [f"member {shown}: {p}" for p in probs]
        v = detect.judge(segs)
        key = (v.score, detect.LEVELS.index(v.level) if v.level else -1)
        if best is None or key > best[0]:
            best = (key, segs)
    if len(members) > MAX_ARCHIVE_MEMBERS:
        problems.append(f"zip archive holding {len(members)} documents: only {MAX_ARCHIVE_MEMBERS} read, not fully read")
    return (best[1] if best else []), problems


def classify(names: Iterable[str], reader=None) -> None:
    """Raise ``NotDocument`` for a package or a zip that holds no document, ``ArchiveOfDocuments``
    (an ``Unreadable``) for an archive holding documents, which ``read_archive`` then reads."""
    names = set(names)
    for test, what in _PACKAGES:
        if test(names):
            raise NotDocument(f"{what}: not a document")
    docs = sorted(n for n in names if os.path.splitext(n)[1].lower() in DOCUMENT_MEMBER_EXT and not n.endswith("/"))
    if docs:
        raise ArchiveOfDocuments(reader, docs)
    raise NotDocument("zip archive holding no document", kind="archive")
