"""Applying a preview: writing units, owners and subjects in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.clock import now
from app.db import BackgroundInserts, is_postgres, reserve_ids
from app.errors import NotFound
from app.memory import collector_paused
from app.roster import service as roster_service
from app.roster.importer.columns import _CHUNK, RosterImportConflict
from app.roster.importer.current import CurrentRoster, load_current, roster_fingerprint
from app.roster.importer.parsing import ValidatedRoster
from app.roster.importer.planning import RosterPlan, plan_changes
from app.roster.importer.previews import _load_roster, get_import
from app.roster.models import (
    Building,
    Compound,
    Owner,
    RosterImport,
    RosterImportStatus,
    Unit,
    UnitOwner,
    UnitSubject,
)

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


@collector_paused()  # builds ~10 objects per row, none in a cycle: see app/memory.py
def apply_import(
    session: Session, *, compound_id: int, import_id: int, actor: Actor
) -> RosterImport:
    """Write a previewed roster's additions and changes, re-derive the subjects, audit it.

    Nothing is removed: units and owners the file lacks are recorded for the removal step.
    """
    compound = _lock_compound(session, compound_id)
    parking_counts_as_area = compound.parking_counts_as_area
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
    with BackgroundInserts(session) as inserts:
        units = _write_plan(session, compound_id=compound_id, roster=roster, plan=plan,
                            current=current, inserts=inserts)
        # The subjects are derived while the server still checks the rows just sent, from the
        # units as just written, without reading them back (the compound row is locked: every
        # roster writer takes that lock first).
        derived = roster_service.subjects_of_units(units,
                                                   parking_counts_as_area=parking_counts_as_area)
    area, headcount = roster_service.store_subjects(session, compound_id=compound_id,
                                                    derived=derived)
    # Units and owners the file lacks stay: the removal step lists them from here and removes
    # them only after the member types their count (app/roster/removals.py).
    record.removal_json = json.dumps({
        "unit_ids": [u.id for u in plan.units_missing],
        "owner_ids": [o.id for o in plan.owners_missing],
    }, separators=(",", ":"))
    counts = plan.counts()
    totals = roster_service.roster_totals(session, compound_id=compound_id)
    event = append_event(
        session, compound_id=compound_id, actor=actor, action="roster.imported",
        object_type="roster_import", object_id=import_id,
        payload={
            "import_id": import_id, "file_sha256": record.file_sha256,
            "row_count": record.row_count, **counts,
            "unit_count": totals.unit_count, "owner_count": totals.owner_count,
            "subject_count": headcount, "total_area_hundredths": area,
            "total_area": roster_service.format_area(area),
        },
    )
    overview = json.loads(record.summary_json)
    overview["result"] = {
        "units": totals.unit_count, "owners": totals.owner_count, "subjects": headcount,
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


def _write_plan(session: Session, *, compound_id: int, roster: ValidatedRoster, plan: RosterPlan,
                current: CurrentRoster, inserts: BackgroundInserts
                ) -> list[roster_service.StoredUnit]:
    """Apply the plan with bulk statements: no query per row, nothing read back. The new owners,
    units and links are queued on `inserts` (which then holds the connection): the caller
    waits for them. Returns every unit of the compound as it now stands (id, area, status,
    usage, owner ids)."""
    unit_table = Unit.__table__
    owner_table = Owner.__table__
    link_table = UnitOwner.__table__
    if plan.buildings_added:
        session.execute(
            Building.__table__.insert(),
            [{"compound_id": compound_id, "name": name} for name in plan.buildings_added],
        )
    building_ids = {
        name: bid
        for name, bid in session.execute(
            select(Building.name, Building.id).where(Building.compound_id == compound_id)
        )
    }
    # Unit-subject links are rebuilt with the subjects.
    subject_links = UnitSubject.__table__
    session.execute(subject_links.delete().where(subject_links.c.compound_id == compound_id))
    # Units whose owners changed are relinked below; units the file lacks are left as they are.
    for ids in _chunks([u.id for u, _ in plan.owners_moved]):
        session.execute(link_table.delete().where(link_table.c.unit_id.in_(ids)))
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
    # New owners and units get their ids before they are written, so nothing is read back;
    # both are taken before the first insert is queued (the connection is the worker's then).
    owner_ids = reserve_ids(session, owner_table, len(plan.owners_added))
    new_ids = reserve_ids(session, unit_table, len(plan.units_added))
    plan.owner_ids.update(zip(plan.owners_added, owner_ids, strict=True))
    inserts.insert(
        owner_table, ("id", "compound_id", "kind", "name", "id_hash", "id_last4", "phone"),
        ((oid, compound_id, e.kind.value, e.name, e.id_hash, e.id_last4, e.phone)
         for oid, e in zip(owner_ids, (roster.owners[k] for k in plan.owners_added), strict=True)),
    )
    unit_ids = {u.unit_key: u.id for u, _ in plan.owners_moved}
    inserts.insert(
        unit_table,
        ("id", "compound_id", "building_id", "entrance", "room", "area_hundredths",
         "area_source", "usage", "status"),
        ((uid, compound_id, building_ids[r.building], r.entrance, r.room, r.area_hundredths,
          r.area_source.value, r.usage, r.status.value)
         for uid, r in zip(new_ids, plan.units_added, strict=True)),
    )
    unit_ids.update(zip((r.unit_key for r in plan.units_added), new_ids, strict=True))
    owner_id = plan.owner_ids.__getitem__
    inserts.insert(
        link_table, ("compound_id", "unit_id", "owner_id"),
        ((compound_id, unit_ids[r.unit_key], owner_id(k))
         for r in [*plan.units_added, *(r for _, r in plan.owners_moved)]
         for k in r.owner_keys),
    )
    # Every unit of the compound as it now stands: the stored ones with their changes and new
    # owners, and the added ones.
    changed = {u.id: r for u, r, _ in plan.units_changed}
    moved = {u.id: r for u, r in plan.owners_moved}
    units: list[roster_service.StoredUnit] = []
    for unit in current.units.values():
        row = changed.get(unit.id)
        new_owners = moved.get(unit.id)
        units.append((
            unit.id,
            row.area_hundredths if row is not None else unit.area_hundredths,
            row.status if row is not None else unit.status,
            row.usage if row is not None else unit.usage,
            frozenset(map(owner_id, new_owners.owner_keys)) if new_owners is not None
            else unit.owner_ids,
        ))
    units += [(uid, r.area_hundredths, r.status, r.usage, frozenset(map(owner_id, r.owner_keys)))
              for uid, r in zip(new_ids, plan.units_added, strict=True)]
    return units
