"""Request shapes of the ledger API (responses are built in views.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas import DateIn, InputModel


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
