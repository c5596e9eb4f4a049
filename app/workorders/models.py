"""Work-order tables. The order's state is its timestamps; every step is also kept, append-only,
in `WorkOrderStep` (the full history an owner reads, including a round reopened by 不满意)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Column, Text
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating IN ('satisfied', 'basic', 'unsatisfied')",
                        name="rating_known"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    category: str = Field(max_length=30)
    text: str = Field(sa_column=Column(Text, nullable=False))
    location: str = Field(max_length=100)
    photo_file_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The owner the order is for, by the roster phone (the reporter, or the owner a grid worker
    # reported for): they see it and they rate it.
    owner_phone: str = Field(max_length=20, index=True)
    reported_by: int = Field(foreign_key="user_account.id")
    reported_role: str = Field(max_length=30)  # owner | grid_worker
    reported_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    # The deadline of the step the order waits for (派单, 接单/办结, 回访); none while the owner rates.
    due_at: datetime | None = _ts()
    dispatched_at: datetime | None = _ts()
    dispatch_note: str = Field(default="", max_length=300)
    accepted_at: datetime | None = _ts()
    done_at: datetime | None = _ts()
    done_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    done_photo_file_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rated_at: datetime | None = _ts()
    rating: str | None = Field(default=None, max_length=20)
    rating_comment: str = Field(default="", max_length=500)
    reopened_at: datetime | None = _ts()  # set once, by a 不满意 rating; a second one does not reopen
    visited_at: datetime | None = _ts()  # the branch's follow-up visit closes the order
    visit_note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class WorkOrderStep(SQLModel, table=True):
    """One step of one order, never changed: what was done, by whom (role), when, and its note."""

    __tablename__ = "work_order_step"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    kind: str = Field(max_length=20)  # reported dispatched accepted done rated reopened visited
    at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    actor_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str = Field(max_length=30)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    rating: str | None = Field(default=None, max_length=20)
    due_at: datetime | None = _ts()
    file_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
