"""Survey tables. Answers are stored apart from who gave them (see `SurveyResponse`).

A subject's participation (`SurveyParticipation`, which subject answered) and its answers
(`SurveyResponse` + `SurveyAnswer`, what was answered) share no column a screen or a join can
follow: the response row carries only a keyed digest of (survey, subject) that the server can
recompute from its secret key to find and replace a subject's own answer, and no time, no user,
no subject id, no ordered id. See NOTES_surveys.md / README "满意度调查" for the reasoning.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Survey(SQLModel, table=True):
    """A survey's questions are fixed at creation; its lifecycle is its timestamps."""

    __tablename__ = "survey"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    title: str = Field(max_length=100)
    intro: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    template_key: str | None = Field(default=None, max_length=40)  # e.g. property_satisfaction
    year: int  # the year a series (year over year) files it under
    allow_comments: bool = True
    opens_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    opened_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    published_at: datetime | None = _ts()


class SurveyQuestion(SQLModel, table=True):
    __tablename__ = "survey_question"
    __table_args__ = (
        UniqueConstraint("survey_id", "position"),
        CheckConstraint("scale IN ('satisfaction', 'points')", name="scale_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    position: int
    text: str = Field(max_length=200)
    hint: str = Field(default="", max_length=300)  # what the item covers (seed wording)
    scale: str = Field(max_length=20)  # satisfaction: 满意/基本满意/不满意 (3/2/1); points: 1–5


class SurveyParticipation(SQLModel, table=True):
    """That a voting subject has answered: enforces one answer per subject. No content, no time."""

    __tablename__ = "survey_participation"
    __table_args__ = (UniqueConstraint("survey_id", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    subject_id: int  # voting_subject.id when answering (no FK: a roster re-import may drop it)
    revisions: int = 0  # how many times the answer was changed (a count, no times)


class SurveyResponse(SQLModel, table=True):
    """One set of answers. Its id is random (no insertion order); `subject_digest` is
    HMAC(secret key, survey:subject), recomputable only by the server; a changed answer marks
    the old response superseded rather than deleting it."""

    __tablename__ = "survey_response"

    id: str = Field(primary_key=True, max_length=32)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    subject_digest: str = Field(max_length=64, index=True)
    comment: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    superseded: bool = False


class SurveyAnswer(SQLModel, table=True):
    __tablename__ = "survey_answer"

    response_id: str = Field(foreign_key="survey_response.id", primary_key=True, max_length=32)
    question_id: int = Field(foreign_key="survey_question.id", primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    value: int  # satisfaction: 3 满意, 2 基本满意, 1 不满意; points: 1–5
