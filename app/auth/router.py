"""Login, refresh, logout, the signed-in account, staff accounts and role grants."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlmodel import Session

from app.auth import service
from app.auth.models import ROLE_LABELS, Role, UserAccount
from app.auth.roles import ADMINS, GRANT_READERS, capabilities
from app.auth.schemas import (
    AccountActionIn,
    AccountGrantOut,
    AccountOut,
    CompoundRoles,
    GrantIn,
    GrantOut,
    LogoutRequest,
    MeOut,
    MessageOut,
    OtpRequest,
    OtpVerify,
    PasswordChangeIn,
    PasswordLogin,
    PasswordResetOut,
    RefreshRequest,
    SessionOut,
    StaffAccountIn,
)
from app.config import get_settings
from app.deps import (
    ACCESS_COOKIE,
    CSRF_COOKIE,
    CSRF_HEADER,
    REFRESH_COOKIE,
    CompoundAccess,
    PlatformAdmin,
    SessionDep,
    SignedIn,
    compound_access,
)
from app.errors import Forbidden
from app.privacy import mask_phone
from app.roster import service as roster_service

router = APIRouter(prefix="/auth", tags=["auth"])
accounts_router = APIRouter(tags=["accounts"])
REFRESH_PATH = "/api/v1/auth"


def _client_addr(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def build_me(session: Session, user: UserAccount, *, password_session: bool) -> MeOut:
    # A code session stands as an owner only (see auth_service.standing): show exactly that.
    roles = service.compounds_with_grants(session, user=user) if password_session else {}
    if user.phone:
        for cid in roster_service.compound_ids_for_phone(session, phone=user.phone):
            roles.setdefault(cid, set()).add(Role.OWNER)
    compounds = roster_service.list_compounds(session, ids=sorted(roles))
    order = list(Role)
    admin = {Role.PLATFORM_ADMIN} if user.is_platform_admin and password_session else set()
    return MeOut(
        id=user.id or 0,
        display_name=user.display_name,
        username=user.username,
        phone_masked=mask_phone(user.phone),
        is_platform_admin=user.is_platform_admin and password_session,
        signed_in_with="password" if password_session else "code",
        must_change_password=user.must_change_password and password_session,
        capabilities_everywhere=capabilities(admin) if admin else [],
        compounds=[
            CompoundRoles(
                compound_id=c.id or 0, compound_name=c.name,
                roles=sorted(roles[c.id or 0], key=order.index),
                role_labels=[ROLE_LABELS[r] for r in sorted(roles[c.id or 0], key=order.index)],
                # As compound_access sees it: the platform role stands in every compound.
                capabilities=capabilities(roles[c.id or 0] | admin),
            )
            for c in compounds
        ],
    )


def _start_session(
    session: Session, response: Response, issued: service.IssuedSession, mode: str
) -> SessionOut:
    out = SessionOut(
        user=build_me(session, issued.user, password_session=issued.method == "pwd"),
        csrf_token=issued.csrf_token,
        access_expires_at=issued.access_expires_at,
    )
    if mode == "bearer":
        out.access_token = issued.access_token
        out.refresh_token = issued.refresh_token
        return out
    secure = get_settings().cookie_secure
    response.set_cookie(
        ACCESS_COOKIE, issued.access_token, httponly=True, secure=secure, samesite="lax",
        path="/", max_age=get_settings().access_token_minutes * 60,
    )
    response.set_cookie(
        REFRESH_COOKIE, issued.refresh_token, httponly=True, secure=secure, samesite="strict",
        path=REFRESH_PATH, max_age=get_settings().refresh_token_days * 86400,
    )
    response.set_cookie(
        CSRF_COOKIE, issued.csrf_token, httponly=False, secure=secure, samesite="strict", path="/",
        max_age=get_settings().refresh_token_days * 86400,
    )
    return out


@router.post("/otp/request", response_model=MessageOut, status_code=202)
def request_otp(
    body: OtpRequest, request: Request, session: SessionDep
) -> dict[str, str]:
    """Send a login code to an owner's phone (the answer does not tell whether it is registered)."""
    phone = service.parse_phone(body.phone)
    # The code goes to the outbox in this transaction; the worker sends it after the commit,
    # so an SMS provider's latency or failure never reaches this answer.
    service.request_code(
        session, phone=phone, client_addr=_client_addr(request),
        known_owner=roster_service.phone_is_owner(session, phone=phone),
    )
    return {"detail": "如该手机号已登记为业主，验证码已发送，5分钟内有效"}


