"""The one calendar: days in Asia/Shanghai, how dates are written for people, and the law's dates.

Every period the product counts is counted here, as the Civil Code counts it:
- Art. 201: the day an event happens (publication, closing, a step's start) is not counted; the
  period begins the next day.
- Art. 202: a period counted in years (or months) ends on the corresponding day of the last year
  (month); a year with no such day (29 February) ends on that month's last day (28 February).
- Art. 203: a period whose last day is a statutory holiday ends on the first working day after
  it; the last day ends at 24:00.

Holidays and make-up working days (调休) come from the `chinesecalendar` package, which carries
the State Council's yearly notice. For a year it does not know yet (it raises NotImplementedError;
the notice for next year is published each November or December), only Saturdays and Sundays count
as rest days: upgrading the package brings that year's holidays in.

Datetimes are stored as aware UTC; "end of day N" is 00:00 of day N+1 in Asia/Shanghai, written
for people as "N日 24:00" by `app/timefmt.py` (the one place that writes times for people).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

from app.clock import now

SHANGHAI = ZoneInfo("Asia/Shanghai")


# --- days in Shanghai ---------------------------------------------------------------------------

def local_day(value: datetime) -> date:
    """The calendar day of an instant in Asia/Shanghai."""
    return value.astimezone(SHANGHAI).date()


def today() -> date:
    """Today in Asia/Shanghai (the injectable clock)."""
    return local_day(now())


def start_of_day(day: date) -> datetime:
    """00:00 of `day` in Asia/Shanghai."""
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI)


def end_of_day(day: date) -> datetime:
    """24:00 of `day` in Asia/Shanghai (the instant 00:00 of the next day)."""
    return start_of_day(day + timedelta(days=1))


# --- working days ---------------------------------------------------------------------------------

def is_rest_day(day: date) -> bool:
    """A statutory holiday or weekend that is not a make-up working day (法定休假日)."""
    try:
        return not chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not know yet: weekends only
        return day.weekday() >= 5


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while is_rest_day(day):
        day += timedelta(days=1)
    return day


# --- the law's periods ------------------------------------------------------------------------

def period_last_day(start: date, days: int) -> date:
    """The last day of a period of `days` days counted from the day after `start` (Art. 201),
    moved past statutory holidays (Art. 203)."""
    return next_working_day(start + timedelta(days=days))


def period_end(start: datetime, days: int) -> datetime:
    """24:00 Asia/Shanghai of the last day of a `days`-day period that begins after `start`."""
    return end_of_day(period_last_day(local_day(start), days))


def add_years(day: date, years: int) -> date:
    """The corresponding day `years` later; 29 February becomes 28 February (Art. 202)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year: the month's last day
        return day.replace(year=day.year + years, day=28)


def year_period_last_day(start: date) -> date:
    """The last day of a one-year period from `start` (Art. 201-203): the corresponding day a
    year later, moved past statutory holidays. E.g. Art. 280's revocation period."""
    return next_working_day(add_years(start, 1))
