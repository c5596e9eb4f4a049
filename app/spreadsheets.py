"""Spreadsheets in and out, safely: bounded reading of XLSX/XLS/CSV uploads, formula neutralizing.

Every importer (roster, ledger) reads uploads through here and every XLSX export passes its
sheets through `neutralize_formulas`, so the limits and the formula rule are written once.
Problems are raised as `SpreadsheetRejected` with a `reason`; the importing domain turns it
into its own error code (roster_file_…, ledger_import_…), which the API has always returned.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import PurePath
from typing import Any, BinaryIO, Literal

Reason = Literal["too_large", "empty", "type", "unreadable", "encoding"]
Kind = Literal["xlsx", "xls", "csv"]

# A cell a spreadsheet would evaluate: "=…", "@…", or a sign followed by formula syntax
# (a plain "-12.5" or "+86 138…" stays data).
_FORMULA = re.compile(r"^(?:[=@]|[+-].*[=(|!@])", re.DOTALL)
FORMULA_MESSAGE = "内容不能以 =、+、-、@ 开头（会被电子表格当作公式执行），请删除开头的符号"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNREADABLE_XLSX = "无法读取该 .xlsx 文件，请确认文件未损坏，或在 Excel 中另存为新文件后重试"
_UNREADABLE_XLS = "无法读取该 .xls 文件，请确认文件未损坏，或在 Excel 中另存为 .xlsx 后重试"
# python-calamine (Rust) reads a sheet into one dense grid from its first to its last cell, and a
# failed allocation aborts the process: a 2 KB file with cells at A1 and XFD1048576 asks for
# 550 GB. A workbook is given to it only when every cell of every part carries its own reference
# (`<c r="B7"`) and the grid those references can span stays under this many cells (32 bytes
# each: about 200 MB); any other workbook is read by openpyxl, which streams it row by row.
MAX_DENSE_CELLS = 6_000_000
# A cell without a reference, or a prefixed one (not counted below): two patterns, each led by
# its literal, which the regex engine finds far faster than the alternation of both.
_UNREFERENCED_CELL = (re.compile(rb"<c[>/\t\n\r]"), re.compile(rb":c[\s>/]"))
# (a reference beyond the bound exists, the bound when none does), widest last; C-speed scans.
_ROW_BOUNDS = ((re.compile(rb'<c r="[A-Z]{1,3}[0-9]{6}'), 99_999),
               (re.compile(rb'<c r="[A-Z]{1,3}(?:[2-9][0-9]{5}|[0-9]{7})'), 199_999),
               (None, 1_048_576))
_COLUMN_BOUNDS = ((re.compile(rb'<c r="(?:[L-Z]|[A-Z]{2})'), 11),
                  (re.compile(rb'<c r="[A-Z]{2}'), 26),
                  (re.compile(rb'<c r="[A-Z]{3}'), 702),
                  (None, 16_384))
# No reference beyond the narrowest bounds (row 99,999, column K): the usual roster, told in
# one scan instead of one per bound.
_BEYOND_NARROWEST = re.compile(rb'<c r="(?:[A-Z]{1,3}[0-9]{6}|[L-Z]|[A-Z]{2})')


class SpreadsheetRejected(Exception):
    """An upload that cannot be read as a spreadsheet; `message` is for the user (Chinese)."""

    def __init__(self, reason: Reason, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message
        self.status = status


# --- writing ---------------------------------------------------------------------------------


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet opening this text would evaluate it (CSV/formula injection)."""
    return bool(_FORMULA.match(unicodedata.normalize("NFKC", text).lstrip()))


# Control characters (a stored name or text can carry one) cannot be written into a worksheet:
# openpyxl refuses them, so an export would fail on one stray byte. They are dropped.
_ILLEGAL_IN_SHEET = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def sheet_row(values: Iterable[Any]) -> list[Any]:
    """One row to append to a worksheet: text without the control characters a sheet refuses."""
    return [_ILLEGAL_IN_SHEET.sub("", v) if isinstance(v, str) else v for v in values]


