"""Every use of python-jose lives here: HS256 only, algorithms pinned, exp/iss/aud checked."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from jose import JWTError, jwt

from app.clock import now
from app.config import get_settings

ALGORITHM = "HS256"
TokenType = Literal["access", "refresh"]
# How the session was authenticated (RFC 8176 "amr" values): a password, or a one-time code
# sent by SMS. Only a password session may act on staff grants; a token without the claim
# (issued before it existed) counts as a code session, the lesser of the two.
AuthMethod = Literal["pwd", "otp"]


class InvalidToken(Exception):
    """The token is malformed, expired, of the wrong type or signed with another key."""


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    token_type: TokenType
    jti: str
    version: int
    csrf: str
    expires_at: datetime
    method: AuthMethod = "otp"
    family: str = ""  # the login this token descends from through refresh rotations
    issued_at: datetime | None = None


def _secret() -> str:
    secret = get_settings().secret_key
    if len(secret.encode()) < 32:
        raise RuntimeError("JWT secret must be at least 32 bytes")
    return secret


def issue(
    user_id: int, version: int, token_type: TokenType, csrf: str, *, method: AuthMethod,
    family: str | None = None, jti: str | None = None, issued_at: datetime | None = None,
) -> tuple[str, TokenClaims]:
    """Sign a token of the given type for a user; the csrf value binds cookie and header.

    Given the same jti, csrf and issued_at, the same token comes out (HS256 is deterministic):
    that is how a refresh retried within its grace period gets the very same successor.
    """
    settings = get_settings()
    issued = (issued_at or now()).replace(microsecond=0)
    ttl = (
        timedelta(minutes=settings.access_token_minutes)
        if token_type == "access"
        else timedelta(days=settings.refresh_token_days)
    )
    claims = TokenClaims(
        user_id=user_id,
        token_type=token_type,
        jti=jti or secrets.token_hex(16),
        version=version,
        csrf=csrf,
        expires_at=issued + ttl,
        method=method,
        family=family or secrets.token_hex(16),
        issued_at=issued,
    )
    payload = {
        "sub": str(user_id),
        "typ": token_type,
        "jti": claims.jti,
        "ver": version,
        "csrf": csrf,
        "amr": [claims.method],
        "fam": claims.family,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(issued.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    return jwt.encode(payload, _secret(), algorithm=ALGORITHM), claims


def decode(token: str, expected_type: TokenType) -> TokenClaims:
    """Verify signature, algorithm, issuer, audience, expiry and type."""
    settings = get_settings()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        payload = jwt.decode(
            token,
            _secret(),
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            # exp is checked below against the injectable clock ("require_exp" would force
            # python-jose's own wall-clock check back on).
            # python-jose accepts a token without "aud" even when an audience is given.
            options={"require_aud": True, "require_iss": True,
                     "require_sub": True, "require_jti": True, "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False},
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    exp = payload.get("exp")
    if not isinstance(exp, int) or exp <= int(now().timestamp()):
        raise InvalidToken("expired")
    if payload.get("typ") != expected_type:
        raise InvalidToken("wrong token type")
    amr = payload.get("amr")
    method: AuthMethod = "pwd" if isinstance(amr, list) and amr == ["pwd"] else "otp"
    try:
        from datetime import UTC

        return TokenClaims(
            user_id=int(payload["sub"]),
            token_type=expected_type,
            jti=str(payload["jti"]),
            version=int(payload["ver"]),
            csrf=str(payload["csrf"]),
            expires_at=datetime.fromtimestamp(exp, UTC),
            method=method,
            family=str(payload.get("fam") or payload["jti"]),
            issued_at=datetime.fromtimestamp(payload["iat"], UTC)
            if isinstance(payload.get("iat"), int) else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidToken("malformed claims") from exc
