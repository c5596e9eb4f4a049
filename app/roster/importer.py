"""Roster import: read an XLSX/CSV roster, validate every row, preview the diff, apply it."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import PurePath
from typing import Any, BinaryIO

from sqlalchemy import bindparam, func, select, update
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.clock import now
from app.db import bulk_insert, is_postgres
from app.errors import Conflict, DomainError, NotFound
from app.privacy import hash_id_number, mask_name, mask_phone, normalize_phone
from app.roster import service as roster_service
from app.roster.models import (
    AreaSource,
    Building,
    Compound,
    Owner,
    OwnerKind,
    RosterImport,
    RosterImportStatus,
    Unit,
    UnitOwner,
    UnitStatus,
    UnitSubject,
)
from app.roster.subjects import UnitFacts, derive_subjects, totals

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
_ROWS_FORMAT = 1

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

_SEPARATORS = re.compile(r"[；;、]")
_SPACES = re.compile(r"\s+")
_AREA_TEXT = re.compile(r"^\d+(\.\d+)?$")
_SCIENTIFIC = re.compile(r"^\d+(\.\d+)?E\+?\d+$", re.IGNORECASE)
# Text a spreadsheet would run as a formula (=, @, or +/- followed by formula syntax, e.g. DDE).
_FORMULA = re.compile(r"^(?:[=@]|[+-].*[=(|!@])", re.DOTALL)
FORMULA_MESSAGE = "内容不能以 =、+、-、@ 开头（会被电子表格当作公式执行），请删除开头的符号"
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


# --- reading files -----------------------------------------------------------------------------


@dataclass
class RawTable:
    """The first sheet (or the CSV) as header cells and non-blank rows with their row numbers."""

    header: list[Any]
    rows: list[tuple[int, list[Any]]]


def read_limited(stream: BinaryIO, *, limit: int = MAX_UPLOAD_BYTES) -> bytes:
    """Read an upload, refusing it when it is larger than the limit."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise RosterFileRejected(
            f"文件超过 {limit // (1024 * 1024)} MB 上限，请删除无关的工作表或内容后重试",
            code="roster_file_too_large", status=413,
        )
    return data


def read_table(content: bytes, file_name: str) -> RawTable:
    """Read an .xlsx or .csv roster into rows of cell values."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise RosterFileRejected(
            f"文件超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB 上限", code="roster_file_too_large",
            status=413,
        )
    if not content:
        raise RosterFileRejected("文件为空", code="roster_file_empty")
    suffix = PurePath(file_name or "").suffix.lower()
    is_zip = content[:4] == b"PK\x03\x04"
    is_ole = content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    if suffix == ".xls" or (is_ole and suffix != ".xlsx"):
        raise RosterFileRejected(
            "不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 CSV 后上传",
            code="roster_file_type", status=415,
        )
    if suffix in (".xlsx", ".xlsm"):
        if not is_zip:
            raise RosterFileRejected("文件不是有效的 .xlsx 工作簿", code="roster_file_unreadable")
        return _read_xlsx(content)
    if suffix in (".csv", ".txt"):
        if is_zip or is_ole:
            raise RosterFileRejected("文件内容不是 CSV 文本，请确认文件格式", code="roster_file_unreadable")
        return _read_csv(content)
    raise RosterFileRejected(
        "仅支持 .xlsx 或 .csv 格式的名册文件，请使用名册模板填写", code="roster_file_type",
        status=415,
    )


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet opening this text would evaluate it (CSV/formula injection)."""
    return bool(_FORMULA.match(unicodedata.normalize("NFKC", text).lstrip()))


def _too_many_rows() -> RosterFileRejected:
    return RosterFileRejected(
        f"名册超过 {MAX_ROWS} 行的上限，请联系平台管理员", code="roster_too_many_rows"
    )


def _is_blank(values: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _collect(numbered: Iterable[tuple[int, Sequence[Any]]]) -> RawTable:
    header: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, values in numbered:
        if header is None:
            header = list(values)  # the header is row 1, whatever it holds
            continue
        if number > 2 * MAX_ROWS + 1:  # bounds the work on files padded with empty rows
            raise _too_many_rows()
        if len(values) > MAX_COLUMNS and not _is_blank(values[MAX_COLUMNS:]):
            raise RosterFileRejected(
                f"第{number}行超过 {MAX_COLUMNS} 列，请删除多余的列后重试", code="roster_too_many_columns"
            )
        if _is_blank(values):
            continue
        rows.append((number, list(values)))
        if len(rows) > MAX_ROWS:
            raise _too_many_rows()
    return RawTable(header=header or [], rows=rows)


def _read_xlsx(content: bytes) -> RawTable:
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise RosterFileRejected(
            "无法读取该 .xlsx 文件，请确认文件未损坏，或在 Excel 中另存为新文件后重试",
            code="roster_file_unreadable",
        ) from exc
    if expanded > MAX_XLSX_EXPANDED_BYTES:
        raise RosterFileRejected(
            f"该 .xlsx 文件解压后超过 {MAX_XLSX_EXPANDED_BYTES // (1024 * 1024)} MB（疑似压缩炸弹），"
            "请删除无关的工作表或内容，或另存为 CSV 后重试",
            code="roster_file_too_large", status=413,
        )
    try:
        with warnings.catch_warnings():
            # Files from other tools often lack styles; openpyxl warns, which is no error of theirs.
            warnings.simplefilter("ignore")
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError) as exc:
        raise RosterFileRejected(
            "无法读取该 .xlsx 文件，请确认文件未损坏，或在 Excel 中另存为新文件后重试",
            code="roster_file_unreadable",
        ) from exc
    try:
        sheet = workbook["名册"] if "名册" in workbook.sheetnames else workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _collect(enumerate(sheet.iter_rows(values_only=True), start=1))
    except RosterFileRejected:
        raise
    except Exception as exc:  # corrupt sheet XML surfaces as many different exception types
        raise RosterFileRejected(
            "无法读取该 .xlsx 文件的工作表内容，请在 Excel 中另存为新文件后重试",
            code="roster_file_unreadable",
        ) from exc
    finally:
        workbook.close()


