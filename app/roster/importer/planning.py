"""Planning the change from the stored roster to the uploaded one, and describing it (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.privacy import mask_name, mask_phone
from app.roster.importer.columns import (
    _FIELD_LABELS,
    AREA_SOURCE_LABELS,
    DIFF_LIST_LIMIT,
    OWNER_KIND_LABELS,
    STATUS_LABELS,
)
from app.roster.importer.current import CurrentOwner, CurrentRoster, CurrentUnit
from app.roster.importer.parsing import OwnerEntry, RosterRow, ValidatedRoster
from app.roster.labels import format_area, unit_label
from app.roster.models import (
    AreaSource,
    OwnerKind,
    UnitStatus,
)
from app.roster.subjects import PARKING_USAGES, subject_totals

# --- comparing ---------------------------------------------------------------------------------


@dataclass
class RosterPlan:
    """What applying a roster file changes, in terms the writer and the preview both use."""

    buildings_added: list[str] = field(default_factory=list)
    units_added: list[RosterRow] = field(default_factory=list)
    # Stored units and owners the file does not contain: an import never removes them; the
    # separate removal step does (app/roster/removals.py).
    units_missing: list[CurrentUnit] = field(default_factory=list)
    units_changed: list[tuple[CurrentUnit, RosterRow, list[str]]] = field(default_factory=list)
    owners_moved: list[tuple[CurrentUnit, RosterRow]] = field(default_factory=list)
    owners_added: list[str] = field(default_factory=list)
    owners_updated: list[tuple[CurrentOwner, OwnerEntry, list[str]]] = field(default_factory=list)
    owners_missing: list[CurrentOwner] = field(default_factory=list)
    owner_ids: dict[str, int] = field(default_factory=dict)  # stored owner id by owner key
    unchanged: int = 0

    def counts(self) -> dict[str, int]:
        return {
            "buildings_added": len(self.buildings_added),
            "units_added": len(self.units_added),
            "units_changed": len(self.units_changed),
            "units_missing": len(self.units_missing),
            "units_unchanged": self.unchanged,
            "owners_moved": len(self.owners_moved),
            "owners_added": len(self.owners_added),
            "owners_updated": len(self.owners_updated),
            "owners_missing": len(self.owners_missing),
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
    plan.owners_missing = [o for o in current.owners.values() if o.id not in kept_ids]
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
    plan.units_missing = [u for k, u in current.units.items() if k not in wanted_units]
    return plan


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
        return format_area(int(value))
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
            "entrance": entrance, "room": room, "area": format_area(area),
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
        "units_missing": [
            brief(u.building, u.entrance, u.room, u.area_hundredths, u.area_source, u.usage,
                  u.status, stored_owners(u))
            for u in plan.units_missing[:limit]
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
                      plan.units_missing, plan.owners_moved, plan.owners_updated)
    )
    return diff


_ATTR = {"area": "area_hundredths", "area_source": "area_source", "usage": "usage",
         "status": "status"}


def summarize(roster: ValidatedRoster, *, parking_counts_as_area: bool,
              plan: RosterPlan | None = None, current: CurrentRoster | None = None) -> dict[str, Any]:
    """Totals the roster would give after the import (DOMAIN §1), with the same derivation.

    With `plan` and `current`, the stored units the file lacks are counted too: the import keeps
    them (only the separate removal step removes them).
    """
    owner_ids = plan.owner_ids if plan is not None else {}
    # One identity per owner: the stored owner id when the file's owner is a stored one, each
    # numbered once.
    ids: dict[object, int] = {}
    number = {key: ids.setdefault(owner_ids.get(key, key), len(ids)) for key in roster.owners}
    owner_number = number.__getitem__
    kept: list[tuple[int, str, frozenset[int], UnitStatus]] = [
        (r.area_hundredths, r.usage, frozenset(map(owner_number, r.owner_keys)), r.status)
        for r in roster.rows
    ]
    missing = plan.units_missing if plan is not None and current is not None else []
    kept += [(u.area_hundredths, u.usage,
              frozenset(ids.setdefault(o, len(ids)) for o in u.owner_ids), u.status)
             for u in missing]
    delivered = UnitStatus.DELIVERED
    counted = [
        (area, owners, status != delivered)
        for area, usage, owners, status in kept
        if parking_counts_as_area or usage not in PARKING_USAGES
    ]
    area, headcount = subject_totals(counted)
    missing_owners = len(plan.owners_missing) if plan is not None and current is not None else 0
    buildings = {r.building for r in roster.rows} | {u.building for u in missing}
    return {
        "units": len(kept),
        "voting_units": len(counted),
        "developer_units": sum(1 for *_, status in kept if status != UnitStatus.DELIVERED),
        "co_owned_units": sum(1 for _, _, owners, _ in kept if len(owners) > 1),
        "parking_units": sum(1 for _, usage, _, _ in kept if usage in PARKING_USAGES),
        "buildings": len(buildings),
        "owners": len(roster.owners) + missing_owners,
        "subjects": headcount,
        "headcount": headcount,
        "total_area": format_area(area),
        "total_area_hundredths": area,
    }
