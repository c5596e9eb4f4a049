"""Quarterly reports, the annual appraisal (述职评议), its publication and the rectification items.

Services take keyword arguments, flush and never commit; every step writes its audit event.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlmodel import Session

from app.appraisals import rules
from app.appraisals.exceptions import (
    AppraisalInvalid,
    AppraisalNotFound,
    AppraisalState,
    RectificationNotFound,
    ReportNotFound,
)
from app.appraisals.models import (
    Appraisal,
    AppraisalAccount,
    AppraisalScore,
    QuarterlyReport,
    RectificationItem,
)
from app.audit import service as audit_service
from app.audit.service import Actor
from app.calendar import local_day, today
from app.clock import now
from app.files import service as files_service
from app.surveys import service as survey_service


def _check_files(session: Session, *, compound_id: int, file_ids: Sequence[int]) -> str:
    for file_id in file_ids:
        files_service.get_file(session, compound_id=compound_id, file_id=file_id)
    return json.dumps(sorted(set(file_ids)))


def file_ids_of(value: str) -> list[int]:
    return [int(i) for i in json.loads(value or "[]")]


# --- quarterly reports ----------------------------------------------------------------------------


def file_quarterly_report(session: Session, *, compound_id: int, actor: Actor, year: int,
                          quarter: int, text: str, file_ids: Sequence[int]) -> QuarterlyReport:
    """File the quarter's report, or a correction of it: always a new version."""
    q = rules.Quarter(year, quarter)
    if q.first_day > today():
        raise AppraisalInvalid("该季度尚未开始，不能提交季度报告", code="quarter_not_started")
    if not text.strip():
        raise AppraisalInvalid("请填写报告内容", code="report_text_required")
    latest = session.execute(select(func.max(QuarterlyReport.version)).where(
        QuarterlyReport.compound_id == compound_id, QuarterlyReport.year == year,
        QuarterlyReport.quarter == quarter)).scalar_one()
    report = QuarterlyReport(
        compound_id=compound_id, year=year, quarter=quarter, version=(latest or 0) + 1,
        text=text.strip(), file_ids=_check_files(session, compound_id=compound_id, file_ids=file_ids),
        filed_by=actor.user_id)
    session.add(report)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.quarterly_filed",
        object_type="quarterly_report", object_id=report.id or 0,
        payload={"year": year, "quarter": quarter, "version": report.version,
                 "file_ids": file_ids_of(report.file_ids)})
    return report


def get_report(session: Session, *, compound_id: int, report_id: int) -> QuarterlyReport:
    report = session.get(QuarterlyReport, report_id)
    if report is None or report.compound_id != compound_id:
        raise ReportNotFound()
    return report


def acknowledge_report(session: Session, *, compound_id: int, report_id: int, actor: Actor,
                       opinion: str) -> QuarterlyReport:
    """The party organization acknowledges the latest version with its opinion (once)."""
    report = get_report(session, compound_id=compound_id, report_id=report_id)
    if report.acknowledged_at is not None:
        raise AppraisalState("该报告已经签收", code="report_already_acknowledged")
    newer = session.execute(select(func.max(QuarterlyReport.version)).where(
        QuarterlyReport.compound_id == compound_id, QuarterlyReport.year == report.year,
        QuarterlyReport.quarter == report.quarter)).scalar_one()
    if newer != report.version:
        raise AppraisalState("该报告已有更正版本，请签收最新版本", code="report_superseded")
    if not opinion.strip():
        raise AppraisalInvalid("请填写意见", code="opinion_required")
    report.acknowledged_at = now()
    report.acknowledged_by = actor.user_id
    report.opinion = opinion.strip()
    session.add(report)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.quarterly_acknowledged",
        object_type="quarterly_report", object_id=report_id,
        payload={"year": report.year, "quarter": report.quarter, "version": report.version,
                 "opinion": report.opinion})
    return report


@dataclass(frozen=True)
class QuarterStatus:
    quarter: rules.Quarter
    versions: list[QuarterlyReport]  # newest first
    overdue: bool
    started: bool


