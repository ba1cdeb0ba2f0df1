"""Times a person reads: in the configured zone, dates written as Decree 30/2020/NĐ-CP asks."""

import datetime as dt

import pytest

from bmnn_guard.scanner.errors import ScanError
from bmnn_guard.scanner.localtime import date_words, datetime_words, local, place_date, short, short_date, zone, zone_label

VN = zone("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize("day,vi,en", [
    (dt.date(2026, 2, 5), "ngày 05 tháng 02 năm 2026", "5 February 2026"),
    (dt.date(2026, 1, 31), "ngày 31 tháng 01 năm 2026", "31 January 2026"),
    (dt.date(2026, 3, 2), "ngày 02 tháng 3 năm 2026", "2 March 2026"),
    (dt.date(2026, 12, 1), "ngày 01 tháng 12 năm 2026", "1 December 2026"),
    (dt.date(2026, 11, 23), "ngày 23 tháng 11 năm 2026", "23 November 2026"),
])
def test_day_below_ten_and_months_one_two_get_a_zero(day, vi, en):
    t = dt.datetime.combine(day, dt.time(9, 5), tzinfo=VN)
    assert date_words(t, "vi") == vi and date_words(t, "en") == en


def test_utc_times_are_shown_in_the_agency_zone_with_the_date_rolled_over():
    t = local("2026-11-30T17:30:00Z", VN)
    assert (t.day, t.hour, t.minute) == (1, 0, 30)
    assert datetime_words(t, "vi") == "00 giờ 30 phút, ngày 01 tháng 12 năm 2026"
    assert datetime_words(t, "en") == "00:30, 1 December 2026"
    assert short("2026-11-30T17:30:00+00:00", VN) == "01/12/2026 00:30"
    assert place_date("Hà Nội", t, "vi") == "Hà Nội, ngày 01 tháng 12 năm 2026"
    assert place_date(None, t, "vi").startswith("…") and "ngày 01 tháng 12" in place_date(None, t, "vi")
    assert zone_label(VN, t) == "Asia/Ho_Chi_Minh, UTC+07:00"


def test_another_zone_and_unknown_zone():
    berlin = zone("Europe/Berlin")
    assert local("2026-07-01T12:00:00+00:00", berlin).hour == 14
    assert local("2026-12-01T12:00:00+00:00", berlin).hour == 13
    with pytest.raises(ScanError) as info:
        zone("Mars/Olympus_Mons", "vi")
    assert "Mars/Olympus_Mons" in str(info.value) and "múi giờ" in str(info.value).lower()
    assert short("not a time", VN) == "?" and short_date("2026-12-31") == "31/12/2026"
