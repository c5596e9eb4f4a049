"""HTTP for quarterly reports (季度报告) and the annual appraisal (述职评议), seed 002."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from app.appraisals import service, views
from app.appraisals.exceptions import AppraisalNotFound
from app.appraisals.schemas import (
    AppraisalAccountIn,
    AppraisalOut,
    AppraisalScoreIn,
    AppraisalSummaryOut,
    QuarterlyAcknowledgeIn,
    QuarterlyReportIn,
    QuarterlyReportOut,
    QuarterlyYearOut,
    RectificationDoneIn,
    RectificationIn,
    RectificationOut,
)
from app.auth.models import Role
from app.auth.roles import ACCOUNT_FILERS, APPRAISERS, COMMITTEE, COMPANY, OWNERS, REVIEWERS, STAFF
from app.calendar import today
from app.deps import CompoundAccess, SessionDep, compound_access
from app.errors import Forbidden

router = APIRouter(tags=["appraisals"])

Reader = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
Staff = Annotated[CompoundAccess, Depends(compound_access(*STAFF))]
Company = Annotated[CompoundAccess, Depends(compound_access(*COMPANY))]
Reviewer = Annotated[CompoundAccess, Depends(compound_access(*REVIEWERS))]
Committee = Annotated[CompoundAccess, Depends(compound_access(*COMMITTEE))]
Filer = Annotated[CompoundAccess, Depends(compound_access(*ACCOUNT_FILERS))]
Appraiser = Annotated[CompoundAccess, Depends(compound_access(*APPRAISERS))]
Q = "/compounds/{compound_id}/quarterly-reports"
A = "/compounds/{compound_id}/appraisals"
ONE = A + "/{year}"
ITEM = "/compounds/{compound_id}/rectifications/{rectification_id}"


def _staff(access: CompoundAccess) -> bool:
    return bool(access.roles & STAFF)


@router.get(Q)
def quarterly_reports(access: Staff, session: SessionDep,
                      year: Annotated[int | None, Query(ge=2000, le=2100)] = None) -> QuarterlyYearOut:
    """The year's four quarters: each report's versions, acknowledgment and the overdue flag."""
    return views.quarterly_view(session, compound_id=access.compound_id, year=year or today().year)


@router.post(Q, status_code=201)
def file_quarterly_report(body: QuarterlyReportIn, access: Company, session: SessionDep) -> QuarterlyReportOut:
    """The property company files the quarter's report (a correction is a new version)."""
    report = service.file_quarterly_report(
        session, compound_id=access.compound_id, actor=access.actor, year=body.year,
        quarter=body.quarter, text=body.text, file_ids=body.file_ids)
    return views.report_view(report, latest=True)


@router.post(Q + "/{report_id}/acknowledge")
def acknowledge(report_id: int, body: QuarterlyAcknowledgeIn, access: Reviewer, session: SessionDep) -> QuarterlyReportOut:
    report = service.acknowledge_report(session, compound_id=access.compound_id, report_id=report_id,
                                        actor=access.actor, opinion=body.opinion)
    return views.report_view(report, latest=True)


@router.get(A)
def list_appraisals(access: Reader, session: SessionDep) -> list[AppraisalSummaryOut]:
    """The years' appraisals: owners see the published ones."""
    return [views.summary_view(session, appraisal=a)
            for a in service.list_appraisals(session, compound_id=access.compound_id)
            if _staff(access) or a.published_at is not None]


@router.get(ONE)
def get_appraisal(year: int, access: Reader, session: SessionDep) -> AppraisalOut:
    """The year's appraisal; for owners only once published, without the appraisers' rows."""
    appraisal = service.find_appraisal(session, compound_id=access.compound_id, year=year)
    staff = _staff(access)
    if appraisal is None or not (staff or appraisal.published_at is not None):
        raise AppraisalNotFound()
    return views.appraisal_view(session, appraisal=appraisal, staff=staff)


@router.post(ONE + "/accounts", status_code=201)
def file_account(year: int, body: AppraisalAccountIn, access: Filer, session: SessionDep) -> AppraisalOut:
    """述职报告: the committee files its own, the property company (clerk) its own."""
    party = "committee" if access.role == Role.COMMITTEE else "company"
    service.file_account(session, compound_id=access.compound_id, year=year, actor=access.actor,
                         party=party, text=body.text, file_ids=body.file_ids)
    return views.appraisal_view(session, appraisal=service.get_appraisal(
        session, compound_id=access.compound_id, year=year), staff=True)


@router.post(ONE + "/scores", status_code=201)
def enter_score(year: int, body: AppraisalScoreIn, access: Appraiser, session: SessionDep) -> AppraisalOut:
    """The party organization enters its own scores; the committee its own and the owner
    representatives' (recorded from their score sheets)."""
    allowed = {"party"} if access.role == Role.REVIEWER else {"committee", "owner_rep"}
    if body.appraiser_kind not in allowed:
        raise Forbidden("您不能录入这一方的评分", code="appraisal_score_forbidden")
    service.enter_score(session, compound_id=access.compound_id, year=year, actor=access.actor,
                        appraiser_kind=body.appraiser_kind, appraiser_name=body.appraiser_name,
                        scores=body.scores.model_dump())
    return views.appraisal_view(session, appraisal=service.get_appraisal(
        session, compound_id=access.compound_id, year=year), staff=True)


@router.post(ONE + "/rectifications", status_code=201)
def add_rectification(year: int, body: RectificationIn, access: Reviewer, session: SessionDep) -> RectificationOut:
    """The party organization sets a rectification item with its deadline, before publishing."""
    item = service.add_rectification(session, compound_id=access.compound_id, year=year,
                                     actor=access.actor, text=body.text, due_on=body.due_on)
    return views.item_view(item)


@router.post(ONE + "/publish")
def publish(year: int, access: Reviewer, session: SessionDep) -> AppraisalOut:
    """Fix the weighted result and publish it, with the rectification items, to the owners."""
    appraisal = service.publish(session, compound_id=access.compound_id, year=year, actor=access.actor)
    return views.appraisal_view(session, appraisal=appraisal, staff=True)


@router.post(ITEM + "/done")
def rectification_done(rectification_id: int, body: RectificationDoneIn, access: Company,
                       session: SessionDep) -> RectificationOut:
    item = service.mark_done(session, compound_id=access.compound_id, item_id=rectification_id,
                             actor=access.actor, note=body.note, file_ids=body.file_ids)
    return views.item_view(item)


@router.post(ITEM + "/confirm")
def rectification_confirm(rectification_id: int, access: Committee, session: SessionDep) -> RectificationOut:
    item = service.confirm(session, compound_id=access.compound_id, item_id=rectification_id,
                           actor=access.actor)
    return views.item_view(item)
