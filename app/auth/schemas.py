"""Request and response shapes for login and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.auth.models import Role
from app.schemas import FromText, InputModel


class OtpRequest(InputModel):
    phone: str = Field(min_length=6, max_length=20)


class OtpVerify(InputModel):
    phone: str = Field(min_length=6, max_length=20)
    code: str = Field(pattern=r"^\s*\d{6}\s*$")
    mode: Literal["cookie", "bearer"] = "cookie"


class PasswordLogin(InputModel):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=1024)
    mode: Literal["cookie", "bearer"] = "cookie"


class RefreshRequest(InputModel):
    refresh_token: str | None = None
    mode: Literal["cookie", "bearer"] = "cookie"


class LogoutRequest(InputModel):
    refresh_token: str | None = None
    everywhere: bool = False


class MessageOut(BaseModel):
    """A plain confirmation, worded for the user."""

    detail: str


class CompoundRoles(BaseModel):
    compound_id: int
    compound_name: str
    roles: list[Role]
    role_labels: list[str]
    # What the caller may do here, from app/auth/roles.py CAPABILITIES (e.g. "vote", "manage").
    capabilities: list[str]


class MeOut(BaseModel):
    id: int
    display_name: str
    username: str | None
    phone_masked: str
    is_platform_admin: bool
    compounds: list[CompoundRoles]
    # What the caller may do in every compound, listed or not (the platform administrator's standing).
    capabilities_everywhere: list[str] = []
    # "code": a one-time-code session, owner standing only; staff sign in with the password.
    signed_in_with: Literal["password", "code"] = "password"
    # The password is a temporary one set by an administrator: every route but me, logout and
    # POST /auth/password answers 403 password_change_required until it is changed.
    must_change_password: bool = False


class SessionOut(BaseModel):
    user: MeOut
    csrf_token: str
    access_expires_at: datetime
    access_token: str | None = None
    refresh_token: str | None = None


class StaffAccountIn(InputModel):
    username: str = Field(min_length=3, max_length=50, pattern=r"^[A-Za-z0-9_.\-]+$")
    display_name: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=1024)
    phone: str | None = None


class AccountGrantOut(BaseModel):
    """One active grant of an account, for the administrator's account list."""

    grant_id: int
    compound_id: int
    compound_name: str
    role: Role
    role_label: str


class AccountOut(BaseModel):
    id: int
    username: str | None
    display_name: str
    phone_masked: str
    is_platform_admin: bool = False
    is_active: bool = True
    # Signs in with a password the administrator set, not yet changed by its holder.
    must_change_password: bool = False
    created_at: datetime | None = None
    grants: list[AccountGrantOut] = []


class AccountActionIn(InputModel):
    """Disabling, re-enabling or resetting an account: why, for the compounds' audit trails."""

    reason: str = Field(min_length=1, max_length=200, pattern=r"\S", examples=["本人离职"])


class PasswordResetOut(BaseModel):
    account: AccountOut
    # Shown once, to the administrator, who hands it over; its holder must change it at sign-in.
    temporary_password: str
    detail: str


class PasswordChangeIn(InputModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    mode: Literal["cookie", "bearer"] = "cookie"


class GrantIn(InputModel):
    user_id: int
    role: Annotated[Role, FromText]
    organization: str = Field(default="", max_length=100)


class GrantOut(BaseModel):
    id: int
    user_id: int
    display_name: str
    username: str | None
    role: Role
    role_label: str
    organization: str
    granted_at: datetime
