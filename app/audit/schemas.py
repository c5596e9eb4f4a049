"""Response shapes for the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class EventOut(BaseModel):
    seq: int
    occurred_at: str
    actor_user_id: int | None
    actor_role: str
    action: str
    object_type: str
    object_id: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class ExportedEventOut(EventOut):
    """An event as exported (event_record): what the chain hashes, with its compound."""

    type: Literal["event"]
    compound_id: int


class EventPage(BaseModel):
    head_seq: int
    head_hash: str
    items: list[EventOut]


class CheckpointOut(BaseModel):
    id: int
    seq: int
    head_hash: str
    signed_at: datetime
    reason: str
    key_id: str
    signature: str


class ProblemOut(BaseModel):
    position: int
    seq: int | None
    kind: str
    message: str


class VerifyOut(BaseModel):
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    first_problem: ProblemOut | None
    checkpoints_checked: int
    checkpoint_problems: list[ProblemOut]
