"""Request and response shapes for notices, and the printable structured section."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from app.notices.models import DeliveryMethod, NoticeKind
from app.roster.schemas import EntranceIn, EntranceOut
from app.schemas import DateIn, DatetimeIn, FromText, InputModel

MAX_BODY = 50_000
# "compound", or building ids (none when the notice goes to single entrances only: audience_entrances)
Audience = Literal["compound"] | Annotated[list[int], Field(max_length=500)]
Entrances = Annotated[list[EntranceIn], Field(max_length=500)]
Cell = str | int


# --- structured section (printed on the PDF; validated before it is stored) -------------------


class TableSection(InputModel):
    """A table, e.g. the matters put to the vote."""

    type: Literal["table"]
    heading: str = Field(default="", max_length=100)
    columns: list[str] = Field(min_length=1, max_length=12)
    rows: list[list[Cell]] = Field(default_factory=list, max_length=2000)

    @model_validator(mode="after")
    def _rows_fit_columns(self) -> TableSection:
        width = len(self.columns)
        for row in self.rows:
            if len(row) != width:
                raise ValueError(f"each row needs {width} cells")
        return self


class ListSection(InputModel):
    """A numbered list."""

    type: Literal["list"]
    heading: str = Field(default="", max_length=100)
    items: list[str] = Field(min_length=1, max_length=2000)


class TextSection(InputModel):
    """A titled block of text."""

    type: Literal["text"]
    heading: str = Field(default="", max_length=100)
    text: str = Field(max_length=MAX_BODY)


Section = Annotated[TableSection | ListSection | TextSection, Field(discriminator="type")]


class StructuredContent(InputModel):
    """Canonical data a domain publishes with a notice: printed sections, plus machine data."""

    sections: list[Section] = Field(default_factory=list, max_length=50)
    data: dict[str, Any] | None = None  # kept for the publishing domain, never printed


# --- requests ---------------------------------------------------------------------------------


class NoticeCreate(InputModel):
    kind: Annotated[NoticeKind, FromText]
    title: str = Field(default="", max_length=200)
    body: str = Field(default="", max_length=MAX_BODY)
    audience: Audience = "compound"
    audience_entrances: Entrances = Field(default_factory=list)
    display_days: int = Field(default=15, ge=1, le=365)
    attachment_file_ids: list[int] = Field(default_factory=list, max_length=30)
    structured: StructuredContent | None = None


class NoticeUpdate(InputModel):
    """Fields of a draft to change; fields left out stay as they are."""

    kind: Annotated[NoticeKind, FromText] | None = None
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=MAX_BODY)
    audience: Audience | None = None
    audience_entrances: Entrances | None = None
    display_days: int | None = Field(default=None, ge=1, le=365)
    attachment_file_ids: list[int] | None = Field(default=None, max_length=30)
    structured: StructuredContent | None = None


class NoticeCorrectionIn(InputModel):
    """A correction: new title and body; audience, period, attachments and data kept if omitted."""

    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=MAX_BODY)
    audience: Audience | None = None
    audience_entrances: Entrances | None = None
    display_days: int | None = Field(default=None, ge=1, le=365)
    attachment_file_ids: list[int] | None = Field(default=None, max_length=30)
    structured: StructuredContent | None = None


class PostingIn(InputModel):
    posted_on: DateIn
    location: str = Field(min_length=1, max_length=200)
    photo_file_id: int


class PaperDeliveryIn(InputModel):
    subject_id: int
    evidence_file_id: int | None = None
    delivered_at: DatetimeIn | None = None  # defaults to now


# --- responses --------------------------------------------------------------------------------


class AttachmentOut(BaseModel):
    id: int
    file_name: str
    content_type: str
    size_bytes: int


class NoticeOut(BaseModel):
    id: int
    compound_id: int
    kind: NoticeKind
    kind_label: str
    title: str
    body: str
    audience: Literal["compound"] | list[int]
    audience_entrances: list[EntranceOut]
    audience_label: str
    display_days: int
    display_until: date | None
    status: Literal["draft", "on_display", "display_ended", "superseded"]
    status_label: str
    created_at: datetime
    published_at: datetime | None
    supersedes_id: int | None
    superseded_by_id: int | None
    superseded_at: datetime | None
    attachments: list[AttachmentOut]
    source_type: str | None
    source_id: str | None
    structured: dict[str, Any] | None
    content_sha256: str | None
    public_url: str


class NoticePage(BaseModel):
    total: int
    items: list[NoticeOut]


class PostingOut(BaseModel):
    id: int
    notice_id: int
    posted_on: date
    location: str
    photo_file_id: int
    recorded_by: int
    recorded_at: datetime


class DeliveryOut(BaseModel):
    id: int
    notice_id: int
    subject_id: int
    method: DeliveryMethod
    method_label: str
    delivered_at: datetime
    evidence_file_id: int | None


class SubjectReach(BaseModel):
    method: DeliveryMethod
    method_label: str
    delivered_at: datetime
    evidence_file_id: int | None


class ReachedSubject(BaseModel):
    subject_id: int
    label: str  # building/room of the subject's units; never names or phones
    reached_by: list[SubjectReach]


class UnreachedSubject(BaseModel):
    subject_id: int
    label: str


class DeliveryStatusOut(BaseModel):
    notice_id: int
    audience: Literal["compound"] | list[int]
    audience_entrances: list[EntranceOut]
    audience_label: str
    subject_count: int
    reached_count: int
    not_reached_count: int
    online_read_count: int
    paper_count: int
    reached: list[ReachedSubject]
    not_reached: list[UnreachedSubject]
    postings: list[PostingOut]
