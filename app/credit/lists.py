"""The red and black list (红黑榜) of a district for a quarter: computed over the district's
compounds that the publisher supervises, looked at (every company's basis), then published and
frozen: the list, each company's line, each compound's assessment with its basis, and an audit
event in the trail of every compound it names. Publishing again for the same compounds and
quarter is a correction: the next version, with its reason; the earlier version stays.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.appraisals.rules import Quarter
from app.audit import service as audit_service
from app.audit.canonical import canonical_json
from app.audit.service import Actor
from app.calendar import today
from app.credit import rules
from app.credit.assessing import Assessment, assess
from app.credit.exceptions import CreditInvalid, CreditListNotFound, CreditState
from app.credit.models import CreditAssessment, CreditList, CreditListEntry
from app.roster import service as roster_service

# How many ended quarters a supervisor may compute or publish a list for.
PERIODS_OFFERED = 8


def check_period(period: Quarter) -> None:
    if period.last_day >= today():
        raise CreditInvalid("该季度尚未结束，季度结束后才能计算和发布红黑榜", code="credit_period_not_ended")
    if period not in rules.ended_quarters(today(), PERIODS_OFFERED):
        raise CreditInvalid(f"只能计算最近{PERIODS_OFFERED}个已结束季度的红黑榜", code="credit_period_too_old")


def districts_of(session: Session, *, compound_ids: Sequence[int]) -> list[str]:
    return sorted({c.district for c in roster_service.list_compounds(session, ids=list(compound_ids))})


def district_compound_ids(session: Session, *, district: str, compound_ids: Sequence[int]) -> list[int]:
    """The compounds of `district` among those given (the caller's supervised compounds)."""
    return [c.id for c in roster_service.list_compounds(session, ids=list(compound_ids))
            if c.district == district and c.id is not None]


def scope_key(compound_ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in sorted(compound_ids)).encode()).hexdigest()


@dataclass(frozen=True)
class CompanyLine:
    credit_code: str
    company_name: str
    compound_ids: tuple[int, ...]
    score_tenths: int
    rank: int
    place: str


@dataclass(frozen=True)
class Computed:
    district: str
    period: Quarter
    assessments: list[Assessment]  # every compound of the scope, with or without a company
    companies: list[CompanyLine]  # ranked; places empty without thresholds
    digest: str


def _digest(district: str, period: Quarter, assessments: Sequence[Assessment]) -> str:
    body = {"district": district, "period": rules.quarter_label(period),
            "assessments": [{"compound_id": a.compound.id, "basis": a.basis(period)}
                            for a in assessments if a.score is not None]}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def _companies(assessments: Sequence[Assessment], thresholds: rules.Thresholds | None) -> list[CompanyLine]:
    grouped: dict[str, list[Assessment]] = {}
    for a in assessments:
        if a.company is not None and a.score is not None:
            grouped.setdefault(a.company.credit_code, []).append(a)
    scores = {code: rules.company_score([a.score.total_tenths for a in group if a.score])
              for code, group in grouped.items()}
    ranked = rules.rank(scores, thresholds or rules.Thresholds("score", 101, 0))
    lines = []
    for r in ranked:
        group = grouped[r.key]
        # The name as most recently recorded by any of its compounds.
        name = max((a.company for a in group if a.company), key=lambda c: c.id or 0).name
        lines.append(CompanyLine(r.key, name, tuple(sorted(a.compound.id or 0 for a in group)),
                                 r.score_tenths, r.rank, r.place if thresholds else ""))
    return lines


def compute(session: Session, *, district: str, period: Quarter, compound_ids: Sequence[int],
            thresholds: rules.Thresholds | None = None) -> Computed:
    """Score every compound of the district among `compound_ids` and rank the companies."""
    check_period(period)
    if thresholds is not None:
        problem = rules.thresholds_problem(thresholds)
        if problem:
            raise CreditInvalid(problem, code="credit_thresholds_invalid")
    ids = district_compound_ids(session, district=district, compound_ids=compound_ids)
    assessments = [assess(session, compound_id=cid, period=period) for cid in ids]
    return Computed(district, period, assessments, _companies(assessments, thresholds),
                    _digest(district, period, assessments))


def latest_of_scope(session: Session, *, district: str, period: Quarter, key: str) -> CreditList | None:
    return session.execute(select(CreditList).where(
        CreditList.district == district, CreditList.year == period.year, CreditList.quarter == period.quarter,
        CreditList.scope_key == key).order_by(CreditList.version.desc()).limit(1)).scalar_one_or_none()


