"""Request and response shapes of work orders."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas import AwareDatetimeIn, InputModel

Category = Literal["urgent_repair", "repair", "cleaning", "greening", "order", "facility", "other"]
Rating = Literal["satisfied", "basic", "unsatisfied"]
Status = Literal["reported", "dispatched", "accepted", "done", "rated", "closed"]


class WorkOrderIn(InputModel):
    category: Category
    text: str = Field(min_length=1, max_length=2000)
    location: str = Field(min_length=1, max_length=100)
    photo_file_ids: list[int] = Field(default_factory=list, max_length=3)
    # A grid worker reports for an owner: the owner's phone in the roster. Owners leave it out.
    owner_phone: str | None = Field(default=None, max_length=20)


class DispatchIn(InputModel):
    due_at: AwareDatetimeIn | None = None  # default: by category (README 三单一访)
    note: str = Field(default="", max_length=300)


class DoneIn(InputModel):
    note: str = Field(min_length=1, max_length=2000)
    photo_file_ids: list[int] = Field(default_factory=list, max_length=3)


class RateIn(InputModel):
    rating: Rating
    comment: str = Field(default="", max_length=500)


class VisitIn(InputModel):
    note: str = Field(min_length=1, max_length=2000)


class WorkOrderStepOut(BaseModel):
    kind: str
    kind_label: str
    at: datetime
    actor_role_label: str
    note: str
    rating: str | None
    rating_label: str | None
    due_at: datetime | None
    file_ids: list[int]


class WorkOrderOut(BaseModel):
    id: int
    category: str
    category_label: str
    text: str
    location: str
    photo_file_ids: list[int]
    owner_phone_masked: str
    reported_role_label: str
    status: Status
    status_label: str
    overdue: bool
    due_at: datetime | None
    reported_at: datetime
    dispatched_at: datetime | None
    accepted_at: datetime | None
    done_at: datetime | None
    rated_at: datetime | None
    reopened_at: datetime | None
    visited_at: datetime | None
    dispatch_note: str
    done_note: str
    done_photo_file_ids: list[int]
    rating: str | None
    rating_label: str | None
    rating_comment: str
    visit_note: str
    actions: list[str]  # the next step the caller may take: dispatch, accept, done, rate, visit
    steps: list[WorkOrderStepOut]


class CountOut(BaseModel):
    key: str
    label: str
    count: int


class WorkOrderStatsOut(BaseModel):
    """Anonymous: counts and averages only."""

    total: int
    by_status: list[CountOut]
    by_category: list[CountOut]
    overdue: int
    average_handling_hours: float | None
    rated: int
    satisfied_share: float | None


class CategoryOut(BaseModel):
    key: str
    label: str