def decode_csv(content: bytes) -> str:
    """Decode UTF-8 (with or without BOM) or GB18030 (which includes GBK and GB2312)."""
    if content.startswith(codecs.BOM_UTF8):
        try:
            return content[len(codecs.BOM_UTF8):].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RosterFileRejected("文件编码有误：声明为 UTF-8 但内容无法解码",
                                     code="roster_file_encoding") from exc
    for encoding in ("utf-8", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RosterFileRejected(
        "无法识别文件编码，请将 CSV 保存为 UTF-8 或 GB18030（GBK）编码", code="roster_file_encoding"
    )


def _read_csv(content: bytes) -> RawTable:
    text = decode_csv(content)
    if "\x00" in text:
        raise RosterFileRejected("文件中含有空字符（NUL），不是有效的 CSV 文本，请在 Excel 中另存为 CSV 后重试",
                                 code="roster_file_unreadable")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _collect(enumerate(reader, start=1))
    except csv.Error as exc:
        raise RosterFileRejected(f"CSV 文件格式有误：{exc}", code="roster_file_unreadable") from exc


# --- validating rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerEntry:
    """An owner as the file gives them; the ID number is already reduced to hash and last 4."""

    kind: OwnerKind
    name: str
    id_hash: str | None
    id_last4: str | None
    phone: str | None

    @cached_property
    def key(self) -> str:
        return owner_key(id_hash=self.id_hash, name=self.name, phone=self.phone)


def owner_key(*, id_hash: str | None, name: str, phone: str | None) -> str:
    """Identity of an owner in a compound: the ID hash, else the name with the phone."""
    return f"id:{id_hash}" if id_hash else f"np:{name}\x1f{phone or ''}"


@dataclass(frozen=True)
class RosterRow:
    """One validated unit with the keys of its owners."""

    row: int
    building: str
    entrance: str
    room: str
    area_hundredths: int
    area_source: AreaSource
    usage: str
    status: UnitStatus
    owner_keys: tuple[str, ...]

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)


@dataclass
class ValidatedRoster:
    """All rows of a roster file that passed validation, and its distinct owners by key."""

    rows: list[RosterRow]
    owners: dict[str, OwnerEntry]


def _text(value: Any) -> str:
    if type(value) is str:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def _normal(value: Any) -> str:
    """Cell text with full-width forms folded (１０１ → 101) and surrounding spaces removed."""
    text = _text(value)
    return text if text.isascii() else unicodedata.normalize("NFKC", text).strip()


def _choice(value: Any) -> str:
    return _SPACES.sub("", _normal(value))


def _split(text: str) -> list[str]:
    return [part.strip() for part in _SEPARATORS.split(text)] if text.strip() else []


def map_headers(header: Sequence[Any]) -> tuple[dict[str, int], list[RowError]]:
    """Find each known column by its header text; report missing required and doubled ones."""
    wanted: dict[str, str] = {}
    for column in COLUMNS:
        for name in (column, *_HEADER_ALIASES.get(column, ())):
            wanted[unicodedata.normalize("NFKC", name)] = column
    positions: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(header):
        found = wanted.get(_SPACES.sub("", _normal(cell)))
        if found is None:
            continue
        if found in positions:
            errors.append(RowError(1, found, f"表头“{found}”重复出现"))
            continue
        positions[found] = index
    for column in COLUMNS:
        if column in REQUIRED_COLUMNS and column not in positions:
            errors.append(RowError(1, column, f"缺少必填列“{column}”"))
    return positions, errors


def parse_area(value: Any) -> int:
    """Exact area in hundredths of m² from a number or text cell; ValueError with a message."""
    bad = "专有面积须为正数，最多两位小数"
    if isinstance(value, bool):
        raise ValueError(bad)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        # repr gives the shortest text that reads back as the same float: what the user typed.
        amount = Decimal(repr(value))
        if not amount.is_finite():
            raise ValueError(bad)
    elif isinstance(value, Decimal):
        amount = value
    else:
        text = _choice(value)
        for unit in ("m2", "平方米"):
            text = text.removesuffix(unit)
        if not text:
            raise ValueError("专有面积不能为空")
        if not _AREA_TEXT.match(text):
            raise ValueError(f"{bad}（填写的是“{_text(value)}”）")
        amount = Decimal(text)
    try:
        hundredths = amount * 100
        exact = hundredths == hundredths.to_integral_value()
    except InvalidOperation as exc:
        raise ValueError(bad) from exc
    if not exact or hundredths <= 0:
        raise ValueError(f"{bad}（填写的是“{_text(value)}”）")
    if hundredths > MAX_AREA_HUNDREDTHS:
        raise ValueError(f"专有面积超过 {MAX_AREA_HUNDREDTHS // 100} ㎡，请核对")
    return int(hundredths)


def resident_id_valid(number: str) -> bool:
    """A mainland resident ID (GB 11643): 17 digits, a valid birth date, the check character."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def credit_code_valid(code: str) -> bool:
    """A unified social credit code (GB 32100): 18 characters with the check character."""
    if len(code) != 18 or any(c not in _USCC_CHARS for c in code):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def resident_id_check_char(first17: str) -> str:
    """The check character completing a 17-digit resident ID prefix."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def credit_code_check_char(first17: str) -> str:
    """The check character completing a 17-character unified social credit code prefix."""
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


_Fail = Callable[[str, str], None]