def publish(session: Session, *, district: str, period: Quarter, compound_ids: Sequence[int],
            thresholds: rules.Thresholds, digest: str, correction_reason: str, actor: Actor) -> CreditList:
    """Freeze and publish the list the publisher looked at (its digest must still match)."""
    computed = compute(session, district=district, period=period, compound_ids=compound_ids,
                       thresholds=thresholds)
    if computed.digest != digest:
        raise CreditState("计算依据在您查看之后发生了变化，请重新计算、核对后再发布", code="credit_inputs_changed")
    scored = [a for a in computed.assessments if a.company is not None and a.score is not None]
    if not scored:
        raise CreditState("所选小区都还没有登记物业服务企业，没有可排名的企业", code="credit_nothing_to_rank")
    ids = sorted(a.compound.id or 0 for a in scored)
    key = scope_key(ids)
    previous = latest_of_scope(session, district=district, period=period, key=key)
    reason = correction_reason.strip()
    if previous is not None and not reason:
        raise CreditInvalid(f"{district}{rules.quarter_label(period)}的红黑榜已经发布（第{previous.version}版），"
                            "再次发布为更正，请写明更正原因", code="credit_correction_reason_required")
    listing = CreditList(
        district=district, year=period.year, quarter=period.quarter,
        version=(previous.version + 1) if previous else 1, scope_key=key, compound_ids=json.dumps(ids),
        threshold_mode=thresholds.mode, red_line=thresholds.red, black_line=thresholds.black,
        criteria_version=rules.CRITERIA_VERSION,
        criteria_json=json.dumps([c.as_dict() for c in rules.CRITERIA], ensure_ascii=False),
        inputs_digest=digest, supersedes_id=previous.id if previous else None, correction_reason=reason,
        published_by=actor.user_id)
    try:
        with session.begin_nested():  # two publishers at once: the unique version decides
            session.add(listing)
    except IntegrityError as exc:
        raise CreditState("这张红黑榜刚刚已由他人发布，请重新计算、核对后再发布",
                          code="credit_published_meanwhile") from exc
    lines = {line.credit_code: line for line in computed.companies}
    for line in computed.companies:
        session.add(CreditListEntry(
            list_id=listing.id or 0, credit_code=line.credit_code, company_name=line.company_name,
            score_tenths=line.score_tenths, rank=line.rank, place=line.place,
            compound_count=len(line.compound_ids)))
    for a in scored:
        assert a.company is not None and a.score is not None
        session.add(CreditAssessment(
            compound_id=a.compound.id or 0, list_id=listing.id or 0, company_record_id=a.company.id or 0,
            company_name=a.company.name, credit_code=a.company.credit_code, score_tenths=a.score.total_tenths,
            basis_json=json.dumps(a.basis(period), ensure_ascii=False)))
    session.flush()
    text = rules.thresholds_text(thresholds)
    for a in scored:
        assert a.company is not None and a.score is not None
        line = lines[a.company.credit_code]
        audit_service.append_event(
            session, compound_id=a.compound.id or 0, actor=actor, action="credit.list_published",
            object_type="credit_list", object_id=listing.id or 0,
            payload={"district": district, "period": rules.quarter_label(period), "version": listing.version,
                     "company_name": a.company.name, "credit_code": a.company.credit_code,
                     "compound_score": rules.points_text(a.score.total_tenths),
                     "company_score": rules.points_text(line.score_tenths), "rank": line.rank,
                     "company_count": len(lines), "place": rules.PLACE_LABELS[line.place],
                     "thresholds_text": text, "reason": reason})
    return listing


# --- reading published lists -------------------------------------------------------------------------


def get_list(session: Session, *, list_id: int) -> CreditList:
    listing = session.get(CreditList, list_id)
    if listing is None:
        raise CreditListNotFound()
    return listing


def compound_ids_of(listing: CreditList) -> list[int]:
    return [int(i) for i in json.loads(listing.compound_ids)]


def entries_of(session: Session, *, listing: CreditList) -> list[CreditListEntry]:
    return list(session.execute(select(CreditListEntry).where(CreditListEntry.list_id == listing.id)
                                .order_by(CreditListEntry.rank, CreditListEntry.credit_code)).scalars())


def assessments_of(session: Session, *, listing: CreditList) -> list[CreditAssessment]:
    return list(session.execute(select(CreditAssessment).where(CreditAssessment.list_id == listing.id)
                                .order_by(CreditAssessment.compound_id)).scalars())


def assessment_in(session: Session, *, listing: CreditList, compound_id: int) -> CreditAssessment | None:
    return session.execute(select(CreditAssessment).where(
        CreditAssessment.list_id == listing.id, CreditAssessment.compound_id == compound_id)).scalar_one_or_none()


def superseded_ids(session: Session) -> set[int]:
    return {i for i in session.execute(select(CreditList.supersedes_id).where(
        CreditList.supersedes_id.is_not(None))).scalars() if i is not None}


def readable_lists(session: Session, *, compound_ids: Sequence[int] | None) -> list[CreditList]:
    """Published lists, newest first, naming only compounds in `compound_ids` (None: every list)."""
    rows = list(session.execute(select(CreditList).order_by(CreditList.published_at.desc(),
                                                            CreditList.id.desc())).scalars())
    if compound_ids is None:
        return rows
    allowed = set(compound_ids)
    return [r for r in rows if set(compound_ids_of(r)) <= allowed]


def latest_list_for(session: Session, *, compound_id: int) -> CreditList | None:
    """The latest list that assessed the compound: of the latest quarter, its latest publication
    (a correction of an earlier quarter does not displace a later quarter's list)."""
    return session.execute(
        select(CreditList).join(CreditAssessment, CreditAssessment.list_id == CreditList.id)
        .where(CreditAssessment.compound_id == compound_id)
        .order_by(CreditList.year.desc(), CreditList.quarter.desc(), CreditList.published_at.desc(),
                  CreditList.id.desc()).limit(1)).scalar_one_or_none()


def list_counts(session: Session, *, listing: CreditList) -> dict[str, int]:
    rows = session.execute(select(CreditListEntry.place, func.count()).where(
        CreditListEntry.list_id == listing.id).group_by(CreditListEntry.place)).all()
    counts = {place: n for place, n in rows}
    return {"companies": sum(counts.values()), "red": counts.get("red", 0), "black": counts.get("black", 0)}


def thresholds_of(listing: CreditList) -> rules.Thresholds:
    mode: rules.Mode = "rank" if listing.threshold_mode == "rank" else "score"
    return rules.Thresholds(mode, listing.red_line, listing.black_line)


def period_of(listing: CreditList) -> Quarter:
    return Quarter(listing.year, listing.quarter)


def superseding(session: Session, *, listing: CreditList) -> CreditList | None:
    """The correction that replaced this list, if any."""
    return session.execute(select(CreditList).where(CreditList.supersedes_id == listing.id)
                           .limit(1)).scalar_one_or_none()
