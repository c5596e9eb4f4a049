"""Response shapes of the supervision screen (figures only: no personal data)."""

from __future__ import annotations

from pydantic import BaseModel


class SupervisionRowOut(BaseModel):
    compound_id: int
    compound_name: str
    street: str
    community: str
    reviews_pending: int
    oldest_review_days: int | None
    ballots_running: int
    turnout_area_tenths: int | None
    turnout_headcount_tenths: int | None
    quorum_percent: str | None
    quorum_met: bool | None
    ledger_started: bool
    statements_missing: int
    statements_overdue: int
    satisfaction_year: int | None
    satisfaction_tenths: int | None
    satisfaction_below_line: bool | None
    work_orders_open: int
    work_orders_overdue: int
    work_orders_average_hours: float | None
    appraisal_year: int | None
    appraisal_score_tenths: int | None
    appraisal_grade: str | None
    rectifications_open: int


class SupervisionOut(BaseModel):
    satisfaction_line_tenths: int
    rows: list[SupervisionRowOut]