class _RowChecker:
    """Validates one row at a time, collecting errors and the cross-row facts."""

    def __init__(self, positions: dict[str, int], known_buildings: set[str] | None) -> None:
        self.positions = positions
        self.known_buildings = known_buildings
        self.errors: list[RowError] = []
        self.rows: list[RosterRow] = []
        self.unit_rows: dict[tuple[str, str, str], int] = {}
        self.owners: dict[str, OwnerEntry] = {}
        self.owner_rows: dict[str, int] = {}

    def cell(self, values: list[Any], column: str) -> Any:
        index = self.positions.get(column)
        return values[index] if index is not None and index < len(values) else None

    def check(self, number: int, values: list[Any]) -> None:
        before = len(self.errors)

        def fail(column: str, message: str) -> None:
            self.errors.append(RowError(number, column, message))

        for column in (COL_BUILDING, COL_ENTRANCE, COL_ROOM):
            if looks_like_formula(_text(self.cell(values, column))):
                fail(column, FORMULA_MESSAGE)
        building = _normal(self.cell(values, COL_BUILDING))
        if not building:
            fail(COL_BUILDING, "楼栋不能为空")
        elif len(building) > 50:
            fail(COL_BUILDING, "楼栋名称过长（最多50个字）")
        elif self.known_buildings is not None and building not in self.known_buildings:
            fail(COL_BUILDING, f"未知楼栋“{building}”：本小区名册中没有该楼栋")
        entrance = _normal(self.cell(values, COL_ENTRANCE))
        entrance = entrance.removesuffix("单元").strip() if entrance != "单元" else entrance
        if len(entrance) > 20:
            fail(COL_ENTRANCE, "单元名称过长（最多20个字）")
        room = _normal(self.cell(values, COL_ROOM))
        if not room:
            fail(COL_ROOM, "房号不能为空")
        elif len(room) > 30:
            fail(COL_ROOM, "房号过长（最多30个字）")
        elif building:
            key = (building, entrance, room)
            first = self.unit_rows.get(key)
            if first is not None:
                fail(COL_ROOM, f"房号重复（与第{first}行相同）")
            else:
                self.unit_rows[key] = number

        area = 0
        raw_area = self.cell(values, COL_AREA)
        if raw_area is None or (isinstance(raw_area, str) and not raw_area.strip()):
            fail(COL_AREA, "专有面积不能为空")
        else:
            try:
                area = parse_area(raw_area)
            except ValueError as exc:
                fail(COL_AREA, str(exc))

        source_text = _choice(self.cell(values, COL_AREA_SOURCE)) or "不动产登记"
        area_source = AREA_SOURCES.get(source_text)
        if area_source is None:
            fail(COL_AREA_SOURCE, "面积来源须为：不动产登记、测绘、合同")
        usage = _choice(self.cell(values, COL_USAGE)) or "住宅"
        if usage not in USAGES:
            fail(COL_USAGE, "用途须为：" + "、".join(USAGES))
        status_text = _choice(self.cell(values, COL_STATUS)) or "已交付"
        status = STATUSES.get(status_text)
        if status is None:
            fail(COL_STATUS, "状态须为：已交付、未售、已售未交付")

        owner_errors = len(self.errors)
        owners = self.check_owners(number, values, fail)
        owners_failed = len(self.errors) > owner_errors
        if status == UnitStatus.DELIVERED and not owners and not owners_failed:
            fail(COL_OWNER_NAME, "已交付房屋缺少业主")
        if status == UnitStatus.UNSOLD and owners:
            fail(COL_OWNER_NAME, "未售房屋属开发建设单位，业主列请留空")

        if len(self.errors) == before:
            assert area_source is not None and status is not None
            for entry in owners:
                self.owners.setdefault(entry.key, entry)
            self.rows.append(
                RosterRow(
                    row=number, building=building, entrance=entrance, room=room,
                    area_hundredths=area, area_source=area_source, usage=usage, status=status,
                    owner_keys=tuple(e.key for e in owners),
                )
            )

    def check_owners(self, number: int, values: list[Any], fail: _Fail) -> list[OwnerEntry]:
        names = _split(_text(self.cell(values, COL_OWNER_NAME)))
        raw_id = self.cell(values, COL_ID_NUMBER)
        ids = _split(_normal(raw_id).upper())
        phones = _split(_normal(self.cell(values, COL_PHONE)))
        kinds = _split(_choice(self.cell(values, COL_OWNER_KIND)))
        if not names:
            if any(ids) or any(phones):
                fail(COL_OWNER_NAME, "填写了证件号码或手机号，但缺少业主姓名")
            return []
        count = len(names)
        aligned = True
        for column, items in ((COL_ID_NUMBER, ids), (COL_PHONE, phones)):
            if items and len(items) != count:
                fail(column, f"{column}个数（{len(items)}）与业主姓名个数（{count}）不一致，"
                             "多人请用“；”分隔并按顺序对应")
                aligned = False
        if len(kinds) > 1 and len(kinds) != count:
            fail(COL_OWNER_KIND, f"业主类型个数（{len(kinds)}）与业主姓名个数（{count}）不一致")
            aligned = False
        if not aligned:
            return []
        if isinstance(raw_id, float):
            # Excel keeps 15 significant digits: an ID typed as a number has lost its last digits.
            fail(COL_ID_NUMBER, "证件号码被存成了数字，末几位已丢失，请将该列设为“文本”格式后重新填写")
            return []
        entries: list[OwnerEntry] = []
        for i, name in enumerate(names):
            who = f"第{i + 1}位业主" if count > 1 else "业主"
            kind_text = (kinds[0] if len(kinds) == 1 else kinds[i] if kinds else "") or "个人"
            kind = OWNER_KINDS.get(kind_text)
            if kind is None:
                fail(COL_OWNER_KIND, "业主类型须为：个人、单位")
                continue
            if not name:
                fail(COL_OWNER_NAME, f"{who}姓名为空")
                continue
            if len(name) > 100:
                fail(COL_OWNER_NAME, f"{who}姓名过长（最多100个字）")
                continue
            if looks_like_formula(name):
                fail(COL_OWNER_NAME, f"{who}姓名{FORMULA_MESSAGE}")
                continue
            id_number = _SPACES.sub("", ids[i]) if ids else ""
            phone_text = phones[i] if phones else ""
            id_hash = id_last4 = phone = None
            if id_number:
                if _SCIENTIFIC.match(id_number):
                    fail(COL_ID_NUMBER, "证件号码被显示为科学计数法，请将该列设为“文本”格式后重新填写")
                    continue
                ok = (credit_code_valid(id_number) if kind == OwnerKind.ORGANIZATION
                      else resident_id_valid(id_number))
                if not ok:
                    expected = ("18位统一社会信用代码" if kind == OwnerKind.ORGANIZATION
                                else "18位居民身份证号码，末位校验码正确")
                    fail(COL_ID_NUMBER, f"{who}证件号码格式不正确（须为{expected}）")
                    continue
                id_hash, id_last4 = hash_id_number(id_number), id_number[-4:]
            if phone_text:
                phone = normalize_phone(phone_text)
                if phone is None:
                    fail(COL_PHONE, f"{who}手机号格式不正确（须为11位手机号码）")
                    continue
            if id_hash is None and phone is None:
                fail(COL_ID_NUMBER, f"{who}既无证件号码也无手机号，无法识别身份，请至少填写一项")
                continue
            entries.append(OwnerEntry(kind=kind, name=name, id_hash=id_hash, id_last4=id_last4,
                                      phone=phone))
        if len(entries) != count:
            return []
        if len({e.key for e in entries}) != len(entries):
            fail(COL_OWNER_NAME, "同一房屋的共有人重复")
            return []
        for entry in entries:
            self.check_consistency(number, entry, fail)
        return entries

    def check_consistency(self, number: int, entry: OwnerEntry, fail: _Fail) -> None:
        """The same ID number must mean the same name, kind and phone on every row."""
        if entry.id_hash is None:
            return
        first_row = self.owner_rows.setdefault(entry.key, number)
        if first_row == number:
            self.owners.setdefault(entry.key, entry)
            return
        first = self.owners[entry.key]
        if first.name != entry.name:
            fail(COL_ID_NUMBER, f"证件号码与第{first_row}行相同，但业主姓名不同")
        elif first.kind != entry.kind:
            fail(COL_OWNER_KIND, f"证件号码与第{first_row}行相同，但业主类型不同")
        elif first.phone and entry.phone and first.phone != entry.phone:
            fail(COL_PHONE, f"证件号码与第{first_row}行相同，但手机号不同")
        elif entry.phone and not first.phone:
            self.owners[entry.key] = entry


