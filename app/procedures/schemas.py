"""Request and response shapes for procedures (views.py fills the responses)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.audit.schemas import ExportedEventOut, VerifyOut
from app.schemas import DateIn, DatetimeOut, InputModel, OutputModel


class ProcedureSettingsIn(InputModel):
    template_key: str | None = Field(description="shipped key, custom-<id>, or null to stop (admin only)")
    extra_major_matters: list[dict[str, Any]] | None = Field(
        default=None, max_length=50,
        description='[{"key": "lift", "label": "加装电梯", "categories": ["7"], "keywords": ["电梯"]}]',
    )


class ProcedureTemplateIn(InputModel):
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


# --- responses -------------------------------------------------------------------------------


def _is_none(value: Any) -> bool:
    return value is None


def only_when_set() -> Any:
    """A key the answer carries only when it applies (e.g. a linked matter's title)."""
    return Field(default=None, exclude_if=_is_none)


class ProcedureStepOut(OutputModel):
    index: int
    key: str
    name: str
    kind: str
    kind_label: str
    creates: str | None
    roles: list[str]
    role_labels: list[str]
    actions: list[str]
    gate: bool
    only_if_passed: bool
    deadline_days: int | None
    organization: str
    description: str
    bodies: list[str]


class ProcedureTemplateOut(OutputModel):
    key: str
    shipped: bool
    name: str
    description: str
    source: str
    steps: list[ProcedureStepOut]


class ProcedureMajorMatterOut(OutputModel):
    key: str
    label: str
    categories: list[str]
    keywords: list[str]
    basis: str
    default: bool
    category_labels: list[str]


class ProcedureLabelOut(OutputModel):
    key: str
    label: str


class ProcedureCategoryOut(OutputModel):
    value: str
    label: str


class ProcedureSettingsOut(OutputModel):
    adopted: bool
    template_key: str | None
    adopted_at: DatetimeOut | None
    template: ProcedureTemplateOut | None
    major_matters: list[ProcedureMajorMatterOut]
    other_matter: ProcedureLabelOut
    bodies: dict[str, str]
    categories: list[ProcedureCategoryOut]
    disclaimer: str


class AgendaCurrentStepOut(OutputModel):
    index: int
    key: str
    name: str
    kind: str
    role_labels: list[str]
    waiting_for_revision: bool


class AgendaItemBaseOut(OutputModel):
    id: int
    compound_id: int
    title: str
    matter_type: str
    matter_label: str
    is_major: bool
    category: str | None
    category_label: str | None
    template_key: str
    template_name: str
    status: Literal["in_progress", "returned", "rejected", "closed"]
    status_label: str
    current_step: AgendaCurrentStepOut | None
    step_count: int
    version: int
    gate_passed: bool
    public: bool
    resolution_passed: bool | None
    created_at: DatetimeOut
    closed_at: DatetimeOut | None
    rejected_at: DatetimeOut | None


class AgendaItemSummaryOut(AgendaItemBaseOut):
    due_at: DatetimeOut | None
    overdue: bool


class AgendaFileOut(OutputModel):
    id: int
    file_name: str
    content_type: str
    size_bytes: int


class AgendaStepRecordOut(OutputModel):
    id: int
    step_index: int
    step_key: str
    step_name: str
    action: str
    action_label: str
    opinion: str
    data: dict[str, Any]
    version: int
    files: list[AgendaFileOut]
    by: str = Field(description="role and organization, never a name")
    actor_role: str
    at: DatetimeOut
    audit_seq: int | None


class AgendaStepRecordNamedOut(AgendaStepRecordOut):
    """A step record for staff and observers, with the acting person's name."""

    actor_name: str


class AgendaStepStateOut(ProcedureStepOut):
    state: str
    state_label: str


class AgendaVersionOut(OutputModel):
    version: int
    title: str
    text: str
    note: str
    files: list[AgendaFileOut]
    by: str
    submitted_by_name: str
    submitted_at: DatetimeOut
    audit_seq: int | None


class AgendaObservationOut(OutputModel):
    id: int
    text: str
    by: str
    observer_name: str
    at: DatetimeOut
    step_index: int
    audit_seq: int | None


class AgendaResolutionOut(OutputModel):
    passed: bool | None
    line: str


class AgendaBallotOut(OutputModel):
    """The ballot linked to an item; the matter's keys only while the matter exists, the
    resolution only once recorded."""

    ballot_id: int
    title: str
    status: str
    status_label: str
    starts_at: DatetimeOut
    ends_at: DatetimeOut
    notice_id: int | None
    result_notice_id: int | None
    matter_id: int | None
    matter_missing: bool
    noticed_before_adoption: bool
    opened: bool
    closed: bool
    published: bool
    matter_title: str | None = only_when_set()
    matter_position: int | None = only_when_set()
    category: str | None = only_when_set()
    category_label: str | None = only_when_set()
    resolution: AgendaResolutionOut | None = only_when_set()


class AgendaNoticeFileOut(OutputModel):
    id: int
    file_name: str


class AgendaNoticeOut(OutputModel):
    id: int
    title: str
    body: str
    kind: str
    kind_label: str
    published_at: DatetimeOut | None
    attachments: list[AgendaNoticeFileOut]


class ProcedureObserverAppointedOut(OutputModel):
    scope: Literal["compound", "item"]
    id: int
    user_id: int
    display_name: str
    organization: str
    item_id: int | None


class ProcedureObserverOut(ProcedureObserverAppointedOut):
    appointed_at: DatetimeOut


class ProcedureObserverRevokedOut(OutputModel):
    id: int
    revoked_at: DatetimeOut | None


class AgendaActionsOut(OutputModel):
    """What the caller may do now (the service checks again)."""

    decide: list[str]
    resubmit: bool
    link: bool
    resolve: bool
    publish: bool
    observe: bool
    appoint_observers: bool


class AgendaItemRecordOut(AgendaItemSummaryOut):
    """The full procedure record for staff and observers."""

    proposer_body_label: str
    steps: list[AgendaStepStateOut]
    versions: list[AgendaVersionOut]
    history: list[AgendaStepRecordNamedOut]
    observations: list[AgendaObservationOut]
    ballot: AgendaBallotOut | None
    notices: list[AgendaNoticeOut]
    observers: list[ProcedureObserverOut]
    my_actions: AgendaActionsOut
    disclaimer: str


class AgendaProposalOut(OutputModel):
    version: int
    title: str
    text: str
    files: list[AgendaFileOut]


class AgendaPublicDecisionOut(OutputModel):
    action: str
    action_label: str
    opinion: str
    data: dict[str, Any]
    version: int
    by: str
    at: DatetimeOut


class AgendaPublicStepOut(OutputModel):
    index: int
    key: str
    name: str
    kind_label: str
    organization: str
    description: str
    state: str
    state_label: str
    gate: bool
    decisions: list[AgendaPublicDecisionOut]


class AgendaTimelineOut(AgendaItemBaseOut):
    """The owners' page: roles and organizations, never names."""

    proposer_body_label: str
    proposal: AgendaProposalOut
    steps: list[AgendaPublicStepOut]
    ballot: AgendaBallotOut | None
    notices: list[AgendaNoticeOut]
    disclaimer: str
    generated_at: DatetimeOut


class LinkableMatterOut(OutputModel):
    id: int
    position: int
    title: str
    category: str
    category_label: str
    linked: bool
    linkable: bool
    reason: str
    reason_short: str


class LinkableBallotOut(OutputModel):
    id: int
    title: str
    status: str
    status_label: str
    noticed_before_adoption: bool
    matters: list[LinkableMatterOut]


class AgendaAuditOut(OutputModel):
    events: list[ExportedEventOut]
    verification: VerifyOut


class ReviewerQueueItemOut(AgendaItemSummaryOut):
    compound_name: str
    waiting_for_reviewer: bool
    documents: list[AgendaFileOut]
    history: list[AgendaStepRecordOut]


class ReviewerQueueOut(OutputModel):
    compound_ids: list[int]
    items: list[ReviewerQueueItemOut]
