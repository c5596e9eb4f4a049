"""The outbox: every message Gongjue sends, written in the transaction that causes it.

Rows are delivered after commit by a worker (app/notify/worker.py, or `python -m app.notify
deliver`) and kept afterwards: owners read theirs as 我的消息, the committee counts them per ballot.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, str_enum


class OutboxStatus(StrEnum):
    QUEUED = "queued"  # waiting for its first attempt or its next retry
    SENDING = "sending"  # claimed by a worker until lease_until
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # permanent failure, or retries exhausted
    SKIPPED = "skipped"  # never sent: a daily cap or an opt-out (skip_reason says which)


STATUS_LABELS: dict[OutboxStatus, str] = {
    OutboxStatus.QUEUED: "待发送",
    OutboxStatus.SENDING: "发送中",
    OutboxStatus.SENT: "已发送",
    OutboxStatus.FAILED: "发送失败",
    OutboxStatus.SKIPPED: "未发送",
}


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "notify_outbox"
    __table_args__ = (
        Index("ix_notify_outbox_due", "status", "next_attempt_at"),
        Index("ix_notify_outbox_phone_created", "phone", "created_at"),
        Index("ix_notify_outbox_compound_created", "compound_id", "created_at"),
        Index("ix_notify_outbox_topic", "compound_id", "topic"),
        Index("ix_notify_outbox_attempt", "last_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The compound the message is about. Login codes belong to no compound (a phone signs in
    # before any compound is chosen, and may own in several), so theirs is NULL; every other
    # kind carries its compound, and the per-compound daily cap counts by it.
    compound_id: int | None = Field(default=None, foreign_key="compound.id")
    kind: str = Field(max_length=30)
    phone: str = Field(max_length=20)
    # Template parameters as JSON. A login code's `code` is blanked once the row is sent or
    # failed: the outbox keeps no usable code longer than delivery needs it.
    params: str = Field(sa_column=Column(Text, nullable=False))
    # What the message is about, e.g. "ballot:12", "notice:3" (counts per ballot; "" if none).
    topic: str = Field(default="", max_length=40)
    status: OutboxStatus = Field(
        default=OutboxStatus.QUEUED, sa_column=Column(str_enum(OutboxStatus), nullable=False)
    )
    skip_reason: str | None = Field(default=None, max_length=30)
    attempts: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # A claim: the worker's random token and how long it holds the row. A row whose lease ran
    # out (its worker died) is claimed again; an outcome is recorded only under the same token.
    claim_token: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_attempt_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_outcome: str | None = Field(default=None, max_length=10)  # sent | retry | failed
    finished_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    provider: str | None = Field(default=None, max_length=20)
    provider_message_id: str | None = Field(default=None, max_length=80)
    provider_code: str | None = Field(default=None, max_length=80)
    detail: str | None = Field(default=None, max_length=300)


class OptOut(SQLModel, table=True):
    """A phone that wants no notifications (login codes are always sent).

    Kept per phone, not per compound: it is the person's choice, made once in 我的消息, and a
    phone that owns in two compounds means both.
    """

    __tablename__ = "notify_opt_out"

    phone: str = Field(primary_key=True, max_length=20)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class ReminderSent(SQLModel, table=True):
    """One ballot reminder per ballot per calendar day (Asia/Shanghai): the key enforces it."""

    __tablename__ = "notify_reminder"
    __table_args__ = (UniqueConstraint("topic", "day", name="uq_notify_reminder_topic_day"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    topic: str = Field(max_length=40)
    day: date
    sent_by: int | None = None
    messages: int = 0
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
