"""Schema of the three kinds of policy data (legal sources, checks, profiles) and of local tailoring.

Strict msgspec structs: an unknown key is an error (a misspelt ``severty:`` must not silently drop
a severity override). The loader turns msgspec's ``$.checks[3].severity`` paths into file:line:col.
Conditions are kept as raw data here and parsed by ``conditions.py``, which validates every field
path against the fact model.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Optional, Union

import msgspec

Severity = Literal["critical", "high", "medium", "low", "info"]
SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}
Status = Literal["verified", "unverified"]
Mode = Literal["automated", "manual", "hybrid"]
Category = Literal["network", "usb", "recording", "software", "storage", "folders", "documents", "agent", "manual"]

_STRICT = dict(forbid_unknown_fields=True, kw_only=True, frozen=True)


class Text(msgspec.Struct, **_STRICT):
    """A user-facing text in Vietnamese (first) and English."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``, Vietnamese when that language is missing."""
        return self.en if lang == "en" else self.vi


class Clause(msgspec.Struct, **_STRICT):
    number: str
    text: Text
    status: Status = "verified"
    note: Optional[Text] = None


class Article(msgspec.Struct, **_STRICT):
    number: str
    title: Text
    status: Status = "verified"
    text: Optional[Text] = None
    clauses: list[Clause] = []


class Source(msgspec.Struct, **_STRICT):
    id: str
    kind: Literal["law", "decree", "directive", "circular", "code", "decision"]
    number: str
    title: Text
    role: Literal["in_force", "history"]
    status: Status = "verified"
    issued: Optional[dt.date] = None
    in_force_from: Optional[dt.date] = None
    in_force_until: Optional[dt.date] = None
    replaces: list[str] = []
    note: Optional[Text] = None
    articles: list[Article] = []


class SourcesFile(msgspec.Struct, **_STRICT):
    sources: list[Source]


class LegalRef(msgspec.Struct, **_STRICT):
    source: str
    article: str
    clause: Optional[str] = None
    role: Literal["primary", "supporting", "history"] = "primary"


class ManualPart(msgspec.Struct, **_STRICT):
    question: Text
    guidance: Optional[Text] = None


class Messages(msgspec.Struct, **_STRICT):
    fail: Text
    passed: Text = msgspec.field(name="pass")


class Check(msgspec.Struct, **_STRICT):
    id: str
    version: int
    title: Text
    description: Text
    rationale: Text
    remediation: Text
    severity: Severity
    category: Category
    legal_refs: list[LegalRef]
    mode: Mode = "automated"
    applies_to: Any = None
    fail_if: Any = None
    evidence: dict[str, list[str]] = {}
    manual: Optional[ManualPart] = None
    messages: Optional[Messages] = None


class ChecksFile(msgspec.Struct, **_STRICT):
    checks: list[Check]


class ProfileEntry(msgspec.Struct, **_STRICT):
    id: str
    severity: Optional[Severity] = None


class Profile(msgspec.Struct, **_STRICT):
    id: str
    version: int
    title: Text
    description: Text
    threshold: Severity = "medium"
    checks: list[Union[str, ProfileEntry]] = []


class ProfilesFile(msgspec.Struct, **_STRICT):
    profiles: list[Profile]


# ---------------------------------------------------------------- local tailoring (local.d)


class Disable(msgspec.Struct, **_STRICT):
    check: str
    reason: str


class SeverityOverride(msgspec.Struct, **_STRICT):
    check: str
    severity: Severity
    justification: str


class IndependentLan(msgspec.Struct, **_STRICT):
    interfaces: list[str]
    subnets: list[str]
    description: Optional[str] = None


class CryptoProduct(msgspec.Struct, **_STRICT):
    name: str
    reference: str
    packages: list[str] = []


class MarkedFolderDecl(msgspec.Struct, **_STRICT):
    path: str
    owner: Optional[str] = None


class WaiverScope(msgspec.Struct, **_STRICT):
    dmi_serial: Optional[str] = None
    machine_id: Optional[str] = None
    hostname: Optional[str] = None


class Waiver(msgspec.Struct, **_STRICT):
    check: str
    justification: str
    issuer: str
    expires: dt.date
    scope: WaiverScope = WaiverScope()
    reference: Optional[str] = None


class ProbeHost(msgspec.Struct, **_STRICT):
    host: str
    port: int = 443
    description: Optional[str] = None


class Action(msgspec.Struct, **_STRICT):
    check: str
    action: Literal["alert", "block"]


class CitationFix(msgspec.Struct, **_STRICT):
    check: str
    legal_refs: list[LegalRef]
    justification: str


class RecordSettings(msgspec.Struct, **_STRICT):
    """How the inspection record (biên bản) is headed and signed: ``record:`` in local.d."""

    parent_unit: Optional[str] = None
    """The issuing unit's parent agency (cơ quan chủ quản), printed above ``unit``."""
    place: Optional[str] = None
    """Place name of the place-and-date line ("Hà Nội")."""
    number: Optional[str] = None
    """Record number pattern: ``{seq}`` (per-year counter) and ``{year}``, e.g. "{seq}/BB-CNTT"."""
    timezone: Optional[str] = None
    """IANA time zone of every time a person reads (default Asia/Ho_Chi_Minh)."""
    head_of_unit: Optional[str] = None
    """Name printed under the head of unit's signature block."""
    security_officer: Optional[str] = None
    """Name printed under the security officer's signature block."""


class Tailoring(msgspec.Struct, **_STRICT):
    """One file of local.d; several are merged in name order."""

    profile: Optional[str] = None
    unit: Optional[str] = None
    record: Optional[RecordSettings] = None
    disable: list[Disable] = []
    severity: list[SeverityOverride] = []
    independent_lan: Optional[IndependentLan] = None
    crypto_products: list[CryptoProduct] = []
    marked_folders: list[MarkedFolderDecl] = []
    waivers: list[Waiver] = []
    probe_hosts: list[ProbeHost] = []
    actions: list[Action] = []
    citations: list[CitationFix] = []
    settings: dict[str, Any] = {}
