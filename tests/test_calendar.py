"""The one calendar (app/calendar.py): Shanghai days, how dates read, and the law's periods."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import calendar
from app.auth.sender import MemorySender
from app.clock import FrozenClock
from app.ledger.rules import ended_quarters, period_label
from app.notices.models import Notice
from app.notices.service import display_until
from tests.voting.helpers import ballot_body, build_world


def shanghai(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=calendar.SHANGHAI)


# --- days and how they read ---------------------------------------------------------------------

def test_local_day_and_end_of_day_are_in_shanghai() -> None:
    late_utc = datetime(2026, 12, 9, 17, 30, tzinfo=UTC)  # 01:30 on the 10th in Shanghai
    assert calendar.local_day(late_utc) == date(2026, 12, 10)
    assert calendar.end_of_day(date(2026, 12, 10)) == shanghai(2026, 12, 11)
    assert calendar.start_of_day(date(2026, 12, 10)) == shanghai(2026, 12, 10)


# --- working days -------------------------------------------------------------------------------

def test_spring_festival_2026_and_its_make_up_working_days() -> None:
    # 2026 Spring Festival: 15-23 February off; Saturday 14 and Saturday 28 February are worked.
    assert all(calendar.is_rest_day(date(2026, 2, d)) for d in range(15, 24))
    assert not calendar.is_rest_day(date(2026, 2, 14))
    assert not calendar.is_rest_day(date(2026, 2, 28))
    assert calendar.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)
    assert calendar.next_working_day(date(2026, 2, 14)) == date(2026, 2, 14)


def test_national_day_2026() -> None:
    assert all(calendar.is_rest_day(date(2026, 10, d)) for d in range(1, 8))
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    assert not calendar.is_rest_day(date(2026, 10, 10))  # a Saturday worked in return


def test_an_unknown_year_falls_back_to_weekends() -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2099, 1, 1))
    assert calendar.is_rest_day(date(2099, 1, 3))  # a Saturday
    assert not calendar.is_rest_day(date(2099, 1, 1))  # a Thursday (New Year unknown: worked)
    assert calendar.next_working_day(date(2099, 1, 3)) == date(2099, 1, 5)


# --- periods ------------------------------------------------------------------------------------

def test_a_period_does_not_count_its_first_day_and_ends_at_24_00() -> None:
    closed = shanghai(2026, 3, 24, 10)
    assert calendar.period_end(closed, 3) == shanghai(2026, 3, 28)  # Fri 27 March, 24:00


def test_a_period_ending_on_a_holiday_ends_on_the_next_working_day() -> None:
    # Closed on 28 September 2026, three days: 1 October (National Day) → 8 October.
    assert calendar.period_last_day(date(2026, 9, 28), 3) == date(2026, 10, 8)
    assert calendar.period_end(shanghai(2026, 9, 28, 15), 3) == shanghai(2026, 10, 9)
    # A weekend too: Friday 6 March + 1 day = Saturday 7 March → Monday 9 March.
    assert calendar.period_last_day(date(2026, 3, 6), 1) == date(2026, 3, 9)


@pytest.mark.parametrize(("start", "last"), [
    (date(2026, 3, 5), date(2027, 3, 5)),  # an ordinary year (a Friday)
    (date(2027, 3, 1), date(2028, 3, 1)),  # across 29 February 2028: +365 days would say 29 Feb
    (date(2028, 2, 29), date(2029, 2, 28)),  # from 29 February: the month's last day (Art. 202)
    (date(2025, 10, 1), date(2026, 10, 8)),  # 1 October 2026 falls in National Day → 8 October
])
def test_a_year_is_a_calendar_year(start: date, last: date) -> None:
    assert calendar.year_period_last_day(start) == last


def test_add_years_keeps_the_corresponding_day() -> None:
    assert calendar.add_years(date(2028, 2, 29), 1) == date(2029, 2, 28)
    assert calendar.add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)
    assert calendar.add_years(date(2027, 3, 1), 1) - date(2027, 3, 1) == timedelta(days=366)


def test_the_ledger_due_day_and_the_notice_display_period_skip_holidays() -> None:
    # Q3 2026 ends on 30 September; due one day later would be 1 October → 8 October.
    q3 = ended_quarters(date(2026, 7, 1), date(2026, 10, 20), due_days=1)
    assert q3[0].due == date(2026, 10, 8)
    # Published 24 September 2026 for 7 days: 1 October → on display until 8 October.
    notice = Notice(compound_id=1, kind="general", title="t", body="b", display_days=7,
                    published_at=shanghai(2026, 9, 24, 9))
    assert display_until(notice) == date(2026, 10, 8)
    assert period_label(date(2026, 7, 1), date(2026, 8, 15)) == "2026年7月1日至2026年8月15日"


# --- in the ballot's record ---------------------------------------------------------------------

def test_objection_window_and_revocation_date_in_the_announcements(
    client: TestClient, db: Session, outbox: MemorySender, frozen_clock: FrozenClock
) -> None:
    """Closed on Wednesday 24 February 2027: the 3-day window's last day, Saturday 27 February,
    moves to Monday 1 March (Art. 203). Published on 2 March 2027, the one-year revocation period
    (Art. 280) ends on 2 March 2028; +365 days said 1 March, a day early across 29 February."""
    frozen_clock.current = shanghai(2027, 2, 1, 9)
    world = build_world(db, client)
    world.refresh(client)
    starts = shanghai(2027, 2, 17)
    r = client.post(world.url("/ballots"), json=ballot_body(starts), headers=world.committee)
    assert r.status_code == 201, r.text
    bid = r.json()["id"]
    r = client.post(world.url(f"/ballots/{bid}/notice"), json={}, headers=world.committee)
    assert r.status_code == 200, r.text
    frozen_clock.current = starts + timedelta(hours=1)
    world.refresh(client)
    assert client.post(world.url(f"/ballots/{bid}/open"), headers=world.committee).status_code == 200
    frozen_clock.current = shanghai(2027, 2, 24, 10)
    world.refresh(client)
    closed = client.post(world.url(f"/ballots/{bid}/close"), headers=world.committee)
    assert closed.status_code == 200, closed.text
    preliminary = client.get(world.url(f"/notices/{closed.json()['preliminary_notice_id']}"),
                             headers=world.committee).json()
    assert "投票已于2027年2月23日 24:00结束" in preliminary["body"]
    assert "询异期至2027年3月1日 24:00" in preliminary["body"]

    frozen_clock.current = shanghai(2027, 3, 1, 18)
    world.refresh(client)
    early = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert early.status_code == 409 and early.json()["error"] == "objection_window_open"
    assert "询异期至2027年3月1日 24:00结束" in early.json()["detail"]

    frozen_clock.current = shanghai(2027, 3, 2, 9)
    world.refresh(client)
    published = client.post(world.url(f"/ballots/{bid}/publish"), headers=world.committee)
    assert published.status_code == 200, published.text
    final = client.get(world.url(f"/notices/{published.json()['result_notice_id']}"),
                       headers=world.committee).json()
    assert "最迟约至2028年3月2日" in final["body"]
