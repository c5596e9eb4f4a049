"""Request and response shapes of quarterly reports and the annual appraisal."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from app.schemas import DateIn, DatetimeOut, InputModel, OutputModel

# --- requests ---


class QuarterlyReportIn(InputModel):
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)
    text: str = Field(min_length=1, max_length=20000)
    file_ids: list[int] = Field(default_factory=list, max_length=20)


class QuarterlyAcknowledgeIn(InputModel):
    opinion: str = Field(min_length=1, max_length=2000)


class AppraisalAccountIn(InputModel):
    text: str = Field(min_length=1, max_length=20000)
    file_ids: list[int] = Field(default_factory=list, max_length=20)


class AppraisalSheetIn(InputModel):
    """One appraiser's scores, 0–100 per criterion (app/appraisals/rules.py CRITERIA)."""

    contract: int = Field(ge=0, le=100, title="履行物业服务合同")
    service: int = Field(ge=0, le=100, title="服务质量")
    repairs: int = Field(ge=0, le=100, title="报修受理与投诉处置")
    openness: int = Field(ge=0, le=100, title="公开公示与接受监督")
    reporting: int = Field(ge=0, le=100, title="请示报告与整改落实")


class AppraisalScoreIn(InputModel):
    appraiser_kind: Literal["party", "committee", "owner_rep"]
    appraiser_name: str = Field(min_length=1, max_length=40)
    scores: AppraisalSheetIn


class RectificationIn(InputModel):
    text: str = Field(min_length=1, max_length=300)
    due_on: DateIn


class RectificationDoneIn(InputModel):
    note: str = Field(min_length=1, max_length=2000)
    file_ids: list[int] = Field(min_length=1, max_length=20)


# --- responses ---


class QuarterlyReportOut(OutputModel):
    id: int
    year: int
    quarter: int
    version: int
    text: str
    file_ids: list[int]
    filed_at: DatetimeOut
    filed_at_text: str
    acknowledged: bool
    acknowledged_at_text: str | None
    opinion: str
    latest: bool


class QuarterlyQuarterOut(OutputModel):
    quarter: int
    label: str
    due_on: date
    due_on_text: str
    started: bool
    overdue: bool
    status_label: str
    versions: list[QuarterlyReportOut]


class QuarterlyYearOut(OutputModel):
    year: int
    due_days: int
    quarters: list[QuarterlyQuarterOut]


class AppraisalCriterionOut(OutputModel):
    key: str
    label: str


class AppraisalWeightOut(OutputModel):
    kind: str
    label: str
    weight_percent: int
    score: str  # "86.5" or "—"
    appraisers: int | None  # None for the owners' part (a survey)


class AppraisalGradeRuleOut(OutputModel):
    grade: str
    min_score: str


class AppraisalAccountOut(OutputModel):
    id: int
    party: str
    party_label: str
    version: int
    text: str
    file_ids: list[int]
    filed_at_text: str
    latest: bool


class AppraisalScoreOut(OutputModel):
    id: int
    appraiser_kind: str
    appraiser_kind_label: str
    appraiser_name: str
    scores: dict[str, int]
    mean: str
    entered_at_text: str


class RectificationOut(OutputModel):
    id: int
    position: int
    text: str
    due_on: date
    due_on_text: str
    status: str  # open, done, confirmed
    status_label: str
    overdue: bool
    done_note: str
    done_file_ids: list[int]
    done_at_text: str | None
    confirmed_at_text: str | None


class AppraisalSummaryOut(OutputModel):
    year: int
    published: bool
    published_at_text: str | None
    score: str | None
    grade: str | None
    open_items: int
    overdue_items: int


class AppraisalOut(OutputModel):
    year: int
    published: bool
    published_at_text: str | None
    criteria: list[AppraisalCriterionOut]
    weights: list[AppraisalWeightOut]
    grade_rules: list[AppraisalGradeRuleOut]
    survey_id: int | None
    score: str | None
    grade: str | None
    missing: list[str]
    accounts: list[AppraisalAccountOut]
    scores: list[AppraisalScoreOut]  # staff only: empty for owners
    rectifications: list[RectificationOut]
