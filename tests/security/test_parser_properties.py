"""Hypothesis against the roster parser: any rows give a clean roster or row errors, never a crash.

Random rows mix odd decimals, blank cells, full-width digits, duplicated rooms, very long names,
formula text and junk; a valid roster written to CSV or XLSX parses back to the same units,
areas and owners.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.errors import DomainError
from app.roster import importer as imp
from app.roster.models import UnitStatus

CJK = re.compile(r"[\u4e00-\u9fff]")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def resident_id(seq: int) -> str:
    first17 = f"11010519800101{seq % 1000:03d}"
    return first17 + imp.resident_id_check_char(first17)


# --- random rows -------------------------------------------------------------------------------

# Text an XLSX cell can hold (XML 1.0 has no control characters).
xml_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)
any_text = st.text(max_size=20)  # NUL, CR, LF...: the XLSX writer drops what XML cannot hold
areas = st.one_of(
    st.decimals(min_value=-10, max_value=10**6, places=3, allow_nan=False).map(str),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-5, max_value=10**9),
    st.sampled_from(["89.12", "８９.１２", "89.1", "89.123", "1e3", "1E+05", "-5", "0", "0.00",
                     "", "  ", "abc", "89.12m2", "89,12", "89.12平方米", "٨٩"]),
)
rooms = st.one_of(st.sampled_from(["101", "102", "１０１", " 101 ", "B1-001", "", "+cmd|x!A0"]),
                  xml_text, any_text)
buildings = st.one_of(st.sampled_from(["1栋", "１栋", "2号楼", "", "=1+1"]), xml_text, any_text)
names = st.one_of(
    st.sampled_from(["张三", "李四；王五", "", "=cmd|' /C calc'!A0", "；", "张三；张三"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=90, max_size=130),
    xml_text,
    any_text,
)
ids = st.one_of(st.integers(0, 999).map(resident_id),
                st.sampled_from(["", "110105198001010010", "1.10105E+17", "91110000600037341L"]),
                xml_text)
phones = st.one_of(st.sampled_from(["13912340001", "１３９１２３４０００２", "", "12345",
                                    "+86 139 1234 0003", "13912340001；13912340002"]), xml_text)
choices = {
    imp.COL_AREA_SOURCE: st.sampled_from(["", "不动产登记", "测绘", "合同", "估算"]),
    imp.COL_USAGE: st.sampled_from(["", "住宅", "商业", "车位", "别墅"]),
    imp.COL_STATUS: st.sampled_from(["", "已交付", "未售", "已售未交付", "空置"]),
    imp.COL_OWNER_KIND: st.sampled_from(["", "个人", "单位", "个人；单位", "公司"]),
}
row_strategy = st.fixed_dictionaries({
    imp.COL_BUILDING: buildings, imp.COL_ENTRANCE: st.sampled_from(["", "1", "1单元", "２"]),
    imp.COL_ROOM: rooms, imp.COL_AREA: areas, imp.COL_OWNER_NAME: names,
    imp.COL_ID_NUMBER: ids, imp.COL_PHONE: phones, **choices,
})
tables = st.lists(row_strategy, max_size=10)


def to_csv(header: Sequence[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def to_xlsx(header: Sequence[str], rows: list[list[Any]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append(list(header))
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def check_outcome(content: bytes, name: str, rows: list[dict[str, Any]]) -> None:
    """Either a clean roster that respects the rules, or refusals that name rows and columns."""
    try:
        roster = imp.parse_roster(content, name)
    except imp.RosterInvalid as exc:
        assert exc.errors and exc.status == 422
        assert CJK.search(exc.message)
        for error in exc.errors:
            assert 1 <= error.row <= max(len(rows) + 1, 2)
            assert error.column in (*imp.COLUMNS, "")
            assert CJK.search(error.message), error
        return
    except DomainError as exc:  # the file as a whole (e.g. NUL bytes, rows out of range)
        assert 400 <= exc.status < 500 and exc.code.startswith("roster_")
        assert CJK.search(exc.message)
        return
    keys = [r.unit_key for r in roster.rows]
    assert len(keys) == len(set(keys))
    assert len(roster.rows) <= len(rows)
    for r in roster.rows:
        assert 0 < r.area_hundredths <= imp.MAX_AREA_HUNDREDTHS
        assert r.building and r.room and r.room.strip() == r.room
        assert not imp.looks_like_formula(r.room) and not imp.looks_like_formula(r.building)
        assert all(k in roster.owners for k in r.owner_keys)
        assert (r.status == UnitStatus.UNSOLD) <= (not r.owner_keys)
        assert (r.status == UnitStatus.DELIVERED) <= bool(r.owner_keys)
    for owner in roster.owners.values():
        assert owner.name and len(owner.name) <= 100 and not imp.looks_like_formula(owner.name)
        assert owner.id_hash or owner.phone
        assert owner.phone is None or re.fullmatch(r"1\d{10}", owner.phone)


@FAST
@given(tables)
def test_random_csv_rows_give_a_roster_or_row_errors(rows: list[dict[str, Any]]) -> None:
    cells = [[str(r[c]) if r[c] is not None else "" for c in imp.COLUMNS] for r in rows]
    check_outcome(to_csv(imp.COLUMNS, cells), "名册.csv", rows)


@SLOW
@given(tables)
def test_random_xlsx_rows_give_a_roster_or_row_errors(rows: list[dict[str, Any]]) -> None:
    cells = [[r[c] for c in imp.COLUMNS] for r in rows]  # numbers stay numeric cells
    check_outcome(to_xlsx(imp.COLUMNS, cells), "名册.xlsx", rows)


@FAST
@given(st.lists(st.lists(xml_text, max_size=6), max_size=6),
       st.sampled_from(["名册.csv", "名册.xlsx"]))
def test_any_grid_of_text_is_refused_cleanly(grid: list[list[str]], name: str) -> None:
    """Not even a roster header: a 4xx with a Chinese message, never an exception."""
    header = grid[0] if grid else []
    content = (to_csv if name.endswith(".csv") else to_xlsx)(header, grid[1:])
    check_outcome(content, name, [{}] * max(len(grid) - 1, 0))


def typed_amount(value: Any) -> Decimal:
    """The amount a cell holds, read the way a person would."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int | Decimal):
        return Decimal(value)
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
    return Decimal(text.removesuffix("m2").removesuffix("平方米"))


