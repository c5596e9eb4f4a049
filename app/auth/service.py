"""Login by password or one-time code, token issuing, refresh, logout and role grants."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session

from app.audit.service import Actor, append_event
from app.auth import tokens
from app.auth.models import (
    GRANTABLE_ROLES,
    ROLE_LABELS,
    OtpCode,
    RateLimitHit,
    RevokedToken,
    Role,
    RoleGrant,
    UserAccount,
)
from app.auth.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from app.auth.roles import OBSERVED
from app.clock import now
from app.config import get_settings
from app.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from app.notify import service as notify
from app.privacy import mask_phone, normalize_phone

log = logging.getLogger("gongjue.auth")


@dataclass(frozen=True)
class IssuedSession:
    access_token: str
    refresh_token: str
    csrf_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    user: UserAccount
    method: tokens.AuthMethod = "otp"


# --- rate limits (rows in the database, so every server process shares them) ---------------


def _check_rate(session: Session, *, key: str, limit: int, window: timedelta, message: str) -> None:
    since = now() - window
    count = session.execute(
        select(func.count()).select_from(RateLimitHit).where(
            RateLimitHit.key == key, RateLimitHit.at >= since
        )
    ).scalar_one()
    if count >= limit:
        raise TooManyRequests(message)


def _record_hit(session: Session, key: str) -> None:
    session.add(RateLimitHit(key=key, at=now()))
    session.flush()


def purge_expired(session: Session) -> None:
    """Delete rate-limit rows, codes and denylist entries that can no longer matter."""
    current = now()
    session.execute(delete(RateLimitHit).where(RateLimitHit.at < current - timedelta(days=1)))
    session.execute(delete(OtpCode).where(OtpCode.expires_at < current - timedelta(days=1)))
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < current))


# --- one-time codes ------------------------------------------------------------------------


def _code_hash(phone: str, code: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def parse_phone(raw: str) -> str:
    phone = normalize_phone(raw)
    if phone is None:
        raise Invalid("请输入正确的11位手机号码", code="invalid_phone")
    return phone


def request_code(session: Session, *, phone: str, client_addr: str, known_owner: bool) -> None:
    """Rate-limit, store a fresh 6-digit code and put it in the outbox if the phone may log in.

    A registered and an unregistered phone take the same path and leave the same traces: both
    get a stored code, an outbox row (the unregistered one recorded as skipped, never sent) and
    the same answer, and the later verification answers both alike (an unregistered phone's
    stored code can never match). The SMS goes out after the commit, from the outbox worker, so
    neither the provider's latency nor its failure reaches this answer; a provider that is down
    is refused here before anything else, for every phone alike (notify's circuit breaker).
    """
    settings = get_settings()
    phone = parse_phone(phone)
    notify.ensure_provider_ready(session)
    hour = timedelta(hours=1)
    _check_rate(
        session, key=f"otp:addr:{client_addr}", limit=settings.otp_per_address_per_hour,
        window=hour, message="请求过于频繁，请稍后再试",
    )
    _check_rate(
        session, key=f"otp:phone:{phone}", limit=settings.otp_per_phone_per_hour,
        window=hour, message="该手机号获取验证码次数过多，请一小时后再试",
    )
    _check_rate(
        session, key=f"otp:phone:{phone}", limit=1, window=timedelta(seconds=60),
        message="验证码已发送，请60秒后再重新获取",
    )
    _record_hit(session, f"otp:addr:{client_addr}")
    _record_hit(session, f"otp:phone:{phone}")
    has_account = _account_by_phone(session, phone) is not None
    may_log_in = known_owner or has_account
    current = now()
    session.execute(
        update(OtpCode)
        .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
        .values(consumed_at=current)
    )
    code = f"{secrets.randbelow(1_000_000):06d}"
    # An unregistered phone gets a stored code too, hashed from a value no 6-digit code equals.
    secret = code if may_log_in else secrets.token_hex(16)
    session.add(
        OtpCode(
            phone=phone, code_hash=_code_hash(phone, secret), created_at=current,
            expires_at=current + timedelta(seconds=settings.otp_ttl_seconds),
        )
    )
    session.flush()
    notify.enqueue(session, kind="login_code", phone=phone,
                   params={"code": code if may_log_in else ""},
                   skip=None if may_log_in else "not_registered")


def _account_by_phone(session: Session, phone: str) -> UserAccount | None:
    return session.execute(select(UserAccount).where(UserAccount.phone == phone)).scalar_one_or_none()


def account_by_phone(session: Session, *, phone: str) -> UserAccount | None:
    """The account signing in with this phone, if any (for other domains' look-ups)."""
    return _account_by_phone(session, phone)


def get_account(session: Session, *, user_id: int | None) -> UserAccount | None:
    return session.get(UserAccount, user_id) if user_id else None


def ensure_phone_account(session: Session, *, phone: str, display_name: str) -> UserAccount:
    """The account of a phone that signs in with one-time codes (an owner, a proxy), made once."""
    account = _account_by_phone(session, phone)
    if account is None:
        account = UserAccount(phone=phone, display_name=display_name)
        session.add(account)
        session.flush()
    return account


def verify_code(
    session: Session, *, phone: str, code: str, client_addr: str, known_owner: bool
) -> UserAccount:
    """Check a code (5 tries, 5 minutes); create the owner's account on first login."""
    settings = get_settings()
    phone = parse_phone(phone)
    hour = timedelta(hours=1)
    # Wrong codes lock the phone across all its codes, and the address across all phones.
    _check_rate(
        session, key=f"otp:fail:addr:{client_addr}", limit=settings.otp_failures_per_address_per_hour,
        window=hour, message="验证码错误次数过多，请一小时后再试",
    )
    _check_rate(
        session, key=f"otp:fail:phone:{phone}", limit=settings.otp_failures_per_phone_per_hour,
        window=hour, message="该手机号验证码错误次数过多，请一小时后再试",
    )
    _check_rate(
        session, key=f"login:addr:{client_addr}", limit=settings.login_per_address_per_hour,
        window=hour, message="登录尝试过于频繁，请稍后再试",
    )
    _record_hit(session, f"login:addr:{client_addr}")
    current = now()
    otp = session.execute(
        select(OtpCode)
        .where(OtpCode.phone == phone, OtpCode.consumed_at.is_(None))
        .order_by(OtpCode.id.desc())
        .limit(1)
        .with_for_update()
    ).scalar_one_or_none()
    if otp is None or otp.expires_at <= current:
        raise Unauthorized("验证码已失效，请重新获取", code="otp_expired", keep_changes=True)
    if otp.attempts >= settings.otp_max_attempts:
        otp.consumed_at = current
        raise Unauthorized("验证码错误次数过多，请重新获取", code="otp_locked", keep_changes=True)
    otp.attempts += 1
    if not hmac.compare_digest(otp.code_hash, _code_hash(phone, code.strip())):
        _record_hit(session, f"otp:fail:phone:{phone}")
        _record_hit(session, f"otp:fail:addr:{client_addr}")
        left = settings.otp_max_attempts - otp.attempts
        if left <= 0:
            otp.consumed_at = current
            raise Unauthorized("验证码错误次数过多，请重新获取", code="otp_locked", keep_changes=True)
        raise Unauthorized(f"验证码错误，还可尝试{left}次", code="otp_wrong", keep_changes=True)
    otp.consumed_at = current
    account = _account_by_phone(session, phone)
    if account is None:
        if not known_owner:
            raise Unauthorized("该手机号未登记为业主，请联系业委会核对名册", code="phone_not_registered")
        account = UserAccount(phone=phone, display_name=f"业主 {mask_phone(phone)}")
        session.add(account)
        session.flush()
    if not account.is_active:
        raise Unauthorized("账号已停用", code="account_disabled")
    return account


# --- passwords -------------------------------------------------------------------------------


def validate_new_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise Invalid(f"密码至少{MIN_LENGTH}个字符", code="password_too_short")
    if len(password) > MAX_LENGTH:
        raise Invalid("密码过长", code="password_too_long")


ADMIN_MIN_LENGTH = 12
# Passwords an attacker tries first, the demo's included: never a platform administrator's.
_KNOWN_PASSWORDS = frozenset({"gongjue-demo-2026", "password1234", "123456789012", "admin1234567",
                              "qwertyuiop12", "1qaz2wsx3edc", "administrator"})


def validate_admin_password(password: str, *, username: str) -> None:
    """The platform administrator's password: long, of mixed kinds, not the name or a known one."""
    validate_new_password(password)
    if len(password) < ADMIN_MIN_LENGTH:
        raise Invalid(f"平台管理员密码至少{ADMIN_MIN_LENGTH}个字符", code="password_too_short")
    kinds = sum(any(test(c) for c in password)
                for test in (str.isalpha, str.isdigit, lambda c: not c.isalnum()))
    lowered = password.lower()
    if kinds < 2 or len(set(password)) < 6:
        raise Invalid("密码过于简单：请混用字母、数字或符号", code="password_weak")
    if lowered in _KNOWN_PASSWORDS or normalize_username(username) in lowered:
        raise Invalid("密码过于常见或包含用户名，请换一个", code="password_weak")


def normalize_username(raw: str) -> str:
    """The one form of a username: NFKC, trimmed, inner spaces collapsed, case-folded.

    Account creation stores it, login looks the account up by it and counts failures under it,
    so every way of typing one name (" Alice", "ALICE", full-width "ａｌｉｃｅ") is one account
    with one failure counter.
    """
    return " ".join(unicodedata.normalize("NFKC", raw).split()).casefold()


def _failure_key(username: str) -> str:
    # Hashed: a normalized name can be longer than the key column, and names stay out of the table.
    digest = hashlib.sha256(username.encode("utf-8")).hexdigest()[:32]
    return f"login:user:{digest}"


def _account_by_username(session: Session, username: str) -> UserAccount | None:
    # lower(): names stored before normalization existed may still carry capitals.
    return session.execute(
        select(UserAccount).where(func.lower(UserAccount.username) == username)
        .order_by(UserAccount.id)
        .limit(1)
    ).scalars().first()


def account_by_username(session: Session, *, username: str) -> UserAccount | None:
    """The account a typed username names, in any of its forms (for other domains' look-ups)."""
    name = normalize_username(username)
    return _account_by_username(session, name) if name else None


def display_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Accounts' display names by id, for other domains' records (who recorded, who decided)."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    return dict(session.execute(
        select(UserAccount.id, UserAccount.display_name).where(UserAccount.id.in_(ids))
    ).all())


