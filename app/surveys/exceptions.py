"""Refusals of surveys, each with a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import Conflict, DomainError, NotFound


class SurveyNotFound(NotFound):
    code = "survey_not_found"

    def __init__(self) -> None:
        super().__init__("问卷不存在")


class SurveyInvalid(DomainError):
    code = "survey_invalid"
    status = 422


class SurveyState(Conflict):
    """The survey is not in the stage the action needs (e.g. answering outside its period)."""

    code = "survey_state"