def quarters_of(session: Session, *, compound_id: int, year: int) -> list[QuarterStatus]:
    rows = list(session.execute(select(QuarterlyReport).where(
        QuarterlyReport.compound_id == compound_id, QuarterlyReport.year == year)
        .order_by(QuarterlyReport.quarter, QuarterlyReport.version.desc())).scalars())
    day = today()
    out = []
    for n in (1, 2, 3, 4):
        q = rules.Quarter(year, n)
        versions = [r for r in rows if r.quarter == n]
        out.append(QuarterStatus(q, versions, rules.report_overdue(q, filed=bool(versions), today=day),
                                 q.first_day <= day))
    return out


# --- the annual appraisal -------------------------------------------------------------------------


def find_appraisal(session: Session, *, compound_id: int, year: int) -> Appraisal | None:
    return session.execute(select(Appraisal).where(
        Appraisal.compound_id == compound_id, Appraisal.year == year)).scalar_one_or_none()


def get_appraisal(session: Session, *, compound_id: int, year: int) -> Appraisal:
    appraisal = find_appraisal(session, compound_id=compound_id, year=year)
    if appraisal is None:
        raise AppraisalNotFound()
    return appraisal


def list_appraisals(session: Session, *, compound_id: int) -> list[Appraisal]:
    return list(session.execute(select(Appraisal).where(Appraisal.compound_id == compound_id)
                                .order_by(Appraisal.year.desc())).scalars())


def _open_for(session: Session, *, compound_id: int, year: int, actor: Actor) -> Appraisal:
    """The year's appraisal, begun by its first account or score; refused once published."""
    appraisal = find_appraisal(session, compound_id=compound_id, year=year)
    if appraisal is None:
        if year > today().year:
            raise AppraisalInvalid("该年度尚未开始", code="appraisal_year_not_started")
        appraisal = Appraisal(compound_id=compound_id, year=year, created_by=actor.user_id)
        session.add(appraisal)
        session.flush()
    if appraisal.published_at is not None:
        raise AppraisalState("评议结果已经公布，不能再修改", code="appraisal_published")
    return appraisal


def file_account(session: Session, *, compound_id: int, year: int, actor: Actor, party: str,
                 text: str, file_ids: Sequence[int]) -> AppraisalAccount:
    """A 述职报告 of the committee or the company; a correction is the next version."""
    if not text.strip():
        raise AppraisalInvalid("请填写述职报告内容", code="account_text_required")
    appraisal = _open_for(session, compound_id=compound_id, year=year, actor=actor)
    latest = session.execute(select(func.max(AppraisalAccount.version)).where(
        AppraisalAccount.appraisal_id == appraisal.id, AppraisalAccount.party == party)).scalar_one()
    account = AppraisalAccount(
        compound_id=compound_id, appraisal_id=appraisal.id or 0, party=party,
        version=(latest or 0) + 1, text=text.strip(),
        file_ids=_check_files(session, compound_id=compound_id, file_ids=file_ids),
        filed_by=actor.user_id)
    session.add(account)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.account_filed",
        object_type="appraisal", object_id=appraisal.year,
        payload={"year": year, "party": party, "version": account.version,
                 "file_ids": file_ids_of(account.file_ids)})
    return account


def enter_score(session: Session, *, compound_id: int, year: int, actor: Actor, appraiser_kind: str,
                appraiser_name: str, scores: Mapping[str, int]) -> AppraisalScore:
    """One appraiser's scores per criterion; the same appraiser entered again supersedes."""
    if set(scores) != set(rules.CRITERIA_KEYS):
        raise AppraisalInvalid("请为每一项评议内容打分", code="appraisal_scores_incomplete")
    if any(not 0 <= v <= 100 for v in scores.values()):
        raise AppraisalInvalid("每项得分应在0到100之间", code="appraisal_score_range")
    name = appraiser_name.strip()
    if not name:
        raise AppraisalInvalid("请填写评议人", code="appraiser_name_required")
    appraisal = _open_for(session, compound_id=compound_id, year=year, actor=actor)
    stamp = now()
    for old in session.execute(select(AppraisalScore).where(
            AppraisalScore.appraisal_id == appraisal.id, AppraisalScore.appraiser_kind == appraiser_kind,
            AppraisalScore.appraiser_name == name, AppraisalScore.superseded_at.is_(None))).scalars():
        old.superseded_at = stamp
        session.add(old)
    ordered = {k: int(scores[k]) for k in rules.CRITERIA_KEYS}
    row = AppraisalScore(
        compound_id=compound_id, appraisal_id=appraisal.id or 0, appraiser_kind=appraiser_kind,
        appraiser_name=name, scores=json.dumps(ordered),
        mean_tenths=rules.mean_tenths(list(ordered.values())), entered_by=actor.user_id)
    session.add(row)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.scored",
        object_type="appraisal", object_id=appraisal.year,
        payload={"year": year, "appraiser_kind": appraiser_kind, "appraiser_name": name,
                 "mean_score": rules.score_text(row.mean_tenths)})
    return row


