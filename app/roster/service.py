"""Roster rules: compounds, owners' lookup, subject derivation and the roster's totals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, select, update
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.db import bulk_insert_rows, is_postgres, reserve_ids
from app.errors import Invalid, NotFound
from app.roster.labels import format_area, subject_label, unit_label, units_text
from app.roster.models import (
    Building,
    Compound,
    Owner,
    SubjectKind,
    Unit,
    UnitOwner,
    UnitStatus,
    UnitSubject,
    VotingSubject,
)
from app.roster.scope import Place, Scope, scope_words
from app.roster.subjects import (
    DEVELOPER_KEY,
    PARKING_USAGES,
    DerivedSubject,
    UnitFacts,
    derive_subjects,
)
from app.search import contains_text, flat_parts, starts_with_text

__all__ = ["PARKING_USAGES", "format_area", "unit_label", "units_text"]  # roster's wording, re-exported for callers


def get_compound(session: Session, *, compound_id: int) -> Compound:
    compound = session.get(Compound, compound_id)
    if compound is None:
        raise NotFound("小区不存在", code="compound_not_found")
    return compound


def create_compound(
    session: Session, *, name: str, district: str, street: str, community: str,
    address: str = "", developer_name: str = "开发建设单位", actor: Actor,
) -> Compound:
    compound = Compound(
        name=name.strip(), district=district.strip(), street=street.strip(),
        community=community.strip(), address=address.strip(),
        developer_name=developer_name.strip() or "开发建设单位",
    )
    if not compound.name or not compound.community:
        raise Invalid("小区名称和所属社区不能为空", code="compound_incomplete")
    session.add(compound)
    session.flush()
    assert compound.id is not None
    append_event(
        session, compound_id=compound.id, actor=actor, action="compound.created",
        object_type="compound", object_id=compound.id,
        payload={"name": compound.name, "district": compound.district, "street": compound.street,
                 "community": compound.community},
    )
    return compound


def list_compounds(session: Session, *, ids: list[int] | None = None) -> list[Compound]:
    stmt = select(Compound).order_by(Compound.id)
    if ids is not None:
        stmt = stmt.where(Compound.id.in_(ids))
    return list(session.execute(stmt).scalars())


_OWNER_IDS_FOR_PHONE = (
    select(Owner.__table__.c.id)
    .where(Owner.__table__.c.compound_id == bindparam("compound_id"),
           Owner.__table__.c.phone == bindparam("phone"))
    .order_by(Owner.__table__.c.id)
)


def owner_ids_for_phone(session: Session, *, compound_id: int, phone: str) -> list[int]:
    """The owners holding this phone in a compound (what makes a caller stand as an owner).

    Asked on every owner's request, so a Core statement on the session's connection: the ORM's
    execution path costs twice the CPU for a column read (bench/PROFILE.md §14). Flushed first,
    as the ORM's autoflush would (nothing to do on a request's first query).
    """
    session.flush()
    return list(session.connection().execute(
        _OWNER_IDS_FOR_PHONE, {"compound_id": compound_id, "phone": phone}).scalars())


def compound_ids_for_phone(session: Session, *, phone: str) -> list[int]:
    return sorted(
        set(session.execute(select(Owner.compound_id).where(Owner.phone == phone)).scalars())
    )


def phone_is_owner(session: Session, *, phone: str) -> bool:
    return session.execute(select(Owner.id).where(Owner.phone == phone).limit(1)).first() is not None


def owner_building_ids(session: Session, *, compound_id: int, owner_ids: Collection[int]) -> set[int]:
    """The buildings where the given owners hold a unit (alone or jointly)."""
    if not owner_ids:
        return set()
    return set(
        session.execute(
            select(Unit.building_id)
            .join(UnitOwner, UnitOwner.unit_id == Unit.id)
            .where(
                Unit.compound_id == compound_id,
                UnitOwner.owner_id.in_(sorted(owner_ids)),
            )
            .distinct()
        ).scalars()
    )


def owner_places(session: Session, *, compound_id: int, owner_ids: Collection[int]) -> set[Place]:
    """The (building, entrance) pairs where the given owners hold a unit (alone or jointly)."""
    if not owner_ids:
        return set()
    return {
        (bid, entrance) for bid, entrance in session.execute(
            select(Unit.building_id, Unit.entrance)
            .join(UnitOwner, UnitOwner.unit_id == Unit.id)
            .where(Unit.compound_id == compound_id, UnitOwner.owner_id.in_(sorted(owner_ids)))
            .distinct()
        )
    }


def owner_subject_ids(session: Session, *, compound_id: int, phone: str) -> list[int]:
    """The subjects of every unit whose owners include the holder of this phone."""
    return sorted(set(session.execute(
        select(UnitSubject.subject_id)
        .join(UnitOwner, UnitOwner.unit_id == UnitSubject.unit_id)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(UnitSubject.compound_id == compound_id, Owner.compound_id == compound_id,
               Owner.phone == phone)
    ).scalars()))


# --- buildings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildingRef:
    id: int
    name: str


def buildings(
    session: Session, *, compound_id: int, building_ids: Iterable[int] | None = None
) -> list[BuildingRef]:
    """The compound's buildings (or those of the given ids that belong to it), by id."""
    stmt = select(Building.id, Building.name).where(Building.compound_id == compound_id)
    if building_ids is not None:
        wanted = sorted(set(building_ids))
        if not wanted:
            return []
        stmt = stmt.where(Building.id.in_(wanted))
    return [BuildingRef(id=bid, name=name)
            for bid, name in session.execute(stmt.order_by(Building.id))]


