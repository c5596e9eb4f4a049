"""The roster as stored: loaded from the database for comparing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlmodel import Session

from app.roster.importer.parsing import owner_key
from app.roster.models import (
    AreaSource,
    Building,
    Owner,
    OwnerKind,
    Unit,
    UnitOwner,
    UnitStatus,
)

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
        .order_by(Unit.id)
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
