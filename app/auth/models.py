"""Identity tables.

Accounts are platform-wide identities (a reviewer covers several compounds, an owner may own in
two); what a person may do is always a grant scoped to one compound. In a sharded deployment
these small tables are replicated to every shard (Citus reference tables).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from app.clock import now
from app.db import UTCDateTime, str_enum


class Role(StrEnum):
    PLATFORM_ADMIN = "platform_admin"  # 街道/住建部门: creates compounds, grants roles
    COMMITTEE = "committee"  # 业主委员会委员
    REVIEWER = "reviewer"  # 社区党组织审核人
    OBSERVER = "observer"  # 两代表一委员
    CLERK = "clerk"  # 物业服务企业工作人员
    GRID_WORKER = "grid_worker"  # 网格员 (三单一访: reports for owners, dispatches)
    SUPERVISOR = "supervisor"  # 街道/社区监管 (属地监管: reads the supervision screen, nothing else)
    OWNER = "owner"  # 业主 (derived from the roster, never granted)


ROLE_LABELS = {
    Role.PLATFORM_ADMIN: "平台管理员",
    Role.COMMITTEE: "业委会委员",
    Role.REVIEWER: "社区党组织审核人",
    Role.OBSERVER: "观察员（两代表一委员）",
    Role.CLERK: "物业工作人员",
    Role.GRID_WORKER: "网格员",
    Role.SUPERVISOR: "街道/社区监管",
    Role.OWNER: "业主",
}
GRANTABLE_ROLES = (Role.COMMITTEE, Role.REVIEWER, Role.OBSERVER, Role.CLERK, Role.GRID_WORKER,
                   Role.SUPERVISOR)


class UserAccount(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str | None = Field(default=None, max_length=50, unique=True)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    display_name: str = Field(max_length=50)
    password_hash: str | None = Field(default=None, max_length=255)
    is_platform_admin: bool = False
    is_active: bool = True
    token_version: int = 0  # bumping it revokes every token of the account
    # Set by an administrator's reset (and on accounts the administrator creates): the password
    # is a temporary one, known to the administrator, and must be changed before any other use.
    must_change_password: bool = False
    created_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))


class RoleGrant(SQLModel, table=True):
    __tablename__ = "role_grant"
    __table_args__ = (Index("ix_role_grant_user_compound", "user_id", "compound_id"),)

    id: int | None = Field(default=None, primary_key=True)
    compound_id: int = Field(foreign_key="compound.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    role: Role = Field(sa_type=str_enum(Role))
    organization: str = Field(default="", max_length=100)  # e.g. 幸福社区党委
    granted_by: int | None = Field(default=None, foreign_key="user_account.id")
    granted_at: datetime = Field(default_factory=now, sa_column=Column(UTCDateTime(), nullable=False))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class OtpCode(SQLModel, table=True):
    """A one-time login code, stored only as a keyed hash."""

    __tablename__ = "otp_code"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=20, index=True)
    code_hash: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    attempts: int = 0
    consumed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class RateLimitHit(SQLModel, table=True):
    """One counted attempt; counting rows in a window keeps limits shared across processes."""

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=100)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class RevokedToken(SQLModel, table=True):
    """Denylisted token ids (logout, refresh rotation); rows may be purged after they expire.

    `rotated_at` is set when a refresh token was replaced by a new pair rather than logged out:
    for a short grace period that token may be presented again, because the answer carrying
    its successor can be lost (a phone dropping off the network, a page navigating away).
    """

    __tablename__ = "revoked_token"

    jti: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    rotated_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