def validate_table(table: RawTable, *, known_buildings: set[str] | None = None) -> ValidatedRoster:
    """Validate every row; raise RosterInvalid listing all bad rows, else the clean roster."""
    positions, header_errors = map_headers(table.header)
    if header_errors:
        for number, values in table.rows[:5]:
            found, problems = map_headers(values)
            if found and not problems:  # a title above the header, as many rosters have
                header_errors.append(RowError(
                    number, "", f"表头须在第1行：第{number}行像是表头，请删除其上方的标题行"))
                break
        raise RosterInvalid(header_errors)
    if not table.rows:
        raise RosterInvalid([RowError(2, "", "名册没有数据行")])
    checker = _RowChecker(positions, known_buildings)
    for number, values in table.rows:
        checker.check(number, values)
    total_area = sum(r.area_hundredths for r in checker.rows)
    if not checker.errors and total_area > MAX_TOTAL_AREA_HUNDREDTHS:
        checker.errors.append(RowError(1, COL_AREA, "专有面积合计过大，请核对面积单位是否为平方米"))
    if checker.errors:
        raise RosterInvalid(checker.errors)
    return _merge_owners_without_id(ValidatedRoster(rows=checker.rows, owners=checker.owners))


def _merge_owners_without_id(roster: ValidatedRoster) -> ValidatedRoster:
    """An owner given once with and once without an ID (same name and phone) is one owner."""
    by_name_phone: dict[tuple[str, str], str] = {}
    for key, entry in roster.owners.items():
        if entry.id_hash and entry.phone:
            by_name_phone.setdefault((entry.name, entry.phone), key)
    merged: dict[str, str] = {}
    for key, entry in roster.owners.items():
        if entry.id_hash is None and entry.phone:
            target = by_name_phone.get((entry.name, entry.phone))
            if target is not None:
                merged[key] = target
    if not merged:
        return roster
    rows = [
        RosterRow(
            row=r.row, building=r.building, entrance=r.entrance, room=r.room,
            area_hundredths=r.area_hundredths, area_source=r.area_source, usage=r.usage,
            status=r.status, owner_keys=tuple(dict.fromkeys(merged.get(k, k) for k in r.owner_keys)),
        )
        for r in roster.rows
    ]
    owners = {k: e for k, e in roster.owners.items() if k not in merged}
    return ValidatedRoster(rows=rows, owners=owners)


def parse_roster(
    content: bytes, file_name: str, *, known_buildings: set[str] | None = None
) -> ValidatedRoster:
    """Read and validate a roster file completely, before anything is written."""
    return validate_table(read_table(content, file_name), known_buildings=known_buildings)


# --- the roster as stored ----------------------------------------------------------------------


@dataclass(slots=True)
class CurrentUnit:
    """A stored unit (read-only by convention; slots keep 100,000 of them cheap)."""

    id: int
    building: str
    entrance: str
    room: str
    area_hundredths: int
    area_source: AreaSource
    usage: str
    status: UnitStatus
    owner_ids: frozenset[int]

    @property
    def unit_key(self) -> tuple[str, str, str]:
        return (self.building, self.entrance, self.room)


@dataclass(slots=True)
class CurrentOwner:
    """A stored owner with its identity key."""

    id: int
    kind: OwnerKind
    name: str
    id_hash: str | None
    id_last4: str | None
    phone: str | None
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = owner_key(id_hash=self.id_hash, name=self.name, phone=self.phone)


@dataclass
class CurrentRoster:
    """A compound's stored buildings, units (with owner ids) and owners, read set-based."""

    buildings: dict[str, int]
    units: dict[tuple[str, str, str], CurrentUnit]
    owners: dict[int, CurrentOwner]


