"""Request and response shapes of the ledger API (views.py fills the responses)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field

from app.schemas import DateIn, DatetimeOut, InputModel, OutputModel


class EntryIn(InputModel):
    """A new entry. Amounts as exact yuan text ("1,234.56") or as integer fen, never floats."""

    direction: Literal["income", "expense"]
    category: str = Field(max_length=20)
    entry_date: DateIn
    amount: str | None = Field(default=None, max_length=30)
    amount_fen: int | None = None
    cost: str | None = Field(default=None, max_length=30)
    cost_fen: int | None = None
    cost_note: str = Field(default="", max_length=500)
    counterparty: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=1000)
    voucher_file_ids: list[int] = Field(default_factory=list, max_length=20)
    cost_evidence_file_ids: list[int] = Field(default_factory=list, max_length=20)
    matter_id: int | None = None
    late_for_period_start: DateIn | None = None


class ReasonIn(InputModel):
    reason: str = Field(min_length=1, max_length=500)


class AcceptIn(InputModel):
    voucher_file_ids: list[int] = Field(default_factory=list, max_length=20)
    cost_evidence_file_ids: list[int] = Field(default_factory=list, max_length=20)
    matter_id: int | None = None
    late: bool = False


class AuditReportIn(InputModel):
    file_id: int


class LedgerSettingsIn(InputModel):
    """Fields to change; those left out stay as they are."""

    period_kind: Literal["quarter", "month"] | None = None
    starts_on: DateIn | None = None
    maintenance_share_percent: int | None = Field(default=None, ge=0, le=100)
    decision_rules: dict[str, int] | None = None  # expense category -> threshold in fen
    display_days: int | None = Field(default=None, ge=1, le=365)
    publish_due_days: int | None = Field(default=None, ge=1, le=365)
    voucher_required: bool | None = None
    annual_audit_required: bool | None = None


# --- responses -------------------------------------------------------------------------------


class LedgerSettingsOut(OutputModel):
    period_kind: str
    starts_on: str | None
    maintenance_share_percent: int
    decision_rules: dict[str, int]
    display_days: int
    publish_due_days: int
    voucher_required: bool
    annual_audit_required: bool
    period_kind_label: str
    decision_rules_text: list[str]
    income_categories: list[str]
    expense_categories: list[str]
    always_decided: list[str]  # expense categories the owners always decide (Art. 278 (九))


class LedgerLatestOut(OutputModel):
    start_date: date
    label: str
    closing_balance_fen: int
    closing_balance: str
    published_at: DatetimeOut | None
    notice_id: int | None


class LedgerMissingOut(OutputModel):
    label: str
    start_date: date
    end_date: date
    due_date: date
    overdue: bool


class LedgerStatusOut(OutputModel):
    started: bool
    starts_on: date | None
    period_kind: str
    published_count: int
    latest: LedgerLatestOut | None
    missing: list[LedgerMissingOut]
    pending_count: int | None


class LedgerDecisionOut(OutputModel):
    matter_id: int
    matter_title: str
    category: str
    ballot_id: int
    ballot_title: str
    published_at: DatetimeOut | None


class LedgerEntryMatterOut(OutputModel):
    id: int
    title: str
    ballot_id: int
    ballot_title: str


class LedgerVoucherOut(OutputModel):
    file_id: int
    file_name: str
    content_type: str
    size_bytes: int
    kind: str
    kind_label: str
    url: str


class LedgerEntryOut(OutputModel):
    id: int
    period_start: date
    period_label: str
    period_published: bool
    entry_date: date
    direction: str
    direction_label: str
    category: str
    amount_fen: int
    cost_fen: int
    net_fen: int
    amount: str
    cost: str
    net: str
    cost_note: str
    counterparty: str
    description: str
    matter: LedgerEntryMatterOut | None
    reverses_id: int | None
    reversed_by_id: int | None
    late_for_period_start: date | None
    late_for_period_label: str | None
    status: str
    status_label: str
    recorded_by: int
    recorded_by_name: str
    recorded_role_label: str
    recorded_at: DatetimeOut
    approved_by_name: str
    approved_at: DatetimeOut | None
    rejected_by_name: str
    rejected_at: DatetimeOut | None
    rejection_reason: str
    vouchers: list[LedgerVoucherOut]


# The statement is a signed document (its sha256 is published): its parts keep any key they
# carry, so an answer never differs from the stored text it vouches for.
class _StatementPart(OutputModel):
    model_config = ConfigDict(extra="allow")


class LedgerStatementPeriodOut(_StatementPart):
    kind: str
    start_date: str
    end_date: str
    label: str


class LedgerIncomeCategoryOut(_StatementPart):
    category: str
    gross_fen: int
    cost_fen: int
    net_fen: int
    entries: int


class LedgerIncomeOut(_StatementPart):
    categories: list[LedgerIncomeCategoryOut]
    gross_fen: int
    cost_fen: int
    net_fen: int


class LedgerExpenseCategoryOut(_StatementPart):
    category: str
    amount_fen: int
    entries: int


class LedgerExpenseOut(_StatementPart):
    categories: list[LedgerExpenseCategoryOut]
    total_fen: int


class LedgerMaintenanceFundOut(_StatementPart):
    share_percent: int
    base_fen: int
    required_fen: int
    transferred_fen: int
    met: bool | None


class LedgerStatementEntryOut(_StatementPart):
    id: int
    entry_date: str
    direction: str
    category: str
    amount_fen: int
    cost_fen: int
    counterparty: str
    description: str
    reverses_id: int | None
    late_for_period_start: str | None


class LedgerStatementOut(_StatementPart):
    format: str
    compound_id: int
    period: LedgerStatementPeriodOut
    opening_balance_fen: int
    income: LedgerIncomeOut
    expense: LedgerExpenseOut
    net_fen: int
    closing_balance_fen: int
    maintenance_fund: LedgerMaintenanceFundOut
    entries: list[LedgerStatementEntryOut]


class LedgerAuditReportOut(OutputModel):
    file_id: int
    file_name: str
    content_type: str
    url: str


class LedgerPeriodOut(OutputModel):
    start_date: date
    end_date: date
    kind: str
    label: str
    status: str
    status_label: str
    year_end: bool
    closed_at: DatetimeOut | None
    published_at: DatetimeOut | None
    notice_id: int | None
    statement_sha256: str | None
    audit_report: LedgerAuditReportOut | None
    statement: LedgerStatementOut
    live: bool = Field(description="true: an open period's statement computed now, not yet fixed")


class LedgerPeriodDetailOut(LedgerPeriodOut):
    entries: list[LedgerEntryOut]


class LedgerImportRowOut(OutputModel):
    id: int
    row_number: int
    entry_date: date
    direction: str
    direction_label: str
    category: str
    amount_fen: int
    amount: str
    cost_fen: int
    cost: str
    counterparty: str
    description: str
    status: Literal["draft", "accepted", "discarded"]
    status_label: str
    decided_by_name: str
    decided_at: DatetimeOut | None
    entry_id: int | None
    discard_reason: str


class LedgerImportSummaryOut(OutputModel):
    id: int
    file_id: int
    file_name: str
    row_count: int
    imported_at: DatetimeOut
    imported_by_name: str
    undecided: int


class LedgerImportOut(LedgerImportSummaryOut):
    rows: list[LedgerImportRowOut]