def set_parking_counts_as_area(
    session: Session, *, compound_id: int, counts: bool, actor: Actor
) -> Compound:
    """Whether parking spaces (车位/车库) carry area and a vote (DOMAIN §2; default: they do not).

    The subjects are re-derived at once; a ballot already open keeps the roster frozen at its
    opening, so only ballots opened after the change count by the new rule. Audited with the
    totals before and after.
    """
    # Serialized with roster imports by the compound row (PostgreSQL; SQLite writes one at a time).
    stmt = select(Compound).where(Compound.id == compound_id)
    if is_postgres(session):
        stmt = stmt.with_for_update()
    compound = session.execute(stmt).scalar_one_or_none()
    if compound is None:
        raise NotFound("小区不存在", code="compound_not_found")
    if compound.parking_counts_as_area == counts:
        return compound
    before_area, before_subjects = _subject_totals(session, compound_id=compound_id)
    compound.parking_counts_as_area = counts
    session.add(compound)
    session.flush()
    area, subjects = rebuild_subjects(session, compound_id=compound_id)
    append_event(
        session, compound_id=compound_id, actor=actor, action="roster.parking_setting_changed",
        object_type="compound", object_id=compound_id,
        payload={"parking_counts_as_area": counts,
                 "before": {"subject_count": before_subjects, "total_area_hundredths": before_area},
                 "after": {"subject_count": subjects, "total_area_hundredths": area}},
    )
    return compound


def parking_unit_count(session: Session, *, compound_id: int) -> int:
    return int(session.execute(
        select(func.count()).select_from(Unit).where(
            Unit.compound_id == compound_id, Unit.usage.in_(sorted(PARKING_USAGES)))
    ).scalar_one())


def subject_totals(session: Session, *, compound_id: int) -> tuple[int, int]:
    """(total area in hundredths of m², subject count) over the stored subjects."""
    return _subject_totals(session, compound_id=compound_id)


def _subject_totals(session: Session, *, compound_id: int) -> tuple[int, int]:
    row = session.execute(
        select(func.coalesce(func.sum(VotingSubject.area_hundredths), 0), func.count()).where(
            VotingSubject.compound_id == compound_id)
    ).one()
    return int(row[0]), int(row[1])


def scope_problems(session: Session, *, compound_id: int, scope: Scope) -> list[str]:
    """What in a scope the compound does not have (unknown buildings, entrances without units)."""
    names = {b.id: b.name for b in buildings(session, compound_id=compound_id)}
    problems = [f"楼栋{b}" for b in sorted(scope.building_ids) if b not in names]
    if scope.entrances:
        known = {(bid, entrance) for bid, entrance in session.execute(
            select(Unit.building_id, Unit.entrance).where(Unit.compound_id == compound_id).distinct()
        )}
        problems += [f"{names.get(b, f'楼栋{b}')}{e or '（空）'}单元" for b, e in sorted(scope.entrances)
                     if not e or (b, e) not in known]
    return problems


