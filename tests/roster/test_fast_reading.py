"""Issue 17: rosters are read by python-calamine, legacy .xls included, and never handed to it
in a shape that would make it allocate without bound (it aborts the process when that fails)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import pytest
import xlwt
from openpyxl import Workbook

from app import spreadsheets
from app.roster import importer
from app.roster.importer import COLUMNS, RosterFileRejected
from tests.roster.test_import import ident, row, xlsx_bytes


def xls_bytes(rows: list[list[Any]], *, notes_first: bool = False) -> bytes:
    """A legacy Excel 97–2003 workbook, as WPS and older Excel still save rosters."""
    book = xlwt.Workbook(encoding="utf-8")
    if notes_first:
        book.add_sheet("说明").write(0, 0, "这一页不是名册")
    target = book.add_sheet("名册")
    for c, name in enumerate(COLUMNS):
        target.write(0, c, name)
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values):
            if value is not None and value != "":
                target.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS = [
    row(room="101", area=89.12, phone=13800000001),
    row(room="102", area="120.50", id_number=ident(2), phone="13800000002"),
    row(room=103, area=95, id_number=ident(3), phone="13800000003"),
]


@pytest.fixture
def readers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which reader each workbook went to."""
    used: list[str] = []
    calamine, openpyxl_rows = spreadsheets._calamine_rows, spreadsheets._openpyxl_rows
    monkeypatch.setattr(spreadsheets, "_calamine_rows",
                        lambda *a: used.append("calamine") or calamine(*a))
    monkeypatch.setattr(spreadsheets, "_openpyxl_rows",
                        lambda *a: used.append("openpyxl") or openpyxl_rows(*a))
    return used


def _summary(roster: importer.ValidatedRoster) -> list[tuple[Any, ...]]:
    return [(r.row, r.room, r.area_hundredths, tuple(roster.owners[k].phone for k in r.owner_keys))
            for r in roster.rows]


def test_an_xls_roster_reads_the_same_as_the_xlsx(readers: list[str]) -> None:
    from_xls = importer.parse_roster(xls_bytes(ROWS), "名册.xls")
    from_xlsx = importer.parse_roster(xlsx_bytes(ROWS), "名册.xlsx")
    assert _summary(from_xls) == _summary(from_xlsx) == [
        (2, "101", 8912, ("13800000001",)), (3, "102", 12050, ("13800000002",)),
        (4, "103", 9500, ("13800000003",))]
    assert readers == ["calamine", "calamine"]


def test_an_xls_is_read_from_its_roster_sheet_and_reports_its_own_row_numbers() -> None:
    rows = [*ROWS, [""] * len(COLUMNS), row(room="105", area="-3", id_number=ident(5),
                                             phone="13800000005")]
    with pytest.raises(importer.RosterInvalid) as caught:
        importer.parse_roster(xls_bytes(rows, notes_first=True), "名册.xls")
    assert [(e.row, e.column) for e in caught.value.errors] == [(6, "专有面积（㎡）")]
    assert len(importer.parse_roster(xls_bytes(ROWS, notes_first=True), "a.xls").rows) == 3


def test_an_xlsx_saved_under_an_xls_name_is_read(readers: list[str]) -> None:
    assert len(importer.parse_roster(xlsx_bytes(ROWS), "名册.xls").rows) == 3
    assert readers == ["calamine"]


def test_an_id_typed_as_a_number_is_still_refused_from_xls_and_xlsx() -> None:
    rows = [row(room="101", id_number=110105196001010011.0)]  # type: ignore[arg-type]
    for content, name in ((xls_bytes(rows), "名册.xls"), (xlsx_bytes(rows), "名册.xlsx")):
        with pytest.raises(importer.RosterInvalid) as caught:
            importer.parse_roster(content, name)
        assert [e.column for e in caught.value.errors] == ["证件号码"], name


def _workbook_with_sheet(sheet_data: str) -> bytes:
    """A minimal .xlsx whose only sheet has this <sheetData> content."""
    base = io.BytesIO()
    wb = Workbook()
    wb.active.title = "名册"
    wb.save(base)
    source = zipfile.ZipFile(io.BytesIO(base.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<sheetData\s*/>|<sheetData>.*</sheetData>",
                              f"<sheetData>{sheet_data}</sheetData>".encode(), data, flags=re.S)
            target.writestr(info.filename, data)
    return out.getvalue()


def test_a_sheet_spanning_the_whole_grid_never_reaches_calamine(readers: list[str]) -> None:
    # Two cells, 2 KB: calamine would allocate 1,048,576 x 16,384 cells and abort the process.
    corners = _workbook_with_sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>楼栋</t></is></c></row>'
                                   '<row r="1048576"><c r="XFD1048576"><v>2</v></c></row>')
    assert len(corners) < 10_000
    with pytest.raises(RosterFileRejected) as caught:
        importer.read_table(corners, "名册.xlsx")
    assert caught.value.code == "roster_too_many_rows"
    assert readers == ["openpyxl"]


def test_cells_without_their_own_reference_go_to_the_streaming_reader(readers: list[str]) -> None:
    # A cell's place then depends on the cells before it: 16,383 empty cells, then a value.
    wide = _workbook_with_sheet('<row r="1"><c r="A1" t="inlineStr"><is><t>楼栋</t></is></c></row>'
                                "<row>" + "<c/>" * 16_383 + "<c><v>1</v></c></row>")
    with pytest.raises(RosterFileRejected) as caught:
        importer.read_table(wide, "名册.xlsx")
    assert caught.value.code == "roster_too_many_columns"
    assert readers == ["openpyxl"]


@pytest.mark.parametrize(("sheet", "cells"), [
    ('<row r="1"><c r="A1"><v>1</v></c></row>', 99_999 * 11),
    ('<row r="1"><c r="Z1"><v>1</v></c><c r="B150000"><v>1</v></c></row>', 199_999 * 26),
    ('<row r="1"><c r="AB1"><v>1</v></c></row>', 99_999 * 702),
    ('<row r="1"><c r="A1048576"><v>1</v></c></row>', 1_048_576 * 11),
    ('<row r="1"><c r="A1"><v>1</v></c><c><v>2</v></c></row>', spreadsheets.MAX_DENSE_CELLS + 1),
    ('<row r="1"><x:c r="A1"><v>1</v></x:c></row>', spreadsheets.MAX_DENSE_CELLS + 1),
    ('<row r="1"><c\nr="A1"><v>1</v></c></row>', spreadsheets.MAX_DENSE_CELLS + 1),
    ("<row/>", 0),
])
def test_the_grid_bound_is_never_below_what_calamine_allocates(sheet: str, cells: int) -> None:
    assert spreadsheets._dense_cells(sheet.encode()) == cells


def test_formulas_are_read_as_their_cached_values_and_never_evaluated(readers: list[str]) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "名册"
    ws.append(list(COLUMNS))
    ws.append(row(room="101"))
    ws["C2"] = "=1+1"  # openpyxl writes a formula without a cached value
    out = io.BytesIO()
    wb.save(out)
    rows = importer.read_table(out.getvalue(), "名册.xlsx").rows
    assert rows[0][1][2] in ("", None)  # no cached value: nothing is computed
    assert readers == ["calamine"]
