"""The one way a time is written for people (server side; the front end's `shared/dates.js`
follows the same rules).

- Every moment is read in Asia/Shanghai and written `2026年12月10日 18:30`.
- An END (voting ends, an objection window ends, a deadline) that falls exactly at local midnight
  is written as the previous day at 24:00 (`2026年12月10日 24:00`), never `2026年12月11日 00:00`,
  because that is how people name the last day of a period; a START at midnight stays `00:00`.
- A date alone is `2026年12月10日`.
- The year may be left out (`12月10日 18:30`) only on screens and only in the current year;
  notices, PDFs and exports always carry it (the default).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from app.calendar import SHANGHAI, today


def _local(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetimes cannot be formatted: store and pass aware UTC datetimes")
    return value.astimezone(SHANGHAI)


def _day_text(day: date, *, with_year: bool) -> str:
    if not with_year and day.year == today().year:
        return f"{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def format_date(value: date | datetime) -> str:
    """2026年12月10日 (a datetime is read in Asia/Shanghai)."""
    day = _local(value).date() if isinstance(value, datetime) else value
    return _day_text(day, with_year=True)


def format_moment(value: datetime, *, end: bool = False, with_year: bool = True) -> str:
    """2026年12月10日 18:30 in Asia/Shanghai. With `end`, midnight is 24:00 of the day before
    (2026年12月10日 24:00). Without `with_year`, the year is left out in the current year only
    (screens only: notices, PDFs and exports keep the default)."""
    local = _local(value)
    at_midnight = (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    if end and at_midnight:
        return f"{_day_text(local.date() - timedelta(days=1), with_year=with_year)} 24:00"
    return f"{_day_text(local.date(), with_year=with_year)} {local.hour:02d}:{local.minute:02d}"


def format_period(start: datetime, end: datetime) -> str:
    """2026年12月3日 00:00 至 2026年12月10日 24:00: a start and an end, as the rules above say."""
    return f"{format_moment(start)} 至 {format_moment(end, end=True)}"
