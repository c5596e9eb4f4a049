"""Canonical JSON (RFC 8785 subset: no floats) and the event hash."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64


def _normalize(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        raise TypeError("floats are not allowed in canonical JSON; use integers (fen, 0.01 m²)")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in audit payload")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError("canonical JSON keys must be strings")
            out[k] = _normalize(v)
        # RFC 8785 orders keys by their UTF-16 code units.
        return dict(sorted(out.items(), key=lambda kv: kv[0].encode("utf-16-be")))
    if isinstance(value, list | tuple):
        return [_normalize(v) for v in value]
    if hasattr(value, "value") and isinstance(value.value, str | int):  # enums
        return value.value
    raise TypeError(f"value of type {type(value).__name__} is not canonical JSON")


def canonical_json(value: Any) -> str:
    """Serialize with sorted keys, no whitespace, UTF-8 text, integers only."""
    return json.dumps(_normalize(value), ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def format_time(value: datetime) -> str:
    return _normalize(value)  # type: ignore[no-any-return]


def event_hash(
    *,
    compound_id: int,
    seq: int,
    occurred_at: str,
    actor_user_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    payload_json: str,
    prev_hash: str,
) -> str:
    """SHA-256 over the canonical JSON of every field of the event but its own hash.

    The payload is stored already canonical, so the body is assembled as text (keys in sorted
    order) instead of re-parsing it: verification of long chains stays fast.
    """
    s = _dumps_str
    body = (
        '{"action":' + s(action)
        + ',"actor_role":' + s(actor_role)
        + ',"actor_user_id":' + ("null" if actor_user_id is None else str(int(actor_user_id)))
        + ',"compound_id":' + str(int(compound_id))
        + ',"object_id":' + s(object_id)
        + ',"object_type":' + s(object_type)
        + ',"occurred_at":' + s(occurred_at)
        + ',"payload":' + payload_json
        + ',"prev_hash":' + s(prev_hash)
        + ',"seq":' + str(int(seq))
        + "}"
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _dumps_str(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return json.dumps(value, ensure_ascii=False)
