"""Times as an officer reads them: in the agency's time zone, written the Vietnamese way.

The scan document keeps ISO 8601 with an offset (machines read it); every report a person reads
converts to one configured zone (``--timezone``, local.d ``record.timezone``, else
Asia/Ho_Chi_Minh) and writes dates as Decree 30/2020/NĐ-CP asks: "ngày 05 tháng 02 năm 2026" (a
day below 10 and the months 1 and 2 get a leading zero so that nobody can turn 1 into 11 by hand),
times as "16 giờ 05 phút". English uses "5 February 2026" and "16:05".
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from .errors import ScanError
from .i18n import t as _t

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
_VN = dt.timezone(dt.timedelta(hours=7), "ICT")  # Viet Nam has kept UTC+7 without DST since 1975


def zone(name: Optional[str], lang: str = "vi") -> dt.tzinfo:
    """The tzinfo for an IANA zone name (None: Asia/Ho_Chi_Minh); ScanError for an unknown name.

    Without the tzdata files Asia/Ho_Chi_Minh still works (a fixed UTC+7, which it has been since
    1975); any other zone needs them.
    """
    name = name or DEFAULT_ZONE
    if name in ("UTC", "Etc/UTC"):
        return dt.timezone.utc
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    except ImportError:  # pragma: no cover - Python without zoneinfo
        pass
    if name == DEFAULT_ZONE:
        return _VN
    raise ScanError(_t("error.timezone", lang, name=name))


def parse(value: object) -> Optional[dt.datetime]:
    """An ISO 8601 text (a trailing Z included) as an aware datetime, or None when it is not one.
    A time without an offset is taken as UTC, the journal's convention."""
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, str) and value.strip():
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.timezone.utc)


def local(value: object, tz: dt.tzinfo) -> Optional[dt.datetime]:
    """``value`` (ISO text or datetime) converted to ``tz``, or None."""
    t = parse(value)
    return None if t is None else t.astimezone(tz)


def _dd(n: int) -> str:
    return f"{n:02d}"


def _mm(n: int) -> str:
    return f"{n:02d}" if n < 3 else str(n)


def date_words(t: dt.datetime, lang: str) -> str:
    """"ngày 01 tháng 12 năm 2026" / "1 December 2026"."""
    return _t("time.date_words", lang, dd=_dd(t.day), mm=_mm(t.month), day=t.day, year=t.year,
              month_name=_t(f"time.month.{t.month}", lang))


def time_words(t: dt.datetime, lang: str) -> str:
    """"16 giờ 05 phút" / "16:05"."""
    return _t("time.time_words", lang, hh=f"{t.hour:02d}", mi=f"{t.minute:02d}")


def datetime_words(t: dt.datetime, lang: str) -> str:
    """"16 giờ 05 phút, ngày 01 tháng 12 năm 2026" / "16:05, 1 December 2026"."""
    return _t("time.datetime_words", lang, time=time_words(t, lang), date=date_words(t, lang))


def place_date(place: Optional[str], t: dt.datetime, lang: str) -> str:
    """The place-and-date line of a document: "Hà Nội, ngày 01 tháng 12 năm 2026".

    Without a configured place the line keeps a dotted blank for the officer to fill in by hand.
    """
    return f"{place or '…………'}, {date_words(t, lang)}"


def short(value: object, tz: dt.tzinfo, lang: str = "vi") -> str:
    """"01/12/2026 16:05" in ``tz`` for table cells (both languages: day first, 24 h); "?" when
    ``value`` is no time."""
    t = local(value, tz)
    if t is None:
        return "?"
    return f"{_dd(t.day)}/{_dd(t.month)}/{t.year} {t.hour:02d}:{t.minute:02d}"


def short_date(value: object) -> str:
    """A date ("2026-12-31", or the date of an ISO time as written) as "31/12/2026"; the text
    itself when it is not one."""
    try:
        d = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{_dd(d.day)}/{_dd(d.month)}/{d.year}"


def zone_label(tz: dt.tzinfo, t: dt.datetime) -> str:
    """"Asia/Ho_Chi_Minh, UTC+07:00": what a reader needs to know the times are not UTC."""
    name = getattr(tz, "key", None) or (DEFAULT_ZONE if tz is _VN else tz.tzname(t) or "")
    off = t.astimezone(tz).utcoffset() or dt.timedelta(0)
    sign = "-" if off < dt.timedelta(0) else "+"
    minutes = abs(int(off.total_seconds())) // 60
    return f"{name}, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
