"""Request and response shapes of credit scores and the red and black list."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from app.schemas import DateIn, DatetimeOut, InputModel, OutputModel

# --- requests ---


class CompanyRecordIn(InputModel):
    """The property service company now serving the compound (a change or a correction)."""

    name: str = Field(min_length=1, max_length=100, title="物业服务企业名称")
    credit_code: str = Field(min_length=18, max_length=18)
    contract_starts_on: DateIn
    contract_ends_on: DateIn | None = None
    note: str = Field(default="", max_length=300)


class FindingIn(InputModel):
    found_on: DateIn
    text: str = Field(min_length=1, max_length=500, title="负面清单问题")


class FindingWithdrawIn(InputModel):
    reason: str = Field(min_length=1, max_length=300)


class CreditListIn(InputModel):
    """Publish the list as computed (the digest of the computation the publisher looked at)."""

    district: str = Field(min_length=1, max_length=50)
    year: int = Field(ge=2000, le=2100)
    quarter: int = Field(ge=1, le=4)
    threshold_mode: Literal["score", "rank"]
    red: int = Field(ge=0, le=100)
    black: int = Field(ge=0, le=100)
    digest: str = Field(min_length=64, max_length=64)
    correction_reason: str = Field(default="", max_length=300)


class PromptDismissIn(InputModel):
    reason: str = Field(min_length=1, max_length=300)


class DismissalDraftIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=50000)


# --- responses ---


class CreditCriterionOut(OutputModel):
    key: str
    name: str
    weight: int
    source: str
    rule: str
    no_data: str


class CreditSourceOut(OutputModel):
    kind: str
    ref: str
    label: str


class CreditPointOut(OutputModel):
    key: str
    name: str
    weight: int
    value: str
    points: str
    rule: str
    no_data: bool
    sources: list[CreditSourceOut]


class CreditBasisOut(OutputModel):
    """Why the score is what it is: every criterion's figure, rule, points and source records."""

    period: str
    company_name: str
    credit_code: str
    total: str
    points: list[CreditPointOut]


class CompanyRecordOut(OutputModel):
    id: int
    name: str
    credit_code: str
    contract_starts_on: date
    contract_ends_on: date | None
    contract_text: str
    note: str
    recorded_at: DatetimeOut
    recorded_at_text: str


class CreditListSummaryOut(OutputModel):
    id: int
    district: str
    year: int
    quarter: int
    period_label: str
    version: int
    published_at: DatetimeOut
    published_at_text: str
    thresholds_text: str
    company_count: int
    red_count: int
    black_count: int
    compound_count: int
    correction_reason: str
    superseded: bool


class CreditEntryOut(OutputModel):
    rank: int
    company_name: str
    credit_code: str
    score: str
    place: str
    place_label: str
    compound_count: int


class CompoundPlaceOut(OutputModel):
    """A compound's place on its latest list: its company's line and its own score's basis."""

    listing: CreditListSummaryOut
    entry: CreditEntryOut
    compound_score: str
    basis: CreditBasisOut
    entries: list[CreditEntryOut]


class CompoundCreditOut(OutputModel):
    compound_id: int
    company: CompanyRecordOut | None
    history: list[CompanyRecordOut]
    latest: CompoundPlaceOut | None
    criteria: list[CreditCriterionOut]


class FindingOut(OutputModel):
    id: int
    found_on: date
    found_on_text: str
    text: str
    company_name: str
    credit_code: str
    recorded_at_text: str
    withdrawn: bool
    withdrawn_at_text: str | None
    withdraw_reason: str


class DismissalCauseOut(OutputModel):
    rectification_item_id: int
    text: str
    appraisal_year: int
    due_on: date
    due_on_text: str
    done_reported: bool
    status: Literal["open", "dismissed", "proposed"]
    recorded: bool
    dismiss_reason: str


class DismissalDraftOut(OutputModel):
    id: int
    title: str
    status: str
    current_step_name: str | None


class DismissalPromptOut(OutputModel):
    """The committee's prompt; `show` when a cause is neither dismissed nor acted on."""

    show: bool
    company_name: str | None
    credit_code: str | None
    listing: CreditListSummaryOut | None
    company_score: str | None
    rank: int | None
    company_count: int
    causes: list[DismissalCauseOut]
    unrecorded: int
    draft: DismissalDraftOut | None
    procedure_adopted: bool
    proposal_title: str
    proposal_text: str


class CreditPeriodOut(OutputModel):
    year: int
    quarter: int
    label: str


class CreditOverviewOut(OutputModel):
    """What a supervisor may compute (districts and ended quarters) and the lists it may read."""

    districts: list[str]
    periods: list[CreditPeriodOut]
    lists: list[CreditListSummaryOut]
    criteria: list[CreditCriterionOut]


class PreviewCompanyOut(OutputModel):
    credit_code: str
    company_name: str
    compound_ids: list[int]
    score: str
    rank: int
    place: str
    place_label: str


class PreviewCompoundOut(OutputModel):
    compound_id: int
    compound_name: str
    street: str
    community: str
    company_name: str | None
    credit_code: str | None
    score: str | None
    basis: CreditBasisOut | None


class CreditPreviewOut(OutputModel):
    district: str
    year: int
    quarter: int
    period_label: str
    digest: str
    thresholds_text: str | None
    companies: list[PreviewCompanyOut]
    compounds: list[PreviewCompoundOut]
    previous: CreditListSummaryOut | None
    criteria: list[CreditCriterionOut]


class CreditAssessmentOut(OutputModel):
    compound_id: int
    compound_name: str
    street: str
    community: str
    company_name: str
    credit_code: str
    score: str
    basis: CreditBasisOut


class CreditListOut(OutputModel):
    summary: CreditListSummaryOut
    superseded_by: int | None
    criteria: list[CreditCriterionOut]
    entries: list[CreditEntryOut]
    assessments: list[CreditAssessmentOut]
