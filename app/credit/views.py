"""The credit domain's answers, filled from its rows (response models in schemas.py).

No view carries a person: companies, scores, places, bases and figures only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import Session

from app.calendar import today
from app.credit import lists, prompts, rules, service
from app.credit.assessing import Assessment
from app.credit.models import (
    CreditAssessment,
    CreditFinding,
    CreditList,
    CreditListEntry,
    PropertyCompanyRecord,
)
from app.credit.schemas import (
    CompanyRecordOut,
    CompoundCreditOut,
    CompoundPlaceOut,
    CreditAssessmentOut,
    CreditBasisOut,
    CreditCriterionOut,
    CreditEntryOut,
    CreditListOut,
    CreditListSummaryOut,
    CreditOverviewOut,
    CreditPeriodOut,
    CreditPointOut,
    CreditPreviewOut,
    CreditSourceOut,
    DismissalCauseOut,
    DismissalDraftOut,
    DismissalPromptOut,
    FindingOut,
    PreviewCompanyOut,
    PreviewCompoundOut,
)
from app.procedures import agenda
from app.roster import service as roster_service
from app.timefmt import format_date, format_moment


def criteria_out(criteria: Sequence[Mapping[str, Any]] | None = None) -> list[CreditCriterionOut]:
    rows = criteria if criteria is not None else [c.as_dict() for c in rules.CRITERIA]
    return [CreditCriterionOut(**c) for c in rows]


def company_out(record: PropertyCompanyRecord) -> CompanyRecordOut:
    ends = format_date(record.contract_ends_on) if record.contract_ends_on else "未约定"
    return CompanyRecordOut(
        id=record.id or 0, name=record.name, credit_code=record.credit_code,
        contract_starts_on=record.contract_starts_on, contract_ends_on=record.contract_ends_on,
        contract_text=f"{format_date(record.contract_starts_on)}至{ends}", note=record.note,
        recorded_at=record.recorded_at, recorded_at_text=format_moment(record.recorded_at))


def basis_out(basis: Mapping[str, Any]) -> CreditBasisOut:
    return CreditBasisOut(
        period=basis["period"], company_name=basis["company"]["name"],
        credit_code=basis["company"]["credit_code"], total=rules.points_text(basis["total_tenths"]),
        points=[CreditPointOut(
            key=p["key"], name=p["name"], weight=p["weight"], value=p["value"],
            points=rules.points_text(p["points_tenths"]), rule=p["rule"], no_data=p["no_data"],
            sources=[CreditSourceOut(**s) for s in p["sources"]]) for p in basis["points"]])


def summary_out(session: Session, listing: CreditList, superseded: set[int] | None = None) -> CreditListSummaryOut:
    counts = lists.list_counts(session, listing=listing)
    gone = superseded if superseded is not None else lists.superseded_ids(session)
    return CreditListSummaryOut(
        id=listing.id or 0, district=listing.district, year=listing.year, quarter=listing.quarter,
        period_label=rules.quarter_label(lists.period_of(listing)), version=listing.version,
        published_at=listing.published_at, published_at_text=format_moment(listing.published_at),
        thresholds_text=rules.thresholds_text(lists.thresholds_of(listing)),
        company_count=counts["companies"], red_count=counts["red"], black_count=counts["black"],
        compound_count=len(lists.compound_ids_of(listing)), correction_reason=listing.correction_reason,
        superseded=(listing.id or 0) in gone)


def entry_out(entry: CreditListEntry) -> CreditEntryOut:
    return CreditEntryOut(rank=entry.rank, company_name=entry.company_name, credit_code=entry.credit_code,
                          score=rules.points_text(entry.score_tenths), place=entry.place,
                          place_label=rules.PLACE_LABELS[entry.place], compound_count=entry.compound_count)


def _place(session: Session, *, compound_id: int) -> CompoundPlaceOut | None:
    listing = lists.latest_list_for(session, compound_id=compound_id)
    if listing is None:
        return None
    assessment = lists.assessment_in(session, listing=listing, compound_id=compound_id)
    assert assessment is not None
    entries = lists.entries_of(session, listing=listing)
    entry = next(e for e in entries if e.credit_code == assessment.credit_code)
    return CompoundPlaceOut(listing=summary_out(session, listing), entry=entry_out(entry),
                            compound_score=rules.points_text(assessment.score_tenths),
                            basis=basis_out(json.loads(assessment.basis_json)),
                            entries=[entry_out(e) for e in entries])


def compound_credit(session: Session, *, compound_id: int) -> CompoundCreditOut:
    history = service.company_history(session, compound_id=compound_id)
    return CompoundCreditOut(
        compound_id=compound_id, company=company_out(history[0]) if history else None,
        history=[company_out(r) for r in history], latest=_place(session, compound_id=compound_id),
        criteria=criteria_out())


def finding_out(f: CreditFinding) -> FindingOut:
    return FindingOut(
        id=f.id or 0, found_on=f.found_on, found_on_text=format_date(f.found_on), text=f.text,
        company_name=f.company_name, credit_code=f.credit_code, recorded_at_text=format_moment(f.recorded_at),
        withdrawn=f.withdrawn_at is not None,
        withdrawn_at_text=format_moment(f.withdrawn_at) if f.withdrawn_at else None,
        withdraw_reason=f.withdraw_reason)


def _cause_out(cause: prompts.Cause) -> DismissalCauseOut:
    record = cause.record
    status = ("proposed" if record and record.agenda_item_id else "dismissed" if record and record.dismissed_at
              else "open")
    return DismissalCauseOut(
        rectification_item_id=cause.item.id or 0, text=cause.item.text, appraisal_year=cause.appraisal_year,
        due_on=cause.item.due_on, due_on_text=format_date(cause.item.due_on),
        done_reported=cause.item.done_at is not None, status=status, recorded=record is not None,
        dismiss_reason=record.dismiss_reason if record else "")


def prompt_out(session: Session, s: prompts.PromptState) -> DismissalPromptOut:
    show = bool(s.open_causes)
    title, text = prompts.proposal_text(s) if show else ("", "")
    draft = None
    if s.draft is not None:
        step = agenda.current_step(s.draft)
        draft = DismissalDraftOut(id=s.draft.id or 0, title=s.draft.title, status=s.draft.status,
                                  current_step_name=step["name"] if step else None)
    return DismissalPromptOut(
        show=show, company_name=s.company.name if s.company and s.listing else None,
        credit_code=s.company.credit_code if s.company and s.listing else None,
        listing=summary_out(session, s.listing) if s.listing else None,
        company_score=rules.points_text(s.entry.score_tenths) if s.entry else None,
        rank=s.entry.rank if s.entry else None, company_count=s.company_count,
        causes=[_cause_out(c) for c in s.causes], unrecorded=sum(1 for c in s.open_causes if c.record is None),
        draft=draft, procedure_adopted=s.procedure_adopted, proposal_title=title, proposal_text=text)


# --- the supervisor's screens ---------------------------------------------------------------------------


def overview(session: Session, *, districts: list[str], readable: Sequence[CreditList]) -> CreditOverviewOut:
    superseded = lists.superseded_ids(session)
    return CreditOverviewOut(
        districts=districts,
        periods=[CreditPeriodOut(year=q.year, quarter=q.quarter, label=rules.quarter_label(q))
                 for q in rules.ended_quarters(today(), lists.PERIODS_OFFERED)],
        lists=[summary_out(session, r, superseded) for r in readable], criteria=criteria_out())


def _preview_compound(a: Assessment, computed: lists.Computed) -> PreviewCompoundOut:
    return PreviewCompoundOut(
        compound_id=a.compound.id or 0, compound_name=a.compound.name, street=a.compound.street,
        community=a.compound.community, company_name=a.company.name if a.company else None,
        credit_code=a.company.credit_code if a.company else None,
        score=rules.points_text(a.score.total_tenths) if a.score else None,
        basis=basis_out(a.basis(computed.period)) if a.score else None)


def preview_out(session: Session, computed: lists.Computed,
                thresholds: rules.Thresholds | None) -> CreditPreviewOut:
    ids = sorted(a.compound.id or 0 for a in computed.assessments if a.score is not None)
    previous = lists.latest_of_scope(session, district=computed.district, period=computed.period,
                                     key=lists.scope_key(ids)) if ids else None
    return CreditPreviewOut(
        district=computed.district, year=computed.period.year, quarter=computed.period.quarter,
        period_label=rules.quarter_label(computed.period), digest=computed.digest,
        thresholds_text=rules.thresholds_text(thresholds) if thresholds else None,
        companies=[PreviewCompanyOut(
            credit_code=c.credit_code, company_name=c.company_name, compound_ids=list(c.compound_ids),
            score=rules.points_text(c.score_tenths), rank=c.rank, place=c.place,
            place_label=rules.PLACE_LABELS[c.place] if thresholds else "") for c in computed.companies],
        compounds=[_preview_compound(a, computed) for a in computed.assessments],
        previous=summary_out(session, previous) if previous else None, criteria=criteria_out())


def _assessment_out(a: CreditAssessment, compounds: Mapping[int, Any]) -> CreditAssessmentOut:
    c = compounds[a.compound_id]
    return CreditAssessmentOut(
        compound_id=a.compound_id, compound_name=c.name, street=c.street, community=c.community,
        company_name=a.company_name, credit_code=a.credit_code, score=rules.points_text(a.score_tenths),
        basis=basis_out(json.loads(a.basis_json)))


def list_out(session: Session, listing: CreditList) -> CreditListOut:
    assessments = lists.assessments_of(session, listing=listing)
    compounds = {c.id: c for c in roster_service.list_compounds(
        session, ids=[a.compound_id for a in assessments])}
    newer = lists.superseding(session, listing=listing)
    return CreditListOut(
        summary=summary_out(session, listing), superseded_by=newer.id if newer else None,
        criteria=criteria_out(json.loads(listing.criteria_json)),
        entries=[entry_out(e) for e in lists.entries_of(session, listing=listing)],
        assessments=[_assessment_out(a, compounds) for a in assessments])