@router.post("/otp/verify", response_model=SessionOut)
def verify_otp(
    body: OtpVerify, request: Request, response: Response, session: SessionDep
) -> SessionOut:
    phone = service.parse_phone(body.phone)
    user = service.verify_code(
        session, phone=phone, code=body.code, client_addr=_client_addr(request),
        known_owner=roster_service.phone_is_owner(session, phone=phone),
    )
    # A code proves the phone, not the password: even a staff account's phone opens an owner
    # session only (its grants need /auth/login); a code is never a replacement for the password.
    return _start_session(session, response, service.issue_session(user, method="otp"), body.mode)


@router.post("/login", response_model=SessionOut)
def login(
    body: PasswordLogin, request: Request, response: Response, session: SessionDep
) -> SessionOut:
    user = service.login_password(
        session, username=body.username, password=body.password, client_addr=_client_addr(request)
    )
    return _start_session(session, response, service.issue_session(user, method="pwd"), body.mode)


@router.post("/refresh", response_model=SessionOut)
def refresh(
    body: RefreshRequest, request: Request, response: Response, session: SessionDep
) -> SessionOut:
    token = body.refresh_token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        from app.errors import Unauthorized

        raise Unauthorized("请重新登录", code="refresh_missing")
    # Cookie refresh is a write by the browser: the CSRF header must match the CSRF cookie.
    if not body.refresh_token and (
        not request.headers.get(CSRF_HEADER)
        or request.headers.get(CSRF_HEADER) != request.cookies.get(CSRF_COOKIE)
    ):
        raise Forbidden("安全校验失败，请刷新页面后重试", code="csrf_failed")
    issued = service.refresh_session(session, refresh_token=token)
    return _start_session(session, response, issued, body.mode if body.refresh_token else "cookie")


@router.post("/logout", response_model=MessageOut, status_code=200)
def logout(
    body: LogoutRequest, request: Request, response: Response, principal: SignedIn,
    session: SessionDep,
) -> dict[str, str]:
    auth = request.headers.get("authorization", "")
    access = auth[7:].strip() if auth.lower().startswith("bearer ") else request.cookies.get(ACCESS_COOKIE)
    service.logout(
        session, access_token=access,
        refresh_token=body.refresh_token or request.cookies.get(REFRESH_COOKIE),
    )
    if body.everywhere:
        service.logout_everywhere(session, account=principal.user)
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_PATH), (CSRF_COOKIE, "/")):
        response.delete_cookie(name, path=path)
    return {"detail": "已退出登录"}


@router.get("/me", response_model=MeOut)
def me(principal: SignedIn, session: SessionDep) -> MeOut:
    return build_me(session, principal.user, password_session=principal.password_verified)


@router.post("/password", response_model=SessionOut)
def change_password(
    body: PasswordChangeIn, response: Response, principal: SignedIn, session: SessionDep
) -> SessionOut:
    """Change one's own password: every session of the account ends but this one, renewed here."""
    account = service.change_password(
        session, account=principal.user, current=body.current_password, new=body.new_password)
    issued = service.issue_session(account, method=principal.method)
    return _start_session(session, response, issued, body.mode)


def _accounts_out(session: Session, accounts: list[UserAccount]) -> list[AccountOut]:
    grants = service.grants_of_accounts(session, user_ids=[a.id or 0 for a in accounts])
    names = {c.id: c.name for c in roster_service.list_compounds(
        session, ids=sorted({g.compound_id for gs in grants.values() for g in gs}))}
    return [
        AccountOut(
            id=a.id or 0, username=a.username, display_name=a.display_name,
            phone_masked=mask_phone(a.phone), is_platform_admin=a.is_platform_admin,
            is_active=a.is_active, must_change_password=a.must_change_password,
            created_at=a.created_at,
            grants=[AccountGrantOut(grant_id=g.id or 0, compound_id=g.compound_id,
                                    compound_name=names.get(g.compound_id, ""), role=Role(g.role),
                                    role_label=ROLE_LABELS[Role(g.role)])
                    for g in grants.get(a.id or 0, [])],
        )
        for a in accounts
    ]


