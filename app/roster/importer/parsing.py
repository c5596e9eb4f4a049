"""Parsing and validating roster rows (pure): cells, areas, ID checksums, owners."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter, mul
from typing import Any, NamedTuple

from app.privacy import id_number_hasher, normalize_phone
from app.roster.importer.columns import (
    _AREA_TEXT,
    _HEADER_ALIASES,
    _ID_CHECK,
    _ID_ON_FILE,
    _ID_WEIGHTS,
    _SCIENTIFIC,
    _SEPARATORS,
    _SPACES,
    _USCC_CHARS,
    _USCC_WEIGHTS,
    AREA_SOURCES,
    COL_AREA,
    COL_AREA_SOURCE,
    COL_BUILDING,
    COL_ENTRANCE,
    COL_ID_NUMBER,
    COL_OWNER_KIND,
    COL_OWNER_NAME,
    COL_PHONE,
    COL_ROOM,
    COL_STATUS,
    COL_USAGE,
    COLUMNS,
    ID_ON_FILE_PREFIX,
    MAX_AREA_HUNDREDTHS,
    MAX_TOTAL_AREA_HUNDREDTHS,
    OWNER_KINDS,
    REQUIRED_COLUMNS,
    STATUSES,
    USAGES,
    RosterInvalid,
    RowError,
)
from app.roster.importer.reading import FORMULA_MESSAGE, RawTable, looks_like_formula, read_table
from app.roster.models import (
    AreaSource,
    OwnerKind,
    UnitStatus,
)

# --- validating rows ---------------------------------------------------------------------------


class OwnerEntry(NamedTuple):
    """An owner as the file gives them; the ID number is already reduced to hash and last 4.

    A named tuple (immutable, as before): 100,000 of them are built per large import, and a
    tuple is built several times faster than a frozen dataclass."""

    kind: OwnerKind
    name: str
    id_hash: str | None
    id_last4: str | None
    phone: str | None

    @property
    def key(self) -> str:
        return owner_key(id_hash=self.id_hash, name=self.name, phone=self.phone)


def owner_key(*, id_hash: str | None, name: str, phone: str | None) -> str:
    """Identity of an owner in a compound: the ID hash, else the name with the phone."""
    return f"id:{id_hash}" if id_hash else f"np:{name}\x1f{phone or ''}"


class RosterRow(NamedTuple):
    """One validated unit with the keys of its owners (a named tuple: see OwnerEntry)."""

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
    if _SEPARATORS.search(text) is None:  # one value, the common case: no split, no list
        text = text.strip()
        return [text] if text else []
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


_RESIDENT_ID = re.compile(r"\d{17}[\dX]")
_ASCII_ZERO_WEIGHT = ord("0") * sum(_ID_WEIGHTS)


def resident_id_valid(number: str) -> bool:
    """A mainland resident ID (GB 11643): 17 digits, a valid birth date, the check character."""
    if not _RESIDENT_ID.fullmatch(number):
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900:
        return False
    if number.isascii():  # the weighted sum over the digits' bytes, minus the weighted "0"s
        total = sum(map(mul, number[:17].encode(), _ID_WEIGHTS)) - _ASCII_ZERO_WEIGHT
    else:  # other Unicode digits (\d matches them, int() reads them)
        total = sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


class _ResidentIds:
    """`resident_id_valid` for the many IDs of one file: an ID is a region code (6 digits), a
    birth date (8) and a serial (3) plus the check character, and the weighted sum is the sum of
    the three parts' sums. Region codes and birth dates repeat across a compound, so each part's
    sum (and each birth date's check) is computed once and looked up after that."""

    def __init__(self) -> None:
        self.region: dict[str, int] = {}
        self.born: dict[str, int | None] = {}  # None: not a valid birth date from 1900 on
        self.serial: dict[str, int] = {}

    def valid(self, number: str) -> bool:
        if not number.isascii():
            return resident_id_valid(number)
        if not _RESIDENT_ID.fullmatch(number):
            return False
        born_digits = number[6:14]
        try:
            born = self.born[born_digits]
        except KeyError:
            born = self.born[born_digits] = _born_sum(born_digits)
        if born is None:
            return False
        region_digits, serial_digits = number[:6], number[14:17]
        try:
            region = self.region[region_digits]
        except KeyError:
            region = self.region[region_digits] = _weighted(region_digits, 0)
        try:
            serial = self.serial[serial_digits]
        except KeyError:
            serial = self.serial[serial_digits] = _weighted(serial_digits, 14)
        return _ID_CHECK[(region + born + serial) % 11] == number[17]


def _weighted(digits: str, offset: int) -> int:
    return sum(int(c) * w for c, w in zip(digits, _ID_WEIGHTS[offset:offset + len(digits)],
                                          strict=True))


def _born_sum(digits: str) -> int | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return None if born.year < 1900 else _weighted(digits, 6)


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


class _Memo:
    """A pure function of one cell value, remembered per distinct value for one file: most
    columns repeat a few values (buildings, entrances, statuses) over tens of thousands of rows.
    Values are told apart by type too (1, 1.0 and True are equal keys in a dict)."""

    __slots__ = ("cache", "fn")

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn
        self.cache: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        key = value if type(value) is str else (type(value), value)
        try:
            return self.cache[key]
        except KeyError:
            result = self.cache[key] = self.fn(value)
            return result
        except TypeError:  # an unhashable value
            return self.fn(value)


def _entrance(value: Any) -> str:
    entrance = _normal(value)
    return entrance.removesuffix("单元").strip() if entrance != "单元" else entrance


def _area(value: Any) -> tuple[int, str | None]:
    try:
        return parse_area(value), None
    except ValueError as exc:
        return 0, str(exc)


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
        # The eleven cells of a row in COLUMNS order, in one call; a column the header lacks
        # reads the None appended past the last column the header has.
        present = [positions[c] for c in COLUMNS if c in positions]
        self.width = max(present, default=-1) + 1
        self.complete = len(present) == len(COLUMNS)
        self.cells = itemgetter(*(positions.get(c, self.width) for c in COLUMNS))
        self.formula = _Memo(lambda v: looks_like_formula(_text(v)))
        self.normal = _Memo(_normal)
        self.entrance = _Memo(_entrance)
        self.area = _Memo(_area)
        self.area_source = _Memo(lambda v: AREA_SOURCES.get(_choice(v) or "不动产登记"))
        self.usage = _Memo(lambda v: _choice(v) or "住宅")
        self.status = _Memo(lambda v: STATUSES.get(_choice(v) or "已交付"))
        self.kinds = _Memo(lambda v: tuple(_split(_choice(v))))
        self.name_formula = _Memo(looks_like_formula)
        self.hash_id = id_number_hasher()
        self.resident_ids = _ResidentIds()

    def row_cells(self, values: list[Any]) -> tuple[Any, ...]:
        width = self.width
        if self.complete:
            row = values if len(values) >= width else [*values, *([None] * (width - len(values)))]
        else:
            row = values[:width]
            row += [None] * (width + 1 - len(row))
        cells: tuple[Any, ...] = self.cells(row)
        return cells

    def check(self, number: int, values: list[Any]) -> None:
        before = len(self.errors)
        (raw_building, raw_entrance, raw_room, raw_area, raw_source, raw_usage, raw_status,
         raw_kind, raw_name, raw_id, raw_phone) = self.row_cells(values)

        def fail(column: str, message: str) -> None:
            self.errors.append(RowError(number, column, message))

        formula = self.formula
        if formula(raw_building):
            fail(COL_BUILDING, FORMULA_MESSAGE)
        if formula(raw_entrance):
            fail(COL_ENTRANCE, FORMULA_MESSAGE)
        if formula(raw_room):
            fail(COL_ROOM, FORMULA_MESSAGE)
        building = self.normal(raw_building)
        if not building:
            fail(COL_BUILDING, "楼栋不能为空")
        elif len(building) > 50:
            fail(COL_BUILDING, "楼栋名称过长（最多50个字）")
        elif self.known_buildings is not None and building not in self.known_buildings:
            fail(COL_BUILDING, f"未知楼栋“{building}”：本小区名册中没有该楼栋")
        entrance = self.entrance(raw_entrance)
        if len(entrance) > 20:
            fail(COL_ENTRANCE, "单元名称过长（最多20个字）")
        room = self.normal(raw_room)
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
        if raw_area is None or (isinstance(raw_area, str) and not raw_area.strip()):
            fail(COL_AREA, "专有面积不能为空")
        else:
            area, problem = self.area(raw_area)
            if problem is not None:
                fail(COL_AREA, problem)

        area_source = self.area_source(raw_source)
        if area_source is None:
            fail(COL_AREA_SOURCE, "面积来源须为：不动产登记、测绘、合同")
        usage = self.usage(raw_usage)
        if usage not in USAGES:
            fail(COL_USAGE, "用途须为：" + "、".join(USAGES))
        status = self.status(raw_status)
        if status is None:
            fail(COL_STATUS, "状态须为：已交付、未售、已售未交付")

        owner_errors = len(self.errors)
        owners, keys = self.check_owners(number, (raw_kind, raw_name, raw_id, raw_phone), fail)
        owners_failed = len(self.errors) > owner_errors
        if status == UnitStatus.DELIVERED and not owners and not owners_failed:
            fail(COL_OWNER_NAME, "已交付房屋缺少业主")
        if status == UnitStatus.UNSOLD and owners:
            fail(COL_OWNER_NAME, "未售房屋属开发建设单位，业主列请留空")

        if len(self.errors) == before:
            assert area_source is not None and status is not None
            for okey, entry in zip(keys, owners, strict=True):
                self.owners.setdefault(okey, entry)
            self.rows.append(RosterRow(number, building, entrance, room, area, area_source, usage,
                                       status, keys))

    def check_owners(self, number: int, cells: tuple[Any, Any, Any, Any],
                     fail: _Fail) -> tuple[list[OwnerEntry], tuple[str, ...]]:
        """The row's owners and their keys (each key made once), or none when one is invalid."""
        raw_kind, raw_name, raw_id, raw_phone = cells
        names = _split(_text(raw_name))
        ids = _split(_normal(raw_id).upper())
        phones = _split(_normal(raw_phone))
        kinds = self.kinds(raw_kind)
        if not names:
            if any(ids) or any(phones):
                fail(COL_OWNER_NAME, "填写了证件号码或手机号，但缺少业主姓名")
            return [], ()
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
            return [], ()
        if isinstance(raw_id, float):
            # Excel keeps 15 significant digits: an ID typed as a number has lost its last digits.
            fail(COL_ID_NUMBER, "证件号码被存成了数字，末几位已丢失，请将该列设为“文本”格式后重新填写")
            return [], ()
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
            if self.name_formula(name):
                fail(COL_OWNER_NAME, f"{who}姓名{FORMULA_MESSAGE}")
                continue
            id_number = ids[i] if ids else ""
            if not id_number.isalnum():  # an alphanumeric text has no space to remove
                id_number = _SPACES.sub("", id_number)
            phone_text = phones[i] if phones else ""
            id_hash = id_last4 = phone = None
            on_file = (_ID_ON_FILE.match(id_number) if id_number.startswith(ID_ON_FILE_PREFIX)
                       else None)
            if on_file:
                id_hash, id_last4 = on_file.group(2).lower(), on_file.group(1)
                id_number = ""
            if id_number:
                if ("E" in id_number or "e" in id_number) and _SCIENTIFIC.match(id_number):
                    fail(COL_ID_NUMBER, "证件号码被显示为科学计数法，请将该列设为“文本”格式后重新填写")
                    continue
                ok = (credit_code_valid(id_number) if kind == OwnerKind.ORGANIZATION
                      else self.resident_ids.valid(id_number))
                if not ok:
                    expected = ("18位统一社会信用代码" if kind == OwnerKind.ORGANIZATION
                                else "18位居民身份证号码，末位校验码正确")
                    fail(COL_ID_NUMBER, f"{who}证件号码格式不正确（须为{expected}）")
                    continue
                id_hash, id_last4 = self.hash_id(id_number), id_number[-4:]
            if phone_text:
                phone = normalize_phone(phone_text)
                if phone is None:
                    fail(COL_PHONE, f"{who}手机号格式不正确（须为11位手机号码）")
                    continue
            if id_hash is None and phone is None:
                fail(COL_ID_NUMBER, f"{who}既无证件号码也无手机号，无法识别身份，请至少填写一项")
                continue
            entries.append(OwnerEntry(kind, name, id_hash, id_last4, phone))
        if len(entries) != count:
            return [], ()
        keys = tuple(e.key for e in entries)
        if count > 1 and len(set(keys)) != count:
            fail(COL_OWNER_NAME, "同一房屋的共有人重复")
            return [], ()
        for key, entry in zip(keys, entries, strict=True):
            self.check_consistency(number, entry, key, fail)
        return entries, keys

    def check_consistency(self, number: int, entry: OwnerEntry, key: str, fail: _Fail) -> None:
        """The same ID number must mean the same name, kind and phone on every row."""
        if entry.id_hash is None:
            return
        first_row = self.owner_rows.setdefault(key, number)
        if first_row == number:
            self.owners.setdefault(key, entry)
            return
        first = self.owners[key]
        if first.name != entry.name:
            fail(COL_ID_NUMBER, f"证件号码与第{first_row}行相同，但业主姓名不同")
        elif first.kind != entry.kind:
            fail(COL_OWNER_KIND, f"证件号码与第{first_row}行相同，但业主类型不同")
        elif first.phone and entry.phone and first.phone != entry.phone:
            fail(COL_PHONE, f"证件号码与第{first_row}行相同，但手机号不同")
        elif entry.phone and not first.phone:
            self.owners[key] = entry


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
