"""Surveys: creating (from a template), opening, closing, publishing, answering, results.

Answers are anonymous by construction: `SurveyParticipation` records that a voting subject
answered (one per subject), `SurveyResponse` what was answered, and the two are tied only by
`subject_digest` = HMAC(secret key, "survey-answer:{survey}:{subject}"), which only the server
can recompute (to find and supersede a subject's own answer). Responses carry no time, no user,
no subject id and a random id, so neither a screen nor the insertion order ties a choice to a flat.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from app.audit import service as audit_service
from app.audit.service import Actor
from app.clock import now
from app.config import get_settings
from app.db import is_postgres
from app.errors import Forbidden
from app.roster import service as roster_service
from app.surveys import rules
from app.surveys.exceptions import SurveyInvalid, SurveyNotFound, SurveyState
from app.surveys.models import (
    Survey,
    SurveyAnswer,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
)

# Who answered is not written into the audit trail: an answer is recorded as "an owner".
ANONYMOUS_OWNER = Actor(user_id=None, role="owner")


def status_of(survey: Survey, *, at: datetime | None = None) -> str:
    """draft → scheduled/open → closed → published (scheduled: opened, its period not begun)."""
    if survey.published_at is not None:
        return "published"
    if survey.closed_at is not None:
        return "closed"
    if survey.opened_at is None:
        return "draft"
    moment = at or now()
    if moment < survey.opens_at:
        return "scheduled"
    if moment >= survey.closes_at:
        return "ended"  # the period is over; the committee has not closed it yet
    return "open"


def accepts_answers(survey: Survey, *, at: datetime) -> bool:
    return status_of(survey, at=at) == "open"


# --- creating and the lifecycle -------------------------------------------------------------------


def create_survey(
    session: Session, *, compound_id: int, actor: Actor, year: int, opens_at: datetime,
    closes_at: datetime, template_key: str | None = None, title: str | None = None,
    intro: str | None = None, questions: list[rules.QuestionSpec] | None = None,
    allow_comments: bool = True,
) -> Survey:
    """A survey from a template (its items, title and intro) or from the questions given."""
    roster_service.get_compound(session, compound_id=compound_id)
    if closes_at <= opens_at:
        raise SurveyInvalid("结束时间须晚于开始时间", code="survey_period_invalid")
    template = None
    if template_key is not None:
        template = rules.TEMPLATES.get(template_key)
        if template is None:
            raise SurveyInvalid("没有这个问卷模板", code="survey_template_unknown")
        questions = list(template.questions)
    if not questions:
        raise SurveyInvalid("问卷至少须有一个评价项", code="survey_questions_missing")
    survey = Survey(
        compound_id=compound_id, year=year, opens_at=opens_at, closes_at=closes_at,
        template_key=template_key, allow_comments=allow_comments, created_by=actor.user_id,
        title=title or (template.title.format(year=year) if template else ""),
        intro=intro if intro is not None else (template.intro if template else ""),
    )
    if not survey.title:
        raise SurveyInvalid("请填写问卷标题", code="survey_title_missing")
    session.add(survey)
    session.flush()
    for position, q in enumerate(questions, start=1):
        session.add(SurveyQuestion(compound_id=compound_id, survey_id=survey.id or 0,
                                   position=position, text=q.text, hint=q.hint, scale=q.scale))
    session.flush()
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="survey.created",
        object_type="survey", object_id=survey.id or 0,
        payload={"title": survey.title, "year": year, "survey_template": template_key or "",
                 "question_count": len(questions), "opens_at": opens_at.isoformat(),
                 "closes_at": closes_at.isoformat()})
    return survey


def get_survey(session: Session, *, compound_id: int, survey_id: int, lock: bool = False) -> Survey:
    stmt = select(Survey).where(Survey.compound_id == compound_id, Survey.id == survey_id)
    if lock:
        stmt = stmt.with_for_update()
    survey = session.execute(stmt).scalar_one_or_none()
    if survey is None:
        raise SurveyNotFound()
    return survey


def list_surveys(session: Session, *, compound_id: int) -> list[Survey]:
    return list(session.execute(
        select(Survey).where(Survey.compound_id == compound_id)
        .order_by(Survey.year.desc(), Survey.id.desc())
    ).scalars())


def questions_of(session: Session, *, survey: Survey) -> list[SurveyQuestion]:
    return list(session.execute(
        select(SurveyQuestion).where(SurveyQuestion.compound_id == survey.compound_id,
                                     SurveyQuestion.survey_id == survey.id)
        .order_by(SurveyQuestion.position)
    ).scalars())


def response_count(session: Session, *, survey: Survey) -> int:
    """How many subjects have answered (a count: nothing of who or what)."""
    return session.execute(
        select(func.count()).select_from(SurveyParticipation).where(
            SurveyParticipation.compound_id == survey.compound_id,
            SurveyParticipation.survey_id == survey.id)
    ).scalar_one()


def open_survey(session: Session, *, compound_id: int, survey_id: int, actor: Actor) -> Survey:
    survey = get_survey(session, compound_id=compound_id, survey_id=survey_id, lock=True)
    if survey.opened_at is not None:
        raise SurveyState("问卷已经开启过", code="survey_already_opened")
    at = now()
    if at >= survey.closes_at:
        raise SurveyState("问卷的结束时间已过，无法开启", code="survey_period_over")
    survey.opened_at = at
    session.add(survey)
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="survey.opened",
        object_type="survey", object_id=survey_id,
        payload={"title": survey.title, "opens_at": survey.opens_at.isoformat(),
                 "closes_at": survey.closes_at.isoformat()})
    return survey


def close_survey(session: Session, *, compound_id: int, survey_id: int, actor: Actor) -> Survey:
    """End answering (at or before the planned end); the count is recorded with the close."""
    survey = get_survey(session, compound_id=compound_id, survey_id=survey_id, lock=True)
    if survey.opened_at is None:
        raise SurveyState("问卷尚未开启", code="survey_not_opened")
    if survey.closed_at is not None:
        raise SurveyState("问卷已经结束", code="survey_already_closed")
    survey.closed_at = now()
    session.add(survey)
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="survey.closed",
        object_type="survey", object_id=survey_id,
        payload={"title": survey.title, "response_count": response_count(session, survey=survey),
                 "early": survey.closed_at < survey.closes_at})
    return survey


def publish_survey(session: Session, *, compound_id: int, survey_id: int, actor: Actor) -> Survey:
    """Publish the results (aggregates only; under the floor, the notice that nothing is shown)."""
    survey = get_survey(session, compound_id=compound_id, survey_id=survey_id, lock=True)
    if survey.closed_at is None:
        raise SurveyState("问卷结束后才能公布结果", code="survey_not_closed")
    if survey.published_at is not None:
        raise SurveyState("结果已经公布", code="survey_already_published")
    survey.published_at = now()
    session.add(survey)
    result = results(session, survey=survey)
    audit_service.append_event(
        session, compound_id=compound_id, actor=actor, action="survey.published",
        object_type="survey", object_id=survey_id,
        payload={"title": survey.title, "response_count": result.responses,
                 "satisfaction_rate": rules.percent_text(result.rate_tenths)})
    return survey


# --- answering ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnsweringSubject:
    subject_id: int
    label: str


def answering_subjects(session: Session, *, compound_id: int, phone: str | None) -> list[AnsweringSubject]:
    """The subjects this phone answers for: like a ballot, the sole owner or the co-owners'
    representative (app/roster: subject_voter_list's is_representative); never the developer."""
    if not phone:
        return []
    ids = roster_service.owner_subject_ids(session, compound_id=compound_id, phone=phone)
    if not ids:
        return []
    summaries = roster_service.subject_summaries(session, compound_id=compound_id, subject_ids=ids)
    voters = roster_service.subject_voter_list(session, compound_id=compound_id,
                                               subjects=summaries.values())
    mine = {v.subject_id for v in voters if v.phone == phone and v.is_representative}
    return [AnsweringSubject(sid, summaries[sid].label) for sid in sorted(mine)]


def subject_digest(*, survey_id: int, subject_id: int) -> str:
    """The only tie between a subject and its answers: recomputable with the server's key alone."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"survey-answer:{survey_id}:{subject_id}".encode(), hashlib.sha256).hexdigest()


def _current_response(session: Session, *, survey: Survey, digest: str) -> SurveyResponse | None:
    return session.execute(select(SurveyResponse).where(
        SurveyResponse.compound_id == survey.compound_id, SurveyResponse.survey_id == survey.id,
        SurveyResponse.subject_digest == digest, SurveyResponse.superseded.is_(False))
    ).scalar_one_or_none()


def _claim_participation(session: Session, *, survey: Survey, subject_id: int) -> SurveyParticipation:
    """The subject's participation row, created if missing, locked (PostgreSQL) for this answer."""
    dialect_insert = pg_insert if is_postgres(session) else sqlite_insert
    session.execute(
        dialect_insert(SurveyParticipation.__table__)
        .values(compound_id=survey.compound_id, survey_id=survey.id, subject_id=subject_id,
                revisions=-1)
        .on_conflict_do_nothing(index_elements=["survey_id", "subject_id"]))
    return session.execute(
        select(SurveyParticipation).where(
            SurveyParticipation.compound_id == survey.compound_id,
            SurveyParticipation.survey_id == survey.id,
            SurveyParticipation.subject_id == subject_id)
        .with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def submit_answer(
    session: Session, *, compound_id: int, survey_id: int, phone: str | None, subject_id: int,
    answers: Mapping[int, int], comment: str,
) -> tuple[Survey, bool]:
    """Record a subject's answers, replacing its earlier ones. Returns (survey, revised)."""
    survey = get_survey(session, compound_id=compound_id, survey_id=survey_id)
    if not accepts_answers(survey, at=now()):
        raise SurveyState("问卷不在作答期内", code="survey_not_open")
    if subject_id not in {s.subject_id for s in answering_subjects(
            session, compound_id=compound_id, phone=phone)}:
        raise Forbidden("您不能为该房屋作答", code="not_a_voter_for_subject")
    questions = questions_of(session, survey=survey)
    problems = rules.validate_answers([(q.id or 0, q.scale) for q in questions], answers)
    if problems:
        raise SurveyInvalid("；".join(problems), code="survey_answers_invalid")
    comment = comment.strip()
    if comment and not survey.allow_comments:
        raise SurveyInvalid("本问卷不收集意见建议", code="survey_comments_closed")
    participation = _claim_participation(session, survey=survey, subject_id=subject_id)
    # A fresh row was inserted with revisions = -1: the first answer brings it to 0.
    revised = participation.revisions >= 0
    participation.revisions += 1
    session.add(participation)
    digest = subject_digest(survey_id=survey_id, subject_id=subject_id)
    session.execute(update(SurveyResponse).where(
        SurveyResponse.compound_id == compound_id, SurveyResponse.survey_id == survey_id,
        SurveyResponse.subject_digest == digest, SurveyResponse.superseded.is_(False),
    ).values(superseded=True))
    response = SurveyResponse(id=secrets.token_hex(16), compound_id=compound_id,
                              survey_id=survey_id, subject_digest=digest, comment=comment)
    session.add(response)
    session.flush()
    for q in questions:
        session.add(SurveyAnswer(response_id=response.id, question_id=q.id or 0,
                                 compound_id=compound_id, value=answers[q.id or 0]))
    session.flush()
    # Neither the subject, the user nor the answers go into the trail: only that one came in.
    audit_service.append_event(
        session, compound_id=compound_id, actor=ANONYMOUS_OWNER, action="survey.answer_recorded",
        object_type="survey", object_id=survey_id,
        payload={"response_count": response_count(session, survey=survey)})
    return survey, revised


@dataclass(frozen=True)
class OwnAnswer:
    subject_id: int
    label: str
    answered: bool
    answers: dict[int, int]
    comment: str


def own_answers(session: Session, *, survey: Survey, phone: str | None) -> list[OwnAnswer]:
    """The caller's subjects and, for each, the answers it gave (to see and change them)."""
    out = []
    for subject in answering_subjects(session, compound_id=survey.compound_id, phone=phone):
        response = _current_response(session, survey=survey, digest=subject_digest(
            survey_id=survey.id or 0, subject_id=subject.subject_id))
        answers: dict[int, int] = {}
        if response is not None:
            answers = {qid: value for qid, value in session.execute(
                select(SurveyAnswer.question_id, SurveyAnswer.value).where(
                    SurveyAnswer.compound_id == survey.compound_id,
                    SurveyAnswer.response_id == response.id))}
        out.append(OwnAnswer(subject.subject_id, subject.label, response is not None, answers,
                             response.comment if response else ""))
    return out


# --- results --------------------------------------------------------------------------------------


def results(session: Session, *, survey: Survey) -> rules.SurveyResult:
    """Aggregates of the effective (not superseded) responses, under the 5-answer floor."""
    questions = questions_of(session, survey=survey)
    effective = (SurveyResponse.compound_id == survey.compound_id) & (
        SurveyResponse.survey_id == survey.id) & SurveyResponse.superseded.is_(False)
    responses = session.execute(select(func.count()).select_from(SurveyResponse).where(effective)
                                ).scalar_one()
    pairs = [(qid, value) for qid, value in session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.value)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(effective, SurveyAnswer.compound_id == survey.compound_id))]
    return rules.tally([(q.id or 0, q.text, q.scale) for q in questions], pairs, responses)


