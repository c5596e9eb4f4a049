"""Request shapes for procedures (responses are shaped in views.py)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.schemas import DateIn, InputModel


class ProcedureSettingsIn(InputModel):
    template_key: str | None = Field(description="shipped key, custom-<id>, or null to stop (admin only)")
    extra_major_matters: list[dict[str, Any]] | None = Field(
        default=None, max_length=50,
        description='[{"key": "lift", "label": "加装电梯", "categories": ["7"], "keywords": ["电梯"]}]',
    )


class TemplateIn(InputModel):
    """A template as data; its shape and order are checked by app.procedures.templates."""

    name: str
    description: str = ""
    source: str = ""
    steps: list[dict[str, Any]]


class ProposalIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=50000)
    matter_type: str = Field(min_length=1, max_length=40)
    category: str | None = Field(default=None, max_length=20)
    proposer_body: Literal["party_branch", "committee", "property_company"]
    document_file_ids: list[int] = Field(default_factory=list, max_length=20)


class RevisionIn(InputModel):
    title: str = Field(min_length=1, max_length=200)
    text: str = Field(min_length=1, max_length=50000)
    note: str = Field(min_length=1, max_length=1000)
    document_file_ids: list[int] = Field(default_factory=list, max_length=20)


class DecisionIn(InputModel):
    step_key: str = Field(min_length=1, max_length=40)
    action: Literal["approve", "return", "reject"]
    opinion: str = Field(min_length=1, max_length=10000)
    meeting_date: DateIn | None = None
    attendees: list[str] = Field(default_factory=list, max_length=50)
    file_ids: list[int] = Field(default_factory=list, max_length=20)


class LinkIn(InputModel):
    ballot_id: int
    matter_id: int


class PublicationIn(InputModel):
    step_key: str = Field(min_length=1, max_length=40)
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)
    attachment_file_ids: list[int] = Field(default_factory=list, max_length=20)


class ObservationIn(InputModel):
    text: str = Field(min_length=1, max_length=4000)


class ObserverIn(InputModel):
    username: str = Field(min_length=1, max_length=50)
    organization: str = Field(min_length=1, max_length=100, description="e.g. 区人大代表")
