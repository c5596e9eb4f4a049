"""One spreadsheet module for every import and export; the roster importer split by job (issue 12)."""

from __future__ import annotations

import ast
import io
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from app import spreadsheets
from app.ledger import importer as ledger_importer
from app.ledger.exceptions import ImportInvalid
from app.roster import importer

APP = Path(__file__).resolve().parents[2] / "app"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_ledger_reads_uploads_through_the_shared_module_not_the_rosters() -> None:
    used = _imports(APP / "ledger" / "importer.py")
    assert "app.spreadsheets" in used or "app" in used
    assert not any(m.startswith("app.roster") for m in used)
    assert ledger_importer.looks_like_formula is importer.looks_like_formula is spreadsheets.looks_like_formula


def test_pure_jobs_of_the_roster_import_touch_no_database() -> None:
    for job in ("columns", "reading", "parsing", "planning"):
        used = _imports(APP / "roster" / "importer" / f"{job}.py")
        assert not used & {"sqlalchemy", "sqlmodel", "app.db", "app.roster.service"}, job


def test_formula_cells_of_an_export_stay_text() -> None:
    wb = Workbook()
    ws = wb.active
    ws.append(["=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)", "plain", 12])
    spreadsheets.neutralize_formulas(ws)
    buffer = io.BytesIO()
    wb.save(buffer)
    cells = next(load_workbook(io.BytesIO(buffer.getvalue())).active.iter_rows(values_only=True))
    assert cells == ("=HYPERLINK(\"http://x\",\"y\")", "@SUM(A1)", "plain", 12)
    reread = load_workbook(io.BytesIO(buffer.getvalue())).active
    assert [c.data_type for c in reread[1]] == ["s", "s", "s", "n"]


def test_one_reader_one_set_of_reasons_each_domain_its_own_codes() -> None:
    bad_encoding = b"\xef\xbb\xbf\xff\xfe"  # a UTF-8 BOM, then no UTF-8
    with pytest.raises(spreadsheets.SpreadsheetRejected) as caught:
        list(spreadsheets.csv_rows(bad_encoding))
    assert caught.value.reason == "encoding"
    with pytest.raises(importer.RosterFileRejected) as roster_error:
        importer.read_table(bad_encoding, "a.csv")
    assert roster_error.value.code == "roster_file_encoding"
    with pytest.raises(ImportInvalid) as ledger_error:
        ledger_importer.parse_csv(bad_encoding + b"\n", today=date(2026, 1, 1))
    assert ledger_error.value.code == "ledger_import_encoding"
    assert spreadsheets.decode_text("日期".encode("gb18030")) == "日期"
    with pytest.raises(spreadsheets.SpreadsheetRejected) as caught:
        list(spreadsheets.csv_rows(b"a,b\x00\n"))
    assert caught.value.reason == "unreadable"
    assert [r for r in spreadsheets.csv_rows("楼栋\t房号\n1栋\t101\n".encode(), allow_tabs=True)] == [
        ["楼栋", "房号"], ["1栋", "101"]]
