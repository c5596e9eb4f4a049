"""Response shapes for the audit trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.audit.vocabulary import GROUPS, OBJECTS
from app.schemas import OutputModel


class RawEventOut(BaseModel):
    """An event exactly as the chain hashes it."""

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


class ActorOut(OutputModel):
    """Who acted: staff by name, role in the compound and organization; owners masked."""

    user_id: int | None
    name: str
    role: str
    role_label: str
    organization: str
    masked: bool
    text: str  # e.g. 王建国（业委会委员）


class DetailOut(OutputModel):
    """One payload field in words; `link` is the front-end screen of the object it names,
    `object_type`/`object_id` that object for the trail's object filter."""

    label: str
    value: str
    link: str | None
    object_type: str | None
    object_id: str | None


class EventOut(RawEventOut):
    """An event as hashed, and its reading: a sentence, its group, its object and actor."""

    description: str
    group: str | None
    group_label: str
    object_label: str
    object_link: str | None
    actor: ActorOut
    details: list[DetailOut]


class ExportedEventOut(RawEventOut):
    """An event as exported (event_record): what the chain hashes, with its compound."""

    type: Literal["event"]
    compound_id: int


class EventPage(BaseModel):
    head_seq: int
    head_hash: str
    items: list[EventOut]
    # Whether more events match past this page (read the next one with after_seq or
    # before_seq set to the last item's seq).
    has_more: bool


class GroupOut(OutputModel):
    key: str
    label: str


class ObjectTypeOut(OutputModel):
    key: str
    label: str


class VocabularyOut(OutputModel):
    """The filter's choices: action groups and object types, with their Chinese names."""

    groups: list[GroupOut]
    object_types: list[ObjectTypeOut]


class CheckpointOut(BaseModel):
    id: int
    seq: int
    head_hash: str
    signed_at: datetime
    reason: str
    reason_label: str  # the reason in Chinese (表决 #3 结束计票)
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


class EventQuery(BaseModel):
    """Query parameters of the trail: unknown ones are refused (422 `unknown_field`)."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = Field(None, title="操作类别", description="操作类别：" + "、".join(f"{k}（{v}）" for k, v in GROUPS.items()))
    since: date | None = Field(None, description="自该日起（北京时间，含当日），如 2026-12-01")
    until: date | None = Field(None, description="至该日止（北京时间，含当日）")
    object_type: str | None = Field(None, description="对象类型，须与 object_id 同时给出："
                                    + "、".join(f"{k}（{o.noun}）" for k, o in OBJECTS.items()))
    object_id: int | None = Field(None, ge=0, description="对象编号")
    after_seq: int = Field(0, ge=0, description="从该序号之后读起（升序）")
    before_seq: int | None = Field(None, ge=1, le=2**31 - 1, description="读该序号之前的记录（最新在前）")
    limit: int = Field(100, ge=1, le=500, description="每页条数")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str | None) -> str | None:
        if value is not None and value not in GROUPS:
            raise ValueError("取值不正确，可选：" + "、".join(GROUPS))
        return value

    @field_validator("object_type")
    @classmethod
    def _known_object(cls, value: str | None) -> str | None:
        if value is not None and value not in OBJECTS:
            raise ValueError("取值不正确，可选：" + "、".join(OBJECTS))
        return value