def add_rectification(session: Session, *, compound_id: int, year: int, actor: Actor, text: str,
                      due_on: date) -> RectificationItem:
    if not text.strip():
        raise AppraisalInvalid("请填写整改事项", code="rectification_text_required")
    if due_on < today():
        raise AppraisalInvalid("整改期限不能早于今天", code="rectification_due_past")
    appraisal = _open_for(session, compound_id=compound_id, year=year, actor=actor)
    count = session.execute(select(func.count()).select_from(RectificationItem).where(
        RectificationItem.appraisal_id == appraisal.id)).scalar_one()
    item = RectificationItem(compound_id=compound_id, appraisal_id=appraisal.id or 0,
                             position=count + 1, text=text.strip(), due_on=due_on)
    session.add(item)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.rectification_added",
        object_type="rectification_item", object_id=item.id or 0,
        payload={"year": year, "text": item.text, "due_on": due_on.isoformat()})
    return item


def accounts_of(session: Session, *, appraisal: Appraisal) -> list[AppraisalAccount]:
    return list(session.execute(select(AppraisalAccount).where(
        AppraisalAccount.compound_id == appraisal.compound_id,
        AppraisalAccount.appraisal_id == appraisal.id)
        .order_by(AppraisalAccount.party, AppraisalAccount.version.desc())).scalars())


def scores_of(session: Session, *, appraisal: Appraisal) -> list[AppraisalScore]:
    """The effective scores (not superseded), in the order entered."""
    return list(session.execute(select(AppraisalScore).where(
        AppraisalScore.compound_id == appraisal.compound_id,
        AppraisalScore.appraisal_id == appraisal.id, AppraisalScore.superseded_at.is_(None))
        .order_by(AppraisalScore.id)).scalars())


def items_of(session: Session, *, appraisal: Appraisal) -> list[RectificationItem]:
    return list(session.execute(select(RectificationItem).where(
        RectificationItem.compound_id == appraisal.compound_id,
        RectificationItem.appraisal_id == appraisal.id).order_by(RectificationItem.position)).scalars())


@dataclass(frozen=True)
class OwnersPart:
    survey_id: int | None
    rate_tenths: int | None


def owners_part(session: Session, *, appraisal: Appraisal) -> OwnersPart:
    """The year's published satisfaction survey and its overall rate (fixed once published)."""
    if appraisal.published_at is not None:
        return OwnersPart(appraisal.survey_id, appraisal.owners_rate_tenths)
    point = next((p for p in survey_service.satisfaction_series(session, compound_id=appraisal.compound_id)
                  if p.year == appraisal.year), None)
    return OwnersPart(point.survey_id if point else None, point.rate_tenths if point else None)


@dataclass(frozen=True)
class Computation:
    parts: dict[str, int | None]  # kind -> score in tenths (None: missing)
    counts: dict[str, int]  # kind -> appraisers
    score_tenths: int | None
    grade: str | None
    missing: list[str]  # what publication still needs, in words


