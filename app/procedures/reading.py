"""Reading an item's record: items, versions, step records, observations and audit events."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app.audit import service as audit_service
from app.procedures.agenda import OBJECT
from app.procedures.models import (
    AgendaItem,
    AgendaObservation,
    AgendaStepRecord,
    AgendaVersion,
)


def list_items(session: Session, *, compound_id: int, public_only: bool) -> list[AgendaItem]:
    stmt = select(AgendaItem).where(AgendaItem.compound_id == compound_id)
    if public_only:
        stmt = stmt.where(AgendaItem.public_at.is_not(None))
    return list(session.execute(stmt.order_by(AgendaItem.id.desc())).scalars())


def versions(session: Session, *, item: AgendaItem) -> list[AgendaVersion]:
    return list(session.execute(
        select(AgendaVersion).where(AgendaVersion.item_id == item.id).order_by(AgendaVersion.version)
    ).scalars())


def step_records(session: Session, *, item: AgendaItem) -> list[AgendaStepRecord]:
    return list(session.execute(
        select(AgendaStepRecord).where(AgendaStepRecord.item_id == item.id).order_by(AgendaStepRecord.id)
    ).scalars())


def observations(session: Session, *, item: AgendaItem) -> list[AgendaObservation]:
    return list(session.execute(
        select(AgendaObservation).where(AgendaObservation.item_id == item.id).order_by(AgendaObservation.id)
    ).scalars())



def item_events(session: Session, *, item: AgendaItem) -> list[audit_service.AuditEvent]:
    """The audit events about the item and its linked ballot, in chain order."""
    about = [(OBJECT, str(item.id))]
    if item.ballot_id is not None:
        about.append(("ballot", str(item.ballot_id)))
    return audit_service.events_about(session, compound_id=item.compound_id, objects=about)