def load_current(session: Session, *, compound_id: int) -> CurrentRoster:
    """Read the whole stored roster of a compound in four queries."""
    buildings = {
        name: bid
        for bid, name in session.execute(
            select(Building.id, Building.name).where(Building.compound_id == compound_id)
        )
    }
    names = {bid: name for name, bid in buildings.items()}
    links: dict[int, set[int]] = {}
    for unit_id, owner_id in session.execute(
        select(UnitOwner.unit_id, UnitOwner.owner_id).where(UnitOwner.compound_id == compound_id)
    ):
        links.setdefault(unit_id, set()).add(owner_id)
    units: dict[tuple[str, str, str], CurrentUnit] = {}
    for uid, bid, entrance, room, area, source, usage, status in session.execute(
        select(Unit.id, Unit.building_id, Unit.entrance, Unit.room, Unit.area_hundredths,
               Unit.area_source, Unit.usage, Unit.status)
        .where(Unit.compound_id == compound_id)
        .order_by(Unit.id)  # type: ignore[arg-type]
    ):
        unit = CurrentUnit(
            id=uid, building=names[bid], entrance=entrance, room=room, area_hundredths=area,
            area_source=source, usage=usage, status=status,  # the column type gives enums
            owner_ids=frozenset(links.get(uid, ())),
        )
        units[unit.unit_key] = unit
    owners = {
        oid: CurrentOwner(id=oid, kind=kind, name=name, id_hash=id_hash,
                          id_last4=last4, phone=phone)
        for oid, kind, name, id_hash, last4, phone in session.execute(
            select(Owner.id, Owner.kind, Owner.name, Owner.id_hash, Owner.id_last4, Owner.phone)
            .where(Owner.compound_id == compound_id)
        )
    }
    return CurrentRoster(buildings=buildings, units=units, owners=owners)


def roster_fingerprint(current: CurrentRoster) -> str:
    """SHA-256 over the roster's content (not its ids), to tell whether it changed."""
    keys = {o.id: o.key for o in current.owners.values()}
    lines = sorted(
        "\x1e".join((u.building, u.entrance, u.room, str(u.area_hundredths), u.area_source.value,
                     u.usage, u.status.value, *sorted(keys[i] for i in u.owner_ids)))
        for u in current.units.values()
    )
    lines.append("\x1d")  # units above, owners below
    lines += sorted(
        "\x1e".join((o.key, o.kind.value, o.name, o.id_last4 or "", o.phone or ""))
        for o in current.owners.values()
    )
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


# --- comparing ---------------------------------------------------------------------------------


@dataclass
class RosterPlan:
    """What applying a roster file changes, in terms the writer and the preview both use."""

    buildings_added: list[str] = field(default_factory=list)
    units_added: list[RosterRow] = field(default_factory=list)
    units_removed: list[CurrentUnit] = field(default_factory=list)
    units_changed: list[tuple[CurrentUnit, RosterRow, list[str]]] = field(default_factory=list)
    owners_moved: list[tuple[CurrentUnit, RosterRow]] = field(default_factory=list)
    owners_added: list[str] = field(default_factory=list)
    owners_updated: list[tuple[CurrentOwner, OwnerEntry, list[str]]] = field(default_factory=list)
    owners_removed: list[CurrentOwner] = field(default_factory=list)
    owner_ids: dict[str, int] = field(default_factory=dict)  # stored owner id by owner key
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "buildings_added": len(self.buildings_added),
            "units_added": len(self.units_added),
            "units_changed": len(self.units_changed),
            "units_removed": len(self.units_removed),
            "units_unchanged": self.unchanged,
            "owners_moved": len(self.owners_moved),
            "owners_added": len(self.owners_added),
            "owners_updated": len(self.owners_updated),
            "owners_removed": len(self.owners_removed),
        }


def plan_changes(current: CurrentRoster, roster: ValidatedRoster) -> RosterPlan:
    """Compare the file with the stored roster: units by building/entrance/room, owners by key."""
    plan = RosterPlan()
    without_id: dict[tuple[str, str], int] = {}
    for owner in sorted(current.owners.values(), key=lambda o: o.id):
        plan.owner_ids.setdefault(owner.key, owner.id)
        if owner.id_hash is None and owner.phone:
            without_id.setdefault((owner.name, owner.phone), owner.id)
    kept_ids = set()
    for key, entry in roster.owners.items():
        oid = plan.owner_ids.get(key)
        if oid is None and entry.id_hash and entry.phone:
            # An owner stored without an ID number, now given one: the same person, updated.
            candidate = without_id.get((entry.name, entry.phone))
            if candidate is not None and candidate not in kept_ids:
                oid = plan.owner_ids[key] = candidate
        if oid is None:
            plan.owners_added.append(key)
            continue
        kept_ids.add(oid)
        stored = current.owners[oid]
        changed = [
            name for name, old, new in (
                ("name", stored.name, entry.name),
                ("kind", stored.kind, entry.kind),
                ("phone", stored.phone, entry.phone or stored.phone),
                ("id_number", stored.id_hash, entry.id_hash or stored.id_hash),
            ) if old != new
        ]
        if changed:
            plan.owners_updated.append((stored, entry, changed))
    plan.owners_removed = [o for o in current.owners.values() if o.id not in kept_ids]
    seen_buildings = set(current.buildings)
    wanted_units = set()
    for row in roster.rows:
        if row.building not in seen_buildings:
            seen_buildings.add(row.building)
            plan.buildings_added.append(row.building)
        wanted_units.add(row.unit_key)
        unit = current.units.get(row.unit_key)
        if unit is None:
            plan.units_added.append(row)
            continue
        changed = [
            name for name, old, new in (
                ("area", unit.area_hundredths, row.area_hundredths),
                ("area_source", unit.area_source, row.area_source),
                ("usage", unit.usage, row.usage),
                ("status", unit.status, row.status),
            ) if old != new
        ]
        if changed:
            plan.units_changed.append((unit, row, changed))
        # Compared by stored owner id (None: a new owner), so an owner updated in place stays.
        moved = {plan.owner_ids.get(k) for k in row.owner_keys} != unit.owner_ids
        if moved:
            plan.owners_moved.append((unit, row))
        if not changed and not moved:
            plan.unchanged += 1
    plan.units_removed = [u for k, u in current.units.items() if k not in wanted_units]
    return plan


