"""Correcting one unit or one owner on a screen, with a required reason, each change audited.

The audit event keeps the fields' values before and after as shown to people: areas in m²,
statuses in words, names and phones masked (app/privacy.py), so the trail never spells out
personal data. Open ballots are unaffected, as with imports: a ballot freezes its roster when it
opens (DOMAIN §1), so the same rule (no guard beyond the freeze) holds for single edits.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.errors import Conflict, Invalid, NotFound
from app.privacy import mask_name, mask_phone, normalize_phone
from app.roster import service as roster_service
from app.roster.importer.applying import _lock_compound
from app.roster.importer.columns import (
    AREA_SOURCE_LABELS,
    MAX_AREA_HUNDREDTHS,
    OWNER_KIND_LABELS,
    STATUS_LABELS,
    USAGES,
)
from app.roster.labels import format_area, unit_label
from app.roster.models import (
    AreaSource,
    Building,
    Owner,
    OwnerKind,
    Unit,
    UnitOwner,
    UnitStatus,
    UnitSubject,
)
from app.spreadsheets import looks_like_formula

UNIT_FIELDS = ("entrance", "room", "area_hundredths", "area_source", "usage", "status")
OWNER_FIELDS = ("name", "kind", "phone")


class UnitNotFound(NotFound):
    code = "unit_not_found"


class OwnerNotFound(NotFound):
    code = "owner_not_found"


def _unit(session: Session, *, compound_id: int, unit_id: int) -> tuple[Unit, str]:
    row = session.execute(
        select(Unit, Building.name).join(Building, Building.id == Unit.building_id)
        .where(Unit.id == unit_id, Unit.compound_id == compound_id)
    ).first()
    if row is None:
        raise UnitNotFound("房屋不存在")
    return row[0], row[1]


def _owner(session: Session, *, compound_id: int, owner_id: int) -> Owner:
    owner = session.execute(
        select(Owner).where(Owner.id == owner_id, Owner.compound_id == compound_id)
    ).scalar_one_or_none()
    if owner is None:
        raise OwnerNotFound("业主不存在")
    return owner


def _owner_view(owner: Owner) -> dict[str, Any]:
    kind = OwnerKind(owner.kind)
    return {
        "id": owner.id, "kind": kind.value,
        "name_masked": owner.name if kind == OwnerKind.ORGANIZATION else mask_name(owner.name),
        "phone_masked": mask_phone(owner.phone), "id_last4": owner.id_last4,
        "has_id_number": owner.id_hash is not None,
    }


def unit_detail(session: Session, *, compound_id: int, unit_id: int) -> dict[str, Any]:
    """One unit with its (masked) owners and its voting subject."""
    unit, building = _unit(session, compound_id=compound_id, unit_id=unit_id)
    owners = session.execute(
        select(Owner).join(UnitOwner, UnitOwner.owner_id == Owner.id)
        .where(UnitOwner.unit_id == unit_id, Owner.compound_id == compound_id)
        .order_by(Owner.id)
    ).scalars()
    subject_id = session.execute(
        select(UnitSubject.subject_id).where(UnitSubject.unit_id == unit_id)
    ).scalar_one_or_none()
    return {
        "id": unit.id, "building_id": unit.building_id, "building": building,
        "entrance": unit.entrance, "room": unit.room,
        "label": unit_label(building, unit.entrance, unit.room),
        "area_hundredths": unit.area_hundredths, "area": format_area(unit.area_hundredths),
        "area_source": AreaSource(unit.area_source).value,
        "usage": unit.usage, "status": UnitStatus(unit.status).value, "subject_id": subject_id,
        "owners": [_owner_view(o) for o in owners],
    }


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写修改的理由", code="edit_reason_required")
    return reason


def _clean_text(value: str, *, what: str, limit: int, required: bool) -> str:
    text = unicodedata.normalize("NFKC", value).strip()
    if required and not text:
        raise Invalid(f"{what}不能为空", code="roster_value_invalid")
    if len(text) > limit:
        raise Invalid(f"{what}过长（最多{limit}个字）", code="roster_value_invalid")
    if looks_like_formula(text):
        raise Invalid(f"{what}不能以 = + - @ 开头", code="roster_value_invalid")
    return text


def _unit_shown(name: str, value: Any) -> str:
    """A unit field's value as people read it in the audit trail."""
    if name == "area_hundredths":
        return format_area(int(value))
    if name == "area_source":
        return AREA_SOURCE_LABELS[AreaSource(value)]
    if name == "status":
        return STATUS_LABELS[UnitStatus(value)]
    return str(value)


_UNIT_KEYS = {"entrance": "entrance", "room": "room", "area_hundredths": "area",
              "area_source": "area_source", "usage": "usage", "status": "status"}


