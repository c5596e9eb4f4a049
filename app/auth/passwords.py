"""Password hashing: argon2 first, bcrypt still accepted and upgraded on login."""

from __future__ import annotations

from passlib.context import CryptContext

from app.config import get_settings

# Tests use cheap argon2 parameters (hashing cost is not what they test); deployments keep
# passlib's defaults (64 MiB, 3 passes).
_cheap = {"argon2__memory_cost": 1024, "argon2__rounds": 1, "bcrypt__rounds": 4}
_context = CryptContext(
    schemes=["argon2", "bcrypt"], deprecated="auto",
    **(_cheap if get_settings().env == "test" else {}),
)

MIN_LENGTH = 8
MAX_LENGTH = 1024


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, stored: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (ok, new_hash) where new_hash is set when it must be rehashed."""
    if not stored:
        _context.dummy_verify()
        return False, None
    if _context.identify(stored) == "bcrypt":
        # bcrypt only ever saw the first 72 bytes; legacy systems truncated silently.
        ok = _context.verify(_bcrypt_secret(password), stored)
        return bool(ok), (hash_password(password) if ok else None)
    ok, new_hash = _context.verify_and_update(password, stored)
    return bool(ok), new_hash


def _bcrypt_secret(password: str) -> bytes:
    return password.encode("utf-8")[:72]


def bcrypt_hash(password: str) -> str:
    """Only for tests and migrations of legacy accounts."""
    return _context.handler("bcrypt").hash(_bcrypt_secret(password))
