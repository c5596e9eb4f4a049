"""Metadata of stored files; the bytes live on disk under files_dir/<compound>/<sha256>."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime


class StoredFile(SQLModel, table=True):
    __tablename__ = "stored_file"
    # Each upload counts the uploader's files of the last 24 hours (the per-account quota).
    __table_args__ = (Index("ix_stored_file_uploaded_by_at", "uploaded_by", "uploaded_at"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    sha256: str = Field(max_length=64)
    file_name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)
    size_bytes: int
    purpose: str = Field(default="attachment", max_length=40)
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
