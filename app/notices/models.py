"""Notice tables: the notice, its audience and attachments, board postings and deliveries."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    Index,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
)
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime, str_enum
from app.errors import Conflict


class NoticeKind(StrEnum):
    MEETING = "meeting"  # 会议通知/表决公告
    RESULT = "result"  # 决议公告
    PROCEDURE = "procedure"  # 程序公开 (决议公开, 实施结果公开)
    LEDGER = "ledger"  # 公共收益公示
    GENERAL = "general"  # 一般公告


KIND_LABELS: dict[NoticeKind, str] = {
    NoticeKind.MEETING: "会议通知/表决公告",
    NoticeKind.RESULT: "决议公告",
    NoticeKind.PROCEDURE: "程序公开",
    NoticeKind.LEDGER: "公共收益公示",
    NoticeKind.GENERAL: "一般公告",
}


class AudienceScope(StrEnum):
    COMPOUND = "compound"  # 全体业主
    BUILDINGS = "buildings"  # the owners of the buildings listed in notice_building


class DeliveryMethod(StrEnum):
    ONLINE_READ = "online_read"  # 线上已读
    PAPER = "paper"  # 纸质送达


METHOD_LABELS: dict[DeliveryMethod, str] = {
    DeliveryMethod.ONLINE_READ: "线上已读",
    DeliveryMethod.PAPER: "纸质送达",
}


class NoticeImmutable(Conflict):
    """A published notice is never edited or deleted; a correction supersedes it."""

    code = "notice_immutable"

    def __init__(self, message: str = "公告已发布，不能修改或删除；如需更正，请发布更正公告") -> None:
        super().__init__(message)


class Notice(SQLModel, table=True):
    """A notice; a draft until published_at is set, immutable from then on."""

    __tablename__ = "notice"
    __table_args__ = (
        CheckConstraint("display_days >= 1", name="display_days_positive"),
        Index("ix_notice_compound_source", "compound_id", "source_type", "source_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    kind: NoticeKind = Field(sa_type=str_enum(NoticeKind))
    title: str = Field(default="", max_length=200)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    audience_scope: AudienceScope = Field(
        default=AudienceScope.COMPOUND, sa_type=str_enum(AudienceScope)
    )
    display_days: int = Field(default=15)  # 公示期, counted from the day after publication
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    published_by: int | None = Field(default=None, foreign_key="user_account.id")
    # Unique: a notice is corrected at most once; a further fix corrects the correction.
    supersedes_id: int | None = Field(default=None, foreign_key="notice.id", unique=True)
    source_type: str | None = Field(default=None, max_length=40)  # e.g. "ballot", "ledger_statement"
    source_id: str | None = Field(default=None, max_length=64)
    structured: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # canonical JSON


class NoticeBuilding(SQLModel, table=True):
    """One building a notice is addressed to (only when the notice is not compound-wide)."""

    __tablename__ = "notice_building"

    compound_id: int = Field(foreign_key="compound.id", index=True)
    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    building_id: int = Field(foreign_key="building.id", primary_key=True, index=True)


class NoticeEntrance(SQLModel, table=True):
    """One entrance (单元) a notice is addressed to, besides its whole buildings (NoticeBuilding)."""

    __tablename__ = "notice_entrance"

    compound_id: int = Field(foreign_key="compound.id", index=True)
    notice_id: int = Field(foreign_key="notice.id", primary_key=True)
    building_id: int = Field(foreign_key="building.id", primary_key=True, index=True)
    entrance: str = Field(max_length=20, primary_key=True)


class NoticeAttachment(SQLModel, table=True):
    """A stored file attached to a notice, in display order."""

    __tablename__ = "notice_attachment"
    __table_args__ = (UniqueConstraint("notice_id", "stored_file_id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    stored_file_id: int = Field(foreign_key="stored_file.id")
    position: int = Field(default=0)


class NoticePosting(SQLModel, table=True):
    """A posting (张贴) of a published notice on a notice board, proven by a photo."""

    __tablename__ = "notice_posting"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    posted_on: date  # the day it was put on the board (Asia/Shanghai)
    location: str = Field(max_length=200)
    photo_file_id: int = Field(foreign_key="stored_file.id")
    recorded_by: int = Field(foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))


class NoticeDelivery(SQLModel, table=True):
    """A voting subject reached by a notice (送达), online or on paper.

    subject_id has no foreign key on purpose: roster rebuilds delete subjects whose owner set
    changed, and a record of delivery must outlive them (as ballot_subject does). The subject's
    key and label are kept as they were when it was reached.
    """

    __tablename__ = "notice_delivery"
    __table_args__ = (UniqueConstraint("notice_id", "subject_id", "method"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    notice_id: int = Field(foreign_key="notice.id")
    subject_id: int = Field(index=True)  # voting_subject.id at the time of delivery
    subject_key: str = Field(max_length=400)  # the subject's owner set then (voting_subject.key)
    subject_label: str = Field(max_length=300)  # building/room then; never names
    method: DeliveryMethod = Field(sa_type=str_enum(DeliveryMethod))
    delivered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    evidence_file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")  # None: online read


def _stored_published_at(connection: Connection, target: Notice) -> datetime | None:
    # Read the row as stored: attribute history is empty for expired instances.
    return connection.execute(
        select(Notice.published_at).where(Notice.id == target.id)
    ).scalar_one_or_none()


@event.listens_for(Notice, "before_update")
def _refuse_update_of_published(_mapper: Any, connection: Connection, target: Notice) -> None:
    """Last line of defence: no code path may change a notice once it was published."""
    changed = any(attr.history.has_changes() for attr in inspect(target).attrs)
    if changed and _stored_published_at(connection, target) is not None:
        raise NoticeImmutable()


@event.listens_for(Notice, "before_delete")
def _refuse_delete_of_published(_mapper: Any, connection: Connection, target: Notice) -> None:
    """Published notices are kept for ever."""
    if _stored_published_at(connection, target) is not None:
        raise NoticeImmutable()
