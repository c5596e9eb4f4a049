"""The reviewer's queue across the compounds where the account holds a reviewer grant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from app import calendar
from app.auth import service as auth_service
from app.auth.models import Role
from app.clock import now
from app.procedures.agenda import OPEN_STATUSES, due_at, is_overdue, waiting_roles
from app.procedures.models import (
    AgendaItem,
    ItemStatus,
)


def reviewer_compound_ids(session: Session, *, user: auth_service.UserAccount) -> list[int]:
    """The compounds where the account holds an active reviewer grant."""
    return sorted(cid for cid, roles in auth_service.compounds_with_grants(session, user=user).items()
                  if Role.REVIEWER in roles)


def reviewer_queue(session: Session, *, user: auth_service.UserAccount) -> list[AgendaItem]:
    """Open items waiting for a reviewer, or overdue, in the reviewer's compounds only."""
    compound_ids = reviewer_compound_ids(session, user=user)
    if not compound_ids:
        return []
    rows = session.execute(
        select(AgendaItem).where(AgendaItem.compound_id.in_(compound_ids),
                                 AgendaItem.status.in_(OPEN_STATUSES))
        .order_by(AgendaItem.id)
    ).scalars()
    at = now()
    picked = [i for i in rows
              if (i.status == ItemStatus.IN_PROGRESS and Role.REVIEWER.value in waiting_roles(i))
              or is_overdue(i, at)]
    far = datetime.max.replace(tzinfo=calendar.SHANGHAI)
    return sorted(picked, key=lambda i: (not is_overdue(i, at), due_at(i) or far, i.id or 0))


def waiting_for_reviewer(session: Session, *, compound_id: int) -> list[AgendaItem]:
    """One compound's open items whose current step waits for the reviewer (属地监管 reads
    them: how many, and since when), oldest step first."""
    rows = session.execute(
        select(AgendaItem).where(AgendaItem.compound_id == compound_id,
                                 AgendaItem.status == ItemStatus.IN_PROGRESS)
    ).scalars()
    picked = [i for i in rows if Role.REVIEWER.value in waiting_roles(i)]
    return sorted(picked, key=lambda i: (i.step_started_at, i.id or 0))
