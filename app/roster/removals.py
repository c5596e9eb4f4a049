"""The explicit removal step: units and owners the latest applied roster file did not contain.

An import never removes anything (app/roster/importer/applying.py records what the file lacked).
Here the committee sees that list and removes it only by typing the number of units (or, when no
unit is left to remove, of owners), with a reason; the removal is one audited transaction. Open
ballots are unaffected, as with imports: a ballot freezes its roster when it opens (DOMAIN §1).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.errors import Conflict, Invalid
from app.roster import service as roster_service
from app.roster.importer.applying import _chunks, _lock_compound
from app.roster.importer.columns import AREA_SOURCE_LABELS, STATUS_LABELS
from app.roster.importer.planning import _masked
from app.roster.labels import format_area, unit_label
from app.roster.models import (
    Building,
    Owner,
    OwnerKind,
    RosterImport,
    RosterImportStatus,
    Unit,
    UnitOwner,
    UnitSubject,
)

LIST_LIMIT = 1000  # entries listed; the counts are always exact


@dataclass
class PendingRemoval:
    """What the latest applied file lacked and the roster still holds."""

    record: RosterImport | None
    unit_ids: list[int]
    owner_ids: list[int]

    @property
    def confirm_count(self) -> int:
        """The number the member types: units, or owners when no unit is left to remove."""
        return len(self.unit_ids) or len(self.owner_ids)


def _latest_applied(session: Session, *, compound_id: int) -> RosterImport | None:
    return session.execute(
        select(RosterImport)
        .where(RosterImport.compound_id == compound_id,
               RosterImport.status == RosterImportStatus.APPLIED)
        .order_by(RosterImport.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def pending(session: Session, *, compound_id: int) -> PendingRemoval:
    """The units and owners the latest applied file lacked that are still on the roster.

    An owner is listed only while every unit they hold is itself listed (an owner who holds a
    unit the roster keeps is never removed).
    """
    record = _latest_applied(session, compound_id=compound_id)
    if record is None or not record.removal_json:
        return PendingRemoval(record=record, unit_ids=[], owner_ids=[])
    data = json.loads(record.removal_json)
    unit_ids: list[int] = []
    for chunk in _chunks(sorted(set(data["unit_ids"]))):
        unit_ids += session.execute(
            select(Unit.id).where(Unit.compound_id == compound_id, Unit.id.in_(chunk))
        ).scalars()
    listed_units = set(unit_ids)
    wanted_owners = sorted(set(data["owner_ids"]))
    existing: set[int] = set()
    held: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(wanted_owners):
        existing.update(session.execute(
            select(Owner.id).where(Owner.compound_id == compound_id, Owner.id.in_(chunk))
        ).scalars())
        for owner_id, unit_id in session.execute(
            select(UnitOwner.owner_id, UnitOwner.unit_id)
            .where(UnitOwner.compound_id == compound_id, UnitOwner.owner_id.in_(chunk))
        ):
            held[owner_id].add(unit_id)
    owner_ids = [o for o in wanted_owners if o in existing and held[o] <= listed_units]
    return PendingRemoval(record=record, unit_ids=sorted(unit_ids), owner_ids=owner_ids)


def pending_view(session: Session, *, compound_id: int) -> dict[str, Any]:
    """The pending removal as the screen shows it: unit labels and masked owners."""
    found = pending(session, compound_id=compound_id)
    units: list[dict[str, Any]] = []
    owners_by_unit: dict[int, list[Owner]] = defaultdict(list)
    shown_units = found.unit_ids[:LIST_LIMIT]
    if shown_units:
        for unit_id, owner in session.execute(
            select(UnitOwner.unit_id, Owner).join(Owner, Owner.id == UnitOwner.owner_id)
            .where(UnitOwner.compound_id == compound_id, UnitOwner.unit_id.in_(shown_units))
            .order_by(Owner.id)
        ):
            owners_by_unit[unit_id].append(owner)
        for unit, building in session.execute(
            select(Unit, Building.name).join(Building, Building.id == Unit.building_id)
            .where(Unit.compound_id == compound_id, Unit.id.in_(shown_units))
            .order_by(Building.id, Unit.entrance, Unit.room)
        ):
            units.append({
                "id": unit.id, "label": unit_label(building, unit.entrance, unit.room),
                "area": format_area(unit.area_hundredths), "usage": unit.usage,
                "area_source": AREA_SOURCE_LABELS[unit.area_source],
                "status": STATUS_LABELS[unit.status],
                "owners": [_masked(OwnerKind(o.kind), o.name, o.phone)
                           for o in owners_by_unit[unit.id or 0]],
            })
    owners = [
        {"id": o.id, **_masked(OwnerKind(o.kind), o.name, o.phone)}
        for o in session.execute(
            select(Owner).where(Owner.compound_id == compound_id,
                                Owner.id.in_(found.owner_ids[:LIST_LIMIT])).order_by(Owner.id)
        ).scalars()
    ] if found.owner_ids else []
    record = found.record
    applied_at: datetime | None = record.applied_at if record else None
    return {
        "import_id": record.id if record else None,
        "file_name": record.file_name if record else None,
        "applied_at": applied_at,
        "unit_count": len(found.unit_ids), "owner_count": len(found.owner_ids),
        "confirm_count": found.confirm_count,
        "confirm_what": "units" if found.unit_ids else "owners",
        "units": units, "owners": owners, "list_limit": LIST_LIMIT,
    }


def remove_pending(
    session: Session, *, compound_id: int, import_id: int, typed_count: int, reason: str,
    actor: Actor,
) -> dict[str, Any]:
    """Remove what the latest applied file lacked, once the member typed its count."""
    _lock_compound(session, compound_id)
    reason = reason.strip()
    if not reason:
        raise Invalid("请填写移除的理由", code="removal_reason_required")
    found = pending(session, compound_id=compound_id)
    if found.record is None or found.record.id != import_id:
        raise Conflict("名册已再次导入，待移除清单已变化，请刷新后重新核对",
                       code="removal_list_changed")
    if not found.unit_ids and not found.owner_ids:
        raise Conflict("没有待移除的房屋或业主", code="removal_nothing_pending")
    if typed_count != found.confirm_count:
        what = "房屋套数" if found.unit_ids else "业主人数"
        raise Invalid(f"输入的数字与待移除的{what}（{found.confirm_count}）不一致，未移除任何数据",
                      code="removal_count_mismatch")
    link_table = UnitOwner.__table__
    subject_links = UnitSubject.__table__
    for ids in _chunks(found.unit_ids):
        session.execute(link_table.delete().where(link_table.c.unit_id.in_(ids)))
        session.execute(subject_links.delete().where(subject_links.c.unit_id.in_(ids)))
        session.execute(Unit.__table__.delete().where(
            Unit.__table__.c.compound_id == compound_id, Unit.__table__.c.id.in_(ids)))
    for ids in _chunks(found.owner_ids):
        session.execute(link_table.delete().where(link_table.c.owner_id.in_(ids)))
    area, headcount = roster_service.rebuild_subjects(session, compound_id=compound_id)
    owner_table = Owner.__table__
    for ids in _chunks(found.owner_ids):
        session.execute(owner_table.delete().where(
            owner_table.c.compound_id == compound_id, owner_table.c.id.in_(ids)))
    session.flush()
    event = append_event(
        session, compound_id=compound_id, actor=actor, action="roster.removed",
        object_type="roster_import", object_id=import_id,
        payload={"import_id": import_id, "units_removed": len(found.unit_ids),
                 "owners_removed": len(found.owner_ids), "reason": reason,
                 "subject_count": headcount, "total_area_hundredths": area,
                 "total_area": format_area(area)},
    )
    return {"units_removed": len(found.unit_ids), "owners_removed": len(found.owner_ids),
            "subject_count": headcount, "total_area": format_area(area), "audit_seq": event.seq}