@accounts_router.post("/accounts", response_model=AccountOut, status_code=201)
def create_account(body: StaffAccountIn, admin: PlatformAdmin, session: SessionDep) -> AccountOut:
    """Create a staff account (committee member, reviewer, observer, clerk).

    The password is the administrator's choice, so it is a temporary one: its holder must
    change it at the first sign-in.
    """
    account = service.create_staff_account(
        session, username=body.username, password=body.password,
        display_name=body.display_name, phone=body.phone, must_change_password=True,
    )
    return _accounts_out(session, [account])[0]


@accounts_router.get("/accounts", response_model=list[AccountOut])
def list_accounts(
    admin: PlatformAdmin, session: SessionDep,
    q: Annotated[str | None, Query(max_length=50, description="用户名或姓名中的文字")] = None,
) -> list[AccountOut]:
    return _accounts_out(session, service.search_staff_accounts(session, q=q))


@accounts_router.post("/accounts/{user_id}/disable", response_model=AccountOut)
def disable_account(
    user_id: int, body: AccountActionIn, admin: PlatformAdmin, session: SessionDep
) -> AccountOut:
    """Disable a staff account: it cannot sign in, and every session it has ends at once."""
    account = service.set_account_active(
        session, user_id=user_id, active=False, reason=body.reason.strip(),
        actor=admin.actor_as(Role.PLATFORM_ADMIN))
    return _accounts_out(session, [account])[0]


@accounts_router.post("/accounts/{user_id}/enable", response_model=AccountOut)
def enable_account(
    user_id: int, body: AccountActionIn, admin: PlatformAdmin, session: SessionDep
) -> AccountOut:
    account = service.set_account_active(
        session, user_id=user_id, active=True, reason=body.reason.strip(),
        actor=admin.actor_as(Role.PLATFORM_ADMIN))
    return _accounts_out(session, [account])[0]


@accounts_router.post("/accounts/{user_id}/password-reset", response_model=PasswordResetOut)
def reset_password(
    user_id: int, body: AccountActionIn, response: Response, admin: PlatformAdmin,
    session: SessionDep,
) -> PasswordResetOut:
    """A forgotten password: a temporary one, in this answer only, to be changed at sign-in."""
    account, password = service.reset_password(
        session, user_id=user_id, reason=body.reason.strip(),
        actor=admin.actor_as(Role.PLATFORM_ADMIN))
    response.headers["Cache-Control"] = "no-store"
    return PasswordResetOut(
        account=_accounts_out(session, [account])[0], temporary_password=password,
        detail="已重置密码，该账号的所有登录已失效；临时密码只显示这一次，请当面或电话告知本人，"
               "本人登录后须立即修改",
    )


GrantAdmin = Annotated[CompoundAccess, Depends(compound_access(*ADMINS))]
GrantReader = Annotated[CompoundAccess, Depends(compound_access(*GRANT_READERS))]


def _grant_out(grant, user) -> GrantOut:
    role = Role(grant.role)
    return GrantOut(
        id=grant.id, user_id=user.id, display_name=user.display_name, username=user.username,
        role=role, role_label=ROLE_LABELS[role], organization=grant.organization,
        granted_at=grant.granted_at,
    )


@accounts_router.get("/compounds/{compound_id}/grants", response_model=list[GrantOut])
def list_grants(access: GrantReader, session: SessionDep) -> list[GrantOut]:
    return [_grant_out(g, u) for g, u in service.list_grants(session, compound_id=access.compound_id)]


@accounts_router.post("/compounds/{compound_id}/grants", response_model=GrantOut, status_code=201)
def grant(body: GrantIn, access: GrantAdmin, session: SessionDep) -> GrantOut:
    g = service.grant_role(
        session, compound_id=access.compound_id, user_id=body.user_id, role=body.role,
        organization=body.organization, actor=access.actor,
    )
    user = session.get(UserAccount, body.user_id)
    return _grant_out(g, user)


@accounts_router.delete("/compounds/{compound_id}/grants/{grant_id}", response_model=GrantOut)
def revoke(grant_id: int, access: GrantAdmin, session: SessionDep) -> GrantOut:
    g = service.revoke_role(session, compound_id=access.compound_id, grant_id=grant_id,
                            actor=access.actor)
    return _grant_out(g, session.get(UserAccount, g.user_id))
