"""Ledger tables: settings, periods with their statements, entries, vouchers and CSV imports.

Entries are append-only: an entry's facts never change after it is recorded; only its one-time
decision (approved or rejected) is filled in, once. A correction is a new reversing entry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Text, UniqueConstraint, event, inspect
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime
from app.errors import Conflict


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class LedgerSetting(SQLModel, table=True):
    """A compound's ledger rules; one row per compound, created on first use."""

    __tablename__ = "ledger_setting"

    compound_id: int = Field(foreign_key="compound.id", primary_key=True)
    period_kind: str = Field(default="quarter", max_length=10)  # quarter / month
    starts_on: date | None = None  # first day of the first period; fixed once a period exists
    maintenance_share_percent: int = 50  # share of net income owed to the maintenance fund
    decision_rules_json: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    display_days: int = 15  # 公示期 of statements
    publish_due_days: int = 30  # a quarter's statement is due this many days after it ends
    voucher_required: bool = True
    annual_audit_required: bool = True
    updated_by: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime | None = _ts()


class LedgerPeriod(SQLModel, table=True):
    """A month or quarter; closing fixes its statement, publishing makes it a notice."""

    __tablename__ = "ledger_period"
    __table_args__ = (UniqueConstraint("compound_id", "start_date"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    kind: str = Field(max_length=10)
    start_date: date
    end_date: date
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = _ts()
    closed_by: int | None = Field(default=None, foreign_key="user_account.id")
    statement_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    statement_sha256: str | None = Field(default=None, max_length=64)
    audit_report_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    published_at: datetime | None = _ts()
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    notice_id: int | None = Field(default=None, foreign_key="notice.id")


class LedgerEntry(SQLModel, table=True):
    """One income or expense; amounts in fen, negative only in a reversing entry."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        CheckConstraint("direction IN ('income', 'expense')", name="direction_known"),
        CheckConstraint(
            "(reverses_id IS NULL AND amount_fen > 0 AND cost_fen >= 0 AND cost_fen <= amount_fen)"
            " OR (reverses_id IS NOT NULL AND amount_fen < 0 AND cost_fen <= 0"
            " AND cost_fen >= amount_fen)",
            name="amount_sign",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    period_id: int = Field(foreign_key="ledger_period.id", index=True)
    entry_date: date
    direction: str = Field(max_length=10)
    category: str = Field(max_length=20)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    cost_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    cost_note: str = Field(default="", max_length=500)
    counterparty: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    matter_id: int | None = Field(default=None, foreign_key="ballot_matter.id")
    reverses_id: int | None = Field(default=None, foreign_key="ledger_entry.id", index=True)
    late_for_period_id: int | None = Field(default=None, foreign_key="ledger_period.id")
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_role: str = Field(max_length=30)
    recorded_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    approved_by: int | None = Field(default=None, foreign_key="user_account.id")
    approved_at: datetime | None = _ts()
    rejected_by: int | None = Field(default=None, foreign_key="user_account.id")
    rejected_at: datetime | None = _ts()
    rejection_reason: str = Field(default="", max_length=500)


class LedgerVoucher(SQLModel, table=True):
    """A stored file proving an entry: its voucher, or the evidence of a deducted cost."""

    __tablename__ = "ledger_voucher"
    __table_args__ = (UniqueConstraint("entry_id", "file_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    entry_id: int = Field(foreign_key="ledger_entry.id", index=True)
    file_id: int = Field(foreign_key="stored_file.id")
    kind: str = Field(default="voucher", max_length=20)  # voucher / cost_evidence
    position: int = 0


class LedgerImport(SQLModel, table=True):
    """An uploaded bank or property-company CSV, kept as a file, read into draft rows."""

    __tablename__ = "ledger_import"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    file_id: int = Field(foreign_key="stored_file.id")
    file_name: str = Field(max_length=200)
    row_count: int
    imported_by: int = Field(foreign_key="user_account.id")
    imported_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class LedgerImportRow(SQLModel, table=True):
    """A draft entry from an import: a committee member accepts (records it) or discards it."""

    __tablename__ = "ledger_import_row"
    __table_args__ = (UniqueConstraint("import_id", "row_number"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    import_id: int = Field(foreign_key="ledger_import.id", index=True)
    row_number: int  # line in the file, header = 1
    entry_date: date
    direction: str = Field(max_length=10)
    category: str = Field(max_length=20)
    amount_fen: int = Field(sa_column=Column(BigInteger, nullable=False))
    cost_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    counterparty: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    decided_by: int | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = _ts()
    entry_id: int | None = Field(default=None, foreign_key="ledger_entry.id")
    discard_reason: str = Field(default="", max_length=500)


# --- last line of defence: entries are never edited or deleted -------------------------------


class LedgerEntryImmutable(Conflict):
    code = "ledger_entry_immutable"

    def __init__(self, message: str = "账目一经记录不能修改或删除；如有错误，请记一笔冲销分录") -> None:
        super().__init__(message)


# The one-time decision on an entry: filled in once, from empty.
_DECISION_FIELDS = frozenset({"approved_by", "approved_at", "rejected_by", "rejected_at",
                              "rejection_reason"})


def _stored_decision(connection: Connection, entry_id: int | None) -> tuple[Any, Any] | None:
    table = LedgerEntry.__table__
    row = connection.execute(
        table.select().with_only_columns(table.c.approved_at, table.c.rejected_at)
        .where(table.c.id == entry_id)
    ).first()
    return (row[0], row[1]) if row else None


@event.listens_for(LedgerEntry, "before_update")
def _refuse_entry_update(_mapper: Any, connection: Connection, target: LedgerEntry) -> None:
    """Only the empty decision may be filled in, once; every other change is refused."""
    changed = {attr.key for attr in inspect(target).attrs if attr.history.has_changes()}
    if not changed:
        return
    stored = _stored_decision(connection, target.id)
    if changed - _DECISION_FIELDS or stored is None or stored != (None, None):
        raise LedgerEntryImmutable()


@event.listens_for(LedgerEntry, "before_delete")
def _refuse_entry_delete(_mapper: Any, _connection: Connection, _target: LedgerEntry) -> None:
    raise LedgerEntryImmutable()


class LedgerPeriodImmutable(Conflict):
    code = "ledger_period_immutable"

    def __init__(self, message: str = "已结账期间的报表不能修改；已公示的期间不能再作任何改动") -> None:
        super().__init__(message)


_STATEMENT_FIELDS = frozenset({"closed_at", "closed_by", "statement_json", "statement_sha256",
                               "kind", "start_date", "end_date", "compound_id"})


@event.listens_for(LedgerPeriod, "before_update")
def _refuse_period_rewrite(_mapper: Any, connection: Connection, target: LedgerPeriod) -> None:
    """A closed period's statement is fixed; a published period is fixed altogether."""
    changed = {attr.key for attr in inspect(target).attrs if attr.history.has_changes()}
    if not changed:
        return
    table = LedgerPeriod.__table__
    row = connection.execute(
        table.select().with_only_columns(table.c.closed_at, table.c.published_at)
        .where(table.c.id == target.id)
    ).first()
    if row is None:
        return
    closed_at, published_at = row
    if published_at is not None or (closed_at is not None and changed & _STATEMENT_FIELDS):
        raise LedgerPeriodImmutable()


@event.listens_for(LedgerPeriod, "before_delete")
def _refuse_period_delete(_mapper: Any, _connection: Connection, _target: LedgerPeriod) -> None:
    raise LedgerPeriodImmutable("账期不能删除")


@event.listens_for(LedgerVoucher, "before_update")
@event.listens_for(LedgerVoucher, "before_delete")
def _refuse_voucher_change(_mapper: Any, _connection: Connection, _target: LedgerVoucher) -> None:
    raise LedgerEntryImmutable("凭证一经附上不能更换或删除")
