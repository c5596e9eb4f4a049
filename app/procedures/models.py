"""Procedure tables: a compound's choice of template, its own templates, agenda items (议题) with
every version of the proposal, every step taken, observers of one item and their observations.

Versions, step records and observations are append-only; the item row carries the current state
as timestamps and the index of the step it waits on.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


def _ts(nullable: bool = True):
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


def _created():
    return Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))


class ProcedureSetting(SQLModel, table=True):
    """A compound's procedure (adopted in its 议事规则) and the matters it adds to the major list."""

    __tablename__ = "procedure_setting"

    compound_id: int = Field(foreign_key="compound.id", primary_key=True)
    template_key: str | None = Field(default=None, max_length=40)  # None: no procedure adopted
    adopted_at: datetime | None = _ts()
    adopted_by: int | None = Field(default=None, foreign_key="user_account.id")
    extra_major_json: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    updated_at: datetime = _created()


class ProcedureTemplate(SQLModel, table=True):
    """A compound's own template (the same JSON shape as the shipped ones); never edited."""

    __tablename__ = "procedure_template"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    name: str = Field(max_length=100)
    spec_json: str = Field(sa_column=Column(Text, nullable=False))
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _created()


class ItemStatus:
    IN_PROGRESS = "in_progress"
    RETURNED = "returned"  # waiting for the proposer's revised version
    REJECTED = "rejected"
    CLOSED = "closed"


class AgendaItem(SQLModel, table=True):
    """A matter (议题) going through its procedure; steps are a snapshot of the template."""

    __tablename__ = "agenda_item"
    __table_args__ = (Index("ix_agenda_item_compound_status", "compound_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    title: str = Field(max_length=200)
    matter_type: str = Field(max_length=40)
    matter_label: str = Field(max_length=60)
    is_major: bool = True
    category: str | None = Field(default=None, max_length=20)  # Art. 278 category of the vote
    proposer_body: str = Field(max_length=20)
    template_key: str = Field(max_length=40)
    template_name: str = Field(max_length=100)
    steps_json: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=ItemStatus.IN_PROGRESS, max_length=20)
    current_step: int = 1  # index into the steps; len(steps) once closed
    step_started_at: datetime = _created()
    returned_from_step: int | None = None
    current_version: int = 1
    gate_passed_at: datetime | None = _ts()
    public_at: datetime | None = _ts()  # owners see the item from its first approval on
    ballot_id: int | None = Field(default=None, foreign_key="ballot.id")
    matter_id: int | None = None  # ballot_matter id; no FK: a draft's matters are rewritten
    linked_at: datetime | None = _ts()
    linked_before_adoption: bool = False
    resolution_passed: bool | None = None
    resolved_at: datetime | None = _ts()
    rejected_at: datetime | None = _ts()
    closed_at: datetime | None = _ts()
    created_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _created()


class AgendaVersion(SQLModel, table=True):
    """One submitted version of the proposal; a revision adds a version, none is ever changed."""

    __tablename__ = "agenda_version"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id")
    version: int
    title: str = Field(max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    document_file_ids: str = Field(default="[]", max_length=2000)
    note: str = Field(default="", max_length=1000)  # what changed, for a revision
    submitted_by: int | None = Field(default=None, foreign_key="user_account.id")
    submitted_role: str = Field(max_length=30)
    submitted_org: str = Field(default="", max_length=100)
    submitted_at: datetime = _created()
    audit_seq: int | None = None


class AgendaStepRecord(SQLModel, table=True):
    """One action taken on a step (approve, return, reject, link, resolve, publish, skip)."""

    __tablename__ = "agenda_step_record"
    __table_args__ = (Index("ix_agenda_step_record_item", "item_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id")
    step_index: int
    step_key: str = Field(max_length=40)
    step_name: str = Field(max_length=40)
    action: str = Field(max_length=20)
    opinion: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    data_json: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}"))
    file_ids: str = Field(default="[]", max_length=2000)
    version: int
    actor_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    actor_role: str = Field(max_length=30)
    actor_org: str = Field(default="", max_length=100)
    at: datetime = _created()
    audit_seq: int | None = None
    audit_hash: str | None = Field(default=None, max_length=64)


class AgendaObserver(SQLModel, table=True):
    """An observer (两代表一委员) appointed to one item rather than to the whole compound."""

    __tablename__ = "agenda_observer"
    __table_args__ = (Index("ix_agenda_observer_item_user", "item_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id")
    user_id: int = Field(foreign_key="user_account.id")
    organization: str = Field(default="", max_length=100)
    appointed_by: int | None = Field(default=None, foreign_key="user_account.id")
    appointed_role: str = Field(max_length=30)
    appointed_at: datetime = _created()
    revoked_at: datetime | None = _ts()
    revoked_by: int | None = Field(default=None, foreign_key="user_account.id")


class AgendaObservation(SQLModel, table=True):
    """An observer's recorded observation (观察意见); part of the item's record, never edited."""

    __tablename__ = "agenda_observation"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    item_id: int = Field(foreign_key="agenda_item.id", index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    step_index: int
    observer_user_id: int = Field(foreign_key="user_account.id")
    observer_org: str = Field(default="", max_length=100)
    at: datetime = _created()
    audit_seq: int | None = None
    audit_hash: str | None = Field(default=None, max_length=64)
