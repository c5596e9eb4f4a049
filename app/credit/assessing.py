"""One compound's quarter: its inputs read from the domains that own them, scored by the pure
rules (app/credit/rules.py). Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from app.appraisals import service as appraisal_service
from app.appraisals.rules import Quarter
from app.calendar import end_of_day, local_day, start_of_day
from app.credit import rules, service
from app.credit.models import PropertyCompanyRecord
from app.ledger import service as ledger_service
from app.roster import service as roster_service
from app.roster.models import Compound
from app.surveys import service as survey_service
from app.workorders import service as workorder_service


def deadline_day(at: datetime) -> date:
    """The day a deadline belongs to: one at 24:00 (the next day's 00:00) is its day's end."""
    return local_day(at - timedelta(microseconds=1))


def inputs_of(session: Session, *, compound_id: int, period: Quarter,
              company: PropertyCompanyRecord) -> rules.Inputs:
    """What the domains recorded for the compound, as explicit inputs to `rules.score`."""
    surveys = tuple(rules.SurveyFact(p.survey_id, p.year, p.responses, p.rate_tenths)
                    for p in survey_service.satisfaction_series(session, compound_id=compound_id))
    appraisals = tuple(
        rules.AppraisalFact(a.id or 0, a.year, a.score_tenths, a.grade or "")
        for a in appraisal_service.list_appraisals(session, compound_id=compound_id)
        if a.published_at is not None and a.score_tenths is not None)
    rounds = tuple(
        rules.RoundFact(r.work_order_id, deadline_day(r.due_at), r.on_time)
        for r in workorder_service.handling_rounds(
            session, compound_id=compound_id, due_from=start_of_day(period.first_day) + timedelta(microseconds=1),
            due_before=end_of_day(period.last_day) + timedelta(microseconds=1)))
    ratings = tuple(
        rules.RatingFact(r.work_order_id, local_day(r.rated_at), r.rating)
        for r in workorder_service.ratings_given(
            session, compound_id=compound_id, rated_from=start_of_day(period.first_day),
            rated_before=start_of_day(period.last_day + timedelta(days=1))))
    setting = ledger_service.get_settings(session, compound_id=compound_id)
    missing = ledger_service.missing_statements(session, compound_id=compound_id, setting=setting)
    ledger = rules.LedgerFact(started=setting.starts_on is not None,
                              overdue=tuple((m.quarter.due, m.quarter.label) for m in missing if m.overdue))
    findings = tuple(rules.FindingFact(f.id or 0, f.found_on, f.text)
                     for f in service.active_findings(session, compound_id=compound_id,
                                                      credit_code=company.credit_code))
    return rules.Inputs(serving_since=company.contract_starts_on, surveys=surveys, appraisals=appraisals,
                        rounds=rounds, ratings=ratings, ledger=ledger, findings=findings)


@dataclass(frozen=True)
class Assessment:
    """A compound's quarter: the company serving it and its score (None without a company)."""

    compound: Compound
    company: PropertyCompanyRecord | None
    score: rules.Score | None

    def basis(self, period: Quarter) -> dict[str, Any]:
        """What is frozen with a published list: the period, the company and every point."""
        assert self.company is not None and self.score is not None
        return {"period": rules.quarter_label(period), "criteria_version": rules.CRITERIA_VERSION,
                "company": {"name": self.company.name, "credit_code": self.company.credit_code,
                            "record_id": self.company.id},
                **self.score.as_dict()}


def assess(session: Session, *, compound_id: int, period: Quarter) -> Assessment:
    compound = roster_service.get_compound(session, compound_id=compound_id)
    company = service.current_company(session, compound_id=compound_id)
    if company is None:
        return Assessment(compound, None, None)
    inputs = inputs_of(session, compound_id=compound_id, period=period, company=company)
    return Assessment(compound, company, rules.score(period, inputs))
