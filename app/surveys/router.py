"""HTTP for surveys (问卷). No route returns a single response: only counts and aggregates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.auth.roles import MANAGERS, OWNERS, STAFF
from app.deps import CompoundAccess, SessionDep, compound_access
from app.surveys import policy, rules, service, views
from app.surveys.schemas import (
    SurveyAnswerIn,
    SurveyAnswerRecordedOut,
    SurveyIn,
    SurveyMyAnswersOut,
    SurveyOut,
    SurveyOwnAnswerOut,
    SurveyResultsOut,
    SurveyTemplateOut,
)

router = APIRouter(tags=["surveys"])

Reader = Annotated[CompoundAccess, Depends(compound_access(*STAFF, *OWNERS))]
Manager = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
Owner = Annotated[CompoundAccess, Depends(compound_access(*OWNERS))]
S = "/compounds/{compound_id}/surveys"
ONE = S + "/{survey_id}"


@router.get(S)
def list_surveys(access: Reader, session: SessionDep) -> list[SurveyOut]:
    """The surveys the caller may see (drafts: the committee's), newest year first."""
    return [views.survey_view(session, survey=s)
            for s in service.list_surveys(session, compound_id=access.compound_id)
            if policy.survey_visible(s, access=access)]


@router.get(S + "/templates")
def list_templates(access: Manager) -> list[SurveyTemplateOut]:
    return views.templates_view()


@router.post(S, status_code=201)
def create_survey(body: SurveyIn, access: Manager, session: SessionDep) -> SurveyOut:
    """Create a survey in one step from a template (the annual satisfaction survey) or questions."""
    questions = None if body.questions is None else [
        rules.QuestionSpec(text=q.text, hint=q.hint, scale=q.scale) for q in body.questions]
    survey = service.create_survey(
        session, compound_id=access.compound_id, actor=access.actor, year=body.year,
        opens_at=body.opens_at, closes_at=body.closes_at, template_key=body.template_key,
        title=body.title, intro=body.intro, questions=questions, allow_comments=body.allow_comments)
    return views.survey_view(session, survey=survey)


@router.get(ONE)
def get_survey(survey_id: int, access: Reader, session: SessionDep) -> SurveyOut:
    survey = service.get_survey(session, compound_id=access.compound_id, survey_id=survey_id)
    policy.check_visible(survey, access=access)
    return views.survey_view(session, survey=survey)


@router.post(ONE + "/open")
def open_survey(survey_id: int, access: Manager, session: SessionDep) -> SurveyOut:
    survey = service.open_survey(session, compound_id=access.compound_id, survey_id=survey_id,
                                 actor=access.actor)
    return views.survey_view(session, survey=survey)


@router.post(ONE + "/close")
def close_survey(survey_id: int, access: Manager, session: SessionDep) -> SurveyOut:
    survey = service.close_survey(session, compound_id=access.compound_id, survey_id=survey_id,
                                  actor=access.actor)
    return views.survey_view(session, survey=survey)


@router.post(ONE + "/publish")
def publish_survey(survey_id: int, access: Manager, session: SessionDep) -> SurveyOut:
    survey = service.publish_survey(session, compound_id=access.compound_id, survey_id=survey_id,
                                    actor=access.actor)
    return views.survey_view(session, survey=survey)


@router.get(ONE + "/my-answers")
def my_answers(survey_id: int, access: Owner, session: SessionDep) -> SurveyMyAnswersOut:
    """The caller's flats (voting subjects they answer for) and their own answers, to change."""
    survey = service.get_survey(session, compound_id=access.compound_id, survey_id=survey_id)
    policy.check_visible(survey, access=access)
    own = service.own_answers(session, survey=survey, phone=access.principal.user.phone)
    return SurveyMyAnswersOut(
        survey_id=survey_id, accepts_answers=service.status_of(survey) == "open",
        subjects=[SurveyOwnAnswerOut(subject_id=o.subject_id, label=o.label, answered=o.answered,
                               answers={str(k): v for k, v in o.answers.items()},
                               comment=o.comment) for o in own])


@router.post(ONE + "/answers", status_code=201)
def answer(survey_id: int, body: SurveyAnswerIn, access: Owner, session: SessionDep) -> SurveyAnswerRecordedOut:
    """Record (or replace) the answers for one of the caller's flats while the survey is open."""
    survey = service.get_survey(session, compound_id=access.compound_id, survey_id=survey_id)
    policy.check_visible(survey, access=access)
    _, revised = service.submit_answer(
        session, compound_id=access.compound_id, survey_id=survey_id,
        phone=access.principal.user.phone, subject_id=body.subject_id,
        answers={a.question_id: a.value for a in body.answers}, comment=body.comment)
    return SurveyAnswerRecordedOut(survey_id=survey_id, subject_id=body.subject_id, revised=revised,
                             message="已修改您的答卷" if revised else "已收到您的答卷，谢谢参与")


@router.get(ONE + "/results")
def results(survey_id: int, access: Reader, session: SessionDep) -> SurveyResultsOut:
    """Aggregates only, none over fewer than 5 answers; the compound's series year over year."""
    survey = service.get_survey(session, compound_id=access.compound_id, survey_id=survey_id)
    policy.check_results_readable(survey, access=access)
    return views.results_view(session, survey=survey)