def login_password(session: Session, *, username: str, password: str, client_addr: str) -> UserAccount:
    """Staff login; a legacy bcrypt hash is upgraded to argon2 on success."""
    settings = get_settings()
    name = normalize_username(username)
    _check_rate(
        session, key=f"login:addr:{client_addr}", limit=settings.login_per_address_per_hour,
        window=timedelta(hours=1), message="登录尝试过于频繁，请稍后再试",
    )
    _check_rate(
        session, key=_failure_key(name), limit=10, window=timedelta(minutes=15),
        message="该账号密码错误次数过多，请15分钟后再试",
    )
    _record_hit(session, f"login:addr:{client_addr}")
    account = _account_by_username(session, name) if name else None
    ok, new_hash = verify_password(password, account.password_hash if account else None)
    if account is None or not ok:
        _record_hit(session, _failure_key(name))
        raise Unauthorized("用户名或密码错误", code="bad_credentials", keep_changes=True)
    if not account.is_active:
        raise Unauthorized("账号已停用", code="account_disabled")
    if new_hash:
        account.password_hash = new_hash
        session.add(account)
    return account


def create_staff_account(
    session: Session, *, username: str, password: str, display_name: str,
    phone: str | None = None, is_platform_admin: bool = False, must_change_password: bool = False,
) -> UserAccount:
    """A staff account; `must_change_password` when the password is one the administrator chose."""
    validate_new_password(password)
    name = normalize_username(username)
    if not name:
        raise Invalid("请输入用户名", code="username_invalid")
    if _account_by_username(session, name) is not None:
        raise Conflict("用户名已存在", code="username_taken")
    number = parse_phone(phone) if phone else None
    if number is not None and _account_by_phone(session, number) is not None:
        raise _phone_taken()
    account = UserAccount(
        username=name, display_name=display_name, password_hash=hash_password(password),
        phone=number, is_platform_admin=is_platform_admin,
        must_change_password=must_change_password,
    )
    try:
        with session.begin_nested():  # two admins creating at once: the unique index decides
            session.add(account)
    except IntegrityError as exc:
        if number is not None and _account_by_phone(session, number) is not None:
            raise _phone_taken() from exc
        raise Conflict("用户名已存在", code="username_taken") from exc
    return account


