"""Who sees which survey, and its results, in each stage. Refusals read as "not found"."""

from __future__ import annotations

from app.auth.models import Role
from app.auth.roles import MANAGERS, WATCHERS
from app.deps import CompoundAccess
from app.surveys.exceptions import SurveyNotFound, SurveyState
from app.surveys.models import Survey


def survey_visible(survey: Survey, *, access: CompoundAccess) -> bool:
    """Drafts are the committee's; once opened, owners and the overseers see it; the property
    company (whose service is rated) sees a survey once its results are published."""
    if survey.compound_id != access.compound_id:
        return False
    roles = access.roles
    if roles & MANAGERS:
        return True
    if survey.opened_at is not None and roles & (WATCHERS | {Role.OWNER}):
        return True
    return survey.published_at is not None


def check_visible(survey: Survey, *, access: CompoundAccess) -> None:
    if not survey_visible(survey, access=access):
        raise SurveyNotFound()


def check_results_readable(survey: Survey, *, access: CompoundAccess) -> None:
    """Published results: everyone who sees the survey. Closed, not yet published: the committee
    and the overseers (to check before publishing). While it runs: nobody, only the count."""
    check_visible(survey, access=access)
    if survey.published_at is not None:
        return
    if survey.closed_at is not None and access.roles & WATCHERS:
        return
    raise SurveyState("问卷结束并公布后才能查看结果", code="survey_results_not_ready")