@FAST
@given(st.one_of(st.text(max_size=30), st.floats(), st.integers(), st.decimals(allow_nan=True),
                 st.decimals(places=2, min_value=0, max_value=10**6).map(str)))
def test_parse_area_returns_exact_hundredths_or_a_chinese_refusal(value: Any) -> None:
    try:
        hundredths = imp.parse_area(value)
    except ValueError as exc:
        assert CJK.search(str(exc))
        return
    assert 0 < hundredths <= imp.MAX_AREA_HUNDREDTHS
    assert Decimal(hundredths) / 100 == typed_amount(value)


@FAST
@given(st.integers(min_value=1, max_value=imp.MAX_AREA_HUNDREDTHS))
def test_every_area_with_two_decimals_reads_back_exactly(hundredths: int) -> None:
    text = f"{hundredths // 100}.{hundredths % 100:02d}"
    assert imp.parse_area(text) == hundredths
    assert imp.parse_area(text.translate(FULL_WIDTH)) == hundredths
    assert imp.parse_area(float(text)) == hundredths  # a numeric XLSX cell
    assert imp.parse_area(Decimal(text)) == hundredths


# --- round trip --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str | None
    phone: str


@dataclass(frozen=True)
class UnitRow:
    building: str
    entrance: str
    room: str
    area: int
    status: UnitStatus
    owners: tuple[Person, ...]
    full_width: bool


@st.composite
def people(draw: st.DrawFn) -> list[Person]:
    count = draw(st.integers(1, 6))
    out = []
    for i in range(count):
        has_id = draw(st.booleans())
        surname = draw(st.sampled_from("张王李赵陈刘杨黄"))
        given_name = draw(st.text(alphabet="伟芳娜敏静丽强磊军洋", min_size=1, max_size=3))
        out.append(Person(name=f"{surname}{given_name}{i}",
                          id_number=resident_id(i) if has_id else None,
                          phone=f"139{i:08d}"))
    return out