def _phone_taken() -> Conflict:
    return Conflict("该手机号已被其他账号使用（手机号只能属于一个账号），请换一个号码或不填手机号",
                    code="phone_taken")


# --- tokens ----------------------------------------------------------------------------------


def issue_session(
    account: UserAccount, *, method: tokens.AuthMethod, family: str | None = None,
    derived_from: str | None = None, issued_at: datetime | None = None,
) -> IssuedSession:
    """A new access + refresh pair; `method` says how the login was proven ("pwd" or "otp").

    With `derived_from` (the jti of the refresh token being rotated) the pair's ids and CSRF
    value are derived from it with the server key, so rotating one token twice at the same
    `issued_at` yields the same successor instead of a second branch of the session.
    """
    assert account.id is not None
    if derived_from is None:
        csrf, access_jti, refresh_jti = secrets.token_urlsafe(24), None, None
    else:
        csrf = _derive(derived_from, "csrf")
        access_jti, refresh_jti = _derive(derived_from, "access")[:32], _derive(derived_from, "refresh")[:32]
    family = family or secrets.token_hex(16)
    access, access_claims = tokens.issue(
        account.id, account.token_version, "access", csrf, method=method, family=family,
        jti=access_jti, issued_at=issued_at)
    refresh, refresh_claims = tokens.issue(
        account.id, account.token_version, "refresh", csrf, method=method, family=family,
        jti=refresh_jti, issued_at=issued_at)
    return IssuedSession(
        access_token=access, refresh_token=refresh, csrf_token=csrf,
        access_expires_at=access_claims.expires_at, refresh_expires_at=refresh_claims.expires_at,
        user=account, method=method,
    )