def unit_label(building: str, entrance: str, room: str) -> str:
    return f"{building}{entrance + '单元' if entrance else ''}{room}"


def _person_name(kind: OwnerKind, name: str) -> str:
    """Organizations are shown by name; people by family name only (张*)."""
    return name if kind == OwnerKind.ORGANIZATION else mask_name(name)


def _masked(kind: OwnerKind, name: str, phone: str | None) -> dict[str, str]:
    return {
        "name_masked": _person_name(kind, name),
        "phone_masked": mask_phone(phone),
        "kind": kind.value,
    }


def _field_text(field_name: str, value: Any) -> str:
    if value is None:
        return ""
    if field_name == "area":
        return roster_service.format_area(int(value))
    if field_name == "area_source":
        return AREA_SOURCE_LABELS[AreaSource(value)]
    if field_name == "status":
        return STATUS_LABELS[UnitStatus(value)]
    if field_name == "kind":
        return OWNER_KIND_LABELS[OwnerKind(value)]
    return str(value)


def describe_diff(plan: RosterPlan, current: CurrentRoster, roster: ValidatedRoster) -> dict[str, Any]:
    """The diff as shown to the committee: unit labels, changed fields, masked owners only."""
    limit = DIFF_LIST_LIMIT

    def row_owners(row: RosterRow) -> list[dict[str, str]]:
        return [_masked(e.kind, e.name, e.phone) for e in (roster.owners[k] for k in row.owner_keys)]

    def stored_owners(unit: CurrentUnit) -> list[dict[str, str]]:
        owners = sorted((current.owners[i] for i in unit.owner_ids), key=lambda o: o.id)
        return [_masked(o.kind, o.name, o.phone) for o in owners]

    def brief(building: str, entrance: str, room: str, area: int, source: AreaSource, usage: str,
              status: UnitStatus, owners: list[dict[str, str]]) -> dict[str, Any]:
        return {
            "label": unit_label(building, entrance, room), "building": building,
            "entrance": entrance, "room": room, "area": roster_service.format_area(area),
            "area_hundredths": area, "area_source": AREA_SOURCE_LABELS[source], "usage": usage,
            "status": STATUS_LABELS[status], "owners": owners,
        }

    def change(name: str, old: Any, new: Any) -> dict[str, str]:
        return {"field": name, "field_label": _FIELD_LABELS[name],
                "old": _field_text(name, old), "new": _field_text(name, new)}

    def owner_changes(old: CurrentOwner, new: OwnerEntry, names: list[str]) -> list[dict[str, str]]:
        shown = {
            "name": (_person_name(old.kind, old.name), _person_name(new.kind, new.name)),
            "phone": (mask_phone(old.phone), mask_phone(new.phone or old.phone)),
            "kind": (OWNER_KIND_LABELS[old.kind], OWNER_KIND_LABELS[new.kind]),
            "id_number": ("已登记" if old.id_hash else "未登记", "已登记"),
        }
        return [{"field": n, "field_label": _FIELD_LABELS[n], "old": shown[n][0],
                 "new": shown[n][1]} for n in names]

    diff = {
        "buildings_added": plan.buildings_added[:limit],
        "units_added": [
            brief(r.building, r.entrance, r.room, r.area_hundredths, r.area_source, r.usage,
                  r.status, row_owners(r))
            for r in plan.units_added[:limit]
        ],
        "units_changed": [
            {
                "label": unit_label(u.building, u.entrance, u.room),
                "changes": [change(name, getattr(u, _ATTR[name]), getattr(r, _ATTR[name]))
                            for name in names],
            }
            for u, r, names in plan.units_changed[:limit]
        ],
        "units_removed": [
            brief(u.building, u.entrance, u.room, u.area_hundredths, u.area_source, u.usage,
                  u.status, stored_owners(u))
            for u in plan.units_removed[:limit]
        ],
        "owners_moved": [
            {"label": unit_label(u.building, u.entrance, u.room),
             "old_owners": stored_owners(u), "new_owners": row_owners(r)}
            for u, r in plan.owners_moved[:limit]
        ],
        "owners_updated": [
            {**_masked(o.kind, o.name, o.phone), "changes": owner_changes(o, e, names)}
            for o, e, names in plan.owners_updated[:limit]
        ],
        "counts": plan.counts(),
        "list_limit": limit,
    }
    diff["truncated"] = any(
        len(items) > limit
        for items in (plan.buildings_added, plan.units_added, plan.units_changed,
                      plan.units_removed, plan.owners_moved, plan.owners_updated)
    )
    return diff


_ATTR = {"area": "area_hundredths", "area_source": "area_source", "usage": "usage",
         "status": "status"}


def summarize(roster: ValidatedRoster, *, parking_counts_as_area: bool) -> dict[str, Any]:
    """Totals the roster would give (DOMAIN §1), computed with the same subject derivation."""
    index = {key: i for i, key in enumerate(roster.owners)}
    facts = [
        UnitFacts(
            unit_id=i, area_hundredths=r.area_hundredths,
            owner_ids=frozenset(index[k] for k in r.owner_keys),
            held_by_developer=r.status != UnitStatus.DELIVERED,
        )
        for i, r in enumerate(roster.rows)
        if parking_counts_as_area or r.usage not in roster_service.PARKING_USAGES
    ]
    area, headcount = totals(derive_subjects(facts))
    return {
        "units": len(roster.rows),
        "voting_units": len(facts),
        "developer_units": sum(1 for r in roster.rows if r.status != UnitStatus.DELIVERED),
        "co_owned_units": sum(1 for r in roster.rows if len(r.owner_keys) > 1),
        "parking_units": sum(1 for r in roster.rows
                             if r.usage in roster_service.PARKING_USAGES),
        "buildings": len({r.building for r in roster.rows}),
        "owners": len(roster.owners),
        "subjects": headcount,
        "headcount": headcount,
        "total_area": roster_service.format_area(area),
        "total_area_hundredths": area,
    }


