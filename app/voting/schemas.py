"""Request shapes for ballots, votes, proxies, paper ballots and objections."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.schemas import AwareDatetimeIn, InputModel


class CandidateIn(InputModel):
    name: str = Field(min_length=1, max_length=50)
    intro: str = Field(default="", max_length=1000)


class MatterIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    category: str = Field(description="1-9 (Art. 278 items), survey, or art279")
    description: str = Field(default="", max_length=20000)
    seats: int | None = None
    candidates: list[CandidateIn] = Field(default_factory=list, max_length=100)
    affected_building_ids: list[int] = Field(default_factory=list)
    document_file_ids: list[int] = Field(default_factory=list, max_length=20)


class BallotIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    starts_at: AwareDatetimeIn
    ends_at: AwareDatetimeIn
    scope_building_ids: list[int] = Field(default_factory=list)
    matters: list[MatterIn] = Field(min_length=1, max_length=50)


class NoticeIn(InputModel):
    extra_body: str = Field(default="", max_length=20000)


class VoteIn(InputModel):
    subject_id: int
    choices: dict[str, Any] = Field(
        description='{"<matter_id>": "agree"|"oppose"|"abstain"} or {"<matter_id>": {"approve": [candidate ids]}}'
    )


class ProxyIn(InputModel):
    subject_id: int
    proxy_name: str = Field(min_length=1, max_length=50)
    proxy_phone: str = Field(min_length=6, max_length=20)
    document_file_id: int


class ReasonIn(InputModel):
    reason: str = Field(min_length=1, max_length=500)


class PaperIn(InputModel):
    subject_id: int
    choices: dict[str, Any]
    scan_file_id: int


class ResolveIn(InputModel):
    accept_incoming: bool
    note: str = Field(min_length=1, max_length=1000)


class ObjectionIn(InputModel):
    subject_id: int
    text: str = Field(min_length=1, max_length=2000)


class AnswerIn(InputModel):
    answer: str = Field(min_length=1, max_length=4000)


class SettingsIn(InputModel):
    notice_days: int | None = Field(default=None, ge=1, le=90)
    min_voting_days: int | None = Field(default=None, ge=1, le=365)
    max_voting_days: int | None = Field(default=None, ge=1, le=365)
    objection_days: int | None = Field(default=None, ge=1, le=30)
    proxy_limit: int | None = Field(default=None, ge=1, le=50)
    publish_unit_record: bool | None = None
    thresholds: ThresholdsIn | None = Field(
        default=None, description='{"quorum": ">=2/3", "simple_majority": ">1/2", "special_majority": ">=3/4"}'
    )


class ThresholdsIn(InputModel):
    """The compound's levels, e.g. ">=3/4"; a level left out is the statute's."""

    quorum: str | None = Field(default=None, max_length=20)
    simple_majority: str | None = Field(default=None, max_length=20)
    special_majority: str | None = Field(default=None, max_length=20)


class Timestamped(BaseModel):
    at: datetime
