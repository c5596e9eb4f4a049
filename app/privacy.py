"""Masking of personal data (PIPL): phone numbers, names and ID numbers."""

from __future__ import annotations

import hashlib
import hmac
import re

from app.config import get_settings

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str | None:
    """Return an 11-digit mainland mobile number, or None when it is not one."""
    digits = re.sub(r"[\s\-]", "", raw or "")
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
    key = get_settings().id_hash_key.encode()
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()