def _derive(jti: str, purpose: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"rotate:{purpose}:{jti}".encode(), hashlib.sha256).hexdigest()


def _family_key(family: str) -> str:
    """The denylist row that revokes every token of one login (a RevokedToken jti)."""
    return f"fam:{family}"


_FAMILY = aliased(RevokedToken)
# Built once: the statement every authenticated request runs (its cache key is then memoized).
_LOAD_VALID = (
    select(UserAccount, RevokedToken.jti, RevokedToken.rotated_at, _FAMILY.jti)
    .select_from(UserAccount)
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .outerjoin(_FAMILY, _FAMILY.jti == bindparam("family_key"))
    .where(UserAccount.id == bindparam("user_id"))
)


def _load_valid(
    session: Session, claims: tokens.TokenClaims, *, rotated_grace: timedelta | None = None
) -> UserAccount:
    """The token's account, unless the token is revoked, outdated or the account disabled.

    With `rotated_grace`, a refresh token replaced by rotation no longer ago than that is still
    accepted (its successor may never have reached the client); a logged-out one never is.
    """
    row = session.execute(_LOAD_VALID, {"jti": claims.jti, "user_id": claims.user_id,
                                        "family_key": _family_key(claims.family)}).first()
    if row is None:
        raise Unauthorized("登录已失效，请重新登录", code="token_invalid")
    account, revoked_jti, rotated_at, family_revoked = row
    revoked = family_revoked is not None or (revoked_jti is not None and not (
        rotated_grace is not None and rotated_at is not None and now() - rotated_at <= rotated_grace
    ))
    if revoked or account.token_version != claims.version or not account.is_active:
        raise Unauthorized("登录已失效，请重新登录", code="token_revoked")
    return account


