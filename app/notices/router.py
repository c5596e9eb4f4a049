"""Notices: drafting and publishing (committee), reading and printing (every member), delivery."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.auth.roles import MANAGERS, OWNERS, STAFF
from app.db import transaction
from app.deps import CompoundAccess, SessionDep, compound_access
from app.notices import delivery as notice_delivery
from app.notices import postings, printing, service
from app.notices.models import (
    METHOD_LABELS,
    DeliveryMethod,
    NoticeDelivery,
    NoticeKind,
    NoticePosting,
)
from app.notices.schemas import (
    AttachmentOut,
    DeliveryOut,
    DeliveryStatusOut,
    EntranceIn,
    NoticeCorrectionIn,
    NoticeCreate,
    NoticeOut,
    NoticePage,
    NoticeUpdate,
    PaperDeliveryIn,
    PostingIn,
    PostingOut,
    ReachedSubject,
    SubjectReach,
    UnreachedSubject,
)

router = APIRouter(tags=["notices"])

Editor = Annotated[CompoundAccess, Depends(compound_access(*MANAGERS))]
Member = Annotated[
    CompoundAccess,
    Depends(compound_access(*STAFF, *OWNERS)),
]
NOTICE = "/compounds/{compound_id}/notices/{notice_id}"


def _audience_ids(audience: Literal["compound"] | list[int]) -> list[int] | None:
    return None if audience == "compound" else list(audience)


def _entrances(entrances: list[EntranceIn] | None) -> list[tuple[int, str]]:
    return [(e.building_id, e.entrance) for e in entrances or ()]


def _viewer(session: SessionDep, access: CompoundAccess) -> service.Viewer:
    return service.viewer_for(session, compound_id=access.compound_id, roles=access.roles,
                              owner_ids=access.owner_ids)


def _out(view: service.NoticeView) -> NoticeOut:
    n = view.notice
    return NoticeOut(
        id=n.id or 0, compound_id=n.compound_id, kind=n.kind, kind_label=view.kind_label,
        title=n.title, body=n.body, audience=view.audience,
        audience_entrances=view.audience_entrances, audience_label=view.audience_label,
        display_days=n.display_days, display_until=view.display_until, status=view.status,
        status_label=view.status_label, created_at=n.created_at, published_at=n.published_at,
        supersedes_id=n.supersedes_id,
        superseded_by_id=view.superseded_by.id if view.superseded_by else None,
        superseded_at=view.superseded_by.published_at if view.superseded_by else None,
        attachments=[AttachmentOut.model_validate(f, from_attributes=True) for f in view.attachments],
        source_type=n.source_type, source_id=n.source_id, structured=view.structured,
        content_sha256=view.content_sha256, public_url=view.public_url,
    )


def _one(session: SessionDep, notice: Any) -> NoticeOut:
    return _out(service.describe_notice(session, notice=notice))


def _posting_out(p: NoticePosting) -> PostingOut:
    return PostingOut.model_validate(p, from_attributes=True)


def _delivery_out(d: NoticeDelivery) -> DeliveryOut:
    return DeliveryOut(
        id=d.id or 0, notice_id=d.notice_id, subject_id=d.subject_id, method=d.method,
        method_label=METHOD_LABELS[d.method], delivered_at=d.delivered_at,
        evidence_file_id=d.evidence_file_id,
    )


@router.post("/compounds/{compound_id}/notices", response_model=NoticeOut, status_code=201)
def create_draft(body: NoticeCreate, access: Editor, session: SessionDep) -> NoticeOut:
    notice = service.create_draft(
        session, compound_id=access.compound_id, kind=body.kind, title=body.title, body=body.body,
        audience_building_ids=_audience_ids(body.audience),
        audience_entrances=_entrances(body.audience_entrances), display_days=body.display_days,
        attachment_file_ids=body.attachment_file_ids, structured=body.structured,
        actor=access.actor,
    )
    return _one(session, notice)


@router.get("/compounds/{compound_id}/notices", response_model=NoticePage)
def list_notices(
    access: Member,
    session: SessionDep,
    kind: NoticeKind | None = None,
    status: service.StatusFilter = "published",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NoticePage:
    total, notices = service.list_notices(
        session, compound_id=access.compound_id, viewer=_viewer(session, access), kind=kind,
        status=status, offset=offset, limit=limit,
    )
    views = service.describe_notices(session, notices=notices)
    return NoticePage(total=total, items=[_out(v) for v in views])


@router.get(NOTICE, response_model=NoticeOut)
def get_notice(notice_id: int, access: Member, session: SessionDep) -> NoticeOut:
    """One notice; opening it as an owner records the online read (送达) of their subjects."""
    notice = service.get_notice(session, compound_id=access.compound_id, notice_id=notice_id,
                                viewer=_viewer(session, access))
    if access.owner_ids and notice.published_at is not None:
        # A GET runs in a read transaction; the read receipt and its audit event are written
        # together in their own write transaction (BEGIN IMMEDIATE on SQLite).
        with transaction(write=True) as write_session:
            notice_delivery.record_online_read(write_session, compound_id=access.compound_id,
                                       notice_id=notice_id, user=access.principal.user)
    return _one(session, notice)


@router.patch(NOTICE, response_model=NoticeOut)
def update_draft(notice_id: int, body: NoticeUpdate, access: Editor, session: SessionDep) -> NoticeOut:
    given = body.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("kind", "title", "body", "display_days", "attachment_file_ids")
        if name in given and getattr(body, name) is not None
    }
    if ("audience" in given and body.audience is not None) or body.audience_entrances is not None:
        changes["audience_building_ids"] = _audience_ids(body.audience or [])
        changes["audience_entrances"] = _entrances(body.audience_entrances)
    if "structured" in given:
        changes["structured"] = body.structured
    notice = service.update_draft(
        session, compound_id=access.compound_id, notice_id=notice_id, actor=access.actor, **changes
    )
    return _one(session, notice)


@router.post(NOTICE + "/publish", response_model=NoticeOut)
def publish(notice_id: int, access: Editor, session: SessionDep) -> NoticeOut:
    notice = service.publish(session, compound_id=access.compound_id, notice_id=notice_id,
                             actor=access.actor)
    return _one(session, notice)


@router.post(NOTICE + "/corrections", response_model=NoticeOut, status_code=201)
def publish_correction(
    notice_id: int, body: NoticeCorrectionIn, access: Editor, session: SessionDep
) -> NoticeOut:
    """Publish a correction that supersedes the notice; the original stays visible."""
    given = body.model_fields_set
    kept: dict[str, Any] = {}
    if body.audience is not None or body.audience_entrances is not None:
        kept["audience_building_ids"] = _audience_ids(body.audience or [])
        kept["audience_entrances"] = _entrances(body.audience_entrances)
    if body.display_days is not None:
        kept["display_days"] = body.display_days
    if body.attachment_file_ids is not None:
        kept["attachment_file_ids"] = body.attachment_file_ids
    if "structured" in given:
        kept["structured"] = body.structured
    notice = service.supersede(
        session, compound_id=access.compound_id, notice_id=notice_id, title=body.title,
        body=body.body, actor=access.actor, **kept,
    )
    return _one(session, notice)


@router.post(NOTICE + "/postings", response_model=PostingOut, status_code=201)
def record_posting(notice_id: int, body: PostingIn, access: Editor, session: SessionDep) -> PostingOut:
    posting = postings.record_posting(
        session, compound_id=access.compound_id, notice_id=notice_id, posted_on=body.posted_on,
        location=body.location, photo_file_id=body.photo_file_id, actor=access.actor,
    )
    return _posting_out(posting)


@router.post(NOTICE + "/deliveries", response_model=DeliveryOut, status_code=201)
def record_paper_delivery(
    notice_id: int, body: PaperDeliveryIn, access: Editor, session: SessionDep
) -> DeliveryOut:
    delivery = notice_delivery.record_paper_delivery(
        session, compound_id=access.compound_id, notice_id=notice_id, subject_id=body.subject_id,
        evidence_file_id=body.evidence_file_id, delivered_at=body.delivered_at, actor=access.actor,
    )
    return _delivery_out(delivery)


@router.get(NOTICE + "/delivery", response_model=DeliveryStatusOut)
def delivery_status(notice_id: int, access: Editor, session: SessionDep) -> DeliveryStatusOut:
    """Who in the audience has been reached, how, and who has not (labels only, no names)."""
    status = notice_delivery.delivery_status(session, compound_id=access.compound_id, notice_id=notice_id)
    return DeliveryStatusOut(
        notice_id=notice_id, audience=status.view.audience,
        audience_entrances=status.view.audience_entrances,
        audience_label=status.view.audience_label, subject_count=len(status.subjects),
        reached_count=len(status.reached), not_reached_count=len(status.not_reached),
        online_read_count=status.count_by(DeliveryMethod.ONLINE_READ),
        paper_count=status.count_by(DeliveryMethod.PAPER),
        reached=[
            ReachedSubject(
                subject_id=s.subject_id, label=s.label,
                reached_by=[
                    SubjectReach(method=r.method, method_label=METHOD_LABELS[r.method],
                                 delivered_at=r.delivered_at, evidence_file_id=r.evidence_file_id)
                    for r in s.reached_by
                ],
            )
            for s in status.reached
        ],
        not_reached=[UnreachedSubject(subject_id=s.subject_id, label=s.label)
                     for s in status.not_reached],
        postings=[_posting_out(p) for p in status.postings],
    )


@router.get(NOTICE + "/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def notice_pdf(notice_id: int, access: Member, session: SessionDep) -> Response:
    """The A4 print of a published notice for the notice board."""
    printed = printing.notice_pdf(session, compound_id=access.compound_id, notice_id=notice_id,
                                 viewer=_viewer(session, access))
    return Response(
        content=printed.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": (
                f"inline; filename=\"notice-{notice_id}.pdf\"; "
                f"filename*=UTF-8''{quote(printed.file_name)}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        },
    )