# --- storing previews --------------------------------------------------------------------------


def _dump_roster(roster: ValidatedRoster) -> str:
    keys = list(roster.owners)
    index = {k: i for i, k in enumerate(keys)}
    data = {
        "format": _ROWS_FORMAT,
        "owners": [
            [e.kind.value, e.name, e.id_hash, e.id_last4, e.phone]
            for e in (roster.owners[k] for k in keys)
        ],
        "rows": [
            [r.row, r.building, r.entrance, r.room, r.area_hundredths, r.area_source.value,
             r.usage, r.status.value, [index[k] for k in r.owner_keys]]
            for r in roster.rows
        ],
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _load_roster(text: str) -> ValidatedRoster:
    data = json.loads(text)
    if data.get("format") != _ROWS_FORMAT:
        raise RosterImportConflict("该预览的格式已过期，请重新上传名册文件", code="roster_import_outdated")
    entries = [
        OwnerEntry(kind=OwnerKind(kind), name=name, id_hash=id_hash, id_last4=last4, phone=phone)
        for kind, name, id_hash, last4, phone in data["owners"]
    ]
    rows = [
        RosterRow(row=row, building=b, entrance=e, room=r, area_hundredths=area,
                  area_source=AreaSource(src), usage=usage, status=UnitStatus(status),
                  owner_keys=tuple(entries[i].key for i in owners))
        for row, b, e, r, area, src, usage, status, owners in data["rows"]
    ]
    return ValidatedRoster(rows=rows, owners={e.key: e for e in entries})


def create_preview(
    session: Session, *, compound_id: int, content: bytes, file_name: str,
    known_buildings_only: bool = False, uploaded_by: int | None = None,
) -> RosterImport:
    """Validate a roster file completely, compare it with the roster and store the preview."""
    compound = roster_service.get_compound(session, compound_id=compound_id)
    table = read_table(content, file_name)
    current = load_current(session, compound_id=compound_id)
    roster = validate_table(
        table, known_buildings=set(current.buildings) if known_buildings_only else None
    )
    plan = plan_changes(current, roster)
    overview = {
        "summary": summarize(roster, parking_counts_as_area=compound.parking_counts_as_area),
        "counts": plan.counts(),
        "result": None,
    }
    record = RosterImport(
        compound_id=compound_id, status=RosterImportStatus.PREVIEWED,
        file_name=PurePath((file_name or "roster").replace("\\", "/")).name[-255:],
        file_sha256=hashlib.sha256(content).hexdigest(), row_count=len(roster.rows),
        known_buildings_only=known_buildings_only, roster_fingerprint=roster_fingerprint(current),
        rows_json=_dump_roster(roster), summary_json=json.dumps(overview, ensure_ascii=False),
        diff_json=json.dumps(describe_diff(plan, current, roster), ensure_ascii=False),
        uploaded_by=uploaded_by,
    )
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, *, compound_id: int, import_id: int,
               for_update: bool = False) -> RosterImport:
    """One stored import of this compound (404 for another compound's)."""
    stmt = select(RosterImport).where(
        RosterImport.id == import_id, RosterImport.compound_id == compound_id
    )
    if for_update and is_postgres(session):
        stmt = stmt.with_for_update()
    record = session.execute(stmt).scalar_one_or_none()
    if record is None:
        raise RosterImportNotFound("名册导入记录不存在")
    return record


def list_imports(
    session: Session, *, compound_id: int, offset: int = 0, limit: int = 20
) -> tuple[int, list[RosterImport]]:
    """A compound's imports, newest first, without their stored rows and diff."""
    from sqlalchemy.orm import defer

    total = session.execute(
        select(func.count()).select_from(RosterImport).where(RosterImport.compound_id == compound_id)
    ).scalar_one()
    records = session.execute(
        select(RosterImport)
        .where(RosterImport.compound_id == compound_id)
        .options(defer(RosterImport.rows_json), defer(RosterImport.diff_json))  # type: ignore[arg-type]
        .order_by(RosterImport.id.desc())  # type: ignore[union-attr]
        .offset(offset)
        .limit(limit)
    ).scalars()
    return total, list(records)


def import_view(record: RosterImport, *, with_diff: bool = True) -> dict[str, Any]:
    """The stored preview as the API returns it."""
    overview = json.loads(record.summary_json)
    view: dict[str, Any] = {
        "id": record.id, "compound_id": record.compound_id, "status": record.status.value
        if isinstance(record.status, RosterImportStatus) else record.status,
        "file_name": record.file_name, "file_sha256": record.file_sha256,
        "row_count": record.row_count, "known_buildings_only": record.known_buildings_only,
        "uploaded_by": record.uploaded_by, "created_at": record.created_at,
        "applied_by": record.applied_by, "applied_at": record.applied_at,
        "summary": overview["summary"], "counts": overview["counts"],
        "result": overview.get("result"),
    }
    if with_diff:
        view["diff"] = json.loads(record.diff_json)
    return view