def authenticate_access(session: Session, *, token: str) -> tuple[UserAccount, tokens.TokenClaims]:
    """Decode an access token and check it is not revoked (one query)."""
    try:
        claims = tokens.decode(token, "access")
    except tokens.InvalidToken as exc:
        raise Unauthorized("登录已过期，请重新登录", code="token_invalid") from exc
    return _load_valid(session, claims), claims


def refresh_session(session: Session, *, refresh_token: str) -> IssuedSession:
    """Rotate: the used refresh token is revoked and its successor pair is issued.

    Presenting the same token again within `refresh_reuse_grace_seconds` of its rotation gives
    the same successor again (the first answer may have been lost on the way), never a second
    branch. Presented after that, it is a replayed token: the whole login (every token
    descending from it, whichever branch holds them) is revoked.
    """
    try:
        claims = tokens.decode(refresh_token, "refresh")
    except tokens.InvalidToken as exc:
        raise Unauthorized("登录已过期，请重新登录", code="refresh_invalid") from exc
    grace = timedelta(seconds=get_settings().refresh_reuse_grace_seconds)
    try:
        account = _load_valid(session, claims, rotated_grace=grace)
    except Unauthorized as exc:
        if session.get(RevokedToken, claims.jti) is not None:
            _revoke_family(session, claims.family)  # replay of a rotated or logged-out token
            raise Unauthorized("登录已失效，请重新登录", code="token_revoked",
                               keep_changes=True) from exc
        raise
    rotated_at = _revoke(session, claims.jti, claims.expires_at, rotated=True)
    return issue_session(account, method=claims.method, family=claims.family,
                         derived_from=claims.jti, issued_at=rotated_at)


def _revoke_family(session: Session, family: str) -> None:
    key = _family_key(family)
    if session.get(RevokedToken, key) is None:
        expires = now() + timedelta(days=get_settings().refresh_token_days, minutes=1)
        try:
            with session.begin_nested():
                session.add(RevokedToken(jti=key, expires_at=expires))
        except IntegrityError:
            pass  # revoked at the same moment by another request


def _revoke(session: Session, jti: str, expires_at: datetime, *, rotated: bool = False) -> datetime:
    """Denylist a token id. A rotation keeps its first time (returned); a logout ends any grace."""
    current = now().replace(microsecond=0)
    row = session.get(RevokedToken, jti)
    if row is None:
        try:
            with session.begin_nested():  # two tabs refreshing at once: the first row stands
                row = RevokedToken(jti=jti, expires_at=expires_at,
                                   rotated_at=current if rotated else None)
                session.add(row)
        except IntegrityError:
            row = session.get(RevokedToken, jti)
    if row is not None and not rotated and row.rotated_at is not None:
        row.rotated_at = None
        session.add(row)
        session.flush()
    return row.rotated_at if row is not None and row.rotated_at is not None else current


def logout(session: Session, *, access_token: str | None, refresh_token: str | None) -> None:
    """Denylist the presented tokens so they fail on every server process."""
    for token, kind in ((access_token, "access"), (refresh_token, "refresh")):
        if not token:
            continue
        try:
            claims = tokens.decode(token, kind)
        except tokens.InvalidToken:
            continue
        _revoke(session, claims.jti, claims.expires_at)
        _revoke_family(session, claims.family)  # also a successor the client never received


def logout_everywhere(session: Session, *, account: UserAccount) -> None:
    account.token_version += 1
    session.add(account)
    session.flush()


# --- grants ----------------------------------------------------------------------------------


_STANDING = select(RoleGrant.role).where(
    RoleGrant.user_id == bindparam("user_id"), RoleGrant.compound_id == bindparam("compound_id"),
    RoleGrant.revoked_at.is_(None),
)


