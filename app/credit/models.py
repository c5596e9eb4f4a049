"""Credit tables: which property company serves a compound (a change is a new row), the
supervisor's 负面清单 findings, the published district lists with their entries, each compound's
frozen assessment (the basis of its score), and the dismissal prompts shown to the committee.

Nothing here is updated in place except by stamping a lifecycle timestamp once (a finding
withdrawn, a prompt recorded as dismissed or acted on); a corrected list is a new list (version).
`credit_list` and `credit_list_entry` are platform-level: a district list spans compounds, and
names the compounds it covers; everything about one compound carries its compound_id.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _created():
    return Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))


class PropertyCompanyRecord(SQLModel, table=True):
    """The property service company serving the compound, as the committee recorded it; the
    latest row is the current one, earlier rows are the history."""

    __tablename__ = "property_company_record"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    name: str = Field(max_length=100)
    credit_code: str = Field(max_length=18, index=True)  # 统一社会信用代码
    contract_starts_on: date
    contract_ends_on: date | None = None
    note: str = Field(default="", max_length=300)  # why it was recorded (a change, a correction)
    recorded_at: datetime = _created()
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")


class CreditFinding(SQLModel, table=True):
    """A 负面清单 finding against the company serving the compound (seed 004), by a supervisor."""

    __tablename__ = "credit_finding"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    found_on: date
    text: str = Field(max_length=500)
    company_name: str = Field(max_length=100)
    credit_code: str = Field(max_length=18)
    recorded_at: datetime = _created()
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    withdrawn_at: datetime | None = _ts()
    withdrawn_by: int | None = Field(default=None, foreign_key="user_account.id")
    withdraw_reason: str = Field(default="", max_length=300)


class CreditList(SQLModel, table=True):
    """A published red and black list of one district for one quarter (platform-level: it spans
    the compounds it names). Publishing it again for the same compounds is a correction: the next
    version, which supersedes the earlier one (both kept)."""

    __tablename__ = "credit_list"
    __table_args__ = (
        UniqueConstraint("district", "year", "quarter", "scope_key", "version"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    district: str = Field(max_length=50)
    year: int
    quarter: int
    version: int = 1
    scope_key: str = Field(max_length=64)  # digest of the compound ids it covers
    compound_ids: str = Field(sa_column=Column(Text, nullable=False))  # JSON list
    threshold_mode: str = Field(max_length=10)
    red_line: int
    black_line: int
    criteria_version: int
    criteria_json: str = Field(sa_column=Column(Text, nullable=False))  # the criteria as published
    inputs_digest: str = Field(max_length=64)  # of the assessments the publisher looked at
    supersedes_id: int | None = Field(default=None, foreign_key="credit_list.id")
    correction_reason: str = Field(default="", max_length=300)
    published_at: datetime = _created()
    published_by: int | None = Field(default=None, foreign_key="user_account.id")


class CreditListEntry(SQLModel, table=True):
    """One company's line on a list: its score (the mean over its compounds), rank and place."""

    __tablename__ = "credit_list_entry"
    __table_args__ = (UniqueConstraint("list_id", "credit_code"),
                      CheckConstraint("place IN ('red', 'black', '')", name="place_known"))

    id: int | None = Field(default=None, primary_key=True)
    list_id: int = Field(foreign_key="credit_list.id", index=True)
    credit_code: str = Field(max_length=18)
    company_name: str = Field(max_length=100)
    score_tenths: int
    rank: int
    place: str = Field(default="", max_length=10)
    compound_count: int


class CreditAssessment(SQLModel, table=True):
    """One compound's score for the list's quarter, frozen with its basis (every point, its
    figure, rule and source records) when the list was published."""

    __tablename__ = "credit_assessment"
    __table_args__ = (UniqueConstraint("list_id", "compound_id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    list_id: int = Field(foreign_key="credit_list.id", index=True)
    company_record_id: int = Field(foreign_key="property_company_record.id")
    company_name: str = Field(max_length=100)
    credit_code: str = Field(max_length=18)
    score_tenths: int
    basis_json: str = Field(sa_column=Column(Text, nullable=False))


class DismissalPrompt(SQLModel, table=True):
    """A cause shown to the committee (its company on the latest black list and a rectification
    item past its deadline unconfirmed), recorded once; dismissed with a reason, or acted on by
    proposing the dismissal (解聘) through the compound's procedure. The platform decides nothing."""

    __tablename__ = "credit_dismissal_prompt"
    __table_args__ = (
        UniqueConstraint("compound_id", "list_id", "rectification_item_id"),
        Index("ix_credit_dismissal_prompt_compound", "compound_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    list_id: int = Field(foreign_key="credit_list.id")
    rectification_item_id: int = Field(foreign_key="rectification_item.id")
    company_name: str = Field(max_length=100)
    credit_code: str = Field(max_length=18)
    prompted_at: datetime = _created()
    prompted_by: int | None = Field(default=None, foreign_key="user_account.id")
    dismissed_at: datetime | None = _ts()
    dismissed_by: int | None = Field(default=None, foreign_key="user_account.id")
    dismiss_reason: str = Field(default="", max_length=300)
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_item.id")
    drafted_at: datetime | None = _ts()
    drafted_by: int | None = Field(default=None, foreign_key="user_account.id")
