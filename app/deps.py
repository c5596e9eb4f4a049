"""Request-scoped plumbing: the transaction, the signed-in user, and role+compound checks."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated
from weakref import WeakKeyDictionary

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.audit.service import Actor
from app.auth import service as auth_service
from app.auth.models import Role, UserAccount
from app.auth.roles import ROLE_PRECEDENCE
from app.auth.tokens import AuthMethod
from app.config import get_settings
from app.db import new_session
from app.errors import DomainError, Forbidden, Unauthorized
from app.roster import service as roster_service

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
ACCESS_COOKIE = "gj_access"
REFRESH_COOKIE = "gj_refresh"
CSRF_COOKIE = "gj_csrf"
CSRF_HEADER = "x-csrf-token"


_write_turns: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()


async def write_turn(request: Request) -> AsyncIterator[None]:
    """Writes take a turn on the event loop before they take a session (GONGJUE_DB_WRITE_CONCURRENCY).

    Every write of a compound appends to its audit chain, so they run one after another at the
    chain's head anyway; letting more of them in at once only adds threads that queue on the head
    and compete for the interpreter with the one holding it (bench/PROFILE.md §8). Reads do not wait.
    """
    if request.method in SAFE_METHODS:
        yield
        return
    loop = asyncio.get_running_loop()
    turns = _write_turns.get(loop)
    if turns is None:
        turns = _write_turns[loop] = asyncio.Semaphore(get_settings().db_write_concurrency)
    async with turns:
        yield


def get_session(
    request: Request, _turn: Annotated[None, Depends(write_turn, scope="function")]
) -> Iterator[Session]:
    """One transaction per request: commit on success, roll back on error.

    Writes open with BEGIN IMMEDIATE on SQLite; reads do not take the write lock. Errors marked
    `keep_changes` (e.g. a counted wrong one-time code) commit what was recorded, then refuse.
    """
    session = new_session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    except BaseException as exc:
        end_transaction(session, exc)
        raise
    end_transaction(session, None)


def end_transaction(session: Session, exc: BaseException | None) -> None:
    """End a request's transaction: commit on success, roll back on error, then close.

    Errors marked `keep_changes` commit what was recorded before they refuse.
    """
    try:
        if exc is None or (isinstance(exc, DomainError) and exc.keep_changes):
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# At most this many requests of a process hold a session at once; the others wait on the event
# loop, holding neither a worker thread nor a connection. Without the cap, requests blocked on
# the audit chain's lock (or SQLite's write lock) can fill the thread pool, and the request that
# holds the lock then finds no thread to commit in: everything stalls until timeouts.
SessionDep = Annotated[
    Session,
    Depends(get_session, scope="function", max_concurrency=get_settings().db_request_concurrency),
]


@dataclass
class Principal:
    """The signed-in account with its grants, resolved once per request."""

    user: UserAccount
    via_cookie: bool
    grants: dict[int, set[Role]] = field(default_factory=dict)
    method: AuthMethod = "otp"  # how the session was opened; staff standing needs "pwd"

    @property
    def password_verified(self) -> bool:
        """Signed in with the password: only then do staff grants and the platform role count."""
        return self.method == "pwd"

    @property
    def user_id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    def actor_as(self, role: Role) -> Actor:
        return Actor(user_id=self.user_id, role=role.value)


def _read_token(request: Request) -> tuple[str, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    token = request.cookies.get(ACCESS_COOKIE)
    if token:
        return token, True
    raise Unauthorized("请先登录", code="not_authenticated")


# Declared for the OpenAPI document (components.securitySchemes and each operation's `security`,
# see app/main.py); _read_token reads the request itself. Neither refuses on its own.
BEARER_SCHEME = HTTPBearer(auto_error=False, scheme_name="bearerAuth",
                           description="登录（mode=bearer）返回的 access_token")
COOKIE_SCHEME = APIKeyCookie(name=ACCESS_COOKIE, auto_error=False, scheme_name="cookieAuth",
                             description="浏览器登录（mode=cookie）设置的访问令牌；写操作另须 "
                                         f"{CSRF_HEADER} 请求头（值为 {CSRF_COOKIE} Cookie）")


def get_signed_in(
    request: Request, session: SessionDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)] = None,
    _cookie: Annotated[str | None, Security(COOKIE_SCHEME)] = None,
) -> Principal:
    """Authenticate the request (Bearer header or cookie + CSRF header for writes).

    Only the routes a holder of a temporary password still needs (me, logout, change password)
    use this directly; every other route goes through `get_principal`.
    """
    token, via_cookie = _read_token(request)
    user, claims = auth_service.authenticate_access(session, token=token)
    if via_cookie and request.method not in SAFE_METHODS:
        header = request.headers.get(CSRF_HEADER, "")
        if not header or not hmac.compare_digest(header, claims.csrf):
            raise Forbidden("安全校验失败，请刷新页面后重试", code="csrf_failed")
    return Principal(user=user, via_cookie=via_cookie, method=claims.method)


SignedIn = Annotated[Principal, Depends(get_signed_in)]


def get_principal(principal: SignedIn) -> Principal:
    """The signed-in caller, unless a password session still holds a temporary password.

    A password set by an administrator (a new account, a reset) is known to someone else: until
    its holder changes it, the session may only read /auth/me, log out and change the password.
    A code session never used the password and is not held up.
    """
    if principal.password_verified and principal.user.must_change_password:
        raise Forbidden("请先修改管理员设置的临时密码，再继续使用", code="password_change_required")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


@dataclass(frozen=True)
class CompoundAccess:
    """The caller's standing in one compound: the role they act in, for the audit trail."""

    principal: Principal
    compound_id: int
    role: Role
    roles: frozenset[Role]
    owner_ids: tuple[int, ...] = ()

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.principal.user_id, role=self.role.value)

    @property
    def user_id(self) -> int:
        return self.principal.user_id


