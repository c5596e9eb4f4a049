"""The one way a time is written (app/timefmt.py), on the table of cases the front end shares,
and a scan of app/ for dates or times written by hand elsewhere."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from app import clock, timefmt

CASES = json.loads((Path(__file__).parent / "timefmt_cases.json").read_text(encoding="utf-8"))
APP = Path(__file__).resolve().parent.parent / "app"


@pytest.fixture(autouse=True)
def _today() -> Any:
    day = date.fromisoformat(CASES["today"])
    clock.set_now(lambda: datetime(day.year, day.month, day.day, 4, tzinfo=UTC))
    yield
    clock.set_now(None)


@pytest.mark.parametrize("case", CASES["moments"], ids=lambda c: c["case"])
def test_moments(case: dict[str, Any]) -> None:
    value = datetime.fromisoformat(case["iso"])
    assert timefmt.format_moment(value, end=case["end"], with_year=case["with_year"]) == case["text"]


@pytest.mark.parametrize("case", CASES["dates"], ids=lambda c: c["case"])
def test_dates(case: dict[str, Any]) -> None:
    text = case["iso"]
    value: date | datetime = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    assert timefmt.format_date(value) == case["text"]


def test_a_period_reads_start_to_end() -> None:
    start = datetime.fromisoformat("2026-12-03T00:00:00+08:00")
    end = datetime.fromisoformat("2026-12-11T00:00:00+08:00")
    assert timefmt.format_period(start, end) == "2026年12月3日 00:00 至 2026年12月10日 24:00"


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError):
        timefmt.format_moment(datetime(2026, 12, 10, 12, 0))


def test_the_table_holds_the_shared_cases() -> None:
    names = " ".join(c["case"] for c in CASES["moments"])
    for needed in ("midnight end", "midnight start", "noon", "year boundary"):
        assert needed in names


# --- nobody else writes dates or times by hand ------------------------------------------------

# What a hand-written date or time looks like in Python source: strftime, a day built from parts
# (…月{…}日, {….day}日), a clock built from parts ({….hour…}:{….minute…}), or an ISO date
# spliced into Chinese text (a line with Chinese and `.isoformat()` in one f-string).
AD_HOC = [
    re.compile(r"strftime\("),
    re.compile(r"月\{[^}]*\}日"),
    re.compile(r"\{[^}]*\.day\}日"),
    re.compile(r"\{[^}]*hour[^}]*\}:\{[^}]*minute"),
    re.compile(r"f\"[^\"]*[\u4e00-\u9fff][^\"]*\{[^}]*isoformat\(\)[^}]*\}"),
    re.compile(r"f\"[^\"]*\{[^}]*isoformat\(\)[^}]*\}[^\"]*[\u4e00-\u9fff]"),
]


# Machine formats, never read as text by people: the audit chain's canonical UTC timestamps and
# the sortable names of backup folders (retention reads them back).
MACHINE_FORMATS = {"app/audit/canonical.py", "app/ops/backup.py"}


def test_no_date_or_time_is_written_by_hand_outside_timefmt() -> None:
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        name = str(path.relative_to(APP.parent))
        if name == "app/timefmt.py" or name in MACHINE_FORMATS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(p.search(line) for p in AD_HOC):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert not offenders, "write times with app.timefmt:\n" + "\n".join(offenders)


def test_the_scan_catches_what_it_looks_for() -> None:
    samples = ['f"{d.year}年{d.month}月{d.day}日"', 'when.strftime("%H:%M")',
               'f"{t.hour:02d}:{t.minute:02d}"', 'f"截至{day.isoformat()}"']
    assert all(any(p.search(s) for p in AD_HOC) for s in samples)