def neutralize_formulas(*sheets: Any) -> None:
    """Store every text cell of these openpyxl worksheets as text, never as a formula.

    openpyxl takes any string starting with "=" as a formula; an export of user-entered text
    (labels, counterparties, descriptions) must not run in the reader's spreadsheet.
    """
    for sheet in sheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


# --- reading ---------------------------------------------------------------------------------


def _megabytes(limit: int) -> int:
    return limit // (1024 * 1024)


def read_limited(stream: BinaryIO, *, limit: int, advice: str = "") -> bytes:
    """Read an upload, refusing it when it is larger than the limit (HTTP 413)."""
    data = stream.read(limit + 1)
    check_size(data, limit=limit, advice=advice)
    return data


def check_size(content: bytes, *, limit: int, advice: str = "") -> None:
    if len(content) > limit:
        raise SpreadsheetRejected("too_large", f"文件超过 {_megabytes(limit)} MB 上限{advice}", 413)


def is_zip(content: bytes) -> bool:
    """An XLSX (or any other zip container)."""
    return content[:4] == _ZIP_MAGIC


def is_ole(content: bytes) -> bool:
    """A legacy Office file (.xls)."""
    return content[:8] == _OLE_MAGIC


def sniff(content: bytes, file_name: str) -> Kind:
    """Which reader an upload needs, judged by its name and checked against its first bytes.

    An .xls from WPS or an older Excel (a legacy OLE file) is read too; an .xlsx saved under an
    .xls name (WPS does that) is read as what it is.
    """
    if not content:
        raise SpreadsheetRejected("empty", "文件为空")
    suffix = PurePath(file_name or "").suffix.lower()
    if suffix == ".xls" or (is_ole(content) and suffix != ".xlsx"):
        if is_zip(content):
            return "xlsx"
        if not is_ole(content):
            raise SpreadsheetRejected("unreadable", "文件不是有效的 .xls 工作簿")
        return "xls"
    if suffix in (".xlsx", ".xlsm"):
        if not is_zip(content):
            raise SpreadsheetRejected("unreadable", "文件不是有效的 .xlsx 工作簿")
        return "xlsx"
    if suffix in (".csv", ".txt"):
        if is_zip(content) or is_ole(content):
            raise SpreadsheetRejected("unreadable", "文件内容不是 CSV 文本，请确认文件格式")
        return "csv"
    raise SpreadsheetRejected("type", "仅支持 .xlsx、.xls 或 .csv 格式的文件", 415)