def published_comments(session: Session, *, survey: Survey) -> list[str]:
    """The comments of the effective responses, as a bare list (ordered by the random response
    id: neither by time nor by flat), and only when the survey has enough answers."""
    rows = list(session.execute(
        select(SurveyResponse.comment).where(
            SurveyResponse.compound_id == survey.compound_id, SurveyResponse.survey_id == survey.id,
            SurveyResponse.superseded.is_(False))
        .order_by(SurveyResponse.id)
    ).scalars())
    if len(rows) < rules.MIN_PUBLISHED:
        return []
    return [c for c in rows if c]


@dataclass(frozen=True)
class SeriesPoint:
    survey_id: int
    year: int
    responses: int
    rate_tenths: int | None  # None: fewer than MIN_PUBLISHED answers


def satisfaction_series(session: Session, *, compound_id: int) -> list[SeriesPoint]:
    """The compound's published annual satisfaction surveys, one point a year (the latest
    published survey of a year), oldest first."""
    surveys = session.execute(select(Survey).where(
        Survey.compound_id == compound_id, Survey.template_key == rules.PROPERTY_SATISFACTION,
        Survey.published_at.is_not(None)).order_by(Survey.year, Survey.published_at)).scalars()
    latest: dict[int, Survey] = {}
    for s in surveys:
        latest[s.year] = s
    points = []
    for year in sorted(latest):
        result = results(session, survey=latest[year])
        points.append(SeriesPoint(latest[year].id or 0, year, result.responses,
                                  result.rate_tenths if result.published else None))
    return points
