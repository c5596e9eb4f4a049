"""Roster safety (issue 14): imports never remove, the explicit removal step, export that
round-trips through the import, single edits with a reason, and open ballots left untouched."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.models import AuditEvent
from app.audit.service import SYSTEM
from app.auth.models import Role
from app.clock import FrozenClock
from app.errors import DomainError
from app.roster import editing, export, importer, removals, service
from app.roster.importer import COLUMNS
from app.roster.models import Owner, Unit
from tests.factories import bearer, make_compound, make_staff
from tests.roster.test_import import BASE, credit_code, csv_bytes, ident, row, stored_units

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A roster with every shape the template allows: co-owners (one without a phone), an
# organization, an owner known by phone only, no entrance, a parking space, sold-undelivered.
RICH = [
    *BASE,
    row(building="2栋", entrance="", room="S101", area="45.30", source="测绘", usage="商业",
        kind="单位", name="阳光超市有限公司", id_number=credit_code(9)),
    row(building="2栋", room="201", area="88.88", source="合同", status="已售未交付",
        name="钱八；孙九", id_number=f"{ident(8)}；", phone="13800000008；13800000009"),
    row(building="3栋", entrance="2单元", room="0301", area="77.00", name="周十",
        phone="13800000010"),
    row(building="3栋", room="B1-001", area="12.50", usage="车位", kind="个人；个人",
        name="吴一；郑二", id_number=f"{ident(11)}；{ident(12)}", phone="；13800000012"),
]


def apply_file(db: Session, cid: int, rows: list[list[Any]] | bytes, name: str = "名册.csv") -> int:
    content = rows if isinstance(rows, bytes) else csv_bytes(rows)
    record = importer.create_preview(db, compound_id=cid, content=content, file_name=name)
    assert record.id is not None
    importer.apply_import(db, compound_id=cid, import_id=record.id, actor=SYSTEM)
    return record.id


def owner_names(db: Session, cid: int) -> set[str]:
    return set(db.execute(select(Owner.name).where(Owner.compound_id == cid)).scalars())


def events(db: Session, cid: int, action: str) -> list[AuditEvent]:
    return list(db.execute(select(AuditEvent).where(
        AuditEvent.compound_id == cid, AuditEvent.action == action).order_by(AuditEvent.seq)
    ).scalars())


# --- imports never remove ------------------------------------------------------------------------


def test_a_two_row_file_removes_nothing_without_the_removal_step(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, RICH)
    units_before = stored_units(db, cid)
    owners_before = owner_names(db, cid)
    totals_before = service.roster_totals(db, compound_id=cid)
    two_rows = [row(room="101", area="89.20", name="张三", id_number=ident(1), phone="13800000001"),
                row(room="105", area="70.00", name="冯三", phone="13800000013")]
    record = importer.create_preview(db, compound_id=cid, content=csv_bytes(two_rows),
                                     file_name="两行.csv")
    diff = json.loads(record.diff_json)
    assert diff["counts"]["units_missing"] == len(RICH) - 1
    assert diff["counts"]["owners_missing"] == len(owners_before) - 1
    # The preview's totals are the roster after this import: everything kept, one unit added.
    summary = json.loads(record.summary_json)["summary"]
    assert summary["units"] == len(RICH) + 1
    assert summary["total_area_hundredths"] == totals_before.total_area_hundredths + 8 + 7000
    assert record.id is not None
    importer.apply_import(db, compound_id=cid, import_id=record.id, actor=SYSTEM)
    after = stored_units(db, cid)
    assert set(after) == set(units_before) | {"1栋1单元105"}
    assert after["1栋1单元101"][0] == 8920  # the change applied
    assert {k: v for k, v in after.items() if k not in ("1栋1单元101", "1栋1单元105")} == {
        k: v for k, v in units_before.items() if k != "1栋1单元101"}
    assert owner_names(db, cid) == owners_before | {"冯三"}
    totals = service.roster_totals(db, compound_id=cid)
    assert totals.total_area_hundredths == summary["total_area_hundredths"]
    assert totals.subject_count == summary["headcount"]
    # What the file lacked waits for the removal step, listed with masked owners.
    view = removals.pending_view(db, compound_id=cid)
    assert view["import_id"] == record.id
    assert view["unit_count"] == len(RICH) - 1 and view["confirm_what"] == "units"
    assert view["confirm_count"] == len(RICH) - 1
    assert "张三" not in json.dumps(view, ensure_ascii=False, default=str)
    assert "13800000002" not in json.dumps(view, default=str)
    assert view["owner_count"] == len(owners_before) - 1  # 张三 keeps 101 (in the file): stays
    assert view["owners"][0]["phone_masked"].count("*") == 4


def test_the_removal_step_needs_the_typed_count_and_a_reason(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, BASE)
    import_id = apply_file(db, cid, BASE[:2])  # 103, 104 (张三 keeps 101), 2栋101 missing
    pending = removals.pending(db, compound_id=cid)
    assert len(pending.unit_ids) == 3 and len(pending.owner_ids) == 1  # 赵六
    for typed in (0, 2, 4, 3 + 1):
        with pytest.raises(DomainError) as err:
            removals.remove_pending(db, compound_id=cid, import_id=import_id, typed_count=typed,
                                    reason="核对后移除", actor=SYSTEM)
        assert err.value.code == "removal_count_mismatch"
    with pytest.raises(DomainError) as err:
        removals.remove_pending(db, compound_id=cid, import_id=import_id, typed_count=3,
                                reason="  ", actor=SYSTEM)
    assert err.value.code == "removal_reason_required"
    with pytest.raises(DomainError) as err:
        removals.remove_pending(db, compound_id=cid, import_id=import_id - 1, typed_count=3,
                                reason="核对后移除", actor=SYSTEM)
    assert err.value.code == "removal_list_changed"
    assert len(stored_units(db, cid)) == 5 and events(db, cid, "roster.removed") == []
    done = removals.remove_pending(db, compound_id=cid, import_id=import_id, typed_count=3,
                                   reason="开发商收回并合并房屋", actor=SYSTEM)
    assert (done["units_removed"], done["owners_removed"]) == (3, 1)
    assert set(stored_units(db, cid)) == {"1栋1单元101", "1栋1单元102"}
    assert owner_names(db, cid) == {"张三", "李四", "王五"}
    (event,) = events(db, cid, "roster.removed")
    payload = json.loads(event.payload)
    assert payload["reason"] == "开发商收回并合并房屋"
    assert (payload["units_removed"], payload["owners_removed"]) == (3, 1)
    assert payload["total_area_hundredths"] == 8912 + 12050
    totals = service.roster_totals(db, compound_id=cid)
    assert (totals.unit_count, totals.subject_count, totals.total_area_hundredths) == (2, 2, 20962)
    # Nothing is left: a second removal is refused, the list is empty.
    assert removals.pending_view(db, compound_id=cid)["unit_count"] == 0
    with pytest.raises(DomainError) as err:
        removals.remove_pending(db, compound_id=cid, import_id=import_id, typed_count=0,
                                reason="再来一次", actor=SYSTEM)
    assert err.value.code == "removal_nothing_pending"


def test_owners_only_removal_types_the_owner_count(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, BASE)
    moved = [list(r) for r in BASE]
    moved[2] = row(room="103", area="95.00", name="褚七", phone="13800000017")  # 赵六 sold 103
    import_id = apply_file(db, cid, moved)
    view = removals.pending_view(db, compound_id=cid)
    assert (view["unit_count"], view["owner_count"], view["confirm_what"]) == (0, 1, "owners")
    assert "赵六" in owner_names(db, cid)  # kept by the import, holding no unit
    removals.remove_pending(db, compound_id=cid, import_id=import_id, typed_count=1,
                            reason="房屋已过户", actor=SYSTEM)
    assert "赵六" not in owner_names(db, cid)


# --- export --------------------------------------------------------------------------------------


def test_export_then_import_changes_nothing(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, RICH)
    units = stored_units(db, cid)
    fingerprint = importer.roster_fingerprint(importer.load_current(db, compound_id=cid))
    content, file_name = export.export_xlsx(db, compound_id=cid, actor=SYSTEM)
    assert file_name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames == ["名册", "填写说明"]
    cells = [list(r) for r in book["名册"].iter_rows(values_only=True)]
    assert tuple(cells[0]) == COLUMNS and len(cells) == len(RICH) + 1
    text = json.dumps(cells, ensure_ascii=False, default=str)
    for n in (1, 2, 3, 4, 8, 11, 12):
        assert ident(n) not in text  # never an ID number in clear
    assert credit_code(9) not in text
    assert "已登记尾号" in text
    record = importer.create_preview(db, compound_id=cid, content=content, file_name=file_name)
    counts = json.loads(record.summary_json)["counts"]
    assert counts == {"buildings_added": 0, "units_added": 0, "units_changed": 0,
                      "units_missing": 0, "units_unchanged": len(RICH), "owners_moved": 0,
                      "owners_added": 0, "owners_updated": 0, "owners_missing": 0}
    assert record.id is not None
    importer.apply_import(db, compound_id=cid, import_id=record.id, actor=SYSTEM)
    assert stored_units(db, cid) == units
    assert importer.roster_fingerprint(importer.load_current(db, compound_id=cid)) == fingerprint
    (event,) = events(db, cid, "roster.exported")
    assert json.loads(event.payload) == {"unit_count": len(RICH)}


def test_export_is_for_the_committee_only(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    make_staff(db, username="wy", roles={cid: [Role.COMMITTEE]})
    make_staff(db, username="wg", roles={cid: [Role.CLERK]})
    apply_file(db, cid, BASE)
    db.commit()
    url = f"/api/v1/compounds/{cid}/roster/export"
    assert client.get(url, headers=bearer(client, "wg")).status_code == 403
    r = client.get(url, headers=bearer(client, "wy"))
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert "attachment" in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store"


# --- single edits --------------------------------------------------------------------------------


def test_edit_a_unit_with_a_reason_is_audited_before_and_after(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, BASE)
    unit_id = db.execute(select(Unit.id).where(Unit.compound_id == cid, Unit.room == "103")
                         ).scalar_one()
    with pytest.raises(DomainError) as err:
        editing.edit_unit(db, compound_id=cid, unit_id=unit_id,
                          changes={"area_hundredths": 9600}, reason=" ", actor=SYSTEM)
    assert err.value.code == "edit_reason_required"
    done = editing.edit_unit(db, compound_id=cid, unit_id=unit_id,
                             changes={"area_hundredths": 9600, "entrance": "2单元"},
                             reason="按不动产登记簿更正", actor=SYSTEM)
    assert (done["area"], done["entrance"], done["label"]) == ("96.00", "2", "1栋2单元103")
    (event,) = events(db, cid, "unit.edited")
    assert (event.object_type, event.object_id) == ("unit", str(unit_id))
    assert json.loads(event.payload) == {
        "unit": "1栋1单元103", "changed": ["单元", "专有面积"],
        "before": {"entrance": "1", "area": "95.00"}, "after": {"entrance": "2", "area": "96.00"},
        "reason": "按不动产登记簿更正"}
    totals = service.roster_totals(db, compound_id=cid)
    assert totals.total_area_hundredths == 47122 + 100  # the subjects follow
    # Same room in the same building and entrance: refused; nothing changed: refused.
    other = db.execute(select(Unit.id).where(Unit.compound_id == cid, Unit.room == "102")
                       ).scalar_one()
    with pytest.raises(DomainError) as err:
        editing.edit_unit(db, compound_id=cid, unit_id=other, changes={"entrance": "2",
                          "room": "103"}, reason="改", actor=SYSTEM)
    assert err.value.code == "unit_exists"
    with pytest.raises(DomainError) as err:
        editing.edit_unit(db, compound_id=cid, unit_id=unit_id, changes={"area_hundredths": 9600},
                          reason="改", actor=SYSTEM)
    assert err.value.code == "edit_no_change"
    with pytest.raises(DomainError) as err:  # a delivered unit with owners cannot be "unsold"
        editing.edit_unit(db, compound_id=cid, unit_id=unit_id, changes={"status": "unsold"},
                          reason="改", actor=SYSTEM)
    assert err.value.code == "roster_value_invalid"


def test_edit_an_owner_masks_names_and_phones_in_the_trail(db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    apply_file(db, cid, BASE)
    owner_id = db.execute(select(Owner.id).where(Owner.compound_id == cid, Owner.name == "赵六")
                          ).scalar_one()
    with pytest.raises(DomainError) as err:
        editing.edit_owner(db, compound_id=cid, owner_id=owner_id, changes={"phone": "12345"},
                           reason="换号", actor=SYSTEM)
    assert err.value.code == "roster_value_invalid"
    done = editing.edit_owner(db, compound_id=cid, owner_id=owner_id,
                              changes={"phone": "139 0000 0004", "name": "赵六六"},
                              reason="业主本人申请更换手机号", actor=SYSTEM)
    assert done["phone_masked"] == "139****0004"
    assert db.get(Owner, owner_id).phone == "13900000004"  # type: ignore[union-attr]
    (event,) = events(db, cid, "owner.edited")
    payload = json.loads(event.payload)
    assert payload["before"] == {"owner_name": "赵*", "phone": "138****0004"}
    assert payload["after"] == {"owner_name": "赵**", "phone": "139****0004"}
    for secret in ("13900000004", "13800000004", "赵六"):
        assert secret not in event.payload
    # The phone is the owner's login: the new one finds the compound, the old one no longer.
    assert service.compound_ids_for_phone(db, phone="13900000004") == [cid]
    assert service.compound_ids_for_phone(db, phone="13800000004") == []


def test_edits_over_http_need_a_manager_and_a_reason(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    make_staff(db, username="wy", roles={cid: [Role.COMMITTEE]})
    make_staff(db, username="wg", roles={cid: [Role.CLERK]})
    apply_file(db, cid, BASE)
    other = make_compound(db, name="别的小区")
    db.commit()
    unit_id = db.execute(select(Unit.id).where(Unit.compound_id == cid, Unit.room == "101")
                         .order_by(Unit.id)).scalars().first()
    url = f"/api/v1/compounds/{cid}/units/{unit_id}"
    wy, wg = bearer(client, "wy"), bearer(client, "wg")
    detail = client.get(url, headers=wg).json()  # the clerk reads (masked), may not edit
    assert detail["label"] == "1栋1单元101" and detail["owners"][0]["name_masked"] == "张*"
    assert client.patch(url, json={"area_hundredths": 9000, "reason": "更正"},
                        headers=wg).status_code == 403
    r = client.patch(url, json={"area_hundredths": 9000}, headers=wy)
    assert r.status_code == 422 and "理由" in r.text
    r = client.patch(url, json={"area_hundredths": 9000, "reason": "更正面积"}, headers=wy)
    assert r.status_code == 200, r.text
    assert r.json()["area"] == "90.00" and r.json()["audit_seq"] > 0
    r = client.get(f"/api/v1/compounds/{other.id}/units/{unit_id}", headers=wy)
    assert r.status_code in (403, 404)


def test_removal_over_http(client: TestClient, db: Session) -> None:
    compound = make_compound(db)
    cid = compound.id
    assert cid is not None
    make_staff(db, username="wy", roles={cid: [Role.COMMITTEE]})
    apply_file(db, cid, BASE)
    apply_file(db, cid, BASE[:2])
    db.commit()
    wy = bearer(client, "wy")
    url = f"/api/v1/compounds/{cid}/roster/removals"
    pending = client.get(url, headers=wy).json()
    assert pending["confirm_count"] == 3 and len(pending["units"]) == 3
    body = {"import_id": pending["import_id"], "typed_count": 2, "reason": "核对"}
    r = client.post(url, json=body, headers=wy)
    assert r.status_code == 422 and "removal_count_mismatch" in r.text, r.text
    r = client.post(url, json={**body, "typed_count": 3}, headers=wy)
    assert r.status_code == 200, r.text
    assert r.json()["units_removed"] == 3
    assert db.execute(select(func.count()).select_from(Unit).where(Unit.compound_id == cid)
                      ).scalar_one() == 2


# --- open ballots: the same rule as imports (the ballot's roster is frozen when it opens) --------


def test_edits_and_removals_leave_an_open_ballot_as_frozen(
    client: TestClient, db: Session, frozen_clock: FrozenClock
) -> None:
    from tests.voting.helpers import build_world, open_ballot

    world = build_world(db, client)
    ballot = open_ballot(client, world, frozen_clock)
    url = world.url(f"/ballots/{ballot['id']}")
    before = client.get(url, headers=world.committee).json()
    unit_id = db.execute(select(Unit.id).where(Unit.compound_id == world.cid,
                                               Unit.room == "101")).scalars().first()
    r = client.patch(world.url(f"/units/{unit_id}"),
                     json={"area_hundredths": 20000, "reason": "测绘更正"}, headers=world.committee)
    assert r.status_code == 200, r.text
    after = client.get(url, headers=world.committee).json()
    assert after["total_area_hundredths"] == before["total_area_hundredths"]
    assert after["total_headcount"] == before["total_headcount"]
    db.rollback()
    totals = service.roster_totals(db, compound_id=world.cid)
    assert totals.total_area_hundredths == before["total_area_hundredths"] + 10000
