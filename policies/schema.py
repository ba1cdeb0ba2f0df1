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
Enforcement = Literal["usb_deauthorize", "link_down"]
"""What the daemon may do about a failing check when the local tailoring says ``block``:
``usb_deauthorize`` deauthorises the interfaces of each USB device in the evidence (its
``sys_path``), ``link_down`` takes down each network interface in the evidence (its ``name``)."""
Category = Literal["network", "usb", "recording", "software", "storage", "folders", "documents", "agent", "manual"]

_STRICT = dict(forbid_unknown_fields=True, kw_only=True, frozen=True)


class Text(msgspec.Struct, **_STRICT):
    """A user-facing text in Vietnamese (first) and English."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``, Vietnamese when that language is missing."""
        return self.en if lang == "en" else self.vi


class Reading(msgspec.Struct, **_STRICT):
    """What was read to verify a catalog entry: the evidence behind ``status: verified``.

    A citation is only as good as the text someone actually read. A reading names the document
    read (its title and number, and a URL or a gazette reference), the day it was read and the
    exact words found there; ``locator`` says where in that document (an article heading, a line,
    a commit of a mirror), so that anyone can read the same words again.
    """

    title: str
    """Title of the document read (the official text, a gazette page, a codified mirror, a press report)."""
    number: str
    """Number of the legal text the words belong to (117/2025/QH15)."""
    read_on: dt.date
    """Day the words were read."""
    quote: str
    """The exact words read, in the original language."""
    url: Optional[str] = None
    """Where the document was read."""
    gazette: Optional[str] = None
    """Official gazette reference (Công báo số ..., ngày ...) when read there."""
    locator: Optional[str] = None
    """Where in the document: article heading, line, mirror commit and path."""
    official: bool = False
    """True when the document read is the official text (gazette, vanban.chinhphu.vn), not a mirror or the press."""


class Point(msgspec.Struct, **_STRICT):
    """A point (điểm a, b, ...) of a clause."""

    number: str
    text: Text
    status: Status = "unverified"
    read: list[Reading] = []
    note: Optional[Text] = None


class Clause(msgspec.Struct, **_STRICT):
    """A clause (khoản) of an article. ``number`` is the clause number when it is known (a numeral);
    otherwise a key such as ``lan`` or ``ai`` for a provision whose number could not be read, and
    ``caption`` names the provision in citations instead of a number."""

    number: str
    text: Text
    status: Status = "unverified"
    read: list[Reading] = []
    caption: Optional[Text] = None
    note: Optional[Text] = None
    points: list[Point] = []


class Article(msgspec.Struct, **_STRICT):
    """An article (Điều). ``number`` as for clauses: a numeral, "" for a text without articles
    (a directive), or a key with a ``caption`` when the number could not be read."""

    number: str
    title: Text
    status: Status = "unverified"
    read: list[Reading] = []
    caption: Optional[Text] = None
    text: Optional[Text] = None
    note: Optional[Text] = None
    clauses: list[Clause] = []


class LegalSource(msgspec.Struct, **_STRICT):
    """A legal text of the catalog. Whether it is in force is a question about a day, answered from
    ``effective_from``, ``effective_to`` and ``repealed_by`` (see ``citation.in_force``)."""

    id: str
    kind: Literal["law", "decree", "directive", "circular", "code", "decision"]
    number: str
    title: Text
    status: Status = "unverified"
    read: list[Reading] = []
    issued: Optional[dt.date] = None
    effective_from: Optional[dt.date] = None
    """First day in force; unknown (None) makes "in force" unknown."""
    effective_to: Optional[dt.date] = None
    """Last day in force, when known."""
    repealed_by: list[str] = []
    """Catalog ids of the texts reported to replace this one; without ``effective_to`` the day it
    stopped is unknown, and so is whether it is in force."""
    replaces: list[str] = []
    note: Optional[Text] = None
    articles: list[Article] = []


class NotCheckable(msgspec.Struct, **_STRICT):
    """A catalog entry no workstation can show evidence for, and why."""

    source: str
    article: str
    clause: Optional[str] = None
    point: Optional[str] = None
    reason: Text


class Requirement(msgspec.Struct, **_STRICT):
    """A legal requirement a workstation can show evidence for, and the checks that serve it."""

    id: str
    title: Text
    legal_refs: list["LegalRef"]
    checks: list[str]
    note: Optional[Text] = None


class SourcesFile(msgspec.Struct, **_STRICT):
    """A file of ``sources/``: catalog entries, and (in its own file) the requirement map."""

    sources: list[LegalSource] = []
    requirements: list[Requirement] = []
    not_checkable: list[NotCheckable] = []


class LegalRef(msgspec.Struct, **_STRICT):
    source: str
    article: str
    clause: Optional[str] = None
    point: Optional[str] = None
    role: Literal["primary", "supporting", "history"] = "primary"


class ManualPart(msgspec.Struct, **_STRICT):
    question: Text
    guidance: Optional[Text] = None


class Messages(msgspec.Struct, **_STRICT):
    fail: Text
    passed: Text = msgspec.field(name="pass")


class ExceptionSpec(msgspec.Struct, **_STRICT):
    """A lawful exception a check honours, shown with the declaration that claims it.

    The check's own conditions leave the excepted items out (through a context value such as
    ``crypto_interfaces``); this part names them for the record: every item of ``count`` (that
    satisfies ``where``) whose ``key`` field matches a declaration of kind ``declaration`` in the
    local tailoring is listed as that exception, with the declaration's name and reference.
    """

    declaration: Literal["crypto"]
    count: str
    key: str
    legal_refs: list[LegalRef]
    where: Any = None


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
    enforce: list[Enforcement] = []
    """What ``action: block`` may do about this check (nothing when empty: it alerts only)."""
    messages: Optional[Messages] = None
    exceptions: list[ExceptionSpec] = []


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
    """The agency's independent LAN (mạng LAN độc lập): its interfaces on this machine and its subnets."""

    interfaces: list[str]
    subnets: list[str]
    description: Optional[str] = None
    remote_admin: Literal["allowed", "forbidden"] = "allowed"
    """Remote administration (an SSH server) on the LAN: the law does not forbid it inside the
    premises; an agency that does sets ``forbidden``."""


class CryptoProduct(msgspec.Struct, **_STRICT):
    """A cryptographic product supplied by the State cipher organisation (Ban Cơ yếu Chính phủ)
    and the links of this machine it protects: the cryptography exception of Law 117/2025 Art. 5
    cl. 2. Never inferred from commercial encryption: only what the agency declares here counts."""

    name: str
    reference: str
    """The document that supplied or assigned the product (biên bản bàn giao, quyết định)."""
    interfaces: list[str] = []
    """Network interfaces of this machine whose traffic the product protects."""
    packages: list[str] = []
    supplied_by: str = "Ban Cơ yếu Chính phủ"


class MeetingRoom(msgspec.Struct, **_STRICT):
    """The room a meeting-room computer serves and the highest level of the meetings held there."""

    level: Literal["mat", "toi_mat", "tuyet_mat"]
    name: Optional[str] = None


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
    meeting_room: Optional[MeetingRoom] = None
    marked_folders: list[MarkedFolderDecl] = []
    waivers: list[Waiver] = []
    probe_hosts: list[ProbeHost] = []
    actions: list[Action] = []
    citations: list[CitationFix] = []
    settings: dict[str, Any] = {}