def standing(session: Session, *, user: UserAccount, compound_id: int,
             password_session: bool) -> set[Role]:
    """The caller's active staff roles in a compound (ownership is roster's: see app/deps.py).

    A session opened by a one-time code (`password_session` false) has none: staff grants and
    the platform role need the password, so a stolen or SIM-swapped phone never opens them.
    """
    if not password_session:
        return set()
    roles = {Role(role) for role in session.connection().execute(
        _STANDING, {"user_id": user.id, "compound_id": compound_id}).scalars()}
    if user.is_platform_admin:
        roles.add(Role.PLATFORM_ADMIN)
    return roles


def granted_roles(session: Session, *, user: UserAccount, compound_id: int) -> set[Role]:
    roles = set(
        session.execute(
            select(RoleGrant.role).where(
                RoleGrant.user_id == user.id,
                RoleGrant.compound_id == compound_id,
                RoleGrant.revoked_at.is_(None),
            )
        ).scalars()
    )
    if user.is_platform_admin:
        roles.add(Role.PLATFORM_ADMIN)
    return {Role(r) for r in roles}


# Observers (两代表一委员, DOMAIN §6) watch the committee, the reviewers and the property company:
# one account is never both an observer and one of those in the same compound.
OBSERVED_ROLES = OBSERVED


def active_roles(session: Session, *, compound_id: int, user_id: int) -> set[Role]:
    """The roles granted to the account in the compound and not revoked."""
    return {Role(r) for r in session.execute(
        select(RoleGrant.role).where(
            RoleGrant.user_id == user_id, RoleGrant.compound_id == compound_id,
            RoleGrant.revoked_at.is_(None),
        )
    ).scalars()}


def grant_organization(session: Session, *, compound_id: int, user_id: int, role: Role) -> str | None:
    """The organization of the account's first active grant of the role in the compound."""
    return session.execute(
        select(RoleGrant.organization).where(
            RoleGrant.compound_id == compound_id, RoleGrant.user_id == user_id,
            RoleGrant.role == role, RoleGrant.revoked_at.is_(None),
        ).order_by(RoleGrant.id)
    ).scalars().first()


def check_observer_independent(session: Session, *, compound_id: int, account: UserAccount,
                               role: Role) -> None:
    """Refuse an observer who holds a staff role, and a staff role for a current observer."""
    held = active_roles(session, compound_id=compound_id, user_id=account.id or 0)
    if role == Role.OBSERVER and (account.is_platform_admin or held & OBSERVED_ROLES):
        raise Conflict("该账号在本小区担任业委会委员、审核人、物业工作人员或平台管理员，不能同时担任观察员",
                       code="observer_holds_staff_role")
    if role in OBSERVED_ROLES and Role.OBSERVER in held:
        raise Conflict("该账号是本小区的观察员，不能同时担任业委会委员、审核人或物业工作人员；"
                       "如需改任，请先撤销其观察员身份", code="staff_role_for_observer")


def grant_role(
    session: Session, *, compound_id: int, user_id: int, role: Role, organization: str,
    actor: Actor,
) -> RoleGrant:
    if role not in GRANTABLE_ROLES:
        raise Invalid("该角色不能授予", code="role_not_grantable")
    account = session.get(UserAccount, user_id)
    if account is None:
        raise NotFound("账号不存在", code="user_not_found")
    if not account.is_active:
        raise Conflict("该账号已停用，请先启用再授予角色", code="account_disabled")
    existing = session.execute(
        select(RoleGrant).where(
            RoleGrant.user_id == user_id, RoleGrant.compound_id == compound_id,
            RoleGrant.role == role, RoleGrant.revoked_at.is_(None),
        )
    ).scalar_one_or_none()
    if existing:
        raise Conflict("该账号已有此角色", code="role_already_granted")
    check_observer_independent(session, compound_id=compound_id, account=account, role=role)
    grant = RoleGrant(
        compound_id=compound_id, user_id=user_id, role=role, organization=organization,
        granted_by=actor.user_id,
    )
    session.add(grant)
    session.flush()
    append_event(
        session, compound_id=compound_id, actor=actor, action="role.granted",
        object_type="role_grant", object_id=grant.id or 0,
        payload={"user_id": user_id, "username": account.username,
                 "display_name": account.display_name, "role": role.value,
                 "role_label": ROLE_LABELS[role], "organization": organization},
    )
    return grant


