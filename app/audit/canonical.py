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


def _is_plain(value: Any) -> bool:
    """Only text, integers, booleans, null, lists and dicts whose keys sort the same by code
    point as by UTF-16 code unit (no character at or above U+D800)."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (not key.isascii() and max(key) >= "\ud800"):
                return False
            if not _is_plain(item):
                return False
        return True
    if kind is list or kind is tuple:
        return all(map(_is_plain, value))
    return False


def canonical_json(value: Any) -> str:
    """Serialize with sorted keys, no whitespace, UTF-8 text, integers only."""
    if _is_plain(value):  # the common case: json's own key sort gives the same order
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return json.dumps(_normalize(value), ensure_ascii=False, separators=(",", ":"), sort_keys=False)


def format_time(value: datetime) -> str:
    return _normalize(value)


def checkpoint_message(
    *, compound_id: int, seq: int, head_hash: str, signed_at: str, reason: str
) -> bytes:
    """The signed bytes of a checkpoint: the chain head it vouches for, when and why."""
    return canonical_json(
        {
            "compound_id": compound_id,
            "seq": seq,
            "head_hash": head_hash,
            "signed_at": signed_at,
            "reason": reason,
        }
    ).encode("utf-8")


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
    return event_digest(compound_id, seq, occurred_at, actor_user_id, actor_role, action,
                        object_type, object_id, payload_json, prev_hash)


def event_digest(
    compound_id: int, seq: int, occurred_at: str, actor_user_id: int | None, actor_role: str,
    action: str, object_type: str, object_id: str, payload_json: str, prev_hash: str,
) -> str:
    """event_hash with positional arguments (the verifier's inner loop calls it per event)."""
    s = _dumps_str
    actor = "null" if actor_user_id is None else int(actor_user_id)
    body = (
        f'{{"action":{s(action)},"actor_role":{s(actor_role)},"actor_user_id":{actor},'
        f'"compound_id":{int(compound_id)},"object_id":{s(object_id)},'
        f'"object_type":{s(object_type)},"occurred_at":{s(occurred_at)},"payload":{payload_json},'
        f'"prev_hash":{s(prev_hash)},"seq":{int(seq)}}}'
    )
    return _sha256(body.encode("utf-8")).hexdigest()


def event_hash_prefix(
    compound_id: int, occurred_at: str, actor_user_id: int | None, actor_role: str, action: str,
    object_type: str, object_id: str, payload_json: str,
) -> str:
    """The hashed body of an event up to its previous hash's opening quote.

    The body is this, the previous hash (lowercase hex), `","seq":`, the sequence number and `}`:
    PostgreSQL completes and hashes it in the statement that takes the chain head's lock
    (audit.service), so no round trip to the application happens while the lock is held.
    """
    s = _dumps_str
    actor = "null" if actor_user_id is None else int(actor_user_id)
    return (
        f'{{"action":{s(action)},"actor_role":{s(actor_role)},"actor_user_id":{actor},'
        f'"compound_id":{int(compound_id)},"object_id":{s(object_id)},'
        f'"object_type":{s(object_type)},"occurred_at":{s(occurred_at)},"payload":{payload_json},'
        '"prev_hash":"'
    )


_sha256 = hashlib.sha256


# The C encoder json.dumps(text, ensure_ascii=False) ends in, without its per-call setup: the
# same output, a fraction of the cost (verification hashes five strings per event).
_encode_text = json.encoder.encode_basestring


def _dumps_str(value: str) -> str:
    if type(value) is not str and not isinstance(value, str):
        raise TypeError("expected text")
    return _encode_text(value)
