"""属地监管 (seeds 002, 004): one row of figures per compound, read from the other domains.

Read-only: every figure comes from a read function of the domain that owns it (procedures,
voting, ledger, surveys, work orders, appraisals); nothing here writes, and no row carries a name,
a phone or any text an owner typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from app.appraisals import service as appraisal_service
from app.auth import service as auth_service
from app.auth.models import Role
from app.clock import now
from app.ledger import service as ledger_service
from app.procedures import queue as procedure_queue
from app.roster import service as roster_service
from app.surveys import service as survey_service
from app.voting import results as voting_results
from app.voting import service as voting_service
from app.workorders import service as workorder_service

# Seed 002: a 红色物业 compound reaches an owners' satisfaction of 90% or more.
SATISFACTION_LINE_TENTHS = 900
OPEN_WORK_ORDER_STATUSES = ("reported", "dispatched", "accepted", "done", "rated")


@dataclass(frozen=True)
class SupervisionRow:
    compound_id: int
    compound_name: str
    street: str
    community: str
    # Procedure items whose current step waits for the reviewer (社区党组织), and since when.
    reviews_pending: int
    oldest_review_days: int | None
    # Ballots open for voting; the figures are those of the one furthest from its quorum.
    ballots_running: int
    turnout_area_tenths: int | None  # tenths of a percent of the area that voted
    turnout_headcount_tenths: int | None
    quorum_percent: str | None
    quorum_met: bool | None
    # Ledger (公共收益): quarters ended without every period's statement published.
    ledger_started: bool
    statements_missing: int
    statements_overdue: int
    # The latest published annual satisfaction survey (rate in tenths of a percent).
    satisfaction_year: int | None
    satisfaction_tenths: int | None
    satisfaction_below_line: bool | None
    # 三单一访 work orders.
    work_orders_open: int
    work_orders_overdue: int
    work_orders_average_hours: float | None
    # The latest published annual appraisal (述职评议) and its rectification items still open.
    appraisal_year: int | None
    appraisal_score_tenths: int | None
    appraisal_grade: str | None
    rectifications_open: int


def supervised_compound_ids(session: Session, *, user: auth_service.UserAccount,
                            platform: bool) -> list[int]:
    """The compounds on the caller's screen: every compound for the platform administrator,
    else those where the account holds an active supervisor grant."""
    if platform:
        return [c.id for c in roster_service.list_compounds(session) if c.id is not None]
    return sorted(cid for cid, roles in auth_service.compounds_with_grants(session, user=user).items()
                  if Role.SUPERVISOR in roles)


def _tenths(num: int, den: int) -> int | None:
    return num * 1000 // den if den > 0 else None


def _days(since: datetime, at: datetime) -> int:
    return max(0, (at - since).days)


def compound_row(session: Session, *, compound_id: int, at: datetime | None = None) -> SupervisionRow:
    at = at or now()
    compound = roster_service.get_compound(session, compound_id=compound_id)

    waiting = procedure_queue.waiting_for_reviewer(session, compound_id=compound_id)

    running = [b for b in voting_service.list_ballots(session, compound_id=compound_id, include_drafts=False)
               if voting_service.status_of(b, at) == "open"]
    turnouts = [voting_results.turnout(session, ballot=b) for b in running]
    weakest = min(turnouts, key=lambda t: (_tenths(t["voted_area_hundredths"], t["total_area_hundredths"]) or 0,
                                           t["ballot_id"]), default=None)

    setting = ledger_service.get_settings(session, compound_id=compound_id)
    missing = ledger_service.missing_statements(session, compound_id=compound_id, setting=setting)

    published = [p for p in survey_service.satisfaction_series(session, compound_id=compound_id)
                 if p.rate_tenths is not None]
    latest_survey = published[-1] if published else None

    stats = workorder_service.stats(session, compound_id=compound_id)

    appraisal = next((a for a in appraisal_service.list_appraisals(session, compound_id=compound_id)
                      if a.published_at is not None), None)
    items = appraisal_service.items_of(session, appraisal=appraisal) if appraisal else []

    return SupervisionRow(
        compound_id=compound_id,
        compound_name=compound.name,
        street=compound.street,
        community=compound.community,
        reviews_pending=len(waiting),
        oldest_review_days=_days(waiting[0].step_started_at, at) if waiting else None,
        ballots_running=len(running),
        turnout_area_tenths=(_tenths(weakest["voted_area_hundredths"], weakest["total_area_hundredths"])
                             if weakest else None),
        turnout_headcount_tenths=(_tenths(weakest["voted_headcount"], weakest["total_headcount"])
                                  if weakest else None),
        quorum_percent=weakest["quorum_percent"] if weakest else None,
        quorum_met=(bool(weakest["quorum_area_met"] and weakest["quorum_headcount_met"])
                    if weakest else None),
        ledger_started=setting.starts_on is not None,
        statements_missing=len(missing),
        statements_overdue=sum(1 for m in missing if m.overdue),
        satisfaction_year=latest_survey.year if latest_survey else None,
        satisfaction_tenths=latest_survey.rate_tenths if latest_survey else None,
        satisfaction_below_line=(latest_survey.rate_tenths < SATISFACTION_LINE_TENTHS
                                 if latest_survey and latest_survey.rate_tenths is not None else None),
        work_orders_open=sum(stats.by_status.get(s, 0) for s in OPEN_WORK_ORDER_STATUSES),
        work_orders_overdue=stats.overdue,
        work_orders_average_hours=stats.average_handling_hours,
        appraisal_year=appraisal.year if appraisal else None,
        appraisal_score_tenths=appraisal.score_tenths if appraisal else None,
        appraisal_grade=appraisal.grade if appraisal else None,
        rectifications_open=sum(1 for i in items if i.confirmed_at is None),
    )


def supervision_rows(session: Session, *, compound_ids: list[int]) -> list[SupervisionRow]:
    at = now()
    return [compound_row(session, compound_id=cid, at=at) for cid in compound_ids]
