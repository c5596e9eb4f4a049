"""Response shapes of surveys, filled from the service's records and the pure results."""

from __future__ import annotations

from sqlmodel import Session

from app.clock import now
from app.surveys import rules, service
from app.surveys.models import Survey, SurveyQuestion
from app.surveys.schemas import (
    SurveyItemResultOut,
    SurveyOptionOut,
    SurveyOut,
    SurveyQuestionOut,
    SurveyResultsOut,
    SurveySeriesPointOut,
    SurveyShareOut,
    SurveyTemplateOut,
    SurveyTemplateQuestionOut,
)
from app.timefmt import format_moment, format_period

STATUS_LABELS = {"draft": "未开启", "scheduled": "待开始", "open": "作答中", "ended": "已到期待结束",
                 "closed": "已结束", "published": "已公布结果"}


def _question(q: SurveyQuestion) -> SurveyQuestionOut:
    return SurveyQuestionOut(
        id=q.id or 0, position=q.position, text=q.text, hint=q.hint, scale=q.scale,
        scale_label=rules.SCALE_LABELS[q.scale],
        options=[SurveyOptionOut(value=v, label=label) for v, label in rules.SCALES[q.scale]])


def survey_view(session: Session, *, survey: Survey) -> SurveyOut:
    status = service.status_of(survey, at=now())
    return SurveyOut(
        id=survey.id or 0, title=survey.title, intro=survey.intro, year=survey.year,
        template_key=survey.template_key, status=status, status_label=STATUS_LABELS[status],
        opens_at=survey.opens_at, closes_at=survey.closes_at,
        period_text=format_period(survey.opens_at, survey.closes_at),
        opened_at=survey.opened_at, closed_at=survey.closed_at, published_at=survey.published_at,
        published_text=format_moment(survey.published_at) if survey.published_at else None,
        allow_comments=survey.allow_comments,
        response_count=service.response_count(session, survey=survey),
        questions=[_question(q) for q in service.questions_of(session, survey=survey)],
    )


def templates_view() -> list[SurveyTemplateOut]:
    return [SurveyTemplateOut(
        key=t.key, title=t.title, intro=t.intro, clause=t.clause,
        questions=[SurveyTemplateQuestionOut(text=q.text, hint=q.hint, scale=q.scale)
                   for q in t.questions]) for t in rules.TEMPLATES.values()]


def results_view(session: Session, *, survey: Survey) -> SurveyResultsOut:
    result = service.results(session, survey=survey)
    standard = rules.STANDARD_PERCENT * 10
    items = [SurveyItemResultOut(
        question_id=i.question_id, text=i.text, scale=i.scale, answers=i.answers,
        published=i.published,
        shares=[SurveyShareOut(value=s.value, label=s.label, count=s.count,
                         percent_tenths=s.percent_tenths) for s in i.shares],
        satisfied=i.satisfied, rate_tenths=i.rate_tenths,
        rate_text=(rules.percent_text(i.rate_tenths) if i.published and i.rate_tenths is not None
                   else ("" if i.published else rules.SUPPRESSED_TEXT)),
        average_tenths=i.average_tenths,
        meets_standard=None if i.rate_tenths is None else i.rate_tenths >= standard,
    ) for i in result.items]
    series = [SurveySeriesPointOut(survey_id=p.survey_id, year=p.year, responses=p.responses,
                             rate_tenths=p.rate_tenths, rate_text=rules.percent_text(p.rate_tenths))
              for p in service.satisfaction_series(session, compound_id=survey.compound_id)]
    return SurveyResultsOut(
        survey=survey_view(session, survey=survey), responses=result.responses,
        published=result.published, min_published=rules.MIN_PUBLISHED,
        suppressed_text=rules.SUPPRESSED_TEXT, definition=rules.RATE_DEFINITION,
        standard_percent=rules.STANDARD_PERCENT, rate_tenths=result.rate_tenths,
        rate_text=(rules.SUPPRESSED_TEXT if not result.published else
                   rules.percent_text(result.rate_tenths) if result.rate_tenths is not None else ""),
        meets_standard=result.meets_standard, items=items,
        comments=service.published_comments(session, survey=survey) if result.published else [],
        series=series,
    )