def scope_label(session: Session, *, compound_id: int, scope: Scope) -> str:
    """The scope in words (全体业主, or 3号楼2单元、5号楼)."""
    if scope.whole_compound:
        return scope_words(scope, {})
    refs = buildings(session, compound_id=compound_id, building_ids=scope.touched_building_ids)
    return scope_words(scope, {b.id: b.name for b in refs})


# --- voting subjects -------------------------------------------------------------------------


# A unit as subject derivation sees it: id, area in hundredths, status, usage, owner ids.
StoredUnit = tuple[int, int, UnitStatus, str, frozenset[int]]


def _facts(units: Iterable[StoredUnit], *, parking_counts_as_area: bool) -> list[UnitFacts]:
    """The units that carry a vote (parking spaces only when the compound counts them)."""
    delivered = UnitStatus.DELIVERED
    return [
        UnitFacts(unit_id, area, owners, status != delivered)
        for unit_id, area, status, usage, owners in units
        if parking_counts_as_area or usage not in PARKING_USAGES
    ]


def unit_facts(session: Session, *, compound_id: int) -> list[UnitFacts]:
    """The facts subject derivation needs, read in two set-based queries."""
    compound = get_compound(session, compound_id=compound_id)
    owners: dict[int, set[int]] = defaultdict(set)
    for unit_id, owner_id in session.execute(
        select(UnitOwner.unit_id, UnitOwner.owner_id).where(UnitOwner.compound_id == compound_id)
    ):
        owners[unit_id].add(owner_id)
    stored = (
        (unit_id, area, UnitStatus(status), usage, frozenset(owners[unit_id]))
        for unit_id, area, status, usage in session.execute(
            select(Unit.id, Unit.area_hundredths, Unit.status, Unit.usage).where(
                Unit.compound_id == compound_id
            )
        )
    )
    return _facts(stored, parking_counts_as_area=compound.parking_counts_as_area)


def rebuild_subjects(session: Session, *, compound_id: int) -> tuple[int, int]:
    """Re-derive the subjects from the units as stored, keeping the id of every subject whose
    owner set is unchanged. Returns (total area in hundredths of m², subject count)."""
    return store_subjects(session, compound_id=compound_id,
                          derived=derive_subjects(unit_facts(session, compound_id=compound_id)))


def subjects_of_units(units: Iterable[StoredUnit], *, parking_counts_as_area: bool
                      ) -> list[DerivedSubject]:
    """The subjects of a compound whose units (all of them, as they now stand) the caller holds
    in memory: a roster import, which has just written them, under the compound row lock that
    every roster writer takes first. Pure: it may run while the writes are still finishing."""
    return derive_subjects(_facts(units, parking_counts_as_area=parking_counts_as_area))


