"""Request shapes for ballots, votes, proxies, paper ballots and objections."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from app.roster.schemas import EntranceIn
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
    affected_entrances: list[EntranceIn] = Field(default_factory=list, max_length=200)
    document_file_ids: list[int] = Field(default_factory=list, max_length=20)


class BallotIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)
    starts_at: AwareDatetimeIn
    ends_at: AwareDatetimeIn
    scope_building_ids: list[int] = Field(default_factory=list)
    scope_entrances: list[EntranceIn] = Field(default_factory=list, max_length=200)
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


class PostponeIn(InputModel):
    reason: str = Field(min_length=1, max_length=500)
    starts_at: AwareDatetimeIn
    ends_at: AwareDatetimeIn


class PaperIn(InputModel):
    subject_id: int
    choices: dict[str, Any]
    scan_file_id: int


class ResolveIn(InputModel):
    accept_incoming: bool
    note: str = Field(min_length=1, max_length=1000)


class ObjectionIn(InputModel):
    subject_id: int
    text: str = Field(min_length=1, max_length=1000)


class AnswerIn(InputModel):
    answer: str = Field(min_length=1, max_length=4000)


THRESHOLD_PATTERN = r"^\s*(>=|≥|>)\s*\d+\s*/\s*\d+\s*$"


class ThresholdsIn(InputModel):
    """Stricter Art. 278 levels; a level left out keeps its value, null returns it to the statute."""

    quorum: str | None = Field(
        default=None, pattern=THRESHOLD_PATTERN, examples=[">=3/4"],
        description="参与表决比例（面积和人数），适用于全部事项；法定 >=2/3")
    simple_majority: str | None = Field(
        default=None, pattern=THRESHOLD_PATTERN, examples=[">=2/3"],
        description="一般事项（第一至五、九项）的同意比例；法定 >1/2")
    special_majority: str | None = Field(
        default=None, pattern=THRESHOLD_PATTERN, examples=[">=4/5"],
        description="特别事项（第六至八项）的同意比例；法定 >=3/4")


class VotingSettingsIn(InputModel):
    """A change of the compound's voting rules: fields left out keep their value. It applies to
    ballots whose meeting notice is published after it."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [{"proxy_limit": 2, "thresholds": {"quorum": ">=3/4"}}]})

    notice_days: int | None = Field(default=None, ge=1, le=90)
    min_voting_days: int | None = Field(default=None, ge=1, le=365)
    max_voting_days: int | None = Field(default=None, ge=1, le=365)
    objection_days: int | None = Field(default=None, ge=1, le=30)
    proxy_limit: int | None = Field(default=None, ge=1, le=50)
    publish_unit_record: bool | None = None
    thresholds: ThresholdsIn | None = None
