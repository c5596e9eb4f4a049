"""Response shapes of quarterly reports and appraisals, filled from the service's records."""

from __future__ import annotations

import json

from sqlmodel import Session

from app.appraisals import rules, service
from app.appraisals.models import Appraisal, AppraisalAccount, AppraisalScore, RectificationItem
from app.appraisals.schemas import (
    AppraisalAccountOut,
    AppraisalCriterionOut,
    AppraisalGradeRuleOut,
    AppraisalOut,
    AppraisalScoreOut,
    AppraisalSummaryOut,
    AppraisalWeightOut,
    QuarterlyQuarterOut,
    QuarterlyReportOut,
    QuarterlyYearOut,
    RectificationOut,
)
from app.calendar import today
from app.timefmt import format_date, format_moment

QUARTER_LABELS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
ITEM_STATUS = {"open": "整改中", "done": "已整改待确认", "confirmed": "已确认完成"}


def _moment(value) -> str | None:
    return None if value is None else format_moment(value)


def report_view(report, *, latest: bool) -> QuarterlyReportOut:
    return QuarterlyReportOut(
        id=report.id or 0, year=report.year, quarter=report.quarter, version=report.version,
        text=report.text, file_ids=service.file_ids_of(report.file_ids), filed_at=report.filed_at,
        filed_at_text=format_moment(report.filed_at), acknowledged=report.acknowledged_at is not None,
        acknowledged_at_text=_moment(report.acknowledged_at), opinion=report.opinion, latest=latest)


def quarterly_view(session: Session, *, compound_id: int, year: int) -> QuarterlyYearOut:
    quarters = []
    for status in service.quarters_of(session, compound_id=compound_id, year=year):
        latest = status.versions[0] if status.versions else None
        if latest is None:
            label = "已逾期未报告" if status.overdue else ("待报告" if status.started else "未到期")
        elif latest.acknowledged_at is None:
            label = "已报告待签收"
        else:
            label = "已签收"
        quarters.append(QuarterlyQuarterOut(
            quarter=status.quarter.quarter, label=QUARTER_LABELS[status.quarter.quarter],
            due_on=status.quarter.due_on, due_on_text=format_date(status.quarter.due_on),
            started=status.started, overdue=status.overdue, status_label=label,
            versions=[report_view(r, latest=i == 0) for i, r in enumerate(status.versions)]))
    return QuarterlyYearOut(year=year, due_days=rules.REPORT_DUE_DAYS, quarters=quarters)


def _item_status(item: RectificationItem) -> str:
    if item.confirmed_at is not None:
        return "confirmed"
    return "done" if item.done_at is not None else "open"


def item_view(item: RectificationItem) -> RectificationOut:
    status = _item_status(item)
    return RectificationOut(
        id=item.id or 0, position=item.position, text=item.text, due_on=item.due_on,
        due_on_text=format_date(item.due_on), status=status, status_label=ITEM_STATUS[status],
        overdue=rules.item_overdue(due_on=item.due_on, done=item.done_at is not None, today=today()),
        done_note=item.done_note, done_file_ids=service.file_ids_of(item.done_file_ids),
        done_at_text=_moment(item.done_at), confirmed_at_text=_moment(item.confirmed_at))


def _account(a: AppraisalAccount, latest: bool) -> AppraisalAccountOut:
    return AppraisalAccountOut(id=a.id or 0, party=a.party, party_label=rules.PARTY_LABELS[a.party],
                      version=a.version, text=a.text, file_ids=service.file_ids_of(a.file_ids),
                      filed_at_text=format_moment(a.filed_at), latest=latest)


def _score(s: AppraisalScore) -> AppraisalScoreOut:
    return AppraisalScoreOut(id=s.id or 0, appraiser_kind=s.appraiser_kind,
                    appraiser_kind_label=rules.KIND_LABELS[s.appraiser_kind],
                    appraiser_name=s.appraiser_name, scores=json.loads(s.scores),
                    mean=rules.score_text(s.mean_tenths), entered_at_text=format_moment(s.entered_at))


def appraisal_view(session: Session, *, appraisal: Appraisal, staff: bool) -> AppraisalOut:
    result = service.compute(session, appraisal=appraisal)
    accounts = service.accounts_of(session, appraisal=appraisal)
    seen: set[str] = set()
    account_rows = []
    for a in accounts:
        account_rows.append(_account(a, a.party not in seen))
        seen.add(a.party)
    owners = service.owners_part(session, appraisal=appraisal)
    return AppraisalOut(
        year=appraisal.year, published=appraisal.published_at is not None,
        published_at_text=_moment(appraisal.published_at),
        criteria=[AppraisalCriterionOut(key=k, label=label) for k, label in rules.CRITERIA],
        weights=[AppraisalWeightOut(kind=k, label=rules.KIND_LABELS[k], weight_percent=w,
                           score=rules.score_text(result.parts.get(k)),
                           appraisers=None if k == "owners" else result.counts.get(k, 0))
                 for k, w in rules.WEIGHTS.items()],
        grade_rules=[AppraisalGradeRuleOut(grade=g, min_score=rules.score_text(floor)) for floor, g in rules.GRADES],
        survey_id=owners.survey_id, score=None if result.score_tenths is None else rules.score_text(result.score_tenths),
        grade=result.grade, missing=result.missing, accounts=account_rows,
        scores=[_score(s) for s in service.scores_of(session, appraisal=appraisal)] if staff else [],
        rectifications=[item_view(i) for i in service.items_of(session, appraisal=appraisal)])


def summary_view(session: Session, *, appraisal: Appraisal) -> AppraisalSummaryOut:
    items = [item_view(i) for i in service.items_of(session, appraisal=appraisal)]
    published = appraisal.published_at is not None
    return AppraisalSummaryOut(
        year=appraisal.year, published=published, published_at_text=_moment(appraisal.published_at),
        score=rules.score_text(appraisal.score_tenths) if published else None,
        grade=appraisal.grade if published else None,
        open_items=sum(1 for i in items if i.status != "confirmed"),
        overdue_items=sum(1 for i in items if i.overdue))