def edit_unit(
    session: Session, *, compound_id: int, unit_id: int, changes: Mapping[str, Any], reason: str,
    actor: Actor,
) -> dict[str, Any]:
    """Change a unit's entrance, room, area, area source, usage or status; audited with a reason."""
    reason = _reason(reason)
    _lock_compound(session, compound_id)
    unit, building = _unit(session, compound_id=compound_id, unit_id=unit_id)
    wanted: dict[str, Any] = {}
    for name in UNIT_FIELDS:
        value = changes.get(name)
        if value is None:
            continue
        if name == "entrance":
            text = _clean_text(value, what="单元", limit=20, required=False)
            value = text.removesuffix("单元").strip() if text != "单元" else text
        elif name == "room":
            value = _clean_text(value, what="房号", limit=30, required=True)
        elif name == "area_hundredths" and not 0 < value <= MAX_AREA_HUNDREDTHS:
            raise Invalid(f"专有面积须大于0且不超过 {MAX_AREA_HUNDREDTHS // 100} ㎡",
                          code="roster_value_invalid")
        elif name == "usage" and value not in USAGES:
            raise Invalid("用途须为：" + "、".join(USAGES), code="roster_value_invalid")
        if getattr(unit, name) != value:
            wanted[name] = value
    if not wanted:
        raise Invalid("没有修改任何内容", code="edit_no_change")
    status = UnitStatus(wanted.get("status", unit.status))
    owner_count = session.execute(
        select(func.count()).select_from(UnitOwner).where(UnitOwner.unit_id == unit_id)
    ).scalar_one()
    if status == UnitStatus.UNSOLD and owner_count:
        raise Invalid("未售房屋属开发建设单位，不能有登记业主；请先通过名册导入变更业主",
                      code="roster_value_invalid")
    if status == UnitStatus.DELIVERED and not owner_count:
        raise Invalid("已交付房屋须有业主；请通过名册导入登记业主后再改为已交付",
                      code="roster_value_invalid")
    entrance = wanted.get("entrance", unit.entrance)
    room = wanted.get("room", unit.room)
    if (entrance, room) != (unit.entrance, unit.room):
        taken = session.execute(
            select(Unit.id).where(Unit.compound_id == compound_id,
                                  Unit.building_id == unit.building_id, Unit.entrance == entrance,
                                  Unit.room == room, Unit.id != unit_id)
        ).first()
        if taken is not None:
            raise Conflict(f"{unit_label(building, entrance, room)}已在名册中，不能重复",
                           code="unit_exists")
    before = {_UNIT_KEYS[n]: _unit_shown(n, getattr(unit, n)) for n in wanted}
    after = {_UNIT_KEYS[n]: _unit_shown(n, v) for n, v in wanted.items()}
    label = unit_label(building, unit.entrance, unit.room)
    for name, value in wanted.items():
        setattr(unit, name, value)
    session.add(unit)
    session.flush()
    # Area, status and usage decide the subjects' areas and who the developer holds.
    roster_service.rebuild_subjects(session, compound_id=compound_id)
    event = append_event(
        session, compound_id=compound_id, actor=actor, action="unit.edited",
        object_type="unit", object_id=unit_id,
        payload={"unit": label, "changed": [_FIELD_WORDS[_UNIT_KEYS[n]] for n in wanted],
                 "before": before, "after": after, "reason": reason},
    )
    return {**unit_detail(session, compound_id=compound_id, unit_id=unit_id),
            "audit_seq": event.seq}


_FIELD_WORDS = {"entrance": "单元", "room": "房号", "area": "专有面积", "area_source": "面积来源",
                "usage": "用途", "status": "状态", "owner_name": "业主姓名", "owner_kind": "业主类型",
                "phone": "手机号"}


def _owner_shown(owner_kind: OwnerKind, name: str, value: Any) -> str:
    if name == "name":
        return value if owner_kind == OwnerKind.ORGANIZATION else mask_name(value)
    if name == "phone":
        return mask_phone(value) or "（无）"
    return OWNER_KIND_LABELS[OwnerKind(value)]


_OWNER_KEYS = {"name": "owner_name", "kind": "owner_kind", "phone": "phone"}


def edit_owner(
    session: Session, *, compound_id: int, owner_id: int, changes: Mapping[str, Any], reason: str,
    actor: Actor,
) -> dict[str, Any]:
    """Change an owner's name, kind or phone; audited with a reason, names and phones masked."""
    reason = _reason(reason)
    _lock_compound(session, compound_id)
    owner = _owner(session, compound_id=compound_id, owner_id=owner_id)
    wanted: dict[str, Any] = {}
    for name in OWNER_FIELDS:
        value = changes.get(name)
        if value is None:
            continue
        if name == "name":
            value = _clean_text(value, what="业主姓名", limit=100, required=True)
        elif name == "phone":
            phone = normalize_phone(value)
            if phone is None:
                raise Invalid("手机号格式不正确（须为11位手机号码）", code="roster_value_invalid")
            value = phone
        if getattr(owner, name) != value:
            wanted[name] = value
    if not wanted:
        raise Invalid("没有修改任何内容", code="edit_no_change")
    kind = OwnerKind(wanted.get("kind", owner.kind))
    name_after = wanted.get("name", owner.name)
    phone_after = wanted.get("phone", owner.phone)
    if owner.id_hash is None:
        # Without an ID number the owner is known by name and phone: keep that pair unique.
        same = session.execute(
            select(Owner.id).where(Owner.compound_id == compound_id, Owner.id_hash.is_(None),
                                   Owner.name == name_after, Owner.phone == phone_after,
                                   Owner.id != owner_id)
        ).first()
        if same is not None:
            raise Conflict("名册中已有同名且手机号相同的业主", code="owner_exists")
    old_kind = OwnerKind(owner.kind)
    before = {_OWNER_KEYS[n]: _owner_shown(old_kind, n, getattr(owner, n)) for n in wanted}
    after = {_OWNER_KEYS[n]: _owner_shown(kind, n, v) for n, v in wanted.items()}
    shown_name = _owner_shown(old_kind, "name", owner.name)
    for name, value in wanted.items():
        setattr(owner, name, value)
    session.add(owner)
    session.flush()
    event = append_event(
        session, compound_id=compound_id, actor=actor, action="owner.edited",
        object_type="owner", object_id=owner_id,
        payload={"owner": shown_name, "changed": [_FIELD_WORDS[_OWNER_KEYS[n]] for n in wanted],
                 "before": before, "after": after, "reason": reason},
    )
    return {**_owner_view(owner), "audit_seq": event.seq}