def store_subjects(session: Session, *, compound_id: int,
                   derived: list[DerivedSubject]) -> tuple[int, int]:
    """Make the stored subjects and unit-subject links those derived, keeping the id of every
    subject whose owner set is unchanged. Returns (total area in hundredths of m², count)."""
    # The stored subjects as plain rows (a re-import compares tens of thousands of them).
    existing = {
        key: (sid, area, count, rep)
        for sid, key, area, count, rep in session.execute(
            select(VotingSubject.id, VotingSubject.key, VotingSubject.area_hundredths,
                   VotingSubject.unit_count, VotingSubject.representative_owner_id)
            .where(VotingSubject.compound_id == compound_id)
        )
    }
    session.execute(delete(UnitSubject).where(UnitSubject.compound_id == compound_id))
    wanted = {d.key for d in derived}
    stale = [sid for k, (sid, *_) in existing.items() if k not in wanted]
    for start in range(0, len(stale), 5000):  # bounded IN lists (SQLite/psycopg parameter caps)
        chunk = stale[start:start + 5000]
        session.execute(delete(VotingSubject).where(VotingSubject.id.in_(chunk)))
    subject_ids: dict[str, int] = {}
    new_subjects: list[DerivedSubject] = []
    changed: list[dict[str, object]] = []
    for d in derived:
        found = existing.get(d.key)
        if found is None:
            new_subjects.append(d)
            continue
        sid, area, count, rep = found
        subject_ids[d.key] = sid
        new_rep = rep if rep in d.owner_ids else (d.owner_ids[0] if d.owner_ids else None)
        # Only real changes are written: a re-import touches tens of thousands of subjects.
        if (area, count, rep) != (d.area_hundredths, len(d.unit_ids), new_rep):
            changed.append({"b_id": sid, "b_area": d.area_hundredths,
                            "b_count": len(d.unit_ids), "b_rep": new_rep})
    if changed:
        table = VotingSubject.__table__
        session.execute(
            update(table).where(table.c.id == bindparam("b_id")).values(
                area_hundredths=bindparam("b_area"), unit_count=bindparam("b_count"),
                representative_owner_id=bindparam("b_rep")),
            changed,
        )
    # A subject this session had loaded before may be stale now: read it again when used.
    for loaded in list(session.identity_map.values()):
        if isinstance(loaded, VotingSubject):
            session.expire(loaded)
    session.flush()
    # New subjects go in as one bulk insert with ids taken beforehand (a roster import may
    # create tens of thousands), so nothing is read back.
    new_ids = reserve_ids(session, VotingSubject.__table__, len(new_subjects))
    subject_ids.update(zip((d.key for d in new_subjects), new_ids, strict=True))
    owners_kind, developer_kind = SubjectKind.OWNERS.value, SubjectKind.DEVELOPER.value
    bulk_insert_rows(
        session, VotingSubject.__table__,
        ("id", "compound_id", "key", "kind", "area_hundredths", "unit_count",
         "representative_owner_id"),
        ((sid, compound_id, d.key, developer_kind if d.is_developer else owners_kind,
          d.area_hundredths, len(d.unit_ids), d.owner_ids[0] if d.owner_ids else None)
         for sid, d in zip(new_ids, new_subjects, strict=True)),
    )
    bulk_insert_rows(
        session, UnitSubject.__table__, ("compound_id", "unit_id", "subject_id"),
        ((compound_id, u, subject_ids[d.key]) for d in derived for u in d.unit_ids),
    )
    return sum(d.area_hundredths for d in derived), len(derived)


@dataclass(frozen=True)
class RosterTotals:
    unit_count: int
    voting_unit_count: int
    subject_count: int
    total_area_hundredths: int
    developer_unit_count: int
    co_owned_unit_count: int
    owner_count: int
    by_building: list[dict[str, int | str | list[str]]]


def roster_totals(session: Session, *, compound_id: int) -> RosterTotals:
    """Total area and headcount, from the stored subjects, with per-building counts."""
    subject_count, area = session.execute(
        select(func.count(), func.coalesce(func.sum(VotingSubject.area_hundredths), 0)).where(
            VotingSubject.compound_id == compound_id
        )
    ).one()
    unit_count = session.execute(
        select(func.count()).select_from(Unit).where(Unit.compound_id == compound_id)
    ).scalar_one()
    voting_units = session.execute(
        select(func.count()).select_from(UnitSubject).where(UnitSubject.compound_id == compound_id)
    ).scalar_one()
    developer_units = session.execute(
        select(func.count()).select_from(Unit).where(
            Unit.compound_id == compound_id, Unit.status != UnitStatus.DELIVERED
        )
    ).scalar_one()
    co_owned = session.execute(
        select(func.count()).select_from(
            select(UnitOwner.unit_id)
            .where(UnitOwner.compound_id == compound_id)
            .group_by(UnitOwner.unit_id)
            .having(func.count() > 1)
            .subquery()
        )
    ).scalar_one()
    owners = session.execute(
        select(func.count()).select_from(Owner).where(Owner.compound_id == compound_id)
    ).scalar_one()
    entrances: dict[int, list[str]] = defaultdict(list)
    for bid, entrance in session.execute(
        select(Unit.building_id, Unit.entrance).where(Unit.compound_id == compound_id, Unit.entrance != "")
        .distinct()
    ):
        entrances[bid].append(entrance)
    by_building = [
        {"building_id": bid, "building": name, "units": n, "area_hundredths": int(a or 0),
         "entrances": sorted(entrances[bid], key=lambda e: (len(e), e))}
        for bid, name, n, a in session.execute(
            select(Building.id, Building.name, func.count(Unit.id), func.sum(Unit.area_hundredths))
            .join(Unit, Unit.building_id == Building.id, isouter=True)
            .where(Building.compound_id == compound_id)
            .group_by(Building.id, Building.name)
            .order_by(Building.id)
        )
    ]
    return RosterTotals(
        unit_count=unit_count, voting_unit_count=voting_units, subject_count=subject_count,
        total_area_hundredths=int(area), developer_unit_count=developer_units,
        co_owned_unit_count=co_owned, owner_count=owners, by_building=by_building,
    )


