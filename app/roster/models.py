"""Roster tables: every row belongs to exactly one compound, and every link between roster rows
stays inside it (foreign keys on (compound_id, id), so the database refuses a side door)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKeyConstraint, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime, str_enum


class AreaSource(StrEnum):
    REGISTER = "register"  # 不动产登记簿
    SURVEY = "survey"  # 测绘
    CONTRACT = "contract"  # 购房合同


class UnitStatus(StrEnum):
    DELIVERED = "delivered"  # 已交付 (sold and delivered): the owners vote
    UNSOLD = "unsold"  # 未售: counts with the developer
    UNDELIVERED = "undelivered"  # 已售未交付: counts with the developer


class OwnerKind(StrEnum):
    PERSON = "person"
    ORGANIZATION = "organization"


class SubjectKind(StrEnum):
    OWNERS = "owners"
    DEVELOPER = "developer"


class Compound(SQLModel, table=True):
    """A 物业管理区域 with its administrative chain."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    district: str = Field(max_length=50)  # 区
    street: str = Field(max_length=50)  # 街道
    community: str = Field(max_length=50, index=True)  # 社区
    address: str = Field(default="", max_length=200)
    developer_name: str = Field(default="开发建设单位", max_length=100)
    parking_counts_as_area: bool = Field(default=False)
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))


class Building(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("compound_id", "name"),
        # What the compound-consistent foreign keys of the rows below point at.
        UniqueConstraint("compound_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    name: str = Field(max_length=50)  # e.g. 1栋


class Unit(SQLModel, table=True):
    """A 专有部分 with its exact exclusive area in hundredths of m²."""

    __table_args__ = (
        UniqueConstraint("compound_id", "building_id", "entrance", "room"),
        UniqueConstraint("compound_id", "id"),
        # The building is one of the unit's own compound (which the building's key refers to).
        ForeignKeyConstraint(["compound_id", "building_id"],
                             ["building.compound_id", "building.id"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int
    building_id: int = Field(index=True)
    entrance: str = Field(default="", max_length=20)  # 单元
    room: str = Field(max_length=30)  # 房号
    area_hundredths: int = Field(gt=0)
    area_source: AreaSource = Field(default=AreaSource.REGISTER, sa_type=str_enum(AreaSource))
    usage: str = Field(default="住宅", max_length=20)  # 住宅 / 商业 / 车位 / 其他
    status: UnitStatus = Field(default=UnitStatus.DELIVERED, sa_type=str_enum(UnitStatus))


class Owner(SQLModel, table=True):
    """A natural person or organization; the ID number is kept only as a keyed hash."""

    __table_args__ = (UniqueConstraint("compound_id", "id_hash"), UniqueConstraint("compound_id", "id"))

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    kind: OwnerKind = Field(default=OwnerKind.PERSON, sa_type=str_enum(OwnerKind))
    name: str = Field(max_length=100)
    id_hash: str | None = Field(default=None, max_length=64)
    id_last4: str | None = Field(default=None, max_length=4)
    phone: str | None = Field(default=None, max_length=20, index=True)


class UnitOwner(SQLModel, table=True):
    """Ownership of a unit; several rows for one unit are co-ownership."""

    __tablename__ = "unit_owner"
    # The unit and the owner are both of this row's compound.
    __table_args__ = (
        ForeignKeyConstraint(["compound_id", "unit_id"], ["unit.compound_id", "unit.id"]),
        ForeignKeyConstraint(["compound_id", "owner_id"], ["owner.compound_id", "owner.id"]),
    )

    compound_id: int = Field(index=True)
    unit_id: int = Field(primary_key=True)
    owner_id: int = Field(primary_key=True, index=True)


class VotingSubject(SQLModel, table=True):
    """One 表决主体: units with an identical owner set, or all of the developer's units."""

    __tablename__ = "voting_subject"
    __table_args__ = (
        UniqueConstraint("compound_id", "key"),
        UniqueConstraint("compound_id", "id"),
        Index("ix_voting_subject_compound_rep", "compound_id", "representative_owner_id"),
        # The representative is an owner of the subject's own compound.
        ForeignKeyConstraint(["compound_id", "representative_owner_id"],
                             ["owner.compound_id", "owner.id"]),
    )

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id")
    key: str = Field(max_length=400)  # "developer" or "o:<sorted owner ids>"
    kind: SubjectKind = Field(sa_type=str_enum(SubjectKind))
    area_hundredths: int
    unit_count: int
    representative_owner_id: int | None = Field(default=None)


class UnitSubject(SQLModel, table=True):
    """Which subject each unit currently belongs to (derived, rebuilt with the subjects)."""

    __tablename__ = "unit_subject"
    # The unit and the subject are both of this row's compound.
    __table_args__ = (
        ForeignKeyConstraint(["compound_id", "unit_id"], ["unit.compound_id", "unit.id"]),
        ForeignKeyConstraint(["compound_id", "subject_id"],
                             ["voting_subject.compound_id", "voting_subject.id"]),
    )

    compound_id: int = Field(index=True)
    unit_id: int = Field(primary_key=True)
    subject_id: int = Field(index=True)


class RosterImportStatus(StrEnum):
    PREVIEWED = "previewed"  # validated and compared, waiting for confirmation
    APPLIED = "applied"  # written to the roster


class RosterImport(SQLModel, table=True):
    """An uploaded roster file: its validated rows, the diff shown, and whether it was applied."""

    __tablename__ = "roster_import"

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    status: RosterImportStatus = Field(
        default=RosterImportStatus.PREVIEWED, sa_type=str_enum(RosterImportStatus)
    )
    file_name: str = Field(max_length=255)
    file_sha256: str = Field(max_length=64)
    row_count: int
    known_buildings_only: bool = Field(default=False)
    # SHA-256 of the roster the preview was compared with; apply refuses if it changed since.
    roster_fingerprint: str = Field(max_length=64)
    rows_json: str = Field(sa_column=Column(Text, nullable=False))  # normalized rows, no clear IDs
    summary_json: str = Field(sa_column=Column(Text, nullable=False))  # totals and diff counts
    diff_json: str = Field(sa_column=Column(Text, nullable=False))  # masked diff shown to the user
    # Set on apply: ids of the units and owners the file did not contain. The import never removes
    # them; the separate removal step (app/roster/removals.py) does, after a typed confirmation.
    removal_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    uploaded_by: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    applied_by: int | None = Field(default=None, foreign_key="user_account.id")
    applied_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
