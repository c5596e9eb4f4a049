"""The ballot scheduler: ballots open at their start and close at their end by themselves.

It calls the same service functions as the committee's buttons (service.open_ballot,
results.close_ballot), with the same checks and the same audit events; the actor is the system
and the audit sentence says the scheduler did it. A pass (`tick`) runs from a daemon thread in
each server process (`Scheduler`, started in the app's lifespan unless GONGJUE_SCHEDULE_WORKER
is false) and from `python -m app.voting tick` (the gongjue-tick timer).

Several processes may tick at once: each ballot is handled in its own write transaction that
locks the ballot row first (SELECT … FOR UPDATE on PostgreSQL; BEGIN IMMEDIATE on SQLite) and
re-reads its state under the lock, exactly as the buttons' routes do, so a ballot is opened or
closed once; the second process finds it done and leaves it.

A refusal (e.g. a matter whose party review is no longer approved) is recorded once on the
ballot (`schedule_problem`, with one audit event) and shown to the committee on the ballot page;
later passes try again quietly and record nothing until the reason changes or opening succeeds.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.audit.service import SYSTEM, append_event
from app.background import PollingThread
from app.clock import now
from app.config import get_settings
from app.db import transaction
from app.errors import DomainError
from app.voting import results, service
from app.voting.models import Ballot

log = logging.getLogger("gongjue.voting.schedule")


@dataclass
class TickReport:
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def due(at: datetime) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(compound id, ballot id) of ballots due to open and due to close at `at`."""
    live = (Ballot.deleted_at.is_(None), Ballot.cancelled_at.is_(None))
    with transaction(write=False) as session:
        to_open = session.execute(
            select(Ballot.compound_id, Ballot.id).where(
                *live, Ballot.noticed_at.is_not(None), Ballot.opened_at.is_(None),
                Ballot.starts_at <= at, Ballot.ends_at > at).order_by(Ballot.id)).all()
        to_close = session.execute(
            select(Ballot.compound_id, Ballot.id).where(
                *live, Ballot.opened_at.is_not(None), Ballot.closed_at.is_(None),
                Ballot.ends_at <= at).order_by(Ballot.id)).all()
    return [(c, b) for c, b in to_open], [(c, b) for c, b in to_close]


def _step(compound_id: int, ballot_id: int, step: str) -> bool:
    """Open or close one ballot in its own transaction; False when another process did it."""
    with transaction() as session:
        ballot = service.get_ballot(session, compound_id=compound_id, ballot_id=ballot_id, lock=True)
        if ballot.cancelled_at is not None or ballot.deleted_at is not None:
            return False
        if step == "open":
            if ballot.opened_at is not None:
                return False
            service.open_ballot(session, ballot=ballot, actor=SYSTEM, by_schedule=True)
        else:
            if ballot.closed_at is not None:
                return False
            results.close_ballot(session, ballot=ballot, actor=SYSTEM, by_schedule=True)
    return True


def _record_problem(compound_id: int, ballot_id: int, step: str, message: str) -> bool:
    """Record why the scheduler could not act, once per distinct reason; True when recorded."""
    with transaction() as session:
        ballot = service.get_ballot(session, compound_id=compound_id, ballot_id=ballot_id, lock=True)
        if ballot.schedule_problem == message or ballot.cancelled_at is not None:
            return False
        ballot.schedule_problem = message[:1000]
        ballot.schedule_problem_at = now()
        session.add(ballot)
        append_event(session, compound_id=compound_id, actor=SYSTEM, action="ballot.schedule_refused",
                     object_type="ballot", object_id=ballot_id,
                     payload={"step": step, "message": message[:1000]})
    return True


def tick() -> TickReport:
    """One pass: open what is due to open, close what is due to close."""
    report = TickReport()
    to_open, to_close = due(now())
    for step, rows, done in (("open", to_open, report.opened), ("close", to_close, report.closed)):
        for compound_id, ballot_id in rows:
            try:
                if _step(compound_id, ballot_id, step):
                    done.append(ballot_id)
            except DomainError as exc:
                report.refused[ballot_id] = exc.message
                if _record_problem(compound_id, ballot_id, step, exc.message):
                    log.warning("ballot %s could not %s on schedule: %s", ballot_id, step, exc.message)
    return report


Scheduler = PollingThread
_scheduler = Scheduler(name="gongjue-schedule", one_pass=tick,
                       poll_seconds=lambda: get_settings().schedule_poll_seconds, log=log,
                       failure="ballot schedule pass failed")


def get_scheduler() -> Scheduler:
    return _scheduler