def find_grant(session: Session, *, compound_id: int, grant_id: int) -> RoleGrant | None:
    grant = session.get(RoleGrant, grant_id)
    return grant if grant is not None and grant.compound_id == compound_id else None


def revoke_role(session: Session, *, compound_id: int, grant_id: int, actor: Actor) -> RoleGrant:
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.compound_id != compound_id:
        raise NotFound("授权记录不存在", code="grant_not_found")
    if grant.revoked_at is not None:
        raise Conflict("该授权已撤销", code="grant_already_revoked")
    grant.revoked_at = now()
    session.add(grant)
    holder = session.get(UserAccount, grant.user_id)
    append_event(
        session, compound_id=compound_id, actor=actor, action="role.revoked",
        object_type="role_grant", object_id=grant_id,
        payload={"user_id": grant.user_id, "username": holder.username if holder else None,
                 "display_name": holder.display_name if holder else None,
                 "role": Role(grant.role).value, "role_label": ROLE_LABELS[Role(grant.role)]},
    )
    return grant


def list_grants(session: Session, *, compound_id: int) -> list[tuple[RoleGrant, UserAccount]]:
    rows = session.execute(
        select(RoleGrant, UserAccount)
        .join(UserAccount, UserAccount.id == RoleGrant.user_id)
        .where(RoleGrant.compound_id == compound_id, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.id)
    ).all()
    return [(g, u) for g, u in rows]


def compounds_with_grants(session: Session, *, user: UserAccount) -> dict[int, set[Role]]:
    out: dict[int, set[Role]] = {}
    for compound_id, role in session.execute(
        select(RoleGrant.compound_id, RoleGrant.role).where(
            RoleGrant.user_id == user.id, RoleGrant.revoked_at.is_(None)
        )
    ):
        out.setdefault(compound_id, set()).add(Role(role))
    return out


def list_staff_accounts(session: Session) -> list[UserAccount]:
    return list(
        session.execute(
            select(UserAccount).where(UserAccount.username.is_not(None)).order_by(UserAccount.id)
        ).scalars()
    )


# --- account administration: disable, enable, password resets and changes --------------------

# A temporary password: three groups of four from an alphabet without look-alikes (0/O, 1/l/I),
# about 62 bits; read out or written down once, then replaced by its holder.
_TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password() -> str:
    while True:
        groups = ["".join(secrets.choice(_TEMP_ALPHABET) for _ in range(4)) for _ in range(3)]
        candidate = "-".join(groups)
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def search_staff_accounts(session: Session, *, q: str | None = None) -> list[UserAccount]:
    """Staff accounts (those with a username), optionally those whose name or username holds `q`."""
    stmt = select(UserAccount).where(UserAccount.username.is_not(None))
    text = " ".join(unicodedata.normalize("NFKC", q or "").split())
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            func.lower(UserAccount.username).like(pattern.casefold(), escape="\\")
            | UserAccount.display_name.like(pattern, escape="\\")
        )
    return list(session.execute(stmt.order_by(UserAccount.id)).scalars())


def grants_of_accounts(session: Session, *, user_ids: Iterable[int]) -> dict[int, list[RoleGrant]]:
    """The active grants of each account, by account id (for the administrator's account list)."""
    ids = sorted(set(user_ids))
    out: dict[int, list[RoleGrant]] = {i: [] for i in ids}
    if not ids:
        return out
    for grant in session.execute(
        select(RoleGrant).where(RoleGrant.user_id.in_(ids), RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.compound_id, RoleGrant.id)
    ).scalars():
        out[grant.user_id].append(grant)
    return out


def _staff_account(session: Session, user_id: int) -> UserAccount:
    account = session.get(UserAccount, user_id)
    if account is None or account.username is None:
        raise NotFound("账号不存在", code="user_not_found")
    return account


