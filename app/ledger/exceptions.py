"""Refusals of the ledger, each with a stable code and a Chinese message."""

from __future__ import annotations

from app.errors import Conflict, DomainError, Forbidden, NotFound


class LedgerInvalid(DomainError):
    code = "ledger_invalid"
    status = 422


class ExpenseNeedsDecision(DomainError):
    """An expense the owners must decide, without a passed and published matter."""

    code = "expense_needs_decision"
    status = 422


class SamePersonApproval(Forbidden):
    code = "same_person_cannot_approve"

    def __init__(self) -> None:
        super().__init__("记账人与审核人不能是同一人：这笔账须由另一位业委会委员审核")


class PeriodClosed(Conflict):
    code = "ledger_period_closed"


class LedgerConflict(Conflict):
    code = "ledger_conflict"


class EntryNotFound(NotFound):
    code = "ledger_entry_not_found"


class PeriodNotFound(NotFound):
    code = "ledger_period_not_found"


class ImportNotFound(NotFound):
    code = "ledger_import_not_found"


class ImportInvalid(DomainError):
    """The CSV has bad rows: every one is listed with its row number, and nothing was stored."""

    code = "ledger_import_invalid"
    status = 422