@dataclass(frozen=True)
class SubjectSummary:
    """A voting subject as other domains see it: identity, label, area and buildings, no names."""

    subject_id: int
    key: str
    is_developer: bool
    label: str  # subject_label(): 1栋1单元101、… or 开发建设单位（未售/未交付N套）
    area_hundredths: int  # of the units counted (those in the asked buildings, if any)
    unit_count: int
    building_ids: frozenset[int]
    first_unit: tuple[int, str, str]  # (building id, entrance, room) of its first unit: a sort key
    representative_owner_id: int | None
    places: frozenset[Place] = frozenset()  # (building id, entrance) of the units counted


def subject_summaries(
    session: Session, *, compound_id: int, subject_ids: Collection[int] | None = None,
    building_ids: Collection[int] | None = None, scope: Scope | None = None,
) -> dict[int, SubjectSummary]:
    """The compound's subjects (or some of them) with labels, in one query.

    With `building_ids` (or a `scope` of buildings and entrances), only the units there count
    (a ballot's scope): a subject
    with no unit there is left out, and its area and label cover its in-scope units only.
    Units are ordered by building, entrance and room (in Python, so both databases agree).
    """
    compound = get_compound(session, compound_id=compound_id)
    stmt = (
        select(UnitSubject.subject_id, VotingSubject.key, VotingSubject.representative_owner_id,
               Unit.area_hundredths, Unit.building_id, Building.name, Unit.entrance, Unit.room)
        .join(VotingSubject, VotingSubject.id == UnitSubject.subject_id)
        .join(Unit, Unit.id == UnitSubject.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(UnitSubject.compound_id == compound_id)
    )
    if subject_ids is not None:
        stmt = stmt.where(UnitSubject.subject_id.in_(sorted(set(subject_ids))))
    if building_ids:
        stmt = stmt.where(Unit.building_id.in_(sorted(set(building_ids))))
    if scope is not None and not scope.whole_compound:
        stmt = stmt.where(scope.unit_clause())
    units: dict[int, list[tuple[tuple[int, str, str], str, int]]] = defaultdict(list)
    facts: dict[int, tuple[str, int | None]] = {}
    for sid, key, rep, area, bid, bname, entrance, room in session.execute(stmt):
        units[sid].append(((bid, entrance, room), unit_label(bname, entrance, room), area))
        facts[sid] = (key, rep)
    out = {}
    for sid in sorted(units):
        rows = sorted(units[sid])
        key, rep = facts[sid]
        is_developer = key == DEVELOPER_KEY
        out[sid] = SubjectSummary(
            subject_id=sid, key=key, is_developer=is_developer,
            label=subject_label([text for _, text, _ in rows], is_developer=is_developer,
                                developer_name=compound.developer_name),
            area_hundredths=sum(area for _, _, area in rows), unit_count=len(rows),
            building_ids=frozenset(order[0] for order, _, _ in rows), first_unit=rows[0][0],
            representative_owner_id=rep, places=frozenset((o[0], o[1]) for o, _, _ in rows),
        )
    return out


def _members(key: str) -> list[int]:
    """The owner ids a subject key names (none for the developer)."""
    return [] if key == DEVELOPER_KEY else [int(x) for x in key[2:].split(",") if x]


@dataclass(frozen=True)
class SubjectVoter:
    """One owner who votes, or co-owns, for a subject."""

    subject_id: int
    owner_id: int
    phone: str | None
    is_representative: bool  # the sole owner, or the co-owners' chosen representative


def subject_voter_list(
    session: Session, *, compound_id: int, subjects: Iterable[SubjectSummary]
) -> list[SubjectVoter]:
    """The owners of the given (non-developer) subjects, by subject and owner id."""
    wanted = {s.subject_id: s for s in subjects if not s.is_developer}
    if not wanted:
        return []
    members = {sid: _members(s.key) for sid, s in wanted.items()}
    owner_ids = sorted({o for m in members.values() for o in m})
    phones: dict[int, str | None] = {}
    for start in range(0, len(owner_ids), 5000):  # bounded IN lists
        chunk = owner_ids[start:start + 5000]
        phones.update((oid, phone) for oid, phone in session.execute(
            select(Owner.id, Owner.phone).where(
                Owner.compound_id == compound_id, Owner.id.in_(chunk))
        ))
    return [
        SubjectVoter(subject_id=sid, owner_id=oid, phone=phones[oid],
                     is_representative=len(members[sid]) == 1
                     or wanted[sid].representative_owner_id == oid)
        for sid in sorted(wanted)
        for oid in members[sid]
        if oid in phones
    ]


@dataclass(frozen=True)
class ScopeSnapshot:
    """What a ballot freezes of the roster: the subjects in its scope and who votes for them."""

    subjects: list[SubjectSummary]
    voters: list[SubjectVoter]

    @property
    def total_area_hundredths(self) -> int:
        return sum(s.area_hundredths for s in self.subjects)


def scope_snapshot(
    session: Session, *, compound_id: int, building_ids: Collection[int] = (),
    scope: Scope | None = None,
) -> ScopeSnapshot:
    """The roster as a ballot over these buildings or this scope (none: the whole compound) freezes it."""
    summaries = subject_summaries(session, compound_id=compound_id, building_ids=building_ids,
                                  scope=scope)
    subjects = [summaries[sid] for sid in sorted(summaries)]
    return ScopeSnapshot(
        subjects=subjects,
        voters=subject_voter_list(session, compound_id=compound_id, subjects=subjects),
    )


@dataclass(frozen=True)
class SubjectVoters:
    """A live voting subject: its buildings and who votes for it (before a ballot freezes it)."""

    subject_id: int
    label: str  # 1栋1单元101、… (no names)
    building_ids: frozenset[int]
    is_developer: bool
    places: frozenset[Place]
    representative_phones: frozenset[str]  # the sole owner's, or the co-owners' representative's
    owner_phones: frozenset[str]


def subject_voters(session: Session, *, compound_id: int, subject_id: int) -> SubjectVoters | None:
    """The subject as the roster holds it now, or None when the compound has no such subject."""
    subject = subject_summaries(session, compound_id=compound_id, subject_ids=[subject_id]).get(subject_id)
    if subject is None:
        return None
    voters = subject_voter_list(session, compound_id=compound_id, subjects=[subject])
    return SubjectVoters(
        subject_id=subject_id, label=subject.label,
        building_ids=subject.building_ids, is_developer=subject.is_developer, places=subject.places,
        representative_phones=frozenset(v.phone for v in voters if v.phone and v.is_representative),
        owner_phones=frozenset(v.phone for v in voters if v.phone),
    )


def unit_labels_for_phone(session: Session, *, compound_id: int, phone: str | None) -> list[str]:
    """Labels of the units owned (alone or jointly) by the owners holding this phone."""
    if not phone:
        return []
    return [unit_label(name, entrance, room) for name, entrance, room in session.execute(
        select(Building.name, Unit.entrance, Unit.room)
        .join(Unit, Unit.building_id == Building.id)
        .join(UnitOwner, UnitOwner.unit_id == Unit.id)
        .join(Owner, Owner.id == UnitOwner.owner_id)
        .where(Owner.compound_id == compound_id, Owner.phone == phone)
        .distinct()
        .order_by(Building.name, Unit.entrance, Unit.room)
    )]


def set_representative(
    session: Session, *, compound_id: int, subject_id: int, owner_id: int, actor: Actor
) -> VotingSubject:
    """Record which co-owner votes for a co-owned subject."""
    subject = session.get(VotingSubject, subject_id)
    if subject is None or subject.compound_id != compound_id:
        raise NotFound("表决主体不存在", code="subject_not_found")
    if subject.key == DEVELOPER_KEY:
        raise Invalid("开发建设单位的表决主体无需指定代表人", code="developer_subject")
    members = {int(x) for x in subject.key[2:].split(",")}
    if owner_id not in members:
        raise Invalid("代表人必须是该房屋的共有人之一", code="representative_not_co_owner")
    previous = subject.representative_owner_id
    subject.representative_owner_id = owner_id
    session.add(subject)
    append_event(
        session, compound_id=compound_id, actor=actor, action="subject.representative_set",
        object_type="voting_subject", object_id=subject_id,
        payload={"owner_id": owner_id, "previous_owner_id": previous},
    )
    return subject


def _masked_owner(owner: Owner) -> dict[str, object]:
    from app.privacy import mask_name, mask_phone

    return {
        "id": owner.id,
        "name_masked": owner.name if owner.kind == "organization" else mask_name(owner.name),
        "phone_masked": mask_phone(owner.phone),
        "kind": owner.kind,
        "id_last4": owner.id_last4,
    }


# How the unit list may be ordered (`sort`, "-" first for descending): the roster's own order
# (building, entrance, room), area, status.
UNIT_SORTS = ("building", "area", "status")


def _room_order(desc: bool = False) -> list[object]:
    cols = [Building.id, Unit.entrance, func.length(Unit.room), Unit.room]
    return [c.desc() for c in cols] if desc else list(cols)


def list_units(
    session: Session, *, compound_id: int, building: str | None = None, query: str | None = None,
    offset: int = 0, limit: int = 50, entrance: str | None = None, status: str | None = None,
    sort: str = "building",
) -> tuple[int, list[dict[str, object]]]:
    """A page of units with masked owners, filtered by building, entrance, status and room.

    `query` is a room ("1201", matched anywhere in the room) or a flat typed as people write it
    ("3-201", "3号楼201", "3栋1单元201": the building, the entrance if given, and the start of
    the room)."""
    base = (
        select(Unit, Building.name, UnitSubject.subject_id)
        .join(Building, Building.id == Unit.building_id)
        .join(UnitSubject, UnitSubject.unit_id == Unit.id, isouter=True)
        .where(Unit.compound_id == compound_id)
    )
    if building:
        base = base.where(Building.name == building)
    if entrance is not None and entrance != "":
        base = base.where(Unit.entrance == entrance)
    if status:
        base = base.where(Unit.status == status)
    if query:
        parts = flat_parts(query)
        if len(parts) < 2:
            base = base.where(contains_text(Unit.room, query.strip()))
        else:
            names = [
                name for name in session.execute(
                    select(Building.name).where(Building.compound_id == compound_id)
                ).scalars()
                if name == parts[0] or flat_parts(name)[:1] == [parts[0]]
            ]
            base = base.where(Building.name.in_(names), starts_with_text(Unit.room, parts[-1]))
            if len(parts) > 2:
                base = base.where(Unit.entrance == parts[1])
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    desc = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in UNIT_SORTS:
        raise Invalid(f"不支持按“{sort}”排序")
    if key == "area":
        order = [Unit.area_hundredths.desc() if desc else Unit.area_hundredths, *_room_order()]
    elif key == "status":
        order = [Unit.status.desc() if desc else Unit.status, *_room_order()]
    else:
        order = _room_order(desc)
    rows = session.execute(base.order_by(*order).offset(offset).limit(limit)).all()
    unit_ids = [u.id for u, _, _ in rows]
    owners_by_unit: dict[int, list[Owner]] = defaultdict(list)
    if unit_ids:
        for unit_id, owner in session.execute(
            select(UnitOwner.unit_id, Owner)
            .join(Owner, Owner.id == UnitOwner.owner_id)
            .where(UnitOwner.unit_id.in_(unit_ids))
            .order_by(Owner.id)
        ):
            owners_by_unit[unit_id].append(owner)
    items = [
        {
            "id": u.id, "building": bname, "entrance": u.entrance, "room": u.room,
            "area_hundredths": u.area_hundredths, "area": format_area(u.area_hundredths),
            "area_source": u.area_source, "usage": u.usage, "status": u.status,
            "subject_id": sid, "owners": [_masked_owner(o) for o in owners_by_unit[u.id]],
        }
        for u, bname, sid in rows
    ]
    return total, items


def unit_entrances(session: Session, *, compound_id: int, building: str | None = None) -> list[str]:
    """The entrances (单元) the compound's units carry, of one building if named, in order."""
    stmt = (
        select(Unit.entrance).distinct().join(Building, Building.id == Unit.building_id)
        .where(Unit.compound_id == compound_id, Unit.entrance != "")
    )
    if building:
        stmt = stmt.where(Building.name == building)
    return sorted(session.execute(stmt).scalars(), key=lambda e: (len(e), e))


def list_subjects(
    session: Session, *, compound_id: int, offset: int = 0, limit: int = 50
) -> tuple[int, list[dict[str, object]]]:
    """A page of voting subjects with their units' labels and masked owners."""
    compound = get_compound(session, compound_id=compound_id)
    total = session.execute(
        select(func.count()).select_from(VotingSubject).where(VotingSubject.compound_id == compound_id)
    ).scalar_one()
    subjects = list(
        session.execute(
            select(VotingSubject)
            .where(VotingSubject.compound_id == compound_id)
            .order_by(VotingSubject.id)
            .offset(offset)
            .limit(limit)
        ).scalars()
    )
    summaries = subject_summaries(session, compound_id=compound_id,
                                  subject_ids=[s.id for s in subjects if s.id is not None])
    owner_ids = {int(x) for s in subjects if s.key.startswith("o:") for x in s.key[2:].split(",")}
    owners = (
        {o.id: o for o in session.execute(select(Owner).where(Owner.id.in_(owner_ids))).scalars()}
        if owner_ids
        else {}
    )
    items = []
    for s in subjects:
        members = [owners[int(x)] for x in s.key[2:].split(",")] if s.key.startswith("o:") else []
        summary = summaries.get(s.id or 0)
        label = summary.label if summary else subject_label(
            [], is_developer=s.key == DEVELOPER_KEY, developer_name=compound.developer_name)
        rep = owners.get(s.representative_owner_id) if s.representative_owner_id else None
        items.append(
            {
                "id": s.id, "kind": s.kind, "label": label, "unit_count": s.unit_count,
                "area_hundredths": s.area_hundredths, "area": format_area(s.area_hundredths),
                "representative": _masked_owner(rep) if rep else None,
                "owners": [_masked_owner(o) for o in members],
            }
        )
    return total, items


@dataclass(frozen=True)
class SubjectUnit:
    """One unit of a voting subject, where a visitor finds it, with its owners (raw: the
    caller masks what its reader has no need to see)."""

    subject_id: int
    building_id: int
    building: str
    entrance: str
    room: str
    area_hundredths: int
    owner_names: tuple[str, ...]
    owner_phones: tuple[str, ...]


def subject_units(
    session: Session, *, compound_id: int, subject_ids: Collection[int],
) -> list[SubjectUnit]:
    """The units of these subjects as the roster holds them now, ordered by building (roster
    order), entrance and room; a subject the roster no longer has is left out."""
    ids = sorted(set(subject_ids))
    rows: list[tuple[int, int, str, str, str, int, int]] = []
    for start in range(0, len(ids), 5000):  # bounded IN lists
        chunk = ids[start:start + 5000]
        rows += [tuple(r) for r in session.execute(
            select(UnitSubject.subject_id, Unit.building_id, Building.name, Unit.entrance,
                   Unit.room, Unit.area_hundredths, Unit.id)
            .join(Unit, Unit.id == UnitSubject.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(UnitSubject.compound_id == compound_id, UnitSubject.subject_id.in_(chunk))
        )]
    owners: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    unit_ids = sorted({r[6] for r in rows})
    for start in range(0, len(unit_ids), 5000):
        chunk = unit_ids[start:start + 5000]
        for unit_id, owner_id, name, phone in session.execute(
            select(UnitOwner.unit_id, Owner.id, Owner.name, Owner.phone)
            .join(Owner, Owner.id == UnitOwner.owner_id)
            .where(UnitOwner.compound_id == compound_id, UnitOwner.unit_id.in_(chunk))
        ):
            owners[unit_id].append((owner_id, name, phone))
    out = []
    for sid, bid, bname, entrance, room, area, unit_id in rows:
        people = sorted(owners.get(unit_id, []))
        out.append(SubjectUnit(
            subject_id=sid, building_id=bid, building=bname, entrance=entrance, room=room,
            area_hundredths=area, owner_names=tuple(n for _, n, _ in people),
            owner_phones=tuple(p for _, _, p in people if p),
        ))
    # Python sorts, so both databases agree; entrances and rooms by their digits first (2 < 10).
    return sorted(out, key=lambda u: (u.building_id, _natural_key(u.entrance), _natural_key(u.room),
                                      u.subject_id))


def _natural_key(text: str) -> tuple[int, str]:
    digits = "".join(ch for ch in text if ch.isdigit())
    return (int(digits) if digits else 0, text)
