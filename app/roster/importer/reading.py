"""Reading a roster file (XLSX/XLS/CSV) into rows, through the shared `app.spreadsheets` readers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

from app import spreadsheets
from app.roster.importer.columns import (
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    MAX_XLSX_EXPANDED_BYTES,
    RosterFileRejected,
)
from app.spreadsheets import FORMULA_MESSAGE, looks_like_formula

__all__ = ["FORMULA_MESSAGE", "RawTable", "looks_like_formula", "read_limited", "read_table"]

ROSTER_SHEET = "名册"  # the template's sheet; other workbooks are read from their first sheet


@dataclass
class RawTable:
    """The first sheet (or the CSV) as header cells and non-blank rows with their row numbers."""

    header: list[Any]
    rows: list[tuple[int, list[Any]]]


def _rejected(problem: spreadsheets.SpreadsheetRejected) -> RosterFileRejected:
    message = problem.message
    if problem.reason == "type":
        message = "仅支持 .xlsx、.xls 或 .csv 格式的名册文件，请使用名册模板填写"
    elif problem.reason == "too_large" and "压缩炸弹" not in message:
        message += "，请删除无关的工作表或内容后重试"
    return RosterFileRejected(message, code=f"roster_file_{problem.reason}", status=problem.status)


def read_limited(stream: BinaryIO, *, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read an upload, refusing it when it is larger than the limit."""
    try:
        return spreadsheets.read_limited(stream, limit=limit)
    except spreadsheets.SpreadsheetRejected as problem:
        raise _rejected(problem) from problem


def read_table(content: bytes, file_name: str) -> RawTable:
    """Read an .xlsx, .xls or .csv roster into rows of cell values."""
    try:
        spreadsheets.check_size(content, limit=MAX_UPLOAD_BYTES)
        kind = spreadsheets.sniff(content, file_name)
        rows: Iterator[Sequence[Any]]
        if kind == "xlsx":
            rows = spreadsheets.xlsx_rows(content, max_expanded_bytes=MAX_XLSX_EXPANDED_BYTES,
                                          sheet_name=ROSTER_SHEET)
        elif kind == "xls":
            rows = spreadsheets.xls_rows(content, sheet_name=ROSTER_SHEET)
        else:
            rows = spreadsheets.csv_rows(content, allow_tabs=True)
        try:
            return _collect(enumerate(rows, start=1))
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # the workbook closes with its reader, also when a limit stops us early
    except spreadsheets.SpreadsheetRejected as problem:
        raise _rejected(problem) from problem


def _too_many_rows() -> RosterFileRejected:
    return RosterFileRejected(
        f"名册超过 {MAX_ROWS} 行的上限，请联系平台管理员", code="roster_too_many_rows"
    )


def _collect(numbered: Iterable[tuple[int, Sequence[Any]]]) -> RawTable:
    header: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, values in numbered:
        if header is None:
            header = list(values)  # the header is row 1, whatever it holds
            continue
        if number > 2 * MAX_ROWS + 1:  # bounds the work on files padded with empty rows
            raise _too_many_rows()
        if len(values) > MAX_COLUMNS and not spreadsheets.is_blank(values[MAX_COLUMNS:]):
            raise RosterFileRejected(
                f"第{number}行超过 {MAX_COLUMNS} 列，请删除多余的列后重试", code="roster_too_many_columns"
            )
        if spreadsheets.is_blank(values):
            continue
        rows.append((number, list(values)))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    return RawTable(header=header or [], rows=rows)
