"""Masking of personal data (PIPL): phone numbers, names and ID numbers."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable

from app.config import get_settings

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_PHONE_NOISE = re.compile(r"[\s\-]")


def normalize_phone(raw: str) -> str | None:
    """Return an 11-digit mainland mobile number, or None when it is not one."""
    digits = _PHONE_NOISE.sub("", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits if PHONE_RE.match(digits) else None


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"


def mask_name(name: str | None) -> str:
    """Keep the family name (or first character) only: 张三丰 → 张**."""
    if not name:
        return ""
    return name[0] + "*" * max(1, min(len(name) - 1, 2))


def hash_id_number(id_number: str) -> str:
    """Keyed hash of an ID number, so equal numbers match without storing them."""
    return id_number_hasher()(id_number)


def id_number_hasher() -> Callable[[str], str]:
    """`hash_id_number` with the key read once, for hashing many numbers (a roster import):
    HMAC-SHA256 in one call (`hmac.digest`), the same hash as `hmac.new(...).hexdigest()`."""
    key = get_settings().id_hash_key.encode()

    def hash_one(id_number: str) -> str:
        return hmac.digest(key, id_number.strip().upper().encode(), "sha256").hex()

    return hash_one
