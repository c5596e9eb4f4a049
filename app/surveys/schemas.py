"""Request and response shapes of the survey API (views.py fills the responses)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas import AwareDatetimeIn, DatetimeOut, InputModel, OutputModel

Scale = Literal["satisfaction", "points"]


class SurveyQuestionIn(InputModel):
    text: str = Field(min_length=1, max_length=200, title="评价项")
    hint: str = Field(default="", max_length=300)
    scale: Scale = "satisfaction"


class SurveyIn(InputModel):
    """A new survey: from a template (its items), or with the questions given."""

    template_key: str | None = Field(default=None, max_length=40, title="问卷模板")
    title: str | None = Field(default=None, max_length=100)
    intro: str | None = Field(default=None, max_length=2000)
    year: int = Field(ge=2000, le=2100)
    opens_at: AwareDatetimeIn
    closes_at: AwareDatetimeIn
    allow_comments: bool = True
    questions: list[SurveyQuestionIn] | None = Field(default=None, max_length=30)


class SurveyAnswerItemIn(InputModel):
    question_id: int
    value: int = Field(ge=1, le=5)


class SurveyAnswerIn(InputModel):
    subject_id: int
    answers: list[SurveyAnswerItemIn] = Field(max_length=30)
    comment: str = Field(default="", max_length=500)


class SurveyOptionOut(OutputModel):
    value: int
    label: str


class SurveyQuestionOut(OutputModel):
    id: int
    position: int
    text: str
    hint: str
    scale: Scale
    scale_label: str
    options: list[SurveyOptionOut]


class SurveyOut(OutputModel):
    id: int
    title: str
    intro: str
    year: int
    template_key: str | None
    status: str  # draft, scheduled, open, ended, closed, published
    status_label: str
    opens_at: DatetimeOut
    closes_at: DatetimeOut
    period_text: str
    opened_at: DatetimeOut | None
    closed_at: DatetimeOut | None
    published_at: DatetimeOut | None
    published_text: str | None
    allow_comments: bool
    response_count: int
    questions: list[SurveyQuestionOut]


class SurveyTemplateQuestionOut(OutputModel):
    text: str
    hint: str
    scale: Scale


class SurveyTemplateOut(OutputModel):
    key: str
    title: str
    intro: str
    clause: str
    questions: list[SurveyTemplateQuestionOut]


class SurveyOwnAnswerOut(OutputModel):
    subject_id: int
    label: str
    answered: bool
    answers: dict[str, int]  # question id → value
    comment: str


class SurveyMyAnswersOut(OutputModel):
    survey_id: int
    accepts_answers: bool
    subjects: list[SurveyOwnAnswerOut]


class SurveyAnswerRecordedOut(OutputModel):
    survey_id: int
    subject_id: int
    revised: bool
    message: str


class SurveyShareOut(OutputModel):
    value: int
    label: str
    count: int
    percent_tenths: int


class SurveyItemResultOut(OutputModel):
    question_id: int
    text: str
    scale: Scale
    answers: int
    published: bool
    shares: list[SurveyShareOut]
    satisfied: int
    rate_tenths: int | None
    rate_text: str
    average_tenths: int | None
    meets_standard: bool | None


class SurveySeriesPointOut(OutputModel):
    survey_id: int
    year: int
    responses: int
    rate_tenths: int | None
    rate_text: str


class SurveyResultsOut(OutputModel):
    survey: SurveyOut
    responses: int
    published: bool  # False: fewer than min_published answers, no figure is shown
    min_published: int
    suppressed_text: str
    definition: str
    standard_percent: int
    rate_tenths: int | None
    rate_text: str
    meets_standard: bool | None
    items: list[SurveyItemResultOut]
    comments: list[str]
    series: list[SurveySeriesPointOut]