def _audit_account(session: Session, *, account: UserAccount, actor: Actor, action: str,
                   payload: dict[str, object]) -> None:
    """Record an account change in the trail of every compound where it holds or held a grant."""
    compound_ids = session.execute(
        select(RoleGrant.compound_id).where(RoleGrant.user_id == account.id).distinct()
    ).scalars().all()
    body = {"user_id": account.id, "username": account.username,
            "display_name": account.display_name, **payload}
    for compound_id in sorted(compound_ids):
        append_event(session, compound_id=compound_id, actor=actor, action=action,
                     object_type="user_account", object_id=account.id or 0, payload=body)


def set_account_active(session: Session, *, user_id: int, active: bool, reason: str,
                       actor: Actor) -> UserAccount:
    """Disable (every session ends at once: access and refresh tokens alike) or re-enable."""
    account = _staff_account(session, user_id)
    if not active and account.id == actor.user_id:
        raise Conflict("不能停用自己的账号", code="cannot_disable_self")
    if account.is_active == active:
        raise Conflict("该账号已是启用状态" if active else "该账号已停用",
                       code="account_already_active" if active else "account_already_disabled")
    account.is_active = active
    if not active:
        account.token_version += 1
    session.add(account)
    session.flush()
    _audit_account(session, account=account, actor=actor,
                   action="account.enabled" if active else "account.disabled",
                   payload={"reason": reason})
    return account


def reset_password(session: Session, *, user_id: int, reason: str,
                   actor: Actor) -> tuple[UserAccount, str]:
    """A forgotten password: a temporary one, shown once to the administrator, to be changed
    at the next sign-in; every session of the account ends, and its failure count is cleared."""
    account = _staff_account(session, user_id)
    if account.id == actor.user_id:
        raise Conflict("不能重置自己的密码，请使用“修改密码”", code="cannot_reset_self")
    password = temporary_password()
    account.password_hash = hash_password(password)
    account.must_change_password = True
    account.token_version += 1
    session.add(account)
    session.execute(delete(RateLimitHit).where(
        RateLimitHit.key == _failure_key(normalize_username(account.username or ""))))
    session.flush()
    _audit_account(session, account=account, actor=actor, action="account.password_reset",
                   payload={"reason": reason})
    return account, password


def change_password(session: Session, *, account: UserAccount, current: str, new: str) -> UserAccount:
    """The holder changes their own password (the current one proves it is them).

    Every token of the account is revoked; the caller is given a fresh session by the router.
    Wrong current passwords count against the same limit as failed logins.
    """
    if not account.password_hash or not account.username:
        raise Invalid("该账号没有密码（业主使用手机验证码登录）", code="no_password")
    key = _failure_key(normalize_username(account.username))
    _check_rate(session, key=key, limit=10, window=timedelta(minutes=15),
                message="密码错误次数过多，请15分钟后再试")
    ok, _ = verify_password(current, account.password_hash)
    if not ok:
        _record_hit(session, key)
        raise Invalid("当前密码不正确", code="current_password_wrong", keep_changes=True)
    if account.is_platform_admin:
        validate_admin_password(new, username=account.username)
    else:
        validate_new_password(new)
    if new == current:
        raise Invalid("新密码不能与当前密码相同", code="password_unchanged")
    account.password_hash = hash_password(new)
    account.must_change_password = False
    account.token_version += 1
    session.add(account)
    session.flush()
    _audit_own_password_change(session, account=account)
    return account


def _audit_own_password_change(session: Session, *, account: UserAccount) -> None:
    """Record the change in each compound where the account holds a role, acting in that role."""
    grants = session.execute(
        select(RoleGrant.compound_id, RoleGrant.role)
        .where(RoleGrant.user_id == account.id, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.compound_id, RoleGrant.id)
    ).all()
    roles: dict[int, str] = {}
    for compound_id, role in grants:
        roles.setdefault(compound_id, str(role))
    body = {"user_id": account.id, "username": account.username,
            "display_name": account.display_name}
    for compound_id, role in sorted(roles.items()):
        append_event(session, compound_id=compound_id, actor=Actor(user_id=account.id, role=role),
                     action="account.password_changed", object_type="user_account",
                     object_id=account.id or 0, payload=body)