# --- applying ----------------------------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _lock_compound(session: Session, compound_id: int) -> Compound:
    # Applies of one compound are serialized: on PostgreSQL by this row lock, on SQLite by the
    # write transaction's BEGIN IMMEDIATE.
    stmt = select(Compound).where(Compound.id == compound_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    compound = session.execute(stmt).scalar_one_or_none()
    if compound is None:
        raise NotFound("小区不存在", code="compound_not_found")
    return compound


def apply_import(
    session: Session, *, compound_id: int, import_id: int, actor: Actor
) -> RosterImport:
    """Write a previewed roster, re-derive the subjects and record one audit event."""
    _lock_compound(session, compound_id)
    record = get_import(session, compound_id=compound_id, import_id=import_id, for_update=True)
    if record.status == RosterImportStatus.APPLIED:
        raise RosterImportConflict("该名册已经导入，不能重复导入", code="roster_import_already_applied")
    roster = _load_roster(record.rows_json)
    current = load_current(session, compound_id=compound_id)
    if roster_fingerprint(current) != record.roster_fingerprint:
        raise RosterImportConflict(
            "预览之后小区名册已发生变化，本次预览已失效，请重新上传名册文件并核对差异后再确认导入",
            code="roster_changed",
        )
    plan = plan_changes(current, roster)
    _write_plan(session, compound_id=compound_id, roster=roster, plan=plan)
    area, headcount = roster_service.rebuild_subjects(session, compound_id=compound_id)
    # Owners left without units go last: the rebuilt subjects no longer name them.
    owner_table = Owner.__table__  # type: ignore[attr-defined]
    owned = select(UnitOwner.owner_id).where(UnitOwner.compound_id == compound_id)
    session.execute(
        owner_table.delete().where(
            owner_table.c.compound_id == compound_id, owner_table.c.id.not_in(owned)
        )
    )
    counts = plan.counts()
    event = append_event(
        session, compound_id=compound_id, actor=actor, action="roster.imported",
        object_type="roster_import", object_id=import_id,
        payload={
            "import_id": import_id, "file_sha256": record.file_sha256,
            "row_count": record.row_count, **counts,
            "unit_count": len(roster.rows), "owner_count": len(roster.owners),
            "subject_count": headcount, "total_area_hundredths": area,
            "total_area": roster_service.format_area(area),
        },
    )
    overview = json.loads(record.summary_json)
    overview["result"] = {
        "units": len(roster.rows), "owners": len(roster.owners), "subjects": headcount,
        "headcount": headcount, "total_area_hundredths": area,
        "total_area": roster_service.format_area(area), "audit_seq": event.seq,
    }
    record.summary_json = json.dumps(overview, ensure_ascii=False)
    record.status = RosterImportStatus.APPLIED
    record.applied_at = now()
    record.applied_by = actor.user_id
    session.add(record)
    session.flush()
    return record


def _write_plan(session: Session, *, compound_id: int, roster: ValidatedRoster,
                plan: RosterPlan) -> None:
    """Apply the plan with bulk statements: no query per row."""
    unit_table = Unit.__table__  # type: ignore[attr-defined]
    owner_table = Owner.__table__  # type: ignore[attr-defined]
    link_table = UnitOwner.__table__  # type: ignore[attr-defined]
    if plan.buildings_added:
        session.execute(
            Building.__table__.insert(),  # type: ignore[attr-defined]
            [{"compound_id": compound_id, "name": name} for name in plan.buildings_added],
        )
    building_ids = {
        name: bid
        for name, bid in session.execute(
            select(Building.name, Building.id).where(Building.compound_id == compound_id)
        )
    }
    # Unit-subject links are rebuilt below; dropping them first frees units for deletion.
    subject_links = UnitSubject.__table__  # type: ignore[attr-defined]
    session.execute(subject_links.delete().where(subject_links.c.compound_id == compound_id))
    stale_links = [u.id for u in plan.units_removed] + [u.id for u, _ in plan.owners_moved]
    for ids in _chunks(stale_links):
        session.execute(link_table.delete().where(link_table.c.unit_id.in_(ids)))
    for ids in _chunks([u.id for u in plan.units_removed]):
        session.execute(unit_table.delete().where(unit_table.c.id.in_(ids)))
    if plan.units_changed:
        session.execute(
            update(unit_table)
            .where(unit_table.c.id == bindparam("b_id"))
            .values(area_hundredths=bindparam("b_area"), area_source=bindparam("b_source"),
                    usage=bindparam("b_usage"), status=bindparam("b_status")),
            [
                {"b_id": u.id, "b_area": r.area_hundredths, "b_source": r.area_source,
                 "b_usage": r.usage, "b_status": r.status}
                for u, r, _ in plan.units_changed
            ],
        )
    if plan.owners_updated:
        session.execute(
            update(owner_table)
            .where(owner_table.c.id == bindparam("b_id"))
            .values(name=bindparam("b_name"), kind=bindparam("b_kind"),
                    phone=bindparam("b_phone"), id_hash=bindparam("b_hash"),
                    id_last4=bindparam("b_last4")),
            [
                {"b_id": o.id, "b_name": e.name, "b_kind": e.kind, "b_phone": e.phone or o.phone,
                 "b_hash": e.id_hash or o.id_hash, "b_last4": e.id_last4 or o.id_last4}
                for o, e, _ in plan.owners_updated
            ],
        )
    if plan.owners_added:
        bulk_insert(session, owner_table, [
            {"compound_id": compound_id, "kind": e.kind, "name": e.name, "id_hash": e.id_hash,
             "id_last4": e.id_last4, "phone": e.phone}
            for e in (roster.owners[k] for k in plan.owners_added)
        ])
        added = set(plan.owners_added)
        for oid, name, id_hash, phone in session.execute(
            select(Owner.id, Owner.name, Owner.id_hash, Owner.phone).where(
                Owner.compound_id == compound_id
            )
        ):
            key = owner_key(id_hash=id_hash, name=name, phone=phone)
            if key in added:
                plan.owner_ids.setdefault(key, oid)
    unit_ids = {u.unit_key: u.id for u, _ in plan.owners_moved}
    if plan.units_added:
        bulk_insert(session, unit_table, [
            {"compound_id": compound_id, "building_id": building_ids[r.building],
             "entrance": r.entrance, "room": r.room, "area_hundredths": r.area_hundredths,
             "area_source": r.area_source, "usage": r.usage, "status": r.status}
            for r in plan.units_added
        ])
        names = {bid: name for name, bid in building_ids.items()}
        unit_ids.update(
            ((names[bid], entrance, room), uid)
            for uid, bid, entrance, room in session.execute(
                select(Unit.id, Unit.building_id, Unit.entrance, Unit.room).where(
                    Unit.compound_id == compound_id
                )
            )
        )
    bulk_insert(session, link_table, [
        {"compound_id": compound_id, "unit_id": unit_ids[r.unit_key],
         "owner_id": plan.owner_ids[k]}
        for r in [*plan.units_added, *(r for _, r in plan.owners_moved)]
        for k in r.owner_keys
    ])
    session.flush()

