"""Appraisal tables: quarterly reports (versioned, never overwritten), the annual appraisal with
its two accounts, the appraisers' scores per criterion, and the rectification items.

Nothing here is updated in place except by stamping a lifecycle timestamp once (acknowledged,
published, done, confirmed); a corrected report is a new row with the next version number.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class QuarterlyReport(SQLModel, table=True):
    """One version of the property company's report for a quarter (seed 002 三(二)3)."""

    __tablename__ = "quarterly_report"
    __table_args__ = (
        UniqueConstraint("compound_id", "year", "quarter", "version"),
        CheckConstraint("quarter BETWEEN 1 AND 4", name="quarter_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    year: int
    quarter: int
    version: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    file_ids: str = Field(default="[]", max_length=500)  # JSON list of stored_file ids
    filed_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    filed_by: int | None = Field(default=None, foreign_key="user_account.id")
    acknowledged_at: datetime | None = _ts()
    acknowledged_by: int | None = Field(default=None, foreign_key="user_account.id")
    opinion: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Appraisal(SQLModel, table=True):
    """The year's 述职评议: one per compound and year."""

    __tablename__ = "appraisal"
    __table_args__ = (UniqueConstraint("compound_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    year: int
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    survey_id: int | None = None  # the year's published satisfaction survey, fixed at publication
    owners_rate_tenths: int | None = None  # its overall satisfaction rate, fixed at publication
    score_tenths: int | None = None  # the weighted result, fixed at publication
    grade: str | None = Field(default=None, max_length=10)
    published_at: datetime | None = _ts()
    published_by: int | None = Field(default=None, foreign_key="user_account.id")


class AppraisalAccount(SQLModel, table=True):
    """A 述职报告, by the committee or the property company; a correction is a new version."""

    __tablename__ = "appraisal_account"
    __table_args__ = (
        UniqueConstraint("appraisal_id", "party", "version"),
        CheckConstraint("party IN ('committee', 'company')", name="party_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    party: str = Field(max_length=20)
    version: int = 1
    text: str = Field(sa_column=Column(Text, nullable=False))
    file_ids: str = Field(default="[]", max_length=500)
    filed_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    filed_by: int | None = Field(default=None, foreign_key="user_account.id")


class AppraisalScore(SQLModel, table=True):
    """One appraiser's scores (0–100 per criterion, JSON); a re-entry supersedes, never edits."""

    __tablename__ = "appraisal_score"
    __table_args__ = (
        CheckConstraint("appraiser_kind IN ('party', 'committee', 'owner_rep')", name="kind_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    appraiser_kind: str = Field(max_length=20)
    appraiser_name: str = Field(max_length=40)  # who appraised, as the entering person wrote it
    scores: str = Field(max_length=500)  # JSON {criterion key: 0..100}
    mean_tenths: int
    entered_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    entered_by: int | None = Field(default=None, foreign_key="user_account.id")
    superseded_at: datetime | None = _ts()


class RectificationItem(SQLModel, table=True):
    """整改事项: set with the result, done by the company with evidence, confirmed by the committee."""

    __tablename__ = "rectification_item"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    appraisal_id: int = Field(foreign_key="appraisal.id", index=True)
    position: int
    text: str = Field(max_length=300)
    due_on: date
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    done_at: datetime | None = _ts()
    done_by: int | None = Field(default=None, foreign_key="user_account.id")
    done_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    done_file_ids: str = Field(default="[]", max_length=500)
    confirmed_at: datetime | None = _ts()
    confirmed_by: int | None = Field(default=None, foreign_key="user_account.id")
