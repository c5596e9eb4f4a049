"""Limits, columns and their values, and the import's errors (pure)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.errors import Conflict, DomainError, NotFound
from app.roster.models import (
    AreaSource,
    OwnerKind,
    UnitStatus,
)

# --- limits ------------------------------------------------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 100  # the template has 11; a sheet filled out to column XFD is refused at once
# The XML inside an .xlsx, as its zip directory declares it (zipfile never inflates past that):
# a legitimate 100,000-row roster is about 60 MB; a zip bomb is refused before it is parsed.
MAX_XLSX_EXPANDED_BYTES = 128 * 1024 * 1024
MAX_AREA_HUNDREDTHS = 10_000_000  # 100,000 m² for one unit is already implausible
MAX_TOTAL_AREA_HUNDREDTHS = 2**31 - 1  # subject areas are 32-bit integers in PostgreSQL
DIFF_LIST_LIMIT = 1000  # entries listed per diff section; the counts are always exact
_CHUNK = 5000  # ids per IN (...) list: SQLite and psycopg cap bound parameters per statement
_ROWS_FORMAT = 2  # the stored preview rows (importer/previews.py)

# --- columns and values ------------------------------------------------------------------------

COL_BUILDING = "楼栋"
COL_ENTRANCE = "单元"
COL_ROOM = "房号"
COL_AREA = "专有面积（㎡）"
COL_AREA_SOURCE = "面积来源"
COL_USAGE = "用途"
COL_STATUS = "状态"
COL_OWNER_KIND = "业主类型"
COL_OWNER_NAME = "业主姓名"
COL_ID_NUMBER = "证件号码"
COL_PHONE = "手机号"

COLUMNS: tuple[str, ...] = (
    COL_BUILDING, COL_ENTRANCE, COL_ROOM, COL_AREA, COL_AREA_SOURCE, COL_USAGE, COL_STATUS,
    COL_OWNER_KIND, COL_OWNER_NAME, COL_ID_NUMBER, COL_PHONE,
)
REQUIRED_COLUMNS = frozenset({COL_BUILDING, COL_ROOM, COL_AREA})
_HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    COL_AREA: ("专有面积", "专有面积（m²）", "专有面积（平方米）"),
}

AREA_SOURCES: dict[str, AreaSource] = {
    "不动产登记": AreaSource.REGISTER, "不动产登记簿": AreaSource.REGISTER,
    "测绘": AreaSource.SURVEY, "合同": AreaSource.CONTRACT, "购房合同": AreaSource.CONTRACT,
}
AREA_SOURCE_LABELS = {
    AreaSource.REGISTER: "不动产登记", AreaSource.SURVEY: "测绘", AreaSource.CONTRACT: "合同",
}
USAGES = ("住宅", "商业", "车位", "车库", "其他")
STATUSES: dict[str, UnitStatus] = {
    "已交付": UnitStatus.DELIVERED, "未售": UnitStatus.UNSOLD, "已售未交付": UnitStatus.UNDELIVERED,
}
STATUS_LABELS = {v: k for k, v in STATUSES.items()}
OWNER_KINDS: dict[str, OwnerKind] = {"个人": OwnerKind.PERSON, "单位": OwnerKind.ORGANIZATION}
OWNER_KIND_LABELS = {v: k for k, v in OWNER_KINDS.items()}
_FIELD_LABELS = {
    "area": "专有面积（㎡）", "area_source": "面积来源", "usage": "用途", "status": "状态",
    "name": "业主姓名", "phone": "手机号", "kind": "业主类型", "id_number": "证件号码",
}

# An ID number the roster already holds, as the export writes it (the number itself is never
# stored, so never exported): its last four and its keyed hash. Importing it back names the same
# owner; typing a real ID number instead works as always.
ID_ON_FILE_PREFIX = "已登记尾号"
_ID_ON_FILE = re.compile(r"^已登记尾号([0-9A-Z]{4})#([0-9A-F]{64})$")


def id_on_file(last4: str | None, id_hash: str) -> str:
    """The export's stand-in for a stored ID number (see `_ID_ON_FILE`)."""
    return f"{ID_ON_FILE_PREFIX}{(last4 or '0000').upper()}#{id_hash}"


_SEPARATORS = re.compile(r"[；;、]")
_SPACES = re.compile(r"\s+")
_AREA_TEXT = re.compile(r"^\d+(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$", re.IGNORECASE)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# --- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class RowError:
    """One problem in the file: spreadsheet row (header = 1), column header, Chinese message."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class RosterInvalid(DomainError):
    """The file has bad rows; every one of them is listed and nothing was written."""

    code = "roster_invalid"
    status = 422

    def __init__(self, errors: Sequence[RowError]) -> None:
        ordered = sorted(set(errors), key=lambda e: (e.row, _column_order(e.column), e.message))
        rows = len({e.row for e in ordered})
        super().__init__(
            f"名册有 {rows} 行错误，未写入任何数据",
            extra={"errors": [e.as_dict() for e in ordered]},
        )
        self.errors = ordered


class RosterFileRejected(DomainError):
    """The upload is not a roster file we can read (type, size, encoding, row count)."""

    code = "roster_file_invalid"
    status = 422


class RosterImportNotFound(NotFound):
    code = "roster_import_not_found"


class RosterImportConflict(Conflict):
    code = "roster_import_conflict"


def _column_order(column: str) -> int:
    return COLUMNS.index(column) if column in COLUMNS else len(COLUMNS)