def compound_access(*allowed: Role) -> Callable[..., CompoundAccess]:
    """Build the one dependency that checks both role and compound for a route.

    Pass the role groups of app/auth/roles.py (`compound_access(*STAFF, *OWNERS)`); a caller
    holding several allowed roles acts in the first by ROLE_PRECEDENCE.
    """
    allowed_set = frozenset(allowed)
    allowed = tuple(r for r in ROLE_PRECEDENCE if r in allowed_set)

    def dependency(
        principal: CurrentPrincipal,
        session: SessionDep,
        compound_id: Annotated[int, Path(ge=1)],
    ) -> CompoundAccess:
        roles = auth_service.standing(session, user=principal.user, compound_id=compound_id,
                                      password_session=principal.password_verified)
        phone = principal.user.phone if Role.OWNER in allowed_set else None
        owner_ids = roster_service.owner_ids_for_phone(
            session, compound_id=compound_id, phone=phone) if phone else []
        if owner_ids:
            roles.add(Role.OWNER)
        usable = [r for r in allowed if r in roles]
        if not usable:
            raise Forbidden("您在该小区没有此项操作的权限", code="forbidden_compound_role")
        if roles == {Role.PLATFORM_ADMIN}:
            # Grants and owners exist only in existing compounds; the platform role stands in any id.
            roster_service.get_compound(session, compound_id=compound_id)
        return CompoundAccess(
            principal=principal,
            compound_id=compound_id,
            role=usable[0],
            roles=frozenset(roles),
            owner_ids=tuple(owner_ids),
        )

    dependency.__name__ = "compound_access_" + "_".join(sorted(r.value for r in allowed_set))
    dependency.allowed_roles = allowed_set
    return dependency


def require_platform_admin(principal: CurrentPrincipal) -> Principal:
    if not (principal.user.is_platform_admin and principal.password_verified):
        raise Forbidden("仅平台管理员可执行此操作", code="platform_admin_only")
    return principal


PlatformAdmin = Annotated[Principal, Depends(require_platform_admin)]


@dataclass(frozen=True)
class AccessSession:
    """A compound route's session and the caller's standing, resolved by one dependency."""

    session: Session
    access: CompoundAccess


def access_in_one_step(check: Callable[..., CompoundAccess]) -> Callable[..., AsyncIterator[AccessSession]]:
    """One dependency doing what `SessionDep`, `CurrentPrincipal` and `Depends(check)` do: the
    session, authentication, the temporary-password rule and the compound check, in that order,
    in one worker-thread hop instead of four, and none to finish when the route has committed.

    For the vote route, where the framework's own costs are a large share of the request
    (bench/PROFILE.md §10). The route must commit (or fail) in its own thread: what it leaves
    uncommitted is committed here, in one more hop, as `get_session` would. Writes still take a
    turn first (`write_turn`), which also bounds the sessions held at once.
    """
    import inspect

    with_request = "request" in inspect.signature(check).parameters

    def open_and_check(request: Request, compound_id: int) -> AccessSession:
        session = new_session(write=request.method not in SAFE_METHODS)
        try:
            principal = get_principal(get_signed_in(request, session))
            access = (check(request, principal, session, compound_id) if with_request
                      else check(principal, session, compound_id))
        except BaseException as exc:
            end_transaction(session, exc)
            raise
        return AccessSession(session=session, access=access)

    async def dependency(
        request: Request,
        compound_id: Annotated[int, Path(ge=1)],
        _turn: Annotated[None, Depends(write_turn, scope="function")],
        _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER_SCHEME)] = None,
        _cookie: Annotated[str | None, Security(COOKIE_SCHEME)] = None,
    ) -> AsyncIterator[AccessSession]:
        from starlette.concurrency import run_in_threadpool

        state = await run_in_threadpool(open_and_check, request, compound_id)
        try:
            yield state
        except BaseException as exc:
            await run_in_threadpool(end_transaction, state.session, exc)
            raise
        if state.session.in_transaction():  # the route did not commit: commit as get_session does
            await run_in_threadpool(end_transaction, state.session, None)
        else:
            state.session.close()  # nothing to send: the connection went back at the commit

    dependency.__name__ = f"access_in_one_step_{check.__name__}"
    dependency.allowed_roles = getattr(check, "allowed_roles", frozenset())
    return dependency