def decode_text(content: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030 (which includes GBK and GB2312)."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpreadsheetRejected("encoding", "文件编码有误：声明为 UTF-8 但内容无法解码") from exc
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetRejected(
        "encoding", "无法识别文件编码，请将 CSV 保存为 UTF-8 或 GB18030（GBK）编码")


def csv_rows(content: bytes, *, allow_tabs: bool = False) -> Iterator[list[str]]:
    """The rows of a CSV upload, read lazily; tab-separated too when `allow_tabs`."""
    text = decode_text(content)
    if "\x00" in text:
        raise SpreadsheetRejected(
            "unreadable", "文件中含有空字符（NUL），不是有效的 CSV 文本，请在 Excel 中另存为 CSV 后重试")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if allow_tabs and "\t" in first_line and "," not in first_line else ","
    return _checked(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _checked(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise SpreadsheetRejected("unreadable", f"CSV 文件格式有误：{exc}") from exc


def xlsx_rows(
    content: bytes, *, max_expanded_bytes: int, sheet_name: str | None = None
) -> Iterator[Sequence[Any]]:
    """The cell values of one sheet (`sheet_name`, else the first), row by row, from row 1.

    The archive's expanded size is checked first (a zip bomb is refused before it is opened);
    formulas are read as their cached values, never evaluated. Sheets whose extent is known and
    bounded are read by python-calamine (fast); any other by openpyxl (streaming).
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = archive.infolist()
            expanded = sum(member.file_size for member in members)
            if expanded > max_expanded_bytes:
                raise SpreadsheetRejected(
                    "too_large",
                    f"该 .xlsx 文件解压后超过 {_megabytes(max_expanded_bytes)} MB（疑似压缩炸弹），"
                    "请删除无关的工作表或内容，或另存为 CSV 后重试", 413)
            bounded = all(
                # every part, not only xl/worksheets/: the workbook's relations may put a sheet
                # anywhere in the archive
                _dense_cells(archive.read(member)) <= MAX_DENSE_CELLS for member in members
            )
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise SpreadsheetRejected("unreadable", _UNREADABLE_XLSX) from exc
    if bounded:
        return _calamine_rows(content, sheet_name, _UNREADABLE_XLSX)
    return _openpyxl_rows(content, sheet_name)


def _dense_cells(part: bytes) -> int:
    """At least the size of the grid calamine would allocate for this part of the workbook, or
    more than the limit when some cell has no reference of its own (its place then depends on
    its neighbours)."""
    referenced = part.count(b'<c r="')
    if part.count(b"<c ") != referenced or any(p.search(part) for p in _UNREFERENCED_CELL):
        return MAX_DENSE_CELLS + 1
    if not referenced:
        return 0
    if not _BEYOND_NARROWEST.search(part):
        return _ROW_BOUNDS[0][1] * _COLUMN_BOUNDS[0][1]
    rows = next(bound for beyond, bound in _ROW_BOUNDS if beyond is None or not beyond.search(part))
    columns = next(bound for beyond, bound in _COLUMN_BOUNDS
                   if beyond is None or not beyond.search(part))
    return rows * columns


def xls_rows(content: bytes, *, sheet_name: str | None = None) -> Iterator[Sequence[Any]]:
    """The cell values of one sheet of a legacy .xls workbook, row by row, from row 1.

    The format caps a sheet at 65,536 rows by 256 columns, so its grid is bounded.
    """
    return _calamine_rows(content, sheet_name, _UNREADABLE_XLS)


def _calamine_rows(content: bytes, sheet_name: str | None, unreadable: str) -> Iterator[Sequence[Any]]:
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(content))
        try:
            sheet = (workbook.get_sheet_by_name(sheet_name) if sheet_name in workbook.sheet_names
                     else workbook.get_sheet_by_index(0))
            # From A1, so row and column numbers are the spreadsheet's own.
            grid = sheet.to_python(skip_empty_area=False)
        finally:
            workbook.close()
    except Exception as exc:  # calamine reports corrupt files with many exception types
        raise SpreadsheetRejected("unreadable", unreadable) from exc
    return (_plain_numbers(row) for row in grid)


def _plain_numbers(row: list[Any]) -> list[Any]:
    """Whole numbers as int, as openpyxl reads an integer cell (calamine gives every number as a
    float); beyond 15 digits a number stays a float (Excel has already lost digits there)."""
    for i, value in enumerate(row):
        if type(value) is float and value.is_integer() and abs(value) < 1e15:
            row[i] = int(value)
    return row


def _openpyxl_rows(content: bytes, sheet_name: str | None) -> Iterator[Sequence[Any]]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            # Files from other tools often lack styles; openpyxl warns, which is no error of theirs.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise SpreadsheetRejected("unreadable", _UNREADABLE_XLSX) from exc
    return _sheet_rows(workbook, sheet_name)


def _sheet_rows(workbook: Any, sheet_name: str | None) -> Iterator[Sequence[Any]]:
    try:
        sheet = (workbook[sheet_name] if sheet_name in workbook.sheetnames
                 else workbook.worksheets[0])
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = sheet.iter_rows(values_only=True)
            while True:
                try:
                    values = next(rows)
                except StopIteration:
                    return
                yield values
    except Exception as exc:  # corrupt sheet XML surfaces as many different exception types
        raise SpreadsheetRejected(
            "unreadable", "无法读取该 .xlsx 文件的工作表内容，请在 Excel 中另存为新文件后重试") from exc
    finally:
        workbook.close()


def is_blank(values: Iterable[Any]) -> bool:
    """A row with nothing but empty cells."""
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)
