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
                       ".odp", ".pdf", ".rtf", ".txt", ".htm", ".html", ".png", ".jpg", ".jpeg", ".tif", ".tiff",
                       ".bmp", ".zip", ".rar", ".7z"}
"""Members that may be documents (or archives of them) inside a plain zip archive."""


def classify(names: Iterable[str]) -> None:
    """Raise ``NotDocument`` for a package or a zip that holds no document, ``Unreadable`` for an
    archive holding documents (not opened: an archive inside a file is not read)."""
    names = set(names)
    for test, what in _PACKAGES:
        if test(names):
            raise NotDocument(f"{what}: not a document")
    docs = sorted(n for n in names if os.path.splitext(n)[1].lower() in DOCUMENT_MEMBER_EXT)
    if docs:
        raise Unreadable(f"zip archive holding {len(docs)} document(s) or archive(s): archives are not opened, "
                         "not fully read")
    raise NotDocument("zip archive holding no document", kind="archive")