def compute(session: Session, *, appraisal: Appraisal) -> Computation:
    scores = scores_of(session, appraisal=appraisal)
    parts: dict[str, int | None] = {}
    counts: dict[str, int] = {}
    for kind in ("party", "committee", "owner_rep"):
        means = [s.mean_tenths for s in scores if s.appraiser_kind == kind]
        counts[kind] = len(means)
        parts[kind] = rules.mean_of_tenths(means) if means else None
    owners = owners_part(session, appraisal=appraisal)
    parts["owners"] = owners.rate_tenths
    missing = [f"{rules.KIND_LABELS[k]}的评分" for k in ("party", "committee", "owner_rep") if parts[k] is None]
    if owners.rate_tenths is None:
        missing.append(f"{appraisal.year}年度已公布的物业服务满意度调查（不少于5份答卷）")
    accounts = {a.party for a in accounts_of(session, appraisal=appraisal)}
    missing += [f"{rules.PARTY_LABELS[p]}的述职报告" for p in ("committee", "company") if p not in accounts]
    if appraisal.published_at is not None:
        return Computation(parts, counts, appraisal.score_tenths, appraisal.grade, [])
    if any(v is None for v in parts.values()):
        return Computation(parts, counts, None, None, missing)
    total = rules.weighted_tenths({k: v for k, v in parts.items() if v is not None})
    return Computation(parts, counts, total, rules.grade_of(total), missing)


def publish(session: Session, *, compound_id: int, year: int, actor: Actor) -> Appraisal:
    """Fix the result (score, grade, the survey's rate) and publish it with the items to owners."""
    appraisal = get_appraisal(session, compound_id=compound_id, year=year)
    if appraisal.published_at is not None:
        raise AppraisalState("评议结果已经公布", code="appraisal_published")
    result = compute(session, appraisal=appraisal)
    if result.missing or result.score_tenths is None:
        raise AppraisalState("尚缺：" + "、".join(result.missing), code="appraisal_incomplete")
    owners = owners_part(session, appraisal=appraisal)
    appraisal.survey_id = owners.survey_id
    appraisal.owners_rate_tenths = owners.rate_tenths
    appraisal.score_tenths = result.score_tenths
    appraisal.grade = result.grade
    appraisal.published_at = now()
    appraisal.published_by = actor.user_id
    session.add(appraisal)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.published",
        object_type="appraisal", object_id=year,
        payload={"year": year, "score": rules.score_text(result.score_tenths), "grade": result.grade,
                 "satisfaction_rate": rules.score_text(owners.rate_tenths) + "%",
                 "rectification_count": len(items_of(session, appraisal=appraisal))})
    return appraisal


def get_item(session: Session, *, compound_id: int, item_id: int) -> RectificationItem:
    item = session.get(RectificationItem, item_id)
    if item is None or item.compound_id != compound_id:
        raise RectificationNotFound()
    return item


def appraisal_of_item(session: Session, *, item: RectificationItem) -> Appraisal:
    appraisal = session.get(Appraisal, item.appraisal_id)
    assert appraisal is not None
    return appraisal


def mark_done(session: Session, *, compound_id: int, item_id: int, actor: Actor, note: str,
              file_ids: Sequence[int]) -> RectificationItem:
    """The company reports an item done, with what it did and its evidence."""
    item = get_item(session, compound_id=compound_id, item_id=item_id)
    if appraisal_of_item(session, item=item).published_at is None:
        raise AppraisalState("评议结果公布后才能办理整改", code="appraisal_not_published")
    if item.done_at is not None:
        raise AppraisalState("该事项已报告完成", code="rectification_already_done")
    if not note.strip() or not file_ids:
        raise AppraisalInvalid("请说明整改情况并上传佐证材料", code="rectification_evidence_required")
    item.done_file_ids = _check_files(session, compound_id=compound_id, file_ids=file_ids)
    item.done_note = note.strip()
    item.done_at = now()
    item.done_by = actor.user_id
    session.add(item)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.rectification_done",
        object_type="rectification_item", object_id=item_id,
        payload={"text": item.text, "note": item.done_note, "file_ids": file_ids_of(item.done_file_ids),
                 "overdue": local_day(item.done_at) > item.due_on})
    return item


def confirm(session: Session, *, compound_id: int, item_id: int, actor: Actor) -> RectificationItem:
    """The committee confirms the item closed."""
    item = get_item(session, compound_id=compound_id, item_id=item_id)
    if item.done_at is None:
        raise AppraisalState("物业服务企业报告完成后才能确认", code="rectification_not_done")
    if item.confirmed_at is not None:
        raise AppraisalState("该事项已确认完成", code="rectification_already_confirmed")
    item.confirmed_at = now()
    item.confirmed_by = actor.user_id
    session.add(item)
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="appraisal.rectification_confirmed",
        object_type="rectification_item", object_id=item_id, payload={"text": item.text})
    return item