@st.composite
def valid_rosters(draw: st.DrawFn) -> list[UnitRow]:
    pool = draw(people())
    keys = draw(st.lists(
        st.tuples(st.sampled_from(["1栋", "2栋", "3号楼", "商业楼"]), st.sampled_from(["", "1", "2"]),
                  st.integers(101, 3099).map(str)),
        min_size=1, max_size=15, unique=True))
    rows = []
    for building, entrance, room in keys:
        status = draw(st.sampled_from(list(UnitStatus)))
        if status == UnitStatus.UNSOLD:
            owners: tuple[Person, ...] = ()
        else:
            low = 1 if status == UnitStatus.DELIVERED else 0
            picked = draw(st.lists(st.sampled_from(pool), min_size=low, max_size=2, unique=True))
            owners = tuple(picked)
        rows.append(UnitRow(building, entrance, room,
                            draw(st.integers(1, imp.MAX_AREA_HUNDREDTHS)), status, owners,
                            draw(st.booleans())))
    return rows


def roster_cells(rows: list[UnitRow], *, numeric_area: bool) -> list[list[Any]]:
    labels = {v: k for k, v in imp.STATUSES.items()}
    out = []
    for r in rows:
        area_text = f"{r.area // 100}.{r.area % 100:02d}"
        all_ids = all(p.id_number for p in r.owners)  # else the column stays empty on this row
        room = r.room.translate(FULL_WIDTH) if r.full_width else r.room
        out.append([
            r.building, r.entrance, room, float(area_text) if numeric_area else area_text, "",
            "", labels[r.status], "", "；".join(p.name for p in r.owners),
            "；".join(p.id_number or "" for p in r.owners) if all_ids else "",
            "；".join(p.phone for p in r.owners),
        ])
    return out


def check_round_trip(rows: list[UnitRow], roster: imp.ValidatedRoster) -> None:
    parsed = {r.unit_key: r for r in roster.rows}
    assert set(parsed) == {(r.building, r.entrance, r.room) for r in rows}
    for r in rows:
        got = parsed[(r.building, r.entrance, r.room)]
        assert (got.area_hundredths, got.status) == (r.area, r.status)
        owners = [roster.owners[k] for k in got.owner_keys]
        assert sorted(o.name for o in owners) == sorted(p.name for p in r.owners)
    assert sum(r.area_hundredths for r in roster.rows) == sum(r.area for r in rows)
    # One person owning several units is one owner.
    assert len({o.name for o in roster.owners.values()}) == len(roster.owners)


@FAST
@given(valid_rosters())
def test_a_valid_roster_written_to_csv_reads_back_the_same(rows: list[UnitRow]) -> None:
    content = to_csv(imp.COLUMNS, roster_cells(rows, numeric_area=False))
    check_round_trip(rows, imp.parse_roster(content, "名册.csv"))


@SLOW
@given(valid_rosters(), st.booleans())
def test_a_valid_roster_written_to_xlsx_reads_back_the_same(rows: list[UnitRow],
                                                           numeric: bool) -> None:
    content = to_xlsx(imp.COLUMNS, roster_cells(rows, numeric_area=numeric))
    check_round_trip(rows, imp.parse_roster(content, "名册.xlsx"))


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_a_valid_roster_in_gbk_reads_back_the_same(encoding: str) -> None:
    person = Person("张伟", resident_id(7), "13900000007")
    rows = [UnitRow("1栋", "1", "101", 8912, UnitStatus.DELIVERED, (person,), False),
            UnitRow("1栋", "1", "102", 12050, UnitStatus.DELIVERED, (person,), True)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([list(imp.COLUMNS), *roster_cells(rows, numeric_area=False)])
    check_round_trip(rows, imp.parse_roster(buffer.getvalue().encode(encoding), "名册.csv"))
