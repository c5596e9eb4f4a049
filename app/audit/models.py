"""Audit events, the per-compound chain head and signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (UniqueConstraint("compound_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    seq: int
    occurred_at: str = Field(max_length=32)  # canonical UTC text, exactly as hashed
    actor_user_id: int | None = Field(default=None)
    actor_role: str = Field(max_length=30)
    action: str = Field(max_length=60)
    object_type: str = Field(max_length=40)
    object_id: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditChainHead(SQLModel, table=True):
    """One row per compound, locked by every append so chains never fork."""

    __tablename__ = "audit_chain_head"

    compound_id: int = Field(foreign_key="compound.id", primary_key=True)
    seq: int = 0
    hash: str = Field(max_length=64)
    # The hash before the last append (its event's prev_hash): PostgreSQL's UPDATE … RETURNING
    # gives only new values, and the append computes the event's link in that one statement.
    prev_hash: str | None = Field(default=None, max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """An Ed25519 signature over (compound, sequence, head hash, time)."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    seq: int
    head_hash: str = Field(max_length=64)
    signed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    reason: str = Field(max_length=100)
    key_id: str = Field(max_length=64)
    signature: str = Field(max_length=128)
