"""Roster import: parsing, complete validation, diff against the stored roster, and apply."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.audit.service import SYSTEM
from app.errors import DomainError
from app.privacy import hash_id_number
from app.roster import importer, removals, service
from app.roster.importer import COLUMNS, RosterFileRejected, RosterInvalid
from app.roster.models import (
    AreaSource,
    Building,
    Compound,
    Owner,
    RosterImport,
    Unit,
    UnitOwner,
    UnitStatus,
    UnitSubject,
    VotingSubject,
)
from app.roster.subjects import derive_subjects
from tests.factories import make_compound

ROSTER_TABLES = (Compound, Building, Unit, Owner, UnitOwner, VotingSubject, UnitSubject,
                 RosterImport, AuditEvent)


def ident(n: int) -> str:
    """A synthetic resident ID with a valid check digit, distinct for each n < 1,000,000."""
    born = date(1960, 1, 1) + timedelta(days=n // 1000)
    first17 = f"110105{born:%Y%m%d}{n % 1000:03d}"
    return first17 + importer.resident_id_check_char(first17)


def credit_code(n: int) -> str:
    first17 = f"91110105MA{n:07d}"
    return first17 + importer.credit_code_check_char(first17)


def row(building: str = "1栋", entrance: str = "1", room: str = "101", area: Any = "89.12",
        source: str = "", usage: str = "", status: str = "", kind: str = "",
        name: str = "张三", id_number: str = "", phone: str = "") -> list[Any]:
    return [building, entrance, room, area, source, usage, status, kind, name, id_number, phone]


def csv_bytes(rows: list[list[Any]], *, encoding: str = "utf-8",
              header: tuple[str, ...] = COLUMNS) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, header: tuple[str, ...] = COLUMNS) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名册")
    sheet.append(list(header))
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def errors_of(content: bytes, file_name: str = "名册.csv", **kwargs: Any) -> list[tuple[int, str, str]]:
    with pytest.raises(RosterInvalid) as caught:
        importer.parse_roster(content, file_name, **kwargs)
    return [(e.row, e.column, e.message) for e in caught.value.errors]


def table_counts(db: Session) -> dict[str, int]:
    return {
        t.__tablename__: db.execute(select(func.count()).select_from(t)).scalar_one()  # type: ignore[attr-defined]
        for t in ROSTER_TABLES
    }


def imported_events(db: Session, compound_id: int) -> list[AuditEvent]:
    return list(db.execute(
        select(AuditEvent).where(AuditEvent.compound_id == compound_id,
                                 AuditEvent.action == "roster.imported")
    ).scalars())


def import_file(db: Session, compound_id: int, content: bytes, name: str = "名册.csv",
                **kwargs: Any) -> RosterImport:
    record = importer.create_preview(db, compound_id=compound_id, content=content, file_name=name,
                                     **kwargs)
    assert record.id is not None
    applied = importer.apply_import(db, compound_id=compound_id, import_id=record.id,
                                    actor=SYSTEM)
    assert_subjects_follow_stored_units(db, compound_id)
    return applied


def stored_units(db: Session, compound_id: int) -> dict[str, tuple[int, str, list[str]]]:
    """Unit label → (area in hundredths, status, sorted owner names), read straight from tables."""
    owners: dict[int, list[str]] = {}
    for unit_id, name in db.execute(
        select(UnitOwner.unit_id, Owner.name).join(Owner, Owner.id == UnitOwner.owner_id)  # type: ignore[arg-type]
        .where(UnitOwner.compound_id == compound_id)
    ):
        owners.setdefault(unit_id, []).append(name)
    return {
        importer.unit_label(b, e, r): (area, UnitStatus(status).value, sorted(owners.get(uid, [])))
        for uid, b, e, r, area, status in db.execute(
            select(Unit.id, Building.name, Unit.entrance, Unit.room, Unit.area_hundredths,
                   Unit.status)
            .join(Building, Building.id == Unit.building_id)  # type: ignore[arg-type]
            .where(Unit.compound_id == compound_id)
        )
    }


# --- parsing and validation ------------------------------------------------------------------


def test_valid_co_owned_row_with_defaults() -> None:
    content = csv_bytes([
        row(room="102", area="120.5", name="李四；王五", id_number=f"{ident(2)}；{ident(3)}",
            phone="+86 138-0000-0002;13800000003"),
    ])
    roster = importer.parse_roster(content, "名册.csv")
    (unit,) = roster.rows
    assert (unit.row, unit.building, unit.entrance, unit.room) == (2, "1栋", "1", "102")
    assert unit.area_hundredths == 12050
    assert (unit.area_source, unit.usage, unit.status) == (
        AreaSource.REGISTER, "住宅", UnitStatus.DELIVERED)
    owners = [roster.owners[k] for k in unit.owner_keys]
    assert [(o.name, o.phone, o.id_last4) for o in owners] == [
        ("李四", "13800000002", ident(2)[-4:]), ("王五", "13800000003", ident(3)[-4:])]
    assert owners[0].id_hash == hash_id_number(ident(2))


def test_every_error_kind_is_reported_with_its_row_number() -> None:
    rows = [
        row(room="101", id_number=ident(1), phone="13800000001"),  # row 2: valid
        row(room="101", name="钱七", phone="13800000007"),  # 3: duplicate of row 2
        row(room="102", area="89.123", phone="13800000001"),  # 4
        row(room="103", area="0", phone="13800000001"),  # 5
        row(room="104", area="-5", phone="13800000001"),  # 6
        row(room="105", name=""),  # 7: delivered, no owner
        row(room="106", phone="12345"),  # 8
        row(room="107", id_number=ident(1)[:-1] + ("0" if ident(1)[-1] != "0" else "1")),  # 9
        row(room="108", source="估算", phone="13800000001"),  # 10
        row(room="109", usage="仓库", phone="13800000001"),  # 11
        row(room="110", status="已入住", phone="13800000001"),  # 12
        row(room="111", name="孙八"),  # 13: neither ID nor phone
        row(room="112", name="张叁", id_number=ident(1)),  # 14: same ID as row 2, other name
        row(room="113", name="李四；王五", phone="13800000002"),  # 15: 2 names, 1 phone
        row(room="114", kind="单位", name="某某公司", id_number=ident(9)),  # 16: person ID
        row(building="", room="115", phone="13800000001"),  # 17
        row(room="", phone="13800000001"),  # 18
        row(room="116", area="abc", phone="13800000001"),  # 19
        row(room="117", status="未售", name="开发商", phone="13800000009"),  # 20
        ["", "", "", "", "", "", "", "", "", "", ""],  # 21: blank, skipped
        row(room="118", area="", phone="13800000001"),  # 22
    ]
    errors = errors_of(csv_bytes(rows))
    bad_area = "专有面积须为正数，最多两位小数"
    expected = [
        (3, "房号", "房号重复（与第2行相同）"),
        (4, "专有面积（㎡）", f"{bad_area}（填写的是“89.123”）"),
        (5, "专有面积（㎡）", f"{bad_area}（填写的是“0”）"),
        (6, "专有面积（㎡）", f"{bad_area}（填写的是“-5”）"),
        (7, "业主姓名", "已交付房屋缺少业主"),
        (8, "手机号", "业主手机号格式不正确（须为11位手机号码）"),
        (9, "证件号码", "业主证件号码格式不正确（须为18位居民身份证号码，末位校验码正确）"),
        (10, "面积来源", "面积来源须为：不动产登记、测绘、合同"),
        (11, "用途", "用途须为：住宅、商业、车位、车库、其他"),
        (12, "状态", "状态须为：已交付、未售、已售未交付"),
        (13, "证件号码", "业主既无证件号码也无手机号，无法识别身份，请至少填写一项"),
        (14, "证件号码", "证件号码与第2行相同，但业主姓名不同"),
        (15, "手机号", "手机号个数（1）与业主姓名个数（2）不一致，多人请用“；”分隔并按顺序对应"),
        (16, "证件号码", "业主证件号码格式不正确（须为18位统一社会信用代码）"),
        (17, "楼栋", "楼栋不能为空"),
        (18, "房号", "房号不能为空"),
        (19, "专有面积（㎡）", f"{bad_area}（填写的是“abc”）"),
        (20, "业主姓名", "未售房屋属开发建设单位，业主列请留空"),
        (22, "专有面积（㎡）", "专有面积不能为空"),
    ]
    assert errors == expected


def test_id_in_scientific_notation_and_owner_without_name() -> None:
    errors = errors_of(csv_bytes([
        row(room="101", id_number="1.10105E+17"),
        row(room="102", name="", phone="13800000001"),
        row(room="103", name="张三；张三", phone="13800000001；13800000001"),
    ]))
    assert errors == [
        (2, "证件号码", "证件号码被显示为科学计数法，请将该列设为“文本”格式后重新填写"),
        (3, "业主姓名", "填写了证件号码或手机号，但缺少业主姓名"),
        (4, "业主姓名", "同一房屋的共有人重复"),
    ]


def test_invalid_roster_error_shape() -> None:
    with pytest.raises(RosterInvalid) as caught:
        importer.parse_roster(csv_bytes([row(area="1.001", phone="13800000001"),
                                         row(room="102", phone="1")]), "a.csv")
    exc = caught.value
    assert (exc.code, exc.status) == ("roster_invalid", 422)
    assert exc.message == "名册有 2 行错误，未写入任何数据"
    assert exc.extra["errors"][0] == {
        "row": 2, "column": "专有面积（㎡）",
        "message": "专有面积须为正数，最多两位小数（填写的是“1.001”）"}
    assert exc.extra["errors"][1]["row"] == 3


def test_headers_are_matched_by_name_with_aliases_and_spaces() -> None:
    header = (" 房号 ", "楼栋", "专有面积", "备注", "业主姓名", "手机号")
    content = csv_bytes([["101", "1栋", "95", "无关列", "张三", "13800000001"]], header=header)
    (unit,) = importer.parse_roster(content, "a.csv").rows
    assert (unit.building, unit.entrance, unit.room, unit.area_hundredths) == ("1栋", "", "101", 9500)


def test_missing_required_header_is_an_error() -> None:
    header = ("楼栋", "单元", "专有面积（㎡）", "业主姓名", "手机号")
    errors = errors_of(csv_bytes([["1栋", "1", "90", "张三", "13800000001"]], header=header))
    assert errors == [(1, "房号", "缺少必填列“房号”")]


def test_title_row_above_header_and_doubled_header() -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["阳光花园业主名册"])
    writer.writerow(COLUMNS)
    writer.writerow(row(phone="13800000001"))
    assert errors_of(buffer.getvalue().encode()) == [
        (1, "楼栋", "缺少必填列“楼栋”"),
        (1, "房号", "缺少必填列“房号”"),
        (1, "专有面积（㎡）", "缺少必填列“专有面积（㎡）”"),
        (2, "", "表头须在第1行：第2行像是表头，请删除其上方的标题行"),
    ]
    header = (*COLUMNS, "房号")
    assert errors_of(csv_bytes([row(phone="13800000001")], header=header)) == [
        (1, "房号", "表头“房号”重复出现")]


@pytest.mark.parametrize(("value", "hundredths"), [
    (89.12, 8912), ("89.1", 8910), ("0.01", 1), (95, 9500), (Decimal("120.50"), 12050),
    ("１２０．５０", 12050), ("100.00㎡", 10000), (0.07, 7), (180.0, 18000),
])
def test_area_is_exact_hundredths(value: Any, hundredths: int) -> None:
    assert importer.parse_area(value) == hundredths


@pytest.mark.parametrize("value", [89.123, "89.123", 0, "0.00", -1, "1e3", 0.1 + 0.2, "NaN",
                                   float("inf"), "89,12"])
def test_area_refused_when_not_positive_with_two_decimals(value: Any) -> None:
    with pytest.raises(ValueError, match="专有面积须为正数，最多两位小数"):
        importer.parse_area(value)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_encodings(encoding: str) -> None:
    content = csv_bytes([row(name="欧阳娜娜；龚鑫", id_number=f"{ident(5)}；{ident(6)}",
                             phone="13800000005；13800000006")], encoding=encoding)
    if encoding == "utf-8-sig":
        assert content.startswith(b"\xef\xbb\xbf")
    roster = importer.parse_roster(content, "名册.CSV")
    assert [o.name for o in roster.owners.values()] == ["欧阳娜娜", "龚鑫"]
    assert roster.rows[0].area_hundredths == 8912


def test_xlsx_numeric_and_text_cells() -> None:
    rows = [
        row(room="101", area=89.12, phone=13800000001),
        row(room="102", area="120.50", phone="13800000002"),
        row(room=103, area=95, phone="13800000003"),
        row(room="104", area=89.123, phone="13800000004"),
        row(room="105", area=90, id_number=110105196001010011.0),  # type: ignore[arg-type]
    ]
    content = xlsx_bytes(rows)
    assert errors_of(content, "名册.xlsx") == [
        (5, "专有面积（㎡）", "专有面积须为正数，最多两位小数（填写的是“89.123”）"),
        (6, "证件号码", "证件号码被存成了数字，末几位已丢失，请将该列设为“文本”格式后重新填写"),
    ]
    roster = importer.parse_roster(xlsx_bytes(rows[:3]), "名册.xlsx")
    assert [(r.room, r.area_hundredths) for r in roster.rows] == [
        ("101", 8912), ("102", 12050), ("103", 9500)]
    assert roster.owners[roster.rows[0].owner_keys[0]].phone == "13800000001"


def test_organization_owner_with_credit_code() -> None:
    roster = importer.parse_roster(
        csv_bytes([row(room="S1", usage="商业", kind="单位", name="阳光商业管理有限公司",
                       id_number=credit_code(1))]), "a.csv")
    (owner,) = roster.owners.values()
    assert owner.kind == "organization" and owner.id_last4 == credit_code(1)[-4:]


@pytest.mark.parametrize(("name", "content", "code", "status"), [
    ("名册.pdf", b"%PDF-1.4", "roster_file_type", 415),
    ("名册.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "roster_file_unreadable", 422),
    ("名册.xls", b"plain text, not a workbook", "roster_file_unreadable", 422),
    ("名册.xlsx", b"not a zip at all", "roster_file_unreadable", 422),
    ("名册.xlsx", b"PK\x03\x04broken", "roster_file_unreadable", 422),
    ("名册.csv", b"", "roster_file_empty", 422),
    ("名册.csv", "楼栋,房号".encode("utf-16"), "roster_file_encoding", 422),
])
def test_unreadable_files_are_refused(name: str, content: bytes, code: str, status: int) -> None:
    with pytest.raises(RosterFileRejected) as caught:
        importer.parse_roster(content, name)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_upload_size_and_row_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(RosterFileRejected) as caught:
        importer.read_limited(io.BytesIO(b"x" * 101), limit=100)
    assert (caught.value.code, caught.value.status) == ("roster_file_too_large", 413)
    assert importer.read_limited(io.BytesIO(b"x" * 100), limit=100) == b"x" * 100
    monkeypatch.setattr(importer.reading, "MAX_ROWS", 3)
    rows = [row(room=str(100 + i), phone="13800000001") for i in range(4)]
    with pytest.raises(RosterFileRejected) as caught:
        importer.parse_roster(csv_bytes(rows), "a.csv")
    assert caught.value.code == "roster_too_many_rows" and "3" in caught.value.message
    assert len(importer.parse_roster(csv_bytes(rows[:3]), "a.csv").rows) == 3


def test_multi_unit_owner_is_one_owner_and_id_less_twin_merges() -> None:
    roster = importer.parse_roster(csv_bytes([
        row(room="101", id_number=ident(1), phone="13800000001"),
        row(room="102", id_number=ident(1)),
        row(room="103", phone="13800000001"),  # same name and phone, no ID: the same person
        row(room="104", name="李四", phone="13800000002"),
        row(room="105", name="李四", phone="13800000002"),
    ]), "a.csv")
    assert len(roster.owners) == 2
    keys = [r.owner_keys for r in roster.rows]
    assert keys[0] == keys[1] == keys[2] and keys[3] == keys[4] != keys[0]
    summary = importer.summarize(roster, parking_counts_as_area=False)
    assert (summary["units"], summary["headcount"], summary["owners"]) == (5, 2, 2)


def test_conflicting_phone_for_one_id_is_an_error() -> None:
    errors = errors_of(csv_bytes([row(room="101", id_number=ident(1), phone="13800000001"),
                                  row(room="102", id_number=ident(1), phone="13800000002")]))
    assert errors == [(3, "手机号", "证件号码与第2行相同，但手机号不同")]


def test_known_buildings_only(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes([row(phone="13800000001")]))
    content = csv_bytes([row(phone="13800000001"), row(building="9栋", phone="13800000002")])
    with pytest.raises(RosterInvalid) as caught:
        importer.create_preview(db, compound_id=compound.id, content=content, file_name="a.csv",
                                known_buildings_only=True)
    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [
        (3, "楼栋", "未知楼栋“9栋”：本小区名册中没有该楼栋")]
    record = importer.create_preview(db, compound_id=compound.id, content=content, file_name="a.csv")
    assert json.loads(record.diff_json)["buildings_added"] == ["9栋"]


# --- 5,000-unit files --------------------------------------------------------------------------


def big_rows(n: int) -> list[list[Any]]:
    """n units in 10 buildings; every 10th unit shares its owner with the next; 50 unsold."""
    rows = []
    for i in range(n):
        owner = i + 1 if i % 10 == 0 else i
        unsold = i % 100 == 99
        rows.append(row(
            building=f"{i // 500 + 1}栋", entrance=str(i % 500 // 100 + 1), room=str(101 + i % 100),
            area=(5000 + (i * 37) % 13001) / 100, status="未售" if unsold else "",
            name="" if unsold else f"业主{owner}", id_number="" if unsold else ident(owner),
            phone="" if unsold else f"138{owner:08d}",
        ))
    return rows


@pytest.mark.slow
def test_5000_rows_with_three_bad_rows_write_nothing(db: Session) -> None:
    compound = make_compound(db)
    db.commit()
    rows = big_rows(5000)
    rows[1200 - 2][2] = rows[0][2]  # row 1200: same building/entrance/room as row 2
    rows[1200 - 2][0], rows[1200 - 2][1] = rows[0][0], rows[0][1]
    rows[3001 - 2][3] = 89.123
    rows[4999 - 2][10] = "1380000000"
    before = table_counts(db)
    with pytest.raises(RosterInvalid) as caught:
        importer.create_preview(db, compound_id=compound.id, content=xlsx_bytes(rows),
                                file_name="名册.xlsx")
    assert [(e.row, e.column, e.message) for e in caught.value.errors] == [
        (1200, "房号", "房号重复（与第2行相同）"),
        (3001, "专有面积（㎡）", "专有面积须为正数，最多两位小数（填写的是“89.123”）"),
        (4999, "手机号", "业主手机号格式不正确（须为11位手机号码）"),
    ]
    assert caught.value.message == "名册有 3 行错误，未写入任何数据"
    db.flush()
    assert table_counts(db) == before
    assert before["unit"] == 0 and before["roster_import"] == 0


@pytest.mark.slow
def test_5000_rows_import_with_exact_totals(db: Session) -> None:
    compound = make_compound(db)
    rows = big_rows(5000)
    record = import_file(db, compound.id, xlsx_bytes(rows), "名册.xlsx")
    expected_area = sum(int(Decimal(repr(r[3])) * 100) for r in rows)
    owner_sets = {r[9] for r in rows if r[9]}  # one owner per unit here: sets = owners
    result = json.loads(record.summary_json)["result"]
    assert result["units"] == 5000
    assert result["total_area_hundredths"] == expected_area
    assert result["total_area"] == service.format_area(expected_area)
    assert result["headcount"] == len(owner_sets) + 1  # the developer counts once
    totals = service.roster_totals(db, compound_id=compound.id)
    assert (totals.unit_count, totals.subject_count, totals.total_area_hundredths) == (
        5000, len(owner_sets) + 1, expected_area)
    assert totals.owner_count == len(owner_sets) and totals.developer_unit_count == 50
    assert totals.subject_count < totals.unit_count


# --- preview, diff and apply -------------------------------------------------------------------


BASE = [
    row(room="101", area="89.12", name="张三", id_number=ident(1), phone="13800000001"),
    row(room="102", area="120.50", name="李四；王五", id_number=f"{ident(2)}；{ident(3)}",
        phone="13800000002；13800000003"),
    row(room="103", area="95.00", name="赵六", id_number=ident(4), phone="13800000004"),
    row(room="104", area="66.60", name="张三", id_number=ident(1), phone="13800000001"),
    row(building="2栋", room="101", area="100.00", status="未售", name=""),
]


def test_first_import_of_empty_compound_is_all_added(db: Session) -> None:
    compound = make_compound(db)
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(BASE),
                                     file_name="名册.csv", uploaded_by=None)
    view = importer.import_view(record)
    assert view["status"] == "previewed" and view["row_count"] == 5
    assert view["counts"] == {
        "buildings_added": 2, "units_added": 5, "units_changed": 0, "units_missing": 0,
        "units_unchanged": 0, "owners_moved": 0, "owners_added": 4, "owners_updated": 0,
        "owners_missing": 0,
    }
    assert [u["label"] for u in view["diff"]["units_added"]] == [
        "1栋1单元101", "1栋1单元102", "1栋1单元103", "1栋1单元104", "2栋1单元101"]
    assert view["diff"]["units_added"][1]["owners"] == [
        {"name_masked": "李*", "phone_masked": "138****0002", "kind": "person"},
        {"name_masked": "王*", "phone_masked": "138****0003", "kind": "person"},
    ]
    # 张三 (2 units), 李四+王五, 赵六, the developer
    assert view["summary"] == {
        "units": 5, "voting_units": 5, "developer_units": 1, "co_owned_units": 1,
        "parking_units": 0, "buildings": 2, "owners": 4, "subjects": 4, "headcount": 4,
        "total_area": "471.22", "total_area_hundredths": 47122,
    }
    for secret in (ident(1), ident(2), hash_id_number(ident(1)), "13800000001", "张三"):
        assert secret not in record.diff_json
    assert ident(1) not in record.rows_json and hash_id_number(ident(1)) in record.rows_json
    assert len(record.file_sha256) == 64 and len(record.roster_fingerprint) == 64
    assert table_counts(db)["unit"] == 0  # a preview writes nothing to the roster


def assert_subjects_follow_stored_units(db: Session, compound_id: int) -> None:
    """The subjects an import derived from its plan in memory are the ones the stored units and
    owner links give when read back."""
    db.flush()
    expected = {d.key: (d.area_hundredths, d.unit_ids, d.owner_ids)
                for d in derive_subjects(service.unit_facts(db, compound_id=compound_id))}
    units: dict[int, list[int]] = {}
    for unit_id, subject_id in db.execute(select(UnitSubject.unit_id, UnitSubject.subject_id)
                                          .where(UnitSubject.compound_id == compound_id)):
        units.setdefault(subject_id, []).append(unit_id)
    stored = {key: (area, tuple(sorted(units.get(sid, []))), rep)
              for sid, key, area, count, rep in db.execute(
                  select(VotingSubject.id, VotingSubject.key, VotingSubject.area_hundredths,
                         VotingSubject.unit_count, VotingSubject.representative_owner_id)
                  .where(VotingSubject.compound_id == compound_id))
              if count == len(units.get(sid, []))}
    assert {k: v[:2] for k, v in stored.items()} == {k: v[:2] for k, v in expected.items()}
    for key, (_, _, rep) in stored.items():
        assert rep in expected[key][2] or (rep is None and not expected[key][2])


def test_reimport_diff_lists_exactly_the_changes_and_apply_matches(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes(BASE))
    events_before = len(imported_events(db, compound.id))
    audit_before = db.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    second = [list(r) for r in BASE]
    second[2] = row(room="103", area="95.01", name="赵六", id_number=ident(4),
                    phone="13800000004")  # area changed
    del second[3]  # 104 removed (张三 keeps 101)
    second[0] = row(room="101", area="89.12", name="孙七", id_number=ident(7),
                    phone="13800000007")  # 101 sold to 孙七: 张三 owns nothing now
    second.append(row(room="105", area="70.00", name="周八", phone="13800000008"))  # added
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(second),
                                     file_name="名册2.csv")
    diff = json.loads(record.diff_json)
    assert [u["label"] for u in diff["units_added"]] == ["1栋1单元105"]
    assert [u["label"] for u in diff["units_missing"]] == ["1栋1单元104"]
    assert diff["units_missing"][0]["owners"] == [
        {"name_masked": "张*", "phone_masked": "138****0001", "kind": "person"}]
    assert diff["units_changed"] == [{"label": "1栋1单元103", "changes": [
        {"field": "area", "field_label": "专有面积（㎡）", "old": "95.00", "new": "95.01"}]}]
    assert diff["owners_moved"] == [{
        "label": "1栋1单元101",
        "old_owners": [{"name_masked": "张*", "phone_masked": "138****0001", "kind": "person"}],
        "new_owners": [{"name_masked": "孙*", "phone_masked": "138****0007", "kind": "person"}],
    }]
    assert diff["counts"] == {
        "buildings_added": 0, "units_added": 1, "units_changed": 1, "units_missing": 1,
        "units_unchanged": 2, "owners_moved": 1, "owners_added": 2, "owners_updated": 0,
        "owners_missing": 1,
    }
    assert record.id is not None
    applied = importer.apply_import(db, compound_id=compound.id, import_id=record.id,
                                    actor=SYSTEM)
    assert applied.status == "applied" and applied.applied_at is not None
    assert_subjects_follow_stored_units(db, compound.id)
    # The import adds and changes; it removes nothing: 104 and 张三 stay until the removal step.
    assert stored_units(db, compound.id) == {
        "1栋1单元101": (8912, "delivered", ["孙七"]),
        "1栋1单元102": (12050, "delivered", ["李四", "王五"]),
        "1栋1单元103": (9501, "delivered", ["赵六"]),
        "1栋1单元104": (6660, "delivered", ["张三"]),
        "1栋1单元105": (7000, "delivered", ["周八"]),
        "2栋1单元101": (10000, "unsold", []),
    }
    names = set(db.execute(select(Owner.name).where(Owner.compound_id == compound.id)).scalars())
    assert names == {"张三", "孙七", "李四", "王五", "赵六", "周八"}
    events = imported_events(db, compound.id)
    assert len(events) == events_before + 1
    assert db.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == audit_before + 1
    payload = json.loads(events[-1].payload)
    assert payload["units_added"] == 1 and payload["units_missing"] == 1
    assert payload["file_sha256"] == record.file_sha256
    assert payload["total_area_hundredths"] == 8912 + 12050 + 9501 + 6660 + 7000 + 10000
    assert payload["subject_count"] == 6
    for secret in ("孙七", "13800000007", ident(7)):
        assert secret not in events[-1].payload
    # The explicit removal step: 1 unit (104) and 1 owner (张三) once "1" is typed.
    done = removals.remove_pending(db, compound_id=compound.id, import_id=record.id,
                                   typed_count=1, reason="104室已拆除合并", actor=SYSTEM)
    assert (done["units_removed"], done["owners_removed"]) == (1, 1)
    assert "1栋1单元104" not in stored_units(db, compound.id)
    names = set(db.execute(select(Owner.name).where(Owner.compound_id == compound.id)).scalars())
    assert names == {"孙七", "李四", "王五", "赵六", "周八"}
    totals = service.roster_totals(db, compound_id=compound.id)
    assert (totals.subject_count, totals.total_area_hundredths) == (5, 47463)


def test_owner_phone_change_is_an_update_not_a_move(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes(BASE))
    subjects_before = {s.key: s.id for s in db.execute(select(VotingSubject)).scalars()}
    second = [list(r) for r in BASE]
    second[2][10] = "13900000004"
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(second),
                                     file_name="a.csv")
    diff = json.loads(record.diff_json)
    assert diff["owners_moved"] == [] and diff["counts"]["owners_updated"] == 1
    assert diff["owners_updated"] == [{
        "name_masked": "赵*", "phone_masked": "138****0004", "kind": "person",
        "changes": [{"field": "phone", "field_label": "手机号", "old": "138****0004",
                     "new": "139****0004"}],
    }]
    assert record.id is not None
    importer.apply_import(db, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    phone = db.execute(select(Owner.phone).where(Owner.name == "赵六")).scalar_one()
    assert phone == "13900000004"
    subjects_after = {s.key: s.id for s in db.execute(select(VotingSubject)).scalars()}
    assert subjects_after == subjects_before  # same owners, same subjects


def test_owner_stored_without_id_keeps_identity_when_id_is_added(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes([row(room="101", name="周八", phone="13800000008"),
                                            row(room="102", name="周八", phone="13800000008")]))
    owner_id = db.execute(select(Owner.id).where(Owner.name == "周八")).scalar_one()
    second = [row(room="101", name="周八", id_number=ident(8), phone="13800000008"),
              row(room="102", name="周八", phone="13800000008")]
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(second),
                                     file_name="a.csv")
    diff = json.loads(record.diff_json)
    assert diff["owners_moved"] == [] and diff["counts"]["owners_added"] == 0
    assert diff["owners_updated"][0]["changes"] == [
        {"field": "id_number", "field_label": "证件号码", "old": "未登记", "new": "已登记"}]
    assert record.id is not None
    importer.apply_import(db, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    stored = db.execute(select(Owner.id, Owner.id_hash, Owner.id_last4)).one()
    assert tuple(stored) == (owner_id, hash_id_number(ident(8)), ident(8)[-4:])


def test_stale_preview_is_refused(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes(BASE))
    stale = importer.create_preview(db, compound_id=compound.id,
                                    content=csv_bytes(BASE[:4]), file_name="a.csv")
    newer = [list(r) for r in BASE]
    newer[0][3] = "89.13"
    import_file(db, compound.id, csv_bytes(newer))
    assert stale.id is not None
    with pytest.raises(DomainError) as caught:
        importer.apply_import(db, compound_id=compound.id, import_id=stale.id, actor=SYSTEM)
    assert (caught.value.code, caught.value.status) == ("roster_changed", 409)
    assert "请重新上传" in caught.value.message


def test_direct_roster_edit_makes_preview_stale(db: Session) -> None:
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes(BASE))
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(BASE),
                                     file_name="a.csv")
    unit = db.execute(select(Unit).where(Unit.room == "103")).scalar_one()
    unit.area_hundredths += 1
    db.add(unit)
    db.flush()
    assert record.id is not None
    with pytest.raises(DomainError) as caught:
        importer.apply_import(db, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    assert caught.value.code == "roster_changed"


def test_apply_twice_and_other_compound(db: Session) -> None:
    compound = make_compound(db)
    other = make_compound(db)
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(BASE),
                                     file_name="a.csv")
    assert record.id is not None
    with pytest.raises(DomainError) as caught:
        importer.apply_import(db, compound_id=other.id, import_id=record.id, actor=SYSTEM)
    assert (caught.value.code, caught.value.status) == ("roster_import_not_found", 404)
    importer.apply_import(db, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    with pytest.raises(DomainError) as caught:
        importer.apply_import(db, compound_id=compound.id, import_id=record.id, actor=SYSTEM)
    assert (caught.value.code, caught.value.status) == ("roster_import_already_applied", 409)
    assert len(imported_events(db, compound.id)) == 1


def test_undelivered_buyer_is_kept_but_counts_with_developer(db: Session) -> None:
    compound = make_compound(db)
    rows = [row(room="101", name="甲", phone="13800000001"),
            row(room="102", status="已售未交付", name="乙", phone="13800000002"),
            row(room="103", status="未售", name=""),
            row(room="C1", usage="车位", area="12.50", name="甲", phone="13800000001")]
    import_file(db, compound.id, csv_bytes(rows))
    totals = service.roster_totals(db, compound_id=compound.id)
    assert (totals.unit_count, totals.voting_unit_count, totals.subject_count) == (4, 3, 2)
    assert totals.total_area_hundredths == 3 * 8912
    assert totals.owner_count == 2  # the buyer 乙 is kept as owner of 102
    assert stored_units(db, compound.id)["1栋1单元102"] == (8912, "undelivered", ["乙"])


def test_entrance_suffix_and_full_width_forms_are_normalized(db: Session) -> None:
    roster = importer.parse_roster(csv_bytes([
        row(entrance="２单元", room="１０１", phone="１３８０００００００１")]), "a.csv")
    (unit,) = roster.rows
    assert (unit.entrance, unit.room) == ("2", "101")
    assert roster.owners[unit.owner_keys[0]].phone == "13800000001"


def test_preview_and_apply_run_with_the_collector_paused(db: Session,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Both phases build their rows with the cyclic collector off (app/memory.py), and leave it
    as they found it."""
    import gc

    from app.roster.importer import applying, previews

    seen: list[bool] = []
    for module in (previews, applying):
        planned = module.plan_changes
        monkeypatch.setattr(module, "plan_changes",
                            lambda *a, _p=planned, **k: seen.append(gc.isenabled()) or _p(*a, **k))
    was = gc.isenabled()
    compound = make_compound(db)
    import_file(db, compound.id, csv_bytes(BASE))
    assert seen == [False, False]
    assert gc.isenabled() == was


def test_a_large_preview_is_stored_compressed_with_lz4(db: Session) -> None:
    """PostgreSQL compresses the stored rows with lz4 (when it has it), not the slower pglz."""
    from sqlalchemy import text

    if db.get_bind().dialect.name != "postgresql" or not db.execute(text(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
            "WHERE name = 'default_toast_compression'")).scalar_one():
        pytest.skip("only PostgreSQL built with lz4 compresses with it")
    compound = make_compound(db)
    record = importer.create_preview(db, compound_id=compound.id, content=csv_bytes(big_rows(300)),
                                     file_name="名册.csv")
    assert len(record.rows_json) > 8000  # past the size PostgreSQL compresses at
    assert db.execute(text("SELECT pg_column_compression(rows_json) FROM roster_import "
                           "WHERE id = :id"), {"id": record.id}).scalar_one() == "lz4"
