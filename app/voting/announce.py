"""Owners hear about their ballots by SMS through notify's outbox: the opening, the committee's
reminders to subjects that have not voted, and the published result. Each is written in the
transaction of the change that causes it (notify delivers after the commit)."""

from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from app import calendar, timefmt
from app.audit.service import Actor, append_event
from app.clock import now
from app.errors import Conflict
from app.notify import service as notify
from app.notify.messages import MessageKind
from app.roster import service as roster_service
from app.voting.models import Ballot, BallotSubject, BallotVoter


def topic(ballot: Ballot) -> str:
    return f"ballot:{ballot.id}"


def _phones(session: Session, ballot: Ballot, *, unvoted_only: bool = False) -> list[str]:
    """The phones of the owners of the ballot's frozen subjects (all owners, not only the
    representative: each owner hears of it), optionally only of subjects that have not voted."""
    stmt = select(BallotVoter.phone).where(
        BallotVoter.ballot_id == ballot.id, BallotVoter.phone.is_not(None)
    )
    if unvoted_only:
        stmt = stmt.join(BallotSubject, (BallotSubject.ballot_id == BallotVoter.ballot_id)
                         & (BallotSubject.subject_id == BallotVoter.subject_id)).where(
            BallotSubject.effective_cast_id.is_(None),
            BallotSubject.is_developer.is_(False),
        )
    return sorted({p for p in session.execute(stmt.order_by(BallotVoter.id)).scalars() if p})


def _params(session: Session, ballot: Ballot, kind: MessageKind) -> dict[str, str]:
    compound = roster_service.get_compound(session, compound_id=ballot.compound_id).name
    if kind in ("ballot_opened", "ballot_reminder"):
        return {"compound": compound, "title": ballot.title,
                "end": timefmt.format_moment(ballot.ends_at, end=True, with_year=False)}
    return {"compound": compound, "title": ballot.title}


def _announce(session: Session, ballot: Ballot, kind: MessageKind, phones: list[str]) -> notify.Enqueued:
    return notify.enqueue_many(session, kind=kind, phones=phones,
                               params=_params(session, ballot, kind),
                               compound_id=ballot.compound_id, topic=topic(ballot))


def announce_opened(session: Session, *, ballot: Ballot) -> None:
    _announce(session, ballot, "ballot_opened", _phones(session, ballot))


def announce_result(session: Session, *, ballot: Ballot) -> None:
    _announce(session, ballot, "result_published", _phones(session, ballot))


def _ensure_open(ballot: Ballot) -> None:
    # service.status_of's "open" (service imports this module, so it is not imported back)
    if ballot.opened_at is None or ballot.closed_at is not None or now() >= ballot.ends_at:
        raise Conflict("只能在投票期间提醒未投票的业主", code="ballot_not_open")


def reminder_preview(session: Session, *, ballot: Ballot) -> tuple[notify.Preview, bool]:
    """What a reminder would send now, and whether one was already sent today."""
    _ensure_open(ballot)
    preview = notify.preview(session, kind="ballot_reminder",
                             phones=_phones(session, ballot, unvoted_only=True),
                             params=_params(session, ballot, "ballot_reminder"),
                             compound_id=ballot.compound_id)
    return preview, notify.reminded_today(session, topic=topic(ballot))


def send_reminder(session: Session, *, ballot: Ballot, actor: Actor) -> notify.Enqueued:
    """Remind the owners of subjects that have not voted: once per ballot per calendar day."""
    _ensure_open(ballot)
    notify.record_reminder(session, compound_id=ballot.compound_id, topic=topic(ballot),
                           user_id=actor.user_id)
    result = _announce(session, ballot, "ballot_reminder",
                       _phones(session, ballot, unvoted_only=True))
    notify.set_reminder_count(session, topic=topic(ballot), messages=result.queued)
    append_event(
        session, compound_id=ballot.compound_id, actor=actor, action="ballot.reminder_sent",
        object_type="ballot", object_id=ballot.id or 0,
        payload={"queued": result.queued, "skipped": result.skipped,
                 "day": timefmt.format_date(calendar.today())},
    )
    return result


def delivery_counts(session: Session, *, ballot: Ballot) -> dict[str, int]:
    return notify.counts_by_status(session, compound_id=ballot.compound_id, topic=topic(ballot))
