"""Who a notice is addressed to (whole compound, buildings, entrances) and who may see it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, or_, select
from sqlmodel import Session

from app.auth.models import Role
from app.auth.roles import MANAGERS as EDITOR_ROLES
from app.auth.roles import STAFF as STAFF_ROLES
from app.notices.models import AudienceScope, Notice, NoticeBuilding, NoticeEntrance
from app.roster import service as roster_service
from app.roster.scope import Place, Scope


@dataclass(frozen=True)
class Viewer:
    """What a caller may see: drafts or not, and which audiences (None: every audience)."""

    can_see_drafts: bool
    building_ids: frozenset[int] | None
    places: frozenset[Place] = frozenset()  # the owner's (building, entrance) pairs


SYSTEM_VIEWER = Viewer(can_see_drafts=True, building_ids=None)


def viewer_for(
    session: Session, *, compound_id: int, roles: Collection[Role], owner_ids: Collection[int]
) -> Viewer:
    """Staff see every audience (editors also drafts); an owner sees their buildings' notices."""
    role_set = set(roles)
    if role_set & STAFF_ROLES:
        return Viewer(can_see_drafts=bool(role_set & EDITOR_ROLES), building_ids=None)
    places = roster_service.owner_places(session, compound_id=compound_id, owner_ids=owner_ids)
    return Viewer(can_see_drafts=False, building_ids=frozenset(b for b, _ in places),
                  places=frozenset(places))


def visible_conditions(viewer: Viewer) -> list[Any]:
    """SQL conditions on Notice: drafts only for editors, an owner's audiences only."""
    conditions: list[Any] = []
    if not viewer.can_see_drafts:
        conditions.append(Notice.published_at.is_not(None))
    if viewer.building_ids is not None:
        addressed = exists().where(
            NoticeBuilding.notice_id == Notice.id,
            NoticeBuilding.building_id.in_(sorted(viewer.building_ids)),
        )
        by_entrance = [exists().where(NoticeEntrance.notice_id == Notice.id,
                                      NoticeEntrance.building_id == b, NoticeEntrance.entrance == e)
                       for b, e in sorted(viewer.places) if e]
        conditions.append(or_(Notice.audience_scope == AudienceScope.COMPOUND, addressed, *by_entrance))
    return conditions


def audience_payload(scope: Scope | None) -> Any:
    """The audience as audit payloads carry it: "compound", building ids, or both lists."""
    if scope is None:
        return "compound"
    if not scope.entrances:
        return sorted(scope.building_ids)
    return {"building_ids": sorted(scope.building_ids), "entrances": scope.entrance_list()}


def set_audience(session: Session, notice: Notice, scope: Scope | None) -> None:
    for table in (NoticeBuilding, NoticeEntrance):
        for link in session.execute(select(table).where(table.notice_id == notice.id)).scalars():
            session.delete(link)
    session.flush()
    notice.audience_scope = AudienceScope.COMPOUND if scope is None else AudienceScope.BUILDINGS
    if scope is None:
        return
    for building_id in sorted(scope.building_ids):
        session.add(NoticeBuilding(compound_id=notice.compound_id, notice_id=notice.id or 0,
                                   building_id=building_id))
    for building_id, entrance in sorted(scope.entrances):
        session.add(NoticeEntrance(compound_id=notice.compound_id, notice_id=notice.id or 0,
                                   building_id=building_id, entrance=entrance))


def audience_scope(session: Session, notice: Notice) -> Scope | None:
    """The buildings and entrances a notice addresses (None: the whole compound)."""
    if notice.audience_scope == AudienceScope.COMPOUND:
        return None
    buildings = session.execute(
        select(NoticeBuilding.building_id).where(NoticeBuilding.notice_id == notice.id)).scalars()
    entrances = session.execute(
        select(NoticeEntrance.building_id, NoticeEntrance.entrance).where(NoticeEntrance.notice_id == notice.id))
    return Scope.of(list(buildings), [(b, e) for b, e in entrances])


def audience_building_ids(session: Session, notice: Notice) -> list[int] | None:
    """The whole buildings a notice addresses (None: the whole compound)."""
    scope = audience_scope(session, notice)
    return None if scope is None else sorted(scope.building_ids)
